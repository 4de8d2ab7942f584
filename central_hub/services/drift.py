"""Station clocks that ran ahead (SYNC.md rule 7).

A batch whose checkpoint HLC is further ahead of the hub's clock than the protocol's bound is
refused `clock_drift`. The station's HLC never goes backwards, so without a person it would be
refused for ever: the refusal opens one queue item per station and accepted head (later
refusals update it: the refused range grows, the offset is the latest). An admin may decide
"accept with hub time": the station gets an allowance up to the last seq the hub knew of, its
batches up to there are verified without the drift refusal, and for merging each entry's stamp
is clamped to the hub time at which the hub first heard of that entry, so a clock a year ahead
never wins a conflict against another station's real, later edit. Entries beyond the allowance
are judged normally again: within the bound they go through; still far ahead, a new item.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sync_protocol as sp
from central_hub import db
from central_hub.models import Admin, ClockAllowance, Issue, Station
from central_hub.states import IssueKind, IssueStatus
from kuaigong import clock
from sync_protocol.verifier import AcceptedEntry, Apply, HashAt, Verdict, verify_batch

# With an allowance the drift bound is lifted entirely (a hundred years, in ms).
_NO_DRIFT_BOUND = 100 * 365 * 24 * 3600 * 1000


def _checkpoint(body: bytes, limits: sp.Limits) -> tuple[Any, int] | None:
    """The batch's checkpoint and how many entries it carries (None when unreadable)."""
    try:
        batch = sp.parse_batch(body, limits)
    except sp.ProtocolError:
        return None
    return batch.checkpoint.checkpoint, len(batch.entries)


def allowance(station_id: str) -> ClockAllowance | None:
    """The station's clock allowance, if an admin granted one."""
    return ClockAllowance.get_or_none(ClockAllowance.station == station_id)


def reverify(
    station: Station,
    body: bytes,
    head: Any,
    ring: sp.KeyRing,
    now_ms: int,
    hash_at: HashAt,
    limits: sp.Limits,
) -> Verdict | None:
    """The verdict for a batch refused `clock_drift` when the station's allowance covers it
    (verified without the drift bound; an Apply's stamps clamped); None when it does not."""
    grant = allowance(station.id)
    if grant is None:
        return None
    found = _checkpoint(body, limits)
    if found is None:
        return None
    cp, _ = found
    if cp.epoch != grant.epoch or cp.seq > grant.up_to_seq:
        return None
    verdict = verify_batch(
        body,
        head,
        ring,
        now_ms,
        hash_at=hash_at,
        limits=dataclasses.replace(limits, max_drift_ms=_NO_DRIFT_BOUND),
    )
    if isinstance(verdict, Apply):
        verdict = dataclasses.replace(verdict, entries=clamp(verdict.entries, grant.marks, now_ms))
    return verdict


def clamp(
    entries: tuple[AcceptedEntry, ...], marks: list[list[int]], now_ms: int
) -> tuple[AcceptedEntry, ...]:
    """Entries whose stamps are no later than when the hub first heard of them: the first mark
    at or after the entry's seq, else `now_ms`. A clamped stamp keeps the log's order (its
    counter is the seq), and the hash and bytes stay those the station signed."""
    out = []
    for item in entries:
        e = item.entry
        limit = next((ms for seq, ms in marks if seq >= e.seq), now_ms)
        if e.hlc_wall > limit:
            e = e._replace(hlc_wall=int(limit), hlc_counter=e.seq)
            item = AcceptedEntry(e, item.raw, item.hash)
        out.append(item)
    return tuple(out)


def note_refusal(
    station: Station,
    body: bytes,
    pending: int | None,
    wall: int | None,
    now_ms: int,
    limits: sp.Limits,
) -> None:
    """Queue (once per station and accepted head) a batch refused for a clock too far ahead,
    or update that open item: the refused range, the offset, when the hub heard of which seq."""
    found = _checkpoint(body, limits)
    if found is None:
        return
    cp, count = found
    if cp.hlc.wall <= now_ms + limits.max_drift_ms:
        return  # an entry stamped after its own checkpoint: malformed, not a clock to accept
    last = max(cp.seq, station.head_seq + pending) if pending is not None else cp.seq
    ahead = cp.hlc.wall - now_ms
    offset = wall - now_ms if wall is not None else ahead
    dedupe = f"clock:{station.id}:{station.epoch}:{station.head_seq}"
    issue = db.locked(Issue.select().where(Issue.dedupe == dedupe)).get_or_none()
    if issue is None:
        Issue.insert(
            kind=IssueKind.CLOCK,
            dedupe=dedupe,
            subject=station.id,
            stations=[station.id],
            created_at=clock.now(),
            status=IssueStatus.OPEN,
            details={
                "reason": sp.Reason.CLOCK_DRIFT.value,
                "epoch": station.epoch,
                "first_seq": station.head_seq + 1,
                "last_seq": last,
                "batch": [max(cp.seq - count + 1, station.head_seq + 1), cp.seq],
                "ahead_ms": ahead,
                "offset_ms": offset,
                "checkpoint_hlc": cp.hlc.wall,
                "marks": [[last, now_ms]],
                "refusals": 1,
                "last_refused_ms": now_ms,
            },
        ).on_conflict_ignore().execute()
        return
    if issue.status != IssueStatus.OPEN:
        return  # decided: a later refusal at the same head adds nothing for a person
    d = dict(issue.details)
    marks = [list(m) for m in d.get("marks", [])]
    if last > d.get("last_seq", 0):
        marks.append([last, now_ms])
    d.update(
        last_seq=max(last, d.get("last_seq", 0)),
        batch=[d["batch"][0], cp.seq],
        ahead_ms=ahead,
        offset_ms=offset,
        checkpoint_hlc=cp.hlc.wall,
        marks=marks,
        refusals=int(d.get("refusals", 0)) + 1,
        last_refused_ms=now_ms,
    )
    Issue.update(details=d).where(Issue.id == issue.id).execute()


def accept(issue: Issue, actor: Admin | None, fields: dict[str, Any]) -> tuple[str, str]:
    """The "accept with hub time" decision (inside the decision's transaction): grant or widen
    the station's allowance; returns the hub-log entity it concerns."""
    d = issue.details
    station_id = issue.subject
    epoch, up_to, marks = int(d["epoch"]), int(d["last_seq"]), [list(m) for m in d["marks"]]
    grant = db.locked(
        ClockAllowance.select().where(ClockAllowance.station == station_id)
    ).get_or_none()
    if grant is not None and grant.epoch == epoch:
        pairs = sorted({(int(s), int(ms)) for s, ms in [*grant.marks, *marks]})
        marks = [[s, ms] for s, ms in pairs]
        up_to = max(up_to, grant.up_to_seq)
    values = {
        "epoch": epoch,
        "up_to_seq": up_to,
        "marks": marks,
        "issue": issue.id,
        "granted_by": actor,
        "granted_at": clock.now(),
    }
    if grant is None:
        ClockAllowance.create(station=station_id, **values)
    else:
        ClockAllowance.update(**values).where(ClockAllowance.station == station_id).execute()
    fields.update(
        epoch=epoch, up_to_seq=up_to, offset_ms=d.get("offset_ms"), clamp="hub_receive_time"
    )
    return "station", station_id
