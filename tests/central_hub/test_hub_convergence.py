"""The hub's own ingest and merge converge to the protocol's merge of every change, each once.

2-5 stations with skewed clocks make random changes (shared workers, their own jobs, updates
to other stations' jobs, deletes and re-creates); their signed batches reach the real hub app
(Flask, its database: SQLite and PostgreSQL) lost, twice, out of order, or re-sent after a
restore from a whole copy; a station restored from an older copy that then works forks, and
only what the hub applied before the signed proof counts. After one final full push, every
record the hub stores equals what `sync_protocol.merge` computes from the entries it applied,
and each entry was applied exactly once.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from flask import Flask
from hub_helpers import StationLog, enrol_station, hub_ms
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

import sync_protocol as sp
from central_hub import db, signing
from central_hub.models import REPLICATED, AppliedEntry, Issue
from central_hub.services import reconcile
from kuaigong import clock

T0 = dt.datetime(2026, 5, 1, 8, 0, 0)
_RUN = itertools.count()
_ENTITIES = ("worker", "job")

actions = st.lists(
    st.tuples(st.integers(0, 9), st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 1000)),
    min_size=20,
    max_size=120,
)


def _push(app: Flask, log: StationLog, first: int, last: int) -> int:
    """Deliver entries first..last of a station's log with a fresh signed call; the status."""
    body = log.batch(first, last)
    answer = app.test_client().post(
        f"/api/v1/stations/{log.station_id}/push", data=body, headers=log.call(body, app)
    )
    assert answer.status_code < 500, answer.get_data(as_text=True)
    event(f"push answered {answer.status_code}")
    return answer.status_code


def _hub_view(app: Flask, prefix: str) -> dict[str, Any]:
    """What the hub stores for the records of this run: shown fields, deleted, owner."""
    out: dict[str, Any] = {}
    with app.app_context(), db.database.connection_context():
        for entity in _ENTITIES:
            model = REPLICATED[entity]
            for row in model.select().where(model.id.startswith(prefix)):
                out[f"{entity}/{row.id}"] = (
                    row.data,
                    bool(row.deleted),
                    row.station if entity in sp.merge.OWNED else None,
                )
    return out


def _protocol_view(changes: list[sp.Change], hub: str) -> dict[str, Any]:
    state = sp.MergeState(hub)
    state.apply_all(changes)
    out: dict[str, Any] = {}
    for (entity, eid), v in state.views().items():
        if entity in sp.merge.OWNED and v.owner is None:
            continue  # no create taken: nothing to show
        out[f"{entity}/{eid}"] = (
            v.fields,
            v.deleted,
            v.owner if entity in sp.merge.OWNED else None,
        )
    return out


