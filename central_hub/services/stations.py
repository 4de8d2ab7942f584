"""Stations: create, enrol with a one-time code, revoke and rotate keys, freeze and thaw."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app

import sync_protocol as sp
from central_hub import db, keys
from central_hub.models import Admin, EnrolmentCode, Station, StationKey
from central_hub.models.calls import PushRefusal
from central_hub.services import hublog
from central_hub.states import NO_KEY, CodePurpose, KeyStatus, StationStatus
from kuaigong import clock
from kuaigong.errors import Conflict, FieldErrors, KuaigongError, NotFound

log = logging.getLogger(__name__)

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud over the phone


@dataclass(frozen=True)
class IssuedCode:
    station: Station
    code: str
    expires_at: dt.datetime


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().replace("-", "").encode()).hexdigest()


def key_id(public_key_hex: str) -> str:
    """A station key's id, as sync_protocol derives it from the raw public key."""
    return sp.key_id(bytes.fromhex(public_key_hex))


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def _text(data: dict[str, Any], name: str, zh: str, en: str, errs: FieldErrors, limit: int) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        errs.add(name, "required", f"请填写{zh}", f"{en} is required")
        return ""
    if len(value.strip()) > limit:
        errs.add(
            name, "too_long", f"{zh}最多 {limit} 个字", f"{en} is longer than {limit} characters"
        )
    return value.strip()


def _issue(station: Station, purpose: CodePurpose, actor: Admin | None) -> IssuedCode:
    code = _new_code()
    expires = clock.now() + dt.timedelta(hours=current_app.config["ENROLMENT_CODE_HOURS"])
    EnrolmentCode.create(
        code_hash=_code_hash(code),
        station=station,
        purpose=purpose,
        expires_at=expires,
        created_by=actor,
        created_at=clock.now(),
    )
    return IssuedCode(station, code, expires)


def create_station(data: dict[str, Any], actor: Admin | None) -> IssuedCode:
    """Create a station (name, district, community) and its one-time enrolment code."""
    errs = FieldErrors()
    name = _text(data, "name", "驿站名称", "Station name", errs, 100)
    district = _text(data, "district", "区县", "District", errs, 64)
    community = _text(data, "community", "社区", "Community", errs, 64)
    errs.raise_if_any()
    with db.atomic():
        station = Station.create(
            id="st" + secrets.token_hex(5),
            name=name,
            district=district,
            community=community,
            created_at=clock.now(),
        )
        return _issue(station, CodePurpose.ENROL, actor)


def names() -> dict[str, str]:
    """Every station's name by its id, for pages that list station ids."""
    return dict(Station.select(Station.id, Station.name).tuples())


def get_station(station_id: str) -> Station:
    """The station with this id, or a 404 error."""
    station = Station.get_or_none(Station.id == str(station_id))
    if station is None:
        raise NotFound(f"驿站 {station_id}", f"Station {station_id}")
    return station


def issue_rotation_code(station_id: str, actor: Admin | None) -> IssuedCode:
    """A fresh one-time code with which the station enrols a new key (the old one retires)."""
    with db.atomic():
        station = get_station(station_id)
        return _issue(station, CodePurpose.ROTATE, actor)


def _parse_public_key(value: Any, errs: FieldErrors) -> str:
    if not isinstance(value, str):
        errs.add("public_key", "required", "缺少驿站公钥", "The station's public key is missing")
        return ""
    try:
        raw = bytes.fromhex(value.strip())
    except ValueError:
        raw = b""
    if len(raw) != 32:
        errs.add(
            "public_key",
            "invalid",
            "驿站公钥须为 32 字节 Ed25519 公钥的十六进制",
            "The public key must be 32 bytes of Ed25519, hex-encoded",
        )
        return ""
    return raw.hex()


