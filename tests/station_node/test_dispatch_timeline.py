"""Each dispatch mode's timeline against a real SQLite file, with the clock in the test's hands."""

from __future__ import annotations

import datetime as dt

import pytest
from dispatch_conftest import JOB_END, JOB_START, add_job, add_worker, clock_at_t0, engine_app

from kuaigong.errors import Conflict, Forbidden
from station_node.models import Assignment, ChangeEntry, Job, Offer, Ranking, Worker
from station_node.services import dispatch

__all__ = ["clock_at_t0", "engine_app"]  # fixtures used by name


def pending(job: Job) -> list[str]:
    query = Offer.select(Offer.worker).where((Offer.job == job.id) & (Offer.status == "pending"))
    return sorted(Worker.get_by_id(o.worker_id).name for o in query)


def offer_of(job: Job, name: str) -> Offer:
    return Offer.select().join(Worker).where((Offer.job == job.id) & (Worker.name == name)).get()


def test_offer_timeout_at_20_seconds_moves_to_the_next_worker(clock_at_t0):
    for name in ("甲", "乙", "丙", "丁"):
        add_worker(name, present=name != "丁")
    job = add_job(headcount=1)
    assert pending(job) == ["甲"]  # equal points: registered first
    clock_at_t0.advance(9)
    assert dispatch.tick()["offered"] == 0 and pending(job) == ["甲"]
    clock_at_t0.advance(1)  # 10 s without an answer: a second offer for the place
    assert dispatch.tick()["offered"] == 1 and pending(job) == ["乙", "甲"]
    clock_at_t0.advance(9)
    assert dispatch.tick() == {"jobs": 1, "expired": 0, "offered": 0, "escalated": 0}
    clock_at_t0.advance(1)  # 20 s: 甲's offer lapses; the next workers, present ones first
    assert dispatch.tick()["expired"] == 1
    assert offer_of(job, "甲").status == "expired"
    assert [offer_of(job, n).rank for n in ("乙", "丙", "丁")] == [2, 3, 4]
    assert sorted(pending(job)) == sorted(["乙", "丙", "丁"])
    with pytest.raises(Conflict) as closed:
        dispatch.accept_offer(offer_of(job, "甲").id, None, None)
    assert closed.value.code == "offer_closed"


def test_decline_sends_the_next_offer_at_once_and_accept_fills(clock_at_t0):
    a, b = add_worker("甲", present=True), add_worker("乙", present=True)
    job = add_job(headcount=1)
    assert pending(job) == ["甲"]  # equal points: registered first
    offer = offer_of(job, "甲")
    with pytest.raises(Forbidden):
        dispatch.decline_offer(offer.id, b.id, None)
    clock_at_t0.advance(3)
    declined = dispatch.decline_offer(offer.id, a.id, None)
    assert declined.status == "declined"
    assert pending(job) == ["乙"]
    clock_at_t0.advance(4)
    assignment = dispatch.accept_offer(offer_of(job, "乙").id, b.id, None)
    assert assignment.via == "offer" and assignment.worker_id == b.id
    job = Job.get_by_id(job.id)
    assert (job.status, job.confirmed_count, job.filled_at) == ("filled", 1, clock_at_t0.now())
    assert Worker.get_by_id(b.id).last_assigned_at == clock_at_t0.now()
    row = dispatch.board()[0]
    assert row["confirmed"][0]["name"] == "乙" and row["declined"][0]["name"] == "甲"
    assert row["seconds_since_start"] == 7 and row["status"] == "filled"


def test_escalation_at_45_seconds_shows_on_the_board(clock_at_t0):
    for i in range(6):
        add_worker(f"工{i}", present=True)
    job = add_job(headcount=1)
    for _ in range(44):
        clock_at_t0.advance(1)
        dispatch.tick()
    assert Job.get_by_id(job.id).escalated_at is None
    clock_at_t0.advance(1)
    assert dispatch.tick()["escalated"] == 1
    job = Job.get_by_id(job.id)
    assert job.status == "escalated" and job.escalated_at == clock_at_t0.now()
    row = dispatch.board()[0]
    assert row["escalated"] and row["seconds_since_start"] == 45 and row["seconds_left"] == 15
    # Offers at 0, 10, 20, 20, 30, 40 s (widening every 10 s); four have lapsed by 45 s.
    assert len(row["expired"]) == 4 and len(row["offered"]) == 2
    # Staff assign by hand; an escalated job still fills.
    staff_pick = add_worker("王五", skills=[], areas=["别处"])
    assignment = dispatch.assign(job.id, staff_pick.id, None)
    assert assignment.via == "manual"
    job = Job.get_by_id(job.id)
    assert job.status == "filled"
    assert Offer.select().where((Offer.job == job.id) & (Offer.status == "pending")).count() == 0
    assert Offer.select().where((Offer.job == job.id) & (Offer.status == "withdrawn")).count() == 2


