"""Merge rules: pure functions over plain data that every side computes the same way.

Each change is identified by (origin, HLC) and takes effect once. A record keeps, per origin,
the newest value of each field that origin wrote (a last-writer-wins register per origin); what
a record *shows* is derived from those registers, so the result does not depend on the order
changes arrive in:

- per field, the winner is the highest rank (hub first, then HLC, then origin id); the other
  origins' values are the losers, kept for hub admins;
- jobs and assignments (`OWNED`) show only their owner's and the hub's values; the owner is the
  origin of the earliest create; other origins' changes are listed as `ignored`;
- a delete is the field ``~deleted`` set true (a create sets it false), merged like any field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sync_protocol.entries import Entry

OWNED = frozenset({"job", "assignment"})
DELETED = "~deleted"


class Change(NamedTuple):
    """One change as the merge sees it (from an Entry, keeping its origin and HLC)."""

    origin: str
    hlc_wall: int
    hlc_counter: int
    entity: str
    entity_id: str
    op: str
    fields: Mapping[str, Any]

    @property
    def change_id(self) -> tuple[str, int, int]:
        """Unique per change: a node's HLC never repeats."""
        return (self.origin, self.hlc_wall, self.hlc_counter)


def change_of(entry: Entry) -> Change:
    """The change an entry carries."""
    return Change(
        entry.origin,
        entry.hlc_wall,
        entry.hlc_counter,
        entry.entity,
        entry.entity_id,
        entry.op,
        entry.fields,
    )


class Version(NamedTuple):
    """One value of one field, with who wrote it and when."""

    value: Any
    hlc_wall: int
    hlc_counter: int
    origin: str


def rank(version: Version, hub: str) -> tuple[bool, int, int, str]:
    """Sort key of the merge: hub decisions first, then HLC, then origin id."""
    return (version.origin == hub, version.hlc_wall, version.hlc_counter, version.origin)


def lww(a: Version, b: Version, hub: str) -> tuple[Version, Version]:
    """Last writer wins on (hub first, HLC, origin): returns (winner, loser)."""
    return (a, b) if rank(a, hub) >= rank(b, hub) else (b, a)


def wins(incoming: Version, current: Version | None, hub: str) -> bool:
    """Does `incoming` replace the value shown now (`current`, None when there is none)?"""
    return current is None or rank(incoming, hub) > rank(current, hub)


def written(change: Change) -> dict[str, Any]:
    """The fields a change writes, with ``~deleted`` for a create (False) or a delete (True)."""
    values: dict[str, Any] = dict(change.fields)
    if change.op == "create":
        values[DELETED] = False
    elif change.op == "delete":
        values[DELETED] = True
    return values


def takes(entity: str, origin: str, owner: str | None, hub: str) -> bool:
    """Does a record of `entity` owned by `owner` show what `origin` writes? (OWNED rule)"""
    return entity not in OWNED or origin in (owner, hub)


def is_conflict(winner: Version, loser: Version, hub: str, *, decided: bool = False) -> bool:
    """Is a field's loss one for an admin? Not when one origin replaced itself, the values agree,
    or the hub decided it (`decided`: a city rule) or replaced an older value."""
    if winner.origin == loser.origin or winner.value == loser.value:
        return False
    if winner.origin == hub and (
        decided or (loser.hlc_wall, loser.hlc_counter) <= (winner.hlc_wall, winner.hlc_counter)
    ):
        return False
    return True


@dataclass
class Record:
    """Everything known about one record: per-origin registers and each origin's first create."""

    entity: str
    entity_id: str
    registers: dict[str, dict[str, Version]] = field(default_factory=dict)
    creates: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class View:
    """What a record shows, and what lost or was ignored on the way."""

    fields: dict[str, Any]
    deleted: bool
    owner: str | None
    losers: dict[str, tuple[Version, ...]]
    ignored: tuple[str, ...]  # origins whose changes an owned record does not take


def merge_change(record: Record | None, change: Change) -> Record:
    """Fold one change into a record (commutative and idempotent per change)."""
    if record is None:
        record = Record(change.entity, change.entity_id)
    stamp = (change.hlc_wall, change.hlc_counter)
    if change.op == "create":
        old = record.creates.get(change.origin)
        if old is None or stamp < old:
            record.creates[change.origin] = stamp
    registers = record.registers.setdefault(change.origin, {})
    for name, value in written(change).items():
        incoming = Version(value, change.hlc_wall, change.hlc_counter, change.origin)
        if wins(incoming, registers.get(name), change.origin):
            registers[name] = incoming
    return record


def owner_of(record: Record) -> str | None:
    """The origin of the earliest create (ties broken by origin id), or None."""
    if not record.creates:
        return None
    return min(record.creates.items(), key=lambda item: (item[1], item[0]))[0]


def view(record: Record, hub: str) -> View:
    """What `record` shows under the merge rules."""
    owner = owner_of(record)
    origins = sorted(record.registers)
    ignored: tuple[str, ...] = ()
    if record.entity in OWNED:
        allowed = [o for o in origins if takes(record.entity, o, owner, hub)]
        ignored = tuple(o for o in origins if o not in allowed)
        origins = allowed
    candidates: dict[str, list[Version]] = {}
    for origin in origins:
        for name, version in record.registers[origin].items():
            candidates.setdefault(name, []).append(version)
    shown: dict[str, Any] = {}
    losers: dict[str, tuple[Version, ...]] = {}
    for name, versions in candidates.items():
        ordered = sorted(versions, key=lambda v: rank(v, hub), reverse=True)
        shown[name] = ordered[0].value
        if len(ordered) > 1:
            losers[name] = tuple(ordered[1:])
    deleted = bool(shown.pop(DELETED, False))
    return View(shown, deleted, owner, losers, ignored)


class MergeState:
    """All records one side knows, built from changes in any order; plain data, no I/O."""

    def __init__(self, hub: str) -> None:
        self.hub = hub
        self.records: dict[tuple[str, str], Record] = {}
        self.seen: set[tuple[str, int, int]] = set()

    def apply(self, change: Change) -> bool:
        """Take a change; False when it was already taken (so it takes effect once)."""
        if change.change_id in self.seen:
            return False
        self.seen.add(change.change_id)
        if change.op in ("rotate", "revoke"):
            return True  # key changes act on key rings, not on records
        key = (change.entity, change.entity_id)
        self.records[key] = merge_change(self.records.get(key), change)
        return True

    def apply_all(self, changes: Iterable[Change]) -> int:
        """Take many changes; the number that were new."""
        return sum(self.apply(c) for c in changes)

    def view(self, entity: str, entity_id: str) -> View | None:
        """What one record shows, or None if unknown."""
        record = self.records.get((entity, entity_id))
        return None if record is None else view(record, self.hub)

    def views(self) -> dict[tuple[str, str], View]:
        """Every record's view, by (entity, entity_id)."""
        return {key: view(record, self.hub) for key, record in sorted(self.records.items())}

    def snapshot(self) -> dict[str, Any]:
        """A plain, comparable picture of the whole state (tests compare sides with it)."""
        return {
            f"{entity}/{entity_id}": {
                "fields": v.fields,
                "deleted": v.deleted,
                "owner": v.owner,
                "losers": {k: [tuple(x) for x in xs] for k, xs in sorted(v.losers.items())},
                "ignored": list(v.ignored),
            }
            for (entity, entity_id), v in self.views().items()
        }