def _decide_field_conflicts(app: Flask, manual: clock.ManualClock, run: str) -> list[sp.Change]:
    """An admin decides up to three open worker field conflicts of this run, one a second,
    alternately taking the station's losing value; returns the hub's changes they make."""
    with app.app_context(), db.database.connection_context():
        hub = signing.hub_id()
        issues = [
            i
            for i in Issue.select()
            .where(Issue.kind == "field", Issue.status == "open")
            .order_by(Issue.id)
            if i.details["entity"] == "worker" and i.details["entity_id"].startswith(run)
        ]
    changes = []
    for k, issue in enumerate(issues[:3]):
        manual.advance(1)
        decision = "use_loser" if k % 2 == 0 else "accept_winner"
        with app.test_request_context(), db.database.connection_context():
            reconcile.decide(issue.id, decision, "", None)
        d = issue.details
        if decision == "use_loser":  # the hub's value, at the hub's (pinned) time
            changes.append(
                sp.Change(
                    hub,
                    hub_ms(app),
                    0,
                    "worker",
                    d["entity_id"],
                    "update",
                    {d["field"]: d["loser_value"]},
                )
            )
    event(f"admin decisions: {len(changes)}")
    return changes


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    n=st.integers(2, 5),
    skew=st.lists(st.sampled_from([0, 1, 7, 90, 600, 525_600]), min_size=5, max_size=5),
    script=actions,
)
def test_the_hub_converges_on_the_protocol_merge(
    app: Flask, n: int, skew: list[int], script: list[tuple[int, int, int, int]]
) -> None:
    manual = clock.ManualClock(T0)
    clock.install(app, manual)
    run = f"r{next(_RUN)}-"
    stations = [enrol_station(app, f"驿站{run}{i}") for i in range(n)]
    now = hub_ms(app)
    for i, log in enumerate(stations):  # each station's clock lags the hub (minutes, up to a year)
        log.wall = now - 10_000_000 - skew[i] * 60_000
    sent, forked = [0] * n, [False] * n
    made: dict[str, bytes] = {}  # every entry any station ever wrote, by hash
    for kind, a, b, c in script:
        i = a % n
        log = stations[i]
        wall = log.wall + 1 + b % 5_000
        if kind <= 3:  # edits
            target = c % 4
            if target == 0:
                log.add(
                    "worker",
                    f"{run}w{b % 3}",
                    "create" if c % 3 == 0 else "update",
                    {f"f{c % 2}": f"{i}:{b}"},
                    wall,
                )
            elif target == 1:
                log.add("worker", f"{run}w{b % 3}", "delete", {}, wall)
            elif target == 2:
                jid = f"{run}j{i}-{b % 2}"
                known = any(r for r in log.raws if f'"{jid}"'.encode() in r)
                log.add("job", jid, "update" if known else "create", {"status": f"s{b}"}, wall)
            else:
                log.add("job", f"{run}j{(i + 1) % n}-{b % 2}", "update", {"status": f"x{b}"}, wall)
            made[sp.entry_hash(log.raws[-1])] = log.raws[-1]
        elif kind <= 6 and log.raws:  # a push of a range: in order, ahead of a gap, or again
            first = 1 + (b % len(log.raws)) if c % 3 else sent[i] + 1
            first = min(first, len(log.raws))
            last = min(len(log.raws), first + c % 4)
            if _push(app, log, first, last) == 200 and first <= sent[i] + 1:
                sent[i] = max(sent[i], last)
        elif kind == 7 and log.raws:  # restored from a whole copy: the old batches come again
            _push(app, log, 1, 1 + b % len(log.raws))
        elif kind == 8 and len(log.raws) > 1 and c % 2 == 0:  # an older copy, then new work: a fork
            del log.raws[1 + b % (len(log.raws) - 1) :]
            sent[i], forked[i] = min(sent[i], len(log.raws)), True
    for i, log in enumerate(stations):  # a final full sync over a clean link
        for first in range(1, len(log.raws) + 1, 8):
            status = _push(app, log, first, min(len(log.raws), first + 7))
            assert status == 200 or forked[i], status  # only a fork's proof may stop a station
            event(f"final push {status}")
    decisions = _decide_field_conflicts(app, manual, run)
    for i, log in enumerate(stations):  # later station edits do not undo an admin's decision
        for change in decisions:
            log.add("worker", change.entity_id, "update", {f: f"late{i}" for f in change.fields})
            made[sp.entry_hash(log.raws[-1])] = log.raws[-1]
        if decisions and not forked[i]:
            assert _push(app, log, 1, len(log.raws)) == 200
    with app.app_context(), db.database.connection_context():
        hub = signing.hub_id()
        applied = [
            (log.station_id, x.epoch, x.seq, x.entry_hash)
            for log in stations
            for x in AppliedEntry.select().where(AppliedEntry.station == log.station_id)
        ]
    assert len({row[:3] for row in applied}) == len(applied)  # each entry applied once
    for i, log in enumerate(stations):
        mine = sorted(row[2:] for row in applied if row[0] == log.station_id)
        assert [seq for seq, _ in mine] == list(range(1, len(mine) + 1))  # a gapless prefix
        if not forked[i]:
            assert mine == [(s + 1, sp.entry_hash(r)) for s, r in enumerate(log.raws)]
    changes = [sp.change_of(sp.decode_entry(made[row[3]])) for row in applied] + decisions
    event(f"entries: {len(changes) // 10 * 10}+")
    assert _hub_view(app, run) == _protocol_view(changes, hub)