def test_no_one_left_to_offer_escalates_at_once(clock_at_t0):
    add_worker("甲", skills=["moving"])
    job = add_job(headcount=1)
    assert Job.get_by_id(job.id).status == "escalated"


def test_a_job_waits_for_workers_considering_another_offer_and_offers_when_they_come_free(
    clock_at_t0,
):
    add_worker("甲", present=True)
    first = add_job(headcount=1, title="楼道保洁")
    assert pending(first) == ["甲"]
    clock_at_t0.advance(2)
    second = add_job(headcount=1, title="车库保洁")
    assert pending(second) == []  # 甲 holds one live offer at a time
    assert Job.get_by_id(second.id).status == "open"  # not escalated: 甲 may come free
    clock_at_t0.advance(3)
    dispatch.tick()
    assert Job.get_by_id(second.id).status == "open"
    dispatch.decline_offer(offer_of(first, "甲").id, None, None)
    clock_at_t0.advance(1)
    dispatch.tick()
    assert pending(second) == ["甲"]  # free again: the waiting job offers at once
    assert Job.get_by_id(second.id).escalated_at is None


def test_a_job_waiting_on_a_silent_worker_offers_when_theirs_lapses_then_escalates(
    clock_at_t0,
):
    add_worker("甲", present=True)
    first = add_job(headcount=1, title="楼道保洁")
    second = add_job(
        headcount=1, title="车库保洁", time_flexible=True, starts_at=None, ends_at=None
    )
    assert pending(second) == []
    for _ in range(20):  # 甲 does not answer: the first job's offer lapses at 20 s
        clock_at_t0.advance(1)
        dispatch.tick()
    assert offer_of(first, "甲").status == "expired" and pending(second) == ["甲"]
    for _ in range(19):
        clock_at_t0.advance(1)
        dispatch.tick()
    assert Job.get_by_id(second.id).escalated_at is None
    clock_at_t0.advance(1)  # 甲 let this one lapse too: now nobody is left, so staff are told
    dispatch.tick()
    job = Job.get_by_id(second.id)
    assert job.status == "escalated" and job.escalated_at == clock_at_t0.now()


def test_grab_up_to_headcount_then_job_full(clock_at_t0):
    workers = [add_worker(f"抢{i}") for i in range(4)]
    job = add_job(headcount=3, dispatch_mode="grab")
    assert Offer.select().where(Offer.job == job.id).count() == 0
    for w in workers[:3]:
        clock_at_t0.advance(1)
        assert dispatch.grab(job.id, w.id, None).via == "grab"
    with pytest.raises(Conflict) as full:
        dispatch.grab(job.id, workers[3].id, None)
    assert full.value.code == "job_full" and full.value.status == 409
    assert "已招满" in full.value.message_zh
    job = Job.get_by_id(job.id)
    assert job.confirmed_count == 3 and job.status == "filled"
    with pytest.raises(Conflict) as again:
        dispatch.grab(job.id, workers[0].id, None)
    assert again.value.code in {"job_full", "already_assigned"}


def test_grab_refuses_the_ineligible_the_doubly_booked_and_offer_jobs(clock_at_t0):
    able, unskilled = add_worker("甲"), add_worker("乙", skills=["moving"])
    job = add_job(headcount=5, dispatch_mode="grab")
    with pytest.raises(Conflict) as why:
        dispatch.grab(job.id, unskilled.id, None)
    assert why.value.code == "not_eligible" and "保洁" in why.value.message_zh
    dispatch.grab(job.id, able.id, None)
    with pytest.raises(Conflict) as twice:
        dispatch.grab(job.id, able.id, None)
    assert twice.value.code == "already_assigned"
    later = add_job(
        headcount=1,
        dispatch_mode="grab",
        starts_at=JOB_START + dt.timedelta(hours=4),
        ends_at=JOB_END + dt.timedelta(hours=4),
    )
    with pytest.raises(Conflict) as overlap:
        dispatch.grab(later.id, able.id, None)
    assert overlap.value.code == "overlapping_booking"
    offered = add_job(headcount=1)
    with pytest.raises(Conflict) as mode:
        dispatch.grab(offered.id, unskilled.id, None)
    assert mode.value.code == "not_eligible"


