"""Pairing the station's devices (kiosk, board, SMS gateway, printer, ID card reader).

Staff press a button on the console and read a six-digit code to whoever sets the device up;
the device sends it back with its kind and name and gets a token, shown that once. The code
lives five minutes and pairs one device; a new code replaces any older one. Wrong codes count
as failed sign-ins (`signin_limits.guarded`), per address and per code, so a million codes
cannot be tried in five minutes. Devices and codes are local to this station: nothing here
goes into the change log.

The station's fingerprint (`station_fingerprint`) is what devices compare before pairing: it
is announced over mDNS and shown on the console's devices page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import Flask, current_app

import sync_protocol as sp
from devices.kinds import KIND_LABELS, DeviceKind
from kuaigong import clock
from kuaigong.errors import FieldErrors, Forbidden, KuaigongError, Unauthorized
from station_node import db, events, identity
from station_node import station_state as state
from station_node.models import Device, PairingCode, ScreenLink, Staff
from station_node.services import get_or_404, require_staff, signin_limits
from station_node.validation import clean_choice, clean_text

CODE_DIGITS = 6
CODE_LIFETIME = dt.timedelta(minutes=5)
# A device's last contact is written at most this often, not on every request.
LAST_SEEN_EVERY = dt.timedelta(minutes=1)
SIGNIN_KIND = "pairing"
# The kinds that are screens: a browser shows their pages once a one-time link was opened on it.
SCREEN_KINDS = (DeviceKind.KIOSK.value, DeviceKind.BOARD.value)
SCREEN_PAGES = {DeviceKind.KIOSK.value: "/kiosk/", DeviceKind.BOARD.value: "/board/"}
SCREEN_LINK_LIFETIME = dt.timedelta(minutes=2)
_FINGERPRINT_HEX = 16  # 64 bits: four groups of four, short enough to read aloud
_FALLBACK_TAG = b"kuaigong:device-fingerprint:v1"


@dataclass(frozen=True)
class ShownLink:
    """A fresh one-time screen link's secret part, for the screen device to open (hashed)."""

    token: str
    expires_at: dt.datetime  # naive UTC


@dataclass(frozen=True)
class ShownCode:
    """A fresh pairing code, for staff to read out (never stored as such)."""

    code: str
    expires_at: dt.datetime  # naive UTC


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def kind_label(kind: str, lang: str = "zh") -> str:
    """The device kind in words."""
    zh, en = KIND_LABELS.get(kind, (kind, kind))
    return en if lang.startswith("en") else zh


# -- the station's fingerprint ------------------------------------------------------------------
def _group(hex_digits: str) -> str:
    short = hex_digits[:_FINGERPRINT_HEX].upper()
    return "-".join(short[i : i + 4] for i in range(0, len(short), 4))


def station_fingerprint(app: Flask | None = None) -> str:
    """The station key's fingerprint as people read it (`3F9A-0C1D-2E4B-5A69`).

    Once enrolled, it is the start of the signing key's id (the one the hub knows the station
    by), so rotating the key changes it. Before enrolment there is no signing key; the station's
    own ID-encryption key, which never leaves the station, stands in through a one-way HMAC.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    key = state.signing_key(app)
    if key is not None:
        return _group(sp.key_id(key.public_key))
    secret = identity.ensure_keys(app).encryption
    return _group(hmac.new(secret, _FALLBACK_TAG, hashlib.sha256).hexdigest())


@dataclass(frozen=True)
class StationIdentity:
    """What a device learns about the station: announced on the LAN and returned on pairing."""

    station_id: str
    name: str
    fingerprint: str


def station_identity(app: Flask | None = None) -> StationIdentity:
    """The station's id, its name and its key's fingerprint."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    enrolment = state.enrolment(app)
    name = (enrolment.station_name if enrolment else "") or str(app.config["STATION_NAME"])
    return StationIdentity(state.station_id(app), name, station_fingerprint(app))


# -- pairing codes ------------------------------------------------------------------------------
def _live_code(now: dt.datetime) -> PairingCode | None:
    return (
        PairingCode.select()
        .where(PairingCode.used_at.is_null() & (PairingCode.expires_at > now))
        .order_by(PairingCode.id.desc())
        .first()
    )


def live_code() -> PairingCode | None:
    """The code staff last showed, while it can still pair a device (its digits are not kept)."""
    return _live_code(clock.now())


