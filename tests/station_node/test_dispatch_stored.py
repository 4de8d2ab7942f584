"""A ranking stores only the best RANKING_STORED eligible workers: the offer cascade ranks the
rest live and stores the next ones when those run out, and anyone below them is still told
their score, their reasons and that others were ahead."""

from __future__ import annotations

import datetime as dt

from dispatch_conftest import add_job, add_worker, clock_at_t0, engine_app  # noqa: F401
from flask import Flask

from station_node.models import ChangeEntry, Job, Offer, Ranking, Worker
from station_node.services import dispatch

NAMES = ("一", "二", "三", "四", "五")


def _stored(job: Job) -> list[tuple[str, int]]:
    query = (
        Ranking.select(Worker.name, Ranking.rank)
        .join(Worker, on=(Ranking.worker == Worker.id))
        .where((Ranking.job == job.id) & Ranking.eligible)
        .order_by(Ranking.rank)
    )
    return list(query.tuples())


def _pending(job: Job) -> Offer:
    (offer,) = Offer.select().where((Offer.job == job.id) & (Offer.status == "pending"))
    return offer


def _name(offer: Offer) -> str:
    return Worker.get_by_id(offer.worker_id).name


def _ranking_entries(job: Job) -> list[tuple[str, dict]]:
    query = ChangeEntry.select().where(
        (ChangeEntry.entity == "ranking") & (ChangeEntry.entity_id == job.id)
    )
    return [(e.op, e.fields) for e in query.order_by(ChangeEntry.seq)]


def test_the_cascade_ranks_the_rest_when_the_stored_workers_run_out(
    engine_app: Flask,  # noqa: F811
    clock_at_t0,  # noqa: F811
) -> None:
    engine_app.config["RANKING_STORED"] = 2
    now = clock_at_t0.now()
    for hours, name in enumerate(NAMES):  # 一 waited longest, 五 got work most recently
        add_worker(name, last_assigned_at=now - dt.timedelta(hours=30 - hours))
    add_worker("无技能", skills=["moving"])  # in the area, counted, never ranked
    job = add_job(headcount=1)

    assert _stored(job) == [("一", 1), ("二", 2)]
    ((op, first),) = _ranking_entries(job)
    assert (op, first["ranked"], first["eligible"], first["stored"]) == ("create", 6, 5, 2)
    assert first["ineligible_by_reason"] == {"skills_missing": 1}

    # 五 is below the stored two: explained live, with their score and who was ahead.
    five = Worker.get(Worker.name == "五")
    (why,) = dispatch.explain(job.id, five.id)
    assert why["live"] and why["eligible"] and why["ahead"] == 2
    assert why["score"] == sum(r["points"] for r in why["reasons"]) == 260
    assert why["reasons"][-1]["code"] == "ranked_below"
    assert "2 workers scored as high or higher" in why["reasons"][-1]["detail_en"]

    assert _name(_pending(job)) == "一"
    dispatch.decline_offer(_pending(job).id, None, None)
    assert _name(_pending(job)) == "二"
    clock_at_t0.advance(3)
    dispatch.decline_offer(_pending(job).id, None, None)  # the stored two are used up

    # The next two are ranked live (一 and 二 declined: not again) and stored after them.
    assert _stored(job) == [("一", 1), ("二", 2), ("三", 3), ("四", 4)]
    assert _name(_pending(job)) == "三" and _pending(job).rank == 3
    op, topped = _ranking_entries(job)[-1]
    assert (op, topped["after_rank"], topped["eligible"], topped["stored"]) == ("update", 2, 3, 2)
    assert [t[1] for t in topped["top"]] == [3, 4]
    assert Job.get_by_id(job.id).escalated_at is None

    # A lapsed offer moves on through the scheduler's beat the same way (at 23 s the cascade
    # has widened to three offers for the place: 四 from the stored ranking, 五 ranked live).
    clock_at_t0.advance(20)
    assert dispatch.tick()["expired"] == 1
    offers = Offer.select().where((Offer.job == job.id) & (Offer.status == "pending"))
    assert sorted(_name(o) for o in offers) == ["五", "四"]
    assert _stored(job)[-1] == ("五", 5)
    assert len(_ranking_entries(job)) == 3 and _ranking_entries(job)[-1][1]["stored"] == 1

    # Everyone declines: nobody is left to rank, and the job goes to staff.
    for offer in list(offers):
        dispatch.decline_offer(offer.id, None, None)
    job = Job.get_by_id(job.id)
    assert job.status == "escalated"
    assert len(_ranking_entries(job)) == 3  # the last top-up said it stored them all


def test_a_ranking_within_the_limit_never_ranks_again(engine_app: Flask, clock_at_t0) -> None:  # noqa: F811
    engine_app.config["RANKING_STORED"] = 3
    for name in NAMES[:3]:
        add_worker(name, present=True)
    job = add_job(headcount=1)
    for _ in range(3):
        dispatch.decline_offer(_pending(job).id, None, None)
    assert Job.get_by_id(job.id).status == "escalated"
    assert [op for op, _ in _ranking_entries(job)] == ["create"]


def test_the_pool_holds_workers_without_an_area_limit_and_counts_the_unskilled(
    engine_app: Flask,  # noqa: F811
    clock_at_t0,  # noqa: F811
) -> None:
    anywhere = add_worker("哪里都行", areas=[])
    add_worker("别处", areas=["呼家楼社区"])  # outside the area: neither ranked nor counted
    add_worker("缺技能", skills=["moving"], areas=[])  # counted as missing the skill
    add_worker("缺技能在场", skills=["moving"], present=True)  # present: ranked, stored ineligible
    job = add_job(headcount=1, dispatch_mode="grab")

    stored = {
        Worker.get_by_id(r.worker_id).name: r.eligible
        for r in Ranking.select().where(Ranking.job == job.id)
    }
    assert stored == {"哪里都行": True, "缺技能在场": False}
    ((_, entry),) = _ranking_entries(job)
    assert (entry["ranked"], entry["eligible"], entry["ineligible_by_reason"]) == (
        3,
        1,
        {"skills_missing": 2},
    )
    assert dispatch.explain(job.id, anywhere.id)[0]["rank"] == 1
