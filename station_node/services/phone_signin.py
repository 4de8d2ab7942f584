"""Signing in on a worker's own phone (/m/) with their mobile number and a one-time code.

The code comes by SMS through the station's modem, or the kiosk shows it to the resident signed
in there. Six digits, valid CODE_MINUTES, used once; only a keyed hash is kept. Wrong codes count
against the mobile number and the phone's address (`signin_limits`, kind "phone"), and a code
that has seen MAX_WRONG wrong tries is burnt. Asking for a code by SMS says the same whether the
number is registered or not, so the page tells nobody who is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from flask import current_app

from kuaigong import clock
from kuaigong.characters import normalise_mobile
from kuaigong.errors import Conflict
from kuaigong.states import WorkerStatus
from station_node import db
from station_node.models import PhoneCode, Worker
from station_node.services import signin_limits, sms

CODE_MINUTES = 10
MAX_WRONG = 5
SMS_EVERY_SECONDS = 60  # at most one code by SMS per number this often
SMS_PER_HOUR = 5


def _hash(worker_id: str, code: str) -> str:
    key = str(current_app.secret_key or "").encode()
    return hmac.new(key, f"phone:{worker_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _new_code(worker: Worker, channel: str, now: dt.datetime) -> str:
    """A fresh code for `worker` (inside the caller's transaction); earlier live ones are burnt."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    PhoneCode.update(used_at=now).where(
        (PhoneCode.worker == worker.id) & PhoneCode.used_at.is_null() & (PhoneCode.expires_at > now)
    ).execute()
    PhoneCode.create(
        worker=worker.id,
        code_hash=_hash(worker.id, code),
        channel=channel,
        created_at=now,
        expires_at=now + dt.timedelta(minutes=CODE_MINUTES),
    )
    return code


def kiosk_code(worker: Worker) -> tuple[str, dt.datetime]:
    """A code for the resident signed in at the kiosk to type on their phone; (code, expires)."""
    now = clock.now()
    with db.writing():
        code = _new_code(worker, "kiosk", now)
    return code, now + dt.timedelta(minutes=CODE_MINUTES)


def _active_workers(mobile: str) -> list[Worker]:
    return list(
        Worker.select().where((Worker.mobile == mobile) & (Worker.status == WorkerStatus.ACTIVE))
    )


def send_code(mobile_typed: str) -> None:
    """Text a code to this mobile if exactly one active worker has it; quietly nothing if none.

    Refuses (429) only when the number asked too often, whoever it belongs to.
    """
    mobile = normalise_mobile(mobile_typed or "")
    now = clock.now()
    with db.writing():
        workers = _active_workers(mobile)
        if len(workers) != 1:
            return
        worker = workers[0]
        recent = PhoneCode.select(PhoneCode.created_at).where(
            (PhoneCode.worker == worker.id)
            & (PhoneCode.channel == "sms")
            & (PhoneCode.created_at > now - dt.timedelta(hours=1))
        )
        times = [row.created_at for row in recent]
        last = max(times, default=None)
        if len(times) >= SMS_PER_HOUR or (
            last is not None and (now - last).total_seconds() < SMS_EVERY_SECONDS
        ):
            raise Conflict(
                "code_too_soon",
                "验证码刚刚发过，请稍等一分钟再要，或到自助机上取验证码",
                "A code was sent a moment ago; wait a minute, or get one at the kiosk",
            )
        code = _new_code(worker, "sms", now)
        sms.queue_message(
            mobile,
            f"【零工驿站】手机登录验证码 {code}，{CODE_MINUTES}分钟内有效。不要告诉别人。",
            priority=sms.SmsPriority.CODE,
            purpose=sms.SmsPurpose.CODE,
            worker_id=worker.id,
        )


def _check(mobile: str, code: str) -> Worker | None:
    """The worker whose live code this is (the code is used up), else None (tries counted)."""
    now = clock.now()
    with db.writing():
        workers = {w.id: w for w in _active_workers(mobile)}
        if not workers:
            return None
        live = list(
            PhoneCode.select().where(
                PhoneCode.worker.in_(list(workers))
                & PhoneCode.used_at.is_null()
                & (PhoneCode.expires_at > now)
            )
        )
        for row in live:
            if hmac.compare_digest(row.code_hash, _hash(row.worker_id, code)):
                PhoneCode.update(used_at=now).where(PhoneCode.id == row.id).execute()
                return workers[row.worker_id]
        for row in live:
            burnt = now if row.attempts + 1 >= MAX_WRONG else None
            PhoneCode.update(attempts=PhoneCode.attempts + 1, used_at=burnt).where(
                PhoneCode.id == row.id
            ).execute()
    return None


def sign_in(
    mobile_typed: str, code_typed: str, address: str | None
) -> signin_limits.Outcome[Worker]:
    """Check a mobile and code, counted against the number and the address (see module)."""
    mobile = normalise_mobile(mobile_typed or "")[:32]
    code = "".join(ch for ch in (code_typed or "") if not ch.isspace())[:12]
    account = (hashlib.sha256(f"mobile:{mobile}".encode()).hexdigest(), _mask(mobile))
    return signin_limits.guarded(
        "phone",
        account,
        address,
        lambda: _check(mobile, code) if mobile and len(code) == 6 and code.isdigit() else None,
    )


def _mask(mobile: str) -> str:
    return mobile[:3] + "****" + mobile[-4:] if len(mobile) >= 8 else "****"
