"""Reasons stored lean (codes and parameters) read back as the same sentences in both languages,
and a worker outside the stored ranking is told why not."""

from __future__ import annotations

import datetime as dt

from dispatch_conftest import JOB_START, add_job, add_worker, clock_at_t0, engine_app  # noqa: F401

from station_node.models import Assignment, Job, Ranking
from station_node.services import dispatch

# The sentences the engine wrote out in full for every worker before reasons were stored lean.
BEFORE = {
    "老李": [
        ("present", 1000, "今天已在驿站签到", "checked in at the station today"),
        (
            "rotation",
            50,
            "距上次派到工作 5 小时（每小时 +10，最多 +400）",
            "5 h since last given work (+10/h, at most +400)",
        ),
        ("reliability", -120, "爽约 1 次，临时取消 2 次", "1 no-shows, 2 late cancellations"),
        ("rating", 30, "平均评分 4.5 星（2 次）", "average rating 4.5 stars (2 ratings)"),
        (
            "priority_group",
            50,
            "重点群体：退役军人、低收入家庭（已同意）",
            "priority group: Veteran, Low-income household (with consent)",
        ),
    ],
    "小王": [
        ("not_present", 0, "今天未在驿站签到", "not checked in at the station today"),
        (
            "rotation",
            400,
            "从未派到过工作，排在前面",
            "has never been given work: front of the line",
        ),
    ],
    "老张": [
        ("not_present", 0, "今天未在驿站签到", "not checked in at the station today"),
        (
            "rotation",
            400,
            "距上次派到工作 720 小时（每小时 +10，最多 +400）",
            "720 h since last given work (+10/h, at most +400)",
        ),
        ("rating", -30, "平均评分 1.5 星（2 次）", "average rating 1.5 stars (2 ratings)"),
    ],
    "外区": [  # present today, so stored although ineligible
        ("skills_missing", 0, "缺少所需技能：保洁", "lacks the required skills: Cleaning"),
        (
            "outside_area",
            0,
            "工作地点（团结湖社区）不在本人的服务区域内",
            "the job's community (团结湖社区) is not one of the worker's areas",
        ),
        ("unavailable_day", 0, "星期三不在可工作日内", "Wed is not one of the worker's days"),
        (
            "unavailable_time",
            0,
            "工作时间 08:00–17:00 不在可工作时段 09:00–18:00 内",
            "08:00–17:00 is outside the hours 09:00–18:00",
        ),
    ],
}


def _tuples(reasons: list[dict]) -> list[tuple]:
    return [(r["code"], r["points"], r["detail_zh"], r["detail_en"]) for r in reasons]


def test_a_lean_stored_ranking_reads_as_the_same_sentences(clock_at_t0):  # noqa: F811
    now = clock_at_t0.now()
    add_worker(
        "老李",
        present=True,
        last_assigned_at=now - dt.timedelta(hours=5),
        no_show_count=1,
        late_cancel_count=2,
        rating_sum=9,
        rating_count=2,
        priority_groups=["veteran", "low_income"],
    )
    add_worker("小王")
    add_worker("老张", last_assigned_at=now - dt.timedelta(days=30), rating_sum=3, rating_count=2)
    add_worker(
        "外区",
        present=True,
        skills=["moving"],
        areas=["呼家楼社区"],
        availability={"days": [0, 1], "from": "09:00", "to": "18:00"},
    )
    job = add_job(headcount=1, dispatch_mode="grab")

    stored = {r.worker.name: r.reasons for r in Ranking.select().where(Ranking.job == job.id)}
    assert set(stored) == set(BEFORE)
    assert stored["小王"] == [["not_present", 0], ["rotation", 400]]  # codes, points, parameters
    assert stored["老张"][1] == ["rotation", 400, {"hours": 720}]
    shown = {r["name"]: r for r in dispatch.explain(job.id)}
    for name, reasons in BEFORE.items():
        assert _tuples(shown[name]["reasons"]) == reasons, name
    assert [shown[n]["rank"] for n in ("老李", "小王", "老张", "外区")] == [1, 2, 3, 0]


def test_an_ineligible_worker_outside_the_stored_ranking_is_told_why_not(clock_at_t0):  # noqa: F811
    far = add_worker("远方", skills=["moving"], areas=["呼家楼社区"])
    busy = add_worker("忙碌")
    other = add_job(
        headcount=1,
        dispatch_mode="grab",
        start=False,
        starts_at=JOB_START - dt.timedelta(hours=2),
        ends_at=JOB_START + dt.timedelta(hours=2),
    )
    Assignment.create(
        id=dispatch.assignment_id(other.id, busy.id),
        job=other.id,
        worker=busy.id,
        via="manual",
        status="confirmed",
        starts_at=other.starts_at,
        ends_at=other.ends_at,
        confirmed_at=clock_at_t0.now(),
    )
    job = add_job(headcount=1, dispatch_mode="grab")
    assert not Ranking.select().where(Ranking.worker.in_([far.id, busy.id])).exists()

    (why,) = dispatch.explain(job.id, far.id)
    assert why["live"] and not why["eligible"] and why["rank"] == 0
    assert why["as_of"] == Job.get_by_id(job.id).dispatch_started_at.isoformat() + "Z"
    assert _tuples(why["reasons"]) == [
        ("skills_missing", 0, "缺少所需技能：保洁", "lacks the required skills: Cleaning"),
        (
            "outside_area",
            0,
            "工作地点（团结湖社区）不在本人的服务区域内",
            "the job's community (团结湖社区) is not one of the worker's areas",
        ),
    ]
    (booked,) = dispatch.explain(job.id, busy.id)
    assert [r["code"] for r in booked["reasons"]] == ["overlapping_booking"]
    assert "05-07 06:00–05-07 10:00" in booked["reasons"][0]["detail_en"]

    # An hour later the answer is still the one as at ranking time.
    clock_at_t0.advance(3600)
    (again,) = dispatch.explain(job.id, far.id)
    assert again["reasons"] == why["reasons"] and again["as_of"] == why["as_of"]
