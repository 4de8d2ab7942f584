"""City rules that block employers, applied as decisions of the hub (SYNC.md rule 8: hub
decisions win over station edits of the same thing).

A block rule names a credit code and/or a keyed ID hash. Its effect on an employer's record is
written with the hub's own stamp on `blocked` and `block_reason`, so the hub-first rank keeps
it against any station's write, and it is never one side of a field conflict: a station's
create (made before it knew the rule) or its later unblock is simply outranked, with no
FieldLoss and no queue item. A station that tries to unblock such an employer is told the rule
again (a hub-log entry targeted at it), so the block reaches it once more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from central_hub import db, signing
from central_hub.models import CityRule, Employer
from central_hub.services import hublog
from kuaigong import clock

BLOCK_KINDS = ("blocked_employer", "blocked_intermediary")
BLOCK_FIELDS = ("blocked", "block_reason")


@dataclass(frozen=True)
class Block:
    """One active city block: the rule, what it names and the reason stations show."""

    rule_id: int
    kind: str
    credit_code: str
    id_hash: str
    reason: str
    body: dict[str, Any]


def reason_text(body: dict[str, Any]) -> str:
    """The block reason as stations word it for a city rule."""
    return f"市级规则：{body.get('reason') or ''}"[:200]


def _block(rule_id: int, kind: str, body: dict[str, Any]) -> Block:
    return Block(
        rule_id,
        kind,
        str(body.get("credit_code") or "").strip().upper(),
        str(body.get("id_hash") or "").strip().lower(),
        reason_text(body),
        body,
    )


def active_blocks() -> list[Block]:
    """The block rules in force, oldest first."""
    rows = (
        CityRule.select(CityRule.id, CityRule.kind, CityRule.body)
        .where(CityRule.kind.in_(BLOCK_KINDS) & CityRule.active)
        .order_by(CityRule.id)
    )
    return [_block(r.id, r.kind, r.body if isinstance(r.body, dict) else {}) for r in rows]


def block_for(data: dict[str, Any], blocks: list[Block]) -> Block | None:
    """The first rule that blocks an employer with these fields, or None."""
    code = str(data.get("credit_code") or "").strip().upper()
    id_hash = str(data.get("id_hash") or "").strip().lower()
    for block in blocks:
        if (code and block.credit_code == code) or (id_hash and block.id_hash == id_hash):
            return block
    return None


def held(data: dict[str, Any], stamps: dict[str, Any]) -> bool:
    """True when the record is blocked by a decision of the hub (a hub stamp on `blocked`)."""
    stamp = stamps.get("blocked") or stamps.get("*")
    return (
        data.get("blocked") is True
        and isinstance(stamp, list)
        and len(stamp) == 3
        and stamp[2] == signing.hub_id()
    )


def hub_stamp() -> list[Any]:
    """A stamp of the hub itself, now (it outranks every station's stamp)."""
    return [clock.now_ms(), 0, signing.hub_id()]


def block_matching(kind: str, body: dict[str, Any]) -> int:
    """Block, as the hub's decision, the employers a new rule names (caller's transaction,
    before the rule's hub-log entry); returns how many records changed."""
    block = _block(0, kind, body)
    tests = []
    if block.credit_code:
        tests.append(Employer.credit_code == block.credit_code)
    if block.id_hash:
        tests.append(Employer.id_hash == block.id_hash)
    if not tests:
        return 0
    named = tests[0] if len(tests) == 1 else (tests[0] | tests[1])
    stamp = hub_stamp()
    changed = 0
    # In id order with row locks, as ingest takes them: the two never wait on each other in turn.
    for row in db.locked(Employer.select().where(named).order_by(Employer.id)):
        data = dict(row.data or {})
        if held(data, row.stamps or {}):
            continue  # an earlier rule of the hub holds it already
        data.update(
            blocked=True,
            block_reason=data.get("block_reason") if data.get("blocked") is True else block.reason,
        )
        stamps = dict(row.stamps or {}, **dict.fromkeys(BLOCK_FIELDS, stamp))
        Employer.update(data=data, stamps=stamps, blocked=True).where(
            Employer.id == row.id
        ).execute()
        changed += 1
    return changed


def restate(blocks: dict[int, Block], station_id: str) -> None:
    """Tell one station the rules again (hub-log entries targeted at it), after it tried to
    unblock an employer they block; its sync applies them as any city rule."""
    for rule_id in sorted(blocks):
        block = blocks[rule_id]
        hublog.append(
            "city_rule",
            str(rule_id),
            "update",
            {"kind": block.kind, **block.body},
            targets=[station_id],
        )


def rules_the_field(details: dict[str, Any]) -> bool:
    """True when a field item is about an employer's block that an active rule holds (an item
    queued before rules stood as the hub's decision): the station's value may not be chosen."""
    if details.get("entity") != "employer" or details.get("field") not in BLOCK_FIELDS:
        return False
    row = Employer.get_or_none(Employer.id == str(details.get("entity_id")))
    return row is not None and block_for(row.data or {}, active_blocks()) is not None