def start_pairing(actor: Staff | None) -> ShownCode:
    """A new six-digit code valid five minutes; any code shown before stops working."""
    staff = require_staff(actor)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    now = clock.now()
    with db.writing():
        PairingCode.delete().where(PairingCode.used_at.is_null()).execute()
        row = PairingCode.create(
            code_hash=_hash(code),
            created_by=staff.username,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    return ShownCode(code, row.expires_at)


def _bad_code(expired: bool, wait: KuaigongError | None) -> KuaigongError:
    if expired:
        zh = "配对码已过期（有效期 5 分钟）。请在驿站控制台“设备”页重新生成配对码。"
        en = "The pairing code has expired (codes last 5 minutes); show a new one on the console."
    else:
        zh = "配对码不正确，或已被新的配对码取代。请核对控制台“设备”页上显示的 6 位数字。"
        en = "The pairing code is wrong or was replaced; check the 6 digits on the console."
    if wait is not None:
        zh, en = zh + wait.message_zh, en + " " + wait.message_en
    details = {"retry_after": wait.details.get("retry_after")} if wait is not None else {}
    return KuaigongError(
        "pairing_code_expired" if expired else "pairing_code_wrong",
        zh,
        en,
        details=details,
        status=401,
    )


def pair(
    code: object, kind: object, name: object, address: str | None = None
) -> tuple[Device, str]:
    """Pair a device with the code staff showed; returns it with its token (shown only now)."""
    errs = FieldErrors()
    kind_code = clean_choice(kind, errs, "kind", "设备类型", "Device kind", KIND_LABELS)
    device_name = clean_text(name, errs, "name", "设备名称", "Device name", max_len=64)
    digits = code.strip() if isinstance(code, str) else ""
    if not (len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit()):
        errs.add(
            "code",
            "bad_pairing_code",
            "配对码应为 6 位数字",
            "The pairing code must be 6 digits",
        )
    errs.raise_if_any()
    now = clock.now()
    live = _live_code(now)
    # Counted per code as well as per address: guesses from many addresses share one budget,
    # and a new code (the staff's answer to a lock) starts a fresh one.
    account = (f"code-{live.id}", "配对码") if live is not None else None
    token = secrets.token_urlsafe(32)

    def check() -> Device | None:
        with db.writing():
            row = _live_code(now)
            if row is None or not hmac.compare_digest(row.code_hash, _hash(digits)):
                return None
            claimed = (
                PairingCode.update(used_at=now)
                .where((PairingCode.id == row.id) & PairingCode.used_at.is_null())
                .execute()
            )
            if claimed != 1:
                return None
            device = Device.create(
                kind=kind_code,
                name=device_name,
                token_hash=_hash(token),
                paired_at=now,
                paired_by=row.created_by,
            )
            PairingCode.update(device_id=device.id).where(PairingCode.id == row.id).execute()
            return device

    outcome = signin_limits.guarded(SIGNIN_KIND, account, address, check)
    if outcome.refused is not None:
        raise outcome.refused
    if outcome.who is None:
        expired = (
            PairingCode.select()
            .where((PairingCode.code_hash == _hash(digits)) & PairingCode.used_at.is_null())
            .exists()
        )
        raise _bad_code(expired, outcome.wait)
    return outcome.who, token


# -- paired devices -----------------------------------------------------------------------------
def _not_paired() -> Unauthorized:
    return Unauthorized(
        "device_not_paired",
        "本设备尚未与驿站配对，或令牌无效。请在驿站控制台“设备”页生成配对码，重新配对。",
        "This device is not paired with the station or its token is unknown; pair it again "
        "with a code from the console's devices page.",
    )


def authenticate(token: str | None, kinds: tuple[str, ...] = ()) -> Device:
    """The paired device holding `token`, if it is one of `kinds` (any kind when empty).

    401 for no token, an unknown one or a revoked device; 403 for a device of another kind.
    Notes the contact time, at most once a minute.
    """
    if not isinstance(token, str) or not token:
        raise Unauthorized(
            "device_token_missing",
            "请求缺少设备令牌（Authorization: Bearer <令牌>）。请先配对本设备。",
            "No device token came with the request (Authorization: Bearer <token>); pair first.",
        )
    device = db.get_row(Device, "token_hash", _hash(token))  # every device request: fixed SQL
    if device is None:
        raise _not_paired()
    if device.revoked_at is not None:
        raise Unauthorized(
            "device_revoked",
            f"设备“{device.name}”已被驿站停用。如需继续使用，请在控制台重新配对。",
            f"Device {device.name!r} was revoked by the station; pair it again to use it.",
        )
    if kinds and device.kind not in kinds:
        wanted_zh = "、".join(kind_label(k) for k in kinds)
        wanted_en = ", ".join(kind_label(k, "en") for k in kinds)
        raise Forbidden(
            "wrong_device_kind",
            f"此功能只供{wanted_zh}使用，本设备是{kind_label(device.kind)}。",
            f"Only a {wanted_en} may do this; this device is a {kind_label(device.kind, 'en')}.",
        )
    _note_seen(device)
    return device


def _note_seen(device: Device) -> None:
    now = clock.now()
    if device.last_seen_at is not None and now - device.last_seen_at < LAST_SEEN_EVERY:
        return
    with db.writing():
        Device.update(last_seen_at=now).where(
            (Device.id == device.id)
            & (Device.last_seen_at.is_null() | (Device.last_seen_at <= now - LAST_SEEN_EVERY))
        ).execute()
    device.last_seen_at = now


def list_devices() -> list[Device]:
    """Every paired device: those in use first, the newest pairing first."""
    return list(
        Device.select().order_by(Device.revoked_at.is_null().desc(), Device.paired_at.desc())
    )


def revoke(device_id: str, actor: Staff | None) -> Device:
    """A station admin stops a device: its token is refused from now on (401); a kiosk or
    board's open page is told at once (`screen:<id>`) and shows that it was revoked."""
    staff = require_staff(actor)
    if staff.role != "admin":
        raise Forbidden(
            "admin_only", "只有驿站管理员可以停用设备", "Only a station admin may revoke a device"
        )
    with db.writing():
        device = get_or_404(Device, device_id, "该设备", "Device")
        if device.revoked_at is None:
            device.revoked_at = clock.now()
            device.revoked_by = staff.username
            device.save()
            if device.kind in SCREEN_KINDS:
                events.publish(events.screen_topic(device.id), "revoked", {})
    return device


# -- screens: a paired kiosk or board shows its pages ------------------------------------------
def screen_link(device: Device) -> ShownLink:
    """A one-time link for a paired screen's browser, valid two minutes (only its hash kept)."""
    if device.kind not in SCREEN_KINDS:
        raise Forbidden(
            "not_a_screen",
            f"只有自助服务一体机和信息发布大屏需要屏幕链接，本设备是{kind_label(device.kind)}。",
            f"Only a kiosk or a display board opens a screen link; this device is a "
            f"{kind_label(device.kind, 'en')}.",
        )
    token = secrets.token_urlsafe(24)
    now = clock.now()
    with db.writing():
        # Links used or run out are of no further use: each new one sweeps them away.
        ScreenLink.delete().where(
            ScreenLink.used_at.is_null(False) | (ScreenLink.expires_at <= now)
        ).execute()
        row = ScreenLink.create(
            device_id=device.id,
            link_hash=_hash(token),
            created_at=now,
            expires_at=now + SCREEN_LINK_LIFETIME,
        )
    return ShownLink(token, row.expires_at)


def _link_refused(code: str, zh: str, en: str, status: int) -> KuaigongError:
    again_zh = (
        "请在这台屏幕电脑上重新运行 kuaigong device kiosk（信息发布大屏用 kuaigong device board），"
        "它会打开一个新的链接。"
    )
    again_en = (
        "Run kuaigong device kiosk (kuaigong device board for the display board) again on "
        "this screen's computer; it opens a new link."
    )
    return KuaigongError(code, zh + again_zh, f"{en} {again_en}", status=status)


def open_screen_link(token: str) -> Device:
    """The screen a one-time link was made for; the link is used up (404/410/403 otherwise)."""
    now = clock.now()
    with db.writing():
        row = ScreenLink.get_or_none(ScreenLink.link_hash == _hash(token))
        if row is None:
            raise _link_refused(
                "screen_link_unknown",
                "这个屏幕链接不存在（可能抄错了，或已被清理）。",
                "This screen link is unknown (mistyped, or cleared away).",
                404,
            )
        if row.used_at is not None:
            raise _link_refused(
                "screen_link_used",
                "这个屏幕链接已经用过了（每个链接只能打开一次）。",
                "This screen link was already used (each link opens once).",
                410,
            )
        if row.expires_at <= now:
            raise _link_refused(
                "screen_link_expired",
                "这个屏幕链接已过期（有效期 2 分钟）。",
                "This screen link has expired (links last 2 minutes).",
                410,
            )
        claimed = (
            ScreenLink.update(used_at=now)
            .where((ScreenLink.id == row.id) & ScreenLink.used_at.is_null())
            .execute()
        )
        if claimed != 1:
            raise _link_refused(
                "screen_link_used",
                "这个屏幕链接已经用过了（每个链接只能打开一次）。",
                "This screen link was already used (each link opens once).",
                410,
            )
        device = Device.get_or_none(Device.id == row.device_id)
        if device is None or device.revoked_at is not None:
            raise Forbidden(
                "device_revoked",
                "这台屏幕已被驿站停用。请工作人员在控制台“设备”页生成配对码，"
                "再在这台电脑上用 --code 重新配对。",
                "This screen was revoked by the station; pair it again with a new code.",
            )
    _note_seen(device)
    return device


def screen(device_id: str) -> Device | None:
    """The paired screen (kiosk or board) with this id, as a page request sees it: None when
    there is none; its revoked_at is set when staff stopped it. Notes the contact time."""
    device = db.get_row(Device, "id", device_id)  # every screen request: fixed SQL
    if device is None or device.kind not in SCREEN_KINDS:
        return None
    if device.revoked_at is None:
        _note_seen(device)
    return device


__all__ = [
    "CODE_LIFETIME",
    "SCREEN_KINDS",
    "SCREEN_LINK_LIFETIME",
    "SCREEN_PAGES",
    "DeviceKind",
    "ShownCode",
    "ShownLink",
    "StationIdentity",
    "authenticate",
    "kind_label",
    "list_devices",
    "live_code",
    "open_screen_link",
    "pair",
    "revoke",
    "screen",
    "screen_link",
    "start_pairing",
    "station_fingerprint",
    "station_identity",
]