def test_manual_assignment_never_breaks_headcount_or_overlap(clock_at_t0):
    a, b = add_worker("甲", skills=[]), add_worker("乙", skills=[])
    job = add_job(headcount=1, dispatch_mode="grab")
    dispatch.assign(job.id, a.id, None)
    with pytest.raises(Conflict) as full:
        dispatch.assign(job.id, b.id, None)
    assert full.value.code == "job_full"
    clash = add_job(
        headcount=2,
        dispatch_mode="grab",
        starts_at=JOB_START + dt.timedelta(hours=1),
        ends_at=JOB_START + dt.timedelta(hours=3),
    )
    with pytest.raises(Conflict) as overlap:
        dispatch.assign(clash.id, a.id, None)
    assert overlap.value.code == "overlapping_booking"
    flexible = add_job(
        headcount=1, dispatch_mode="grab", starts_at=None, ends_at=None, time_flexible=True
    )
    assert dispatch.assign(flexible.id, a.id, None).job_id == flexible.id
    closed = add_job(headcount=1, status="held", start=False)
    with pytest.raises(Conflict) as held:
        dispatch.assign(closed.id, b.id, None)
    assert held.value.code == "job_not_open"


def test_ranking_is_stored_with_reasons_and_explained(clock_at_t0):
    add_worker("老李", present=True, last_assigned_at=clock_at_t0.now() - dt.timedelta(hours=2))
    add_worker("小王", present=True)
    add_worker("外区", areas=["呼家楼社区"], present=True)
    far = add_worker("远方", areas=["呼家楼社区"])
    job = add_job(headcount=1, dispatch_mode="grab")
    rows = dispatch.explain(job.id)
    assert [(r["name"], r["rank"], r["eligible"]) for r in rows] == [
        ("小王", 1, True),
        ("老李", 2, True),
        ("外区", 0, False),
    ]
    assert {r["code"] for r in rows[0]["reasons"]} == {"present", "rotation"}
    assert rows[0]["score"] == 1400 and rows[1]["score"] == 1020
    assert rows[2]["reasons"][0]["code"] == "outside_area" and rows[2]["reasons"][0]["detail_zh"]
    assert Ranking.select().where(Ranking.job == job.id).count() == 3
    # A worker outside the stored pool is explained on request, computed now.
    (live,) = dispatch.explain(job.id, far.id)
    assert live["live"] and live["reasons"][0]["code"] == "outside_area"


def test_every_dispatch_write_is_in_the_change_log(clock_at_t0):
    a = add_worker("甲", present=True)
    job = add_job(headcount=1)
    offer = offer_of(job, "甲")
    dispatch.accept_offer(offer.id, a.id, None)
    logged = {(e.entity, e.entity_id, e.op) for e in ChangeEntry.select()}
    assignment = Assignment.get()
    assert ("ranking", job.id, "create") in logged
    assert ("offer", offer.id, "create") in logged and ("offer", offer.id, "update") in logged
    assert ("assignment", assignment.id, "create") in logged
    assert ("job", job.id, "update") in logged and ("worker", a.id, "update") in logged
    assert assignment.id == dispatch.assignment_id(job.id, a.id)
    last_job = (
        ChangeEntry.select()
        .where((ChangeEntry.entity == "job") & (ChangeEntry.entity_id == job.id))
        .order_by(ChangeEntry.seq.desc())
        .get()
    )
    assert last_job.fields["status"] == "filled"


def test_reopen_after_a_cancellation_offers_the_place_again(clock_at_t0):
    a, b = add_worker("甲", present=True), add_worker("乙", present=True)
    job = add_job(headcount=1)
    dispatch.accept_offer(offer_of(job, "甲").id, a.id, None)
    assert Job.get_by_id(job.id).status == "filled"
    clock_at_t0.advance(60)
    Assignment.update(status="cancelled").execute()  # what cancel_assignment does before reopen
    job = dispatch.reopen(Job.get_by_id(job.id))
    assert (job.status, job.confirmed_count, job.dispatch_started_at) == (
        "open",
        0,
        clock_at_t0.now(),
    )
    assert pending(job) == ["乙"]
    assert dispatch.pending_offers(b.id)[0]["job_id"] == job.id
    with pytest.raises(Conflict) as again:  # who cancelled is not confirmed on the job again
        dispatch.assign(job.id, a.id, None)
    assert again.value.code == "not_eligible"


def test_accepting_after_a_clashing_booking_withdraws_the_offer_and_passes_it_on(clock_at_t0):
    a = add_worker("甲", present=True)
    add_worker("乙")
    job = add_job(headcount=1)
    other = add_job(headcount=1, dispatch_mode="grab")
    dispatch.grab(other.id, a.id, None)  # same window, taken meanwhile
    with pytest.raises(Conflict) as clash:
        dispatch.accept_offer(offer_of(job, "甲").id, a.id, None)
    assert clash.value.code == "overlapping_booking"
    assert offer_of(job, "甲").status == "withdrawn"
    assert pending(job) == ["乙"]
