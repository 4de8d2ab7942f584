"""One person seen by several stations (SYNC.md rule 8), checked once per batch inside the
ingest transaction:

- the same keyed ID hash registered at two stations: a merge proposal for an admin;
- one person booked into overlapping jobs at two stations: a booking conflict for an admin.

Person rows are the lock: a batch upserts (PostgreSQL: row-locks) the persons it concerns in
id_hash order before it looks at other stations' records, so two hub processes taking pushes
for one person serialise and the second sees the first's rows — no proposal is missed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from central_hub import db
from central_hub.models import Assignment, Job, Person, Worker
from central_hub.services import reconcile
from kuaigong import clock
from kuaigong.states import BOOKED_ASSIGNMENTS


class Booking(NamedTuple):
    """A live assignment of one person, as the conflict check needs it."""

    id: str
    station: str
    job_id: str
    id_hash: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None


def lock_persons(known: dict[str, dict[str, Any]]) -> None:
    """Create the persons (keyed ID hash → masked and sealed number, when given) or fill in what
    they lack; on PostgreSQL this also row-locks them, in hash order."""
    now = db.dbtime(clock.now())
    rows = [
        (h, _text(known[h].get("id_masked"), 18), _text(known[h].get("id_sealed")), now)
        for h in sorted(known)
    ]
    table = Person._meta.table_name
    db.insert_values(
        table,
        ("id_hash", "id_masked", "id_sealed", "created_at"),
        rows,
        (
            "(id_hash) DO UPDATE SET "
            f'id_masked = COALESCE(excluded.id_masked, "{table}".id_masked), '
            f'id_sealed = COALESCE(excluded.id_sealed, "{table}".id_sealed)'
        ),
    )


def _text(value: Any, limit: int | None = None) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def check_identities(station_id: str, mine: dict[str, dict[str, Any]]) -> None:
    """The same keyed ID hash at another station: propose a merge."""
    if not mine:
        return
    hashes = sorted(mine)
    lock_persons(mine)
    shared = sorted(
        {
            row[0]
            for row in db.fetch_in(
                'SELECT DISTINCT "id_hash" FROM "worker" '
                'WHERE {in} AND "station" <> {p} AND NOT "deleted"',
                "id_hash",
                hashes,
                [station_id],
            )
        }
    )
    if not shared:
        return
    same: dict[str, list[Worker]] = {}
    for w in (
        Worker.select(Worker.id, Worker.station, Worker.name, Worker.id_hash, Worker.data)
        .where(Worker.id_hash.in_(shared) & ~Worker.deleted)
        .order_by(Worker.station, Worker.id)
    ):
        same.setdefault(w.id_hash, []).append(w)
    reconcile.open_issues(
        [
            (
                "merge",
                f"merge:{id_hash}:{','.join(sorted({w.station for w in workers}))}",
                id_hash,
                [w.station for w in workers],
                {
                    "workers": [
                        {
                            "id": w.id,
                            "station": w.station,
                            "name": w.name,
                            "id_masked": w.data.get("id_masked"),
                        }
                        for w in workers
                    ]
                },
            )
            for id_hash, workers in same.items()
        ]
    )


def _overlaps(a: Booking, b: Booking) -> bool:
    if a.starts_at is None or a.ends_at is None or b.starts_at is None or b.ends_at is None:
        return False
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def check_bookings(station_id: str, bookings: list[Booking]) -> None:
    """One person booked into overlapping jobs at two stations: a booking conflict."""
    if not bookings:
        return
    people = sorted({b.id_hash for b in bookings})
    lock_persons({h: {} for h in people})
    others: dict[str, list[Booking]] = {}
    for o in (
        Assignment.select(
            Assignment.id,
            Assignment.station,
            Assignment.job_id,
            Assignment.id_hash,
            Assignment.starts_at,
            Assignment.ends_at,
        )
        .where(
            Assignment.id_hash.in_(people)
            & (Assignment.station != station_id)
            & Assignment.status.in_(BOOKED_ASSIGNMENTS)
            & ~Assignment.deleted
        )
        .tuples()
    ):
        others.setdefault(o[3], []).append(Booking(*o))
    groups = [
        [b, *clashes]
        for b in bookings
        if (clashes := [o for o in others.get(b.id_hash, []) if _overlaps(b, o)])
    ]
    if not groups:
        return
    titles = {
        j.id: j.title
        for j in Job.select(Job.id, Job.title).where(
            Job.id.in_(sorted({a.job_id for g in groups for a in g}))
        )
    }
    items = []
    for group in groups:
        group = sorted(group, key=lambda a: a.id)
        items.append(
            (
                "booking",
                "booking:" + ",".join(a.id for a in group)[:180],
                group[0].id_hash,
                [a.station for a in group],
                {
                    "assignments": [
                        {
                            "id": a.id,
                            "station": a.station,
                            "job_id": a.job_id,
                            "job_title": titles.get(a.job_id),
                            "starts_at": str(a.starts_at),
                            "ends_at": str(a.ends_at),
                        }
                        for a in group
                    ]
                },
            )
        )
    reconcile.open_issues(items)
