"""Conflicts a person must decide, found from merged views (same result on every side).

- Identity duplicates: two worker records with the same keyed ID hash (``id_hash``) are one
  person; the hub proposes a merge for an admin to confirm.
- Overlapping bookings: one person (by ``id_hash`` through the assignment's ``worker_id``)
  booked into live assignments at two stations whose times overlap.
Times are compared as the ISO 8601 UTC strings the change log writes ("2025-06-01T08:00:00Z").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

from sync_protocol.merge import View

LIVE_ASSIGNMENT = frozenset({"confirmed", "checked_in"})


@dataclass(frozen=True, order=True)
class MergeProposal:
    """Records of `entity` that belong to one person (same `id_hash`)."""

    entity: str
    id_hash: str
    entity_ids: tuple[str, ...]


@dataclass(frozen=True, order=True)
class BookingConflict:
    """One person booked into two overlapping assignments owned by different stations."""

    person: str
    first: tuple[str, str]  # (station, assignment id)
    second: tuple[str, str]


def identity_duplicates(
    views: Mapping[tuple[str, str], View], entity: str = "worker"
) -> list[MergeProposal]:
    """Merge proposals for records of `entity` sharing an id_hash."""
    groups: dict[str, list[str]] = {}
    for (kind, entity_id), v in views.items():
        id_hash = v.fields.get("id_hash")
        if kind == entity and not v.deleted and isinstance(id_hash, str) and id_hash:
            groups.setdefault(id_hash, []).append(entity_id)
    return sorted(
        MergeProposal(entity, id_hash, tuple(sorted(ids)))
        for id_hash, ids in groups.items()
        if len(ids) > 1
    )


def overlapping_bookings(views: Mapping[tuple[str, str], View]) -> list[BookingConflict]:
    """Live assignments of one person at two stations whose [starts_at, ends_at) overlap."""
    people: dict[str, list[tuple[str, str, str, str]]] = {}
    for (kind, entity_id), v in views.items():
        f = v.fields
        if kind != "assignment" or v.deleted or f.get("status", "confirmed") not in LIVE_ASSIGNMENT:
            continue
        start, end, worker = f.get("starts_at"), f.get("ends_at"), f.get("worker_id")
        if not (isinstance(start, str) and isinstance(end, str) and isinstance(worker, str)):
            continue
        worker_view = views.get(("worker", worker))
        person = worker_view.fields.get("id_hash") if worker_view else None
        person = person if isinstance(person, str) and person else f"worker:{worker}"
        people.setdefault(person, []).append((start, end, v.owner or "", entity_id))
    found = []
    for person, bookings in people.items():
        for a, b in combinations(sorted(bookings), 2):
            if a[2] != b[2] and a[0] < b[1] and b[0] < a[1]:
                found.append(BookingConflict(person, (a[2], a[3]), (b[2], b[3])))
    return sorted(found)