def enroll(data: dict[str, Any]) -> dict[str, Any]:
    """Register a station's Ed25519 public key with a one-time code; answer the hub's keys."""
    errs = FieldErrors()
    code = data.get("code")
    if not isinstance(code, str) or not code.strip():
        errs.add("code", "required", "缺少注册码", "The enrolment code is missing")
    public_key = _parse_public_key(data.get("public_key"), errs)
    errs.raise_if_any()
    now = clock.now()
    with db.atomic():
        row = db.locked(
            EnrolmentCode.select().where(EnrolmentCode.code_hash == _code_hash(str(code)))
        ).get_or_none()
        if row is None:
            raise KuaigongError(
                "enrolment_code_unknown",
                "注册码不存在，请核对后重试",
                "This enrolment code does not exist",
                status=403,
            )
        if row.used_at is not None:
            raise KuaigongError(
                "enrolment_code_used",
                "注册码已使用过，每个注册码只能用一次；请向市级管理员重新申请",
                "This enrolment code was already used; ask the hub for a new one",
                status=409,
            )
        if row.expires_at <= now:
            raise KuaigongError(
                "enrolment_code_expired",
                "注册码已过期，请向市级管理员重新申请",
                "This enrolment code has expired; ask the hub for a new one",
                status=410,
            )
        if StationKey.select().where(StationKey.key_id == key_id(public_key)).exists():
            raise Conflict(
                "key_in_use",
                "该公钥已登记过，请生成新的密钥",
                "This public key is already registered; make a new key",
            )
        station = row.station
        EnrolmentCode.update(used_at=now).where(EnrolmentCode.id == row.id).execute()
        retired = _retire_active_keys(station, now)
        StationKey.create(
            station=station,
            key_id=key_id(public_key),
            public_key=public_key,
            created_at=now,
            valid_from_epoch=station.epoch,
            valid_from_seq=station.head_seq + 1 if retired else 0,
        )
        Station.update(status=StationStatus.ACTIVE, enrolled_at=station.enrolled_at or now).where(
            Station.id == station.id
        ).execute()
        hublog.append(
            "station_key",
            key_id(public_key),
            "create",
            {
                "station": station.id,
                "public_key": public_key,
                "retired": retired,
                "from_seq": station.head_seq + 1,
            },
        )
    return {
        "station_id": station.id,
        "station_name": station.name,
        "district": station.district,
        "community": station.community,
        "key_id": key_id(public_key),
        "hub_id": current_app.config["HUB_ID"],
        "hub_public_key": keys.hub_public_key(),
        "hub_key_id": sp.key_id(bytes.fromhex(keys.hub_public_key())),
        "id_hash_key": keys.id_hash_key().hex(),
        "seal_public_key": keys.seal_public_key(),
        "epoch": station.epoch,
        "head_seq": station.head_seq,
        "head_hash": station.head_hash or sp.GENESIS_HASH,
        "hub_seq": hublog.head()[0],
    }


def _retire_active_keys(station: Station, now: dt.datetime) -> list[str]:
    active = list(
        StationKey.select().where(
            (StationKey.station == station) & (StationKey.status == KeyStatus.ACTIVE)
        )
    )
    for key in active:
        StationKey.update(
            status=KeyStatus.RETIRED,
            revoked_at=now,
            valid_until_epoch=station.epoch,
            valid_until_seq=station.head_seq,
        ).where(StationKey.id == key.id).execute()
    return [k.key_id for k in active]


def revoke_key(station_id: str, reason: str, after_seq: Any, actor: Admin | None) -> StationKey:
    """Revoke a station's active key: entries after `after_seq` (default: the accepted head) signed
    with it are refused. The station must enrol a new key with a rotation code."""
    errs = FieldErrors()
    reason = (reason or "").strip()
    if not reason:
        errs.add("reason", "required", "请填写吊销原因", "Give the reason for revoking")
    point: int | None = None
    if after_seq not in (None, ""):
        try:
            point = int(after_seq)
            if point < 0:
                raise ValueError
        except (TypeError, ValueError):
            errs.add(
                "after_seq",
                "invalid",
                "吊销点须为非负整数",
                "The revocation point must be a whole number ≥ 0",
            )
    errs.raise_if_any()
    now = clock.now()
    with db.atomic():
        station = db.locked(Station.select().where(Station.id == str(station_id))).get_or_none()
        if station is None:
            raise NotFound(f"驿站 {station_id}", f"Station {station_id}")
        key = StationKey.get_or_none(
            (StationKey.station == station) & (StationKey.status == KeyStatus.ACTIVE)
        )
        if key is None:
            raise Conflict(
                "no_active_key",
                "该驿站没有有效密钥可吊销",
                "This station has no active key to revoke",
            )
        point = station.head_seq if point is None else point
        StationKey.update(
            status=KeyStatus.REVOKED,
            revoked_at=now,
            revoked_after_seq=point,
            revoked_after_epoch=station.epoch,
            reason=reason[:200],
        ).where(StationKey.id == key.id).execute()
        hublog.append(
            "station_key",
            key.key_id,
            "revoke",
            {
                "station": station.id,
                "epoch": station.epoch,
                "after_seq": point,
                "reason": reason[:200],
            },
        )
        return StationKey.get_by_id(key.id)


