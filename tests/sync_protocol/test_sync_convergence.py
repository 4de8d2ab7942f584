"""Stations and a hub over a lossy, duplicating, reordering network: every change arrives once.

2-5 stations make random changes and the hub random decisions; pushes, pulls and replies travel
as messages that may be lost, delivered twice or out of order, and syncs stop part-way. After
one final full sync the hub holds every station's log exactly, each station holds every hub
decision, and each change was taken exactly once on every side. This is the transport's proof
(sessions, verdicts, receipts). What the hub *shows* after merging is proven on the real hub
(its app and database) by tests/central_hub/test_hub_convergence.py: the hub does not relay
station records to other stations, so there is no station-side merged state to compare.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import event, given, settings
from hypothesis import strategies as st
from sync_helpers import HUB, T0, head, ring, seed_key

from sync_protocol import (
    Apply,
    Gap,
    HubSession,
    HybridClock,
    Limits,
    LogWriter,
    Receipt,
    Replay,
    StationSession,
    change_of,
    decode_entry,
    entry_hash,
)

LIMITS = Limits(max_entries=4)


class Station:
    def __init__(self, name: str, hub_keys) -> None:
        self.name = name
        self.key = seed_key(name)
        self.log = LogWriter(name, self.key, HybridClock(name))
        self.raws: list[bytes] = []
        self.session = StationSession(name, HUB, self.key, hub_keys, self.log.clock, limits=LIMITS)
        self.taken: Counter = Counter()
        self.hub_hashes: dict[tuple[int, int], str] = {}
        self.sent = 0

    def edit(self, entity: str, eid: str, op: str, fields: dict, wall: int) -> None:
        item = self.log.append(entity, eid, op, fields, wall)
        self.raws.append(item.raw)
        self._take(item.entry)

    def _take(self, entry) -> None:
        self.taken[change_of(entry).change_id] += 1

    def push(self, wall: int, size: int, pipeline: bool = False) -> bytes | None:
        """The next chunk after the last receipt, or (pipelining) after the last chunk sent."""
        plan = self.session.next_push(1, self.log.seq)
        if plan is None:
            return None
        first = self.sent + 1 if pipeline and plan[0] <= self.sent < self.log.seq else plan[0]
        last = min(self.log.seq, first + size - 1)
        self.sent = max(self.sent, last)
        return self.session.build_push(self.raws[first - 1 : last], wall)

    def on_hub_batch(self, data: bytes, wall: int) -> object:
        v = self.session.receive_hub_batch(
            data, wall, hash_at=lambda e, s: self.hub_hashes.get((e, s))
        )
        if isinstance(v, Apply):
            for item in v.entries:
                self.hub_hashes[(item.entry.epoch, item.entry.seq)] = item.hash
                self._take(item.entry)
            self.session.commit_hub(v, wall)
        return v


class Hub:
    def __init__(self, stations: list[Station]) -> None:
        self.key = seed_key(HUB)
        self.log = LogWriter(HUB, self.key, HybridClock(HUB))
        self.raws: list[bytes] = []
        self.sessions = {
            s.name: HubSession(HUB, self.key, head(s.name), ring(s.name, s.key), limits=LIMITS)
            for s in stations
        }
        self.stored: dict[str, dict[tuple[int, int], tuple[str, bytes]]] = {
            s.name: {} for s in stations
        }
        self.taken: Counter = Counter()

    def decide(self, entity: str, eid: str, fields: dict, wall: int) -> None:
        item = self.log.append(entity, eid, "update", fields, wall)
        self.raws.append(item.raw)
        self.taken[change_of(item.entry).change_id] += 1

    def on_push(self, station: str, data: bytes, now: int) -> bytes:
        session, stored = self.sessions[station], self.stored[station]
        verdict = session.receive_batch(
            data, now, hash_at=lambda e, s: stored.get((e, s), (None,))[0]
        )
        while True:
            event(f"hub verdict {type(verdict).__name__}")
            assert isinstance(verdict, Apply | Replay | Gap), verdict
            if isinstance(verdict, Apply):
                for item in verdict.entries:  # one "transaction": entries, effects, head
                    key = (item.entry.epoch, item.entry.seq)
                    assert key not in stored
                    stored[key] = (item.hash, item.raw)
                    self.taken[change_of(item.entry).change_id] += 1
                session.commit(verdict)
            held = session.next_held()
            if held is None:
                break
            verdict = session.receive_batch(
                held, now, hash_at=lambda e, s: stored.get((e, s), (None,))[0]
            )
        return session.reply(verdict, self.log.seq, now)

    def on_pull(self, station: str, data: bytes, now: int) -> bytes | None:
        pull = self.sessions[station].receive_pull(data)
        part = self.raws[pull.after : pull.after + pull.limit]
        return self.log.sign(part, now) if part else None


actions = st.lists(
    st.tuples(st.integers(0, 11), st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 1000)),
    min_size=20,
    max_size=90,
)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 5), script=actions)
def test_random_lossy_syncs_then_a_full_sync_converge_exactly_once(n: int, script) -> None:
    stations = [Station(f"st-{i}", ring(HUB, seed_key(HUB))) for i in range(n)]
    hub = Hub(stations)
    by_name = {s.name: s for s in stations}
    now = T0
    inflight: list[tuple[str, str, bytes]] = []  # (kind, station, bytes)

    def deliver(kind: str, station: str, data: bytes) -> None:
        s = by_name[station]
        event(f"deliver {kind}")
        if kind == "push":
            inflight.append(("reply", station, hub.on_push(station, data, now)))
        elif kind == "pull":
            batch = hub.on_pull(station, data, now)
            if batch is not None:
                inflight.append(("hub_batch", station, batch))
        elif kind == "reply":
            assert isinstance(s.session.receive_reply(data, now), Receipt)
        else:
            v = s.on_hub_batch(data, now)
            event(f"station verdict {type(v).__name__}")
            assert isinstance(v, Apply | Replay | Gap)

    for kind, a, b, c in script:
        now += 1 + b % 50
        s = stations[a % n]
        if kind <= 1:  # a station edits: shared workers, its own jobs, or another station's job
            target = c % 3
            if target == 0:
                s.edit("worker", f"w{b % 3}", "update", {f"f{c % 2}": f"{s.name}:{b}"}, now)
            elif target == 1:
                s.edit(
                    "job",
                    f"{s.name}-j{b % 2}",
                    "create" if c % 4 == 1 else "update",
                    {"status": f"s{b}"},
                    now,
                )
            else:
                s.edit("job", f"st-{(a + 1) % n}-j{b % 2}", "update", {"status": f"stolen{b}"}, now)
        elif kind == 2:
            hub.decide(
                "worker" if c % 2 else "job",
                f"w{b % 3}" if c % 2 else f"st-{a % n}-j0",
                {"f0" if c % 2 else "status": f"hub:{b}"},
                now,
            )
        elif kind in (3, 4):
            batch = s.push(now, 1 + b % 4, pipeline=c % 2 == 0)
            if batch is not None:
                inflight.append(("push", s.name, batch))
        elif kind == 5:
            inflight.append(("pull", s.name, s.session.pull(1 + b % 4)))
        elif kind in (6, 7, 8, 9) and inflight:  # delivered, in any order, maybe twice
            i = b % len(inflight)
            deliver(*(inflight[i] if c % 3 == 0 else inflight.pop(i)))
        elif kind in (10, 11) and inflight:
            inflight.pop(b % len(inflight))  # lost

    # final full sync over a clean link: every station pushes everything, then pulls everything
    now += 1000
    for s in stations:
        while (batch := s.push(now, 4)) is not None:
            deliver("push", s.name, batch)
            reply = inflight.pop()
            deliver(*reply)
    for s in stations:
        while s.session.hub_head.seq < hub.log.seq:
            deliver("pull", s.name, s.session.pull())
            deliver(*inflight.pop())

    decisions = {change_of(decode_entry(r)).change_id for r in hub.raws}
    station_changes = set()
    for s in stations:
        assert hub.stored[s.name] == {(1, i + 1): (entry_hash(r), r) for i, r in enumerate(s.raws)}
        own = {change_of(decode_entry(r)).change_id for r in s.raws}
        assert set(s.taken) == own | decisions  # its own changes and every hub decision
        station_changes |= own
    assert set(hub.taken) == station_changes | decisions
    assert len(station_changes) == sum(len(s.raws) for s in stations)
    for side in [hub, *stations]:
        assert max(side.taken.values(), default=1) == 1  # each change taken exactly once
