"""A ranking's change-log entry stays within sync_protocol's per-entry limit at any pool size,
while the station stores the best eligible workers with every reason and counts the rest."""

from __future__ import annotations

import datetime as dt

from dispatch_conftest import add_job, clock_at_t0, engine_app  # noqa: F401
from flask import Flask

import sync_protocol as sp
from station_node import changelog, db
from station_node.models import ChangeEntry, Ranking, Worker, new_id
from station_node.services.dispatch import RANKING_LOGGED
from station_node.services.dispatch.rows import RANKING_STORED
from station_node.sync import client, outbox

ABLE, UNSKILLED = 1_800, 600


def _bulk_workers() -> None:
    """2,400 workers in the job's community: 1,800 able to do it, 600 without its skill."""
    rows = [
        {
            "id": new_id(),
            "name": f"工人{n}",
            "id_cipher": b"\x00" * 16,
            "id_hash": f"{n:064x}",
            "id_masked": "110105********001X",
            "birth_date": dt.date(1980, 1, 1),
            "sex": "M",
            "mobile": f"138{n:08d}",
            "skills": ["cleaning"] if n < ABLE else ["moving"],
            "areas": ["团结湖社区"],
            "availability": {},
            "last_assigned_at": dt.datetime(2025, 5, 1) + dt.timedelta(minutes=n)
            if n % 3
            else None,
        }
        for n in range(ABLE + UNSKILLED)
    ]
    with db.atomic():
        for start in range(0, len(rows), 400):
            Worker.insert_many(rows[start : start + 400]).execute()


def test_a_ranking_over_2000_workers_logs_entries_under_the_limit(
    engine_app: Flask,  # noqa: F811
    clock_at_t0,  # noqa: F811
) -> None:
    _bulk_workers()
    job = add_job(dispatch_mode="grab")

    # The station stores the best RANKING_STORED eligible workers (none of these is present
    # today); the log still counts the whole pool and why the others were left out (those
    # without the skill are counted by the pool query, not ranked).
    assert Ranking.select().where(Ranking.job == job.id).count() == RANKING_STORED < ABLE
    rows = list(
        ChangeEntry.select().where(ChangeEntry.entity == "ranking").order_by(ChangeEntry.seq)
    )
    assert rows
    limit = sp.Limits().max_entry_bytes
    for row in rows:
        assert len(changelog.encode_row(row, "station-local", {"1": 0})) <= limit

    fields = rows[-1].fields
    assert (fields["job_id"], fields["ranked"], fields["eligible"]) == (
        job.id,
        ABLE + UNSKILLED,
        ABLE,
    )
    assert fields["ineligible_by_reason"] == {"skills_missing": UNSKILLED}
    assert fields["stored"] == RANKING_STORED
    assert fields["top_count"] == len(fields["top"]) == RANKING_LOGGED
    stored = list(
        Ranking.select(Ranking.worker, Ranking.rank, Ranking.score)
        .where((Ranking.job == job.id) & Ranking.eligible)
        .order_by(Ranking.rank)
        .limit(RANKING_LOGGED)
        .tuples()
    )
    assert [
        tuple(top[:3]) for top in fields["top"]
    ] == stored  # the best of the stored ranking, in order
    assert all(top[3] for top in fields["top"])  # with the codes of the reasons behind each score

    # The whole log goes through the push's checks and batching without `entry_oversized`.
    head = outbox.head()
    raws = outbox.entries(head, 1, head.seq, "station-local")
    assert sum(len(run) for run in client.runs(raws, 1)) == head.seq