def freeze(station: Station, reason: str) -> None:
    """Stop accepting a station's entries until an admin resolves the cause (inside the caller's
    transaction)."""
    Station.update(frozen=True, frozen_reason=reason[:200], frozen_at=clock.now()).where(
        Station.id == station.id
    ).execute()


def unfreeze(station_id: str, actor: Admin | None) -> Station:
    """Accept a frozen station's entries again."""
    with db.atomic():
        station = get_station(station_id)
        Station.update(frozen=False, frozen_reason=None, frozen_at=None).where(
            Station.id == station.id
        ).execute()
        hublog.append(
            "station",
            station.id,
            "update",
            {"frozen": False, "by": actor.username if actor else "hub"},
            targets=[station.id],
        )
        return get_station(station_id)


def key_status(station: Station) -> str:
    """'active', 'revoked', 'retired' or 'none' for the station's newest key."""
    key = (
        StationKey.select()
        .where(StationKey.station == station)
        .order_by(StationKey.id.desc())
        .first()
    )
    return key.status if key else NO_KEY


def station_rows() -> list[dict[str, Any]]:
    """Every station with what the watch page shows."""
    limit_ms = current_app.config["CLOCK_OFFSET_LIMIT_SECONDS"] * 1000
    newest: dict[str, str] = {}  # each station's newest key's status, read in one query
    keys = StationKey.select(StationKey.station, StationKey.status).order_by(StationKey.id.desc())
    for station_id, status in keys.tuples():
        newest.setdefault(station_id, status)
    out = []
    for st in Station.select().order_by(Station.district, Station.name):
        offset = st.clock_offset_ms
        out.append(
            {
                "station": st,
                "key_status": newest.get(st.id, NO_KEY),
                "clock_flag": offset is not None and abs(offset) > limit_ms,
                "offset_s": None if offset is None else round(offset / 1000),
            }
        )
    return out


def record_rotation(station_id: str, record: sp.KeyRecord, ring: sp.KeyRing) -> None:
    """Store a key rotation the station signed in its log (inside the ingest transaction)."""
    now = clock.now()
    for kid, rec in ring.items():
        if kid == record.key_id or rec.valid_until == sp.keys.FOREVER:
            continue
        StationKey.update(
            status=KeyStatus.RETIRED,
            revoked_at=now,
            valid_until_epoch=rec.valid_until[0],
            valid_until_seq=rec.valid_until[1],
        ).where((StationKey.key_id == kid) & (StationKey.status == KeyStatus.ACTIVE)).execute()
    StationKey.insert(
        station=station_id,
        key_id=record.key_id,
        public_key=record.public_key.hex(),
        created_at=now,
        valid_from_epoch=record.valid_from[0],
        valid_from_seq=record.valid_from[1],
    ).on_conflict_ignore().execute()
    hublog.append(
        "station_key",
        record.key_id,
        "create",
        {
            "station": station_id,
            "public_key": record.public_key.hex(),
            "from_seq": record.valid_from[1],
            "rotated_by_station": True,
        },
    )


def count_refused_push(station_id: str, reason: str, detail: str) -> None:
    """Count one push refused as not provably the station's own (no other state changes)."""
    now = clock.now()
    with db.atomic():
        PushRefusal.insert(
            station=station_id,
            count=1,
            last_at=now,
            last_reason=reason[:64],
            last_detail=detail[:200],
        ).on_conflict(
            conflict_target=[PushRefusal.station],
            update={
                PushRefusal.count: PushRefusal.count + 1,
                PushRefusal.last_at: now,
                PushRefusal.last_reason: reason[:64],
                PushRefusal.last_detail: detail[:200],
            },
        ).execute()
        count = PushRefusal.get_by_id(station_id).count
    log.warning(
        "push to station %s refused as not its own: %s (%s); %d refused so far",
        station_id,
        reason,
        detail[:200],
        count,
    )


def refused_pushes(station_id: str) -> PushRefusal | None:
    """The station's count of pushes refused as not its own (a PushRefusal row), or None."""
    return PushRefusal.get_or_none(PushRefusal.station == station_id)
