"""The pure engine: eligibility with reasons, the score's named parts, rotation, the cascade
plan."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from station_node.matching import (
    Booking,
    CascadeJob,
    CascadeSettings,
    JobFacts,
    OfferView,
    WorkerFacts,
    check_eligibility,
    plan,
    points,
    rank,
    rank_best,
    score,
)

NOW = dt.datetime(2025, 5, 6, 1, 0)
START, END = dt.datetime(2025, 5, 7, 0, 0), dt.datetime(2025, 5, 7, 9, 0)  # UTC
JOB = JobFacts(
    id="j1",
    community="团结湖社区",
    skills=frozenset({"cleaning"}),
    starts_at=START,
    ends_at=END,
    local_starts_at=START + dt.timedelta(hours=8),
    local_ends_at=END + dt.timedelta(hours=8),
)


def worker(wid: str, **kw) -> WorkerFacts:
    kw.setdefault("skills", frozenset({"cleaning", "moving"}))
    kw.setdefault("areas", frozenset({"团结湖社区"}))
    return WorkerFacts(id=wid, name=wid, **kw)


def codes(reasons) -> list[str]:
    return [r.code for r in reasons]


def test_an_able_worker_is_eligible():
    assert check_eligibility(JOB, worker("w")) == []


def test_each_ineligibility_has_its_reason_in_both_languages():
    cases = {
        "skills_missing": worker("w", skills=frozenset({"moving"})),
        "outside_area": worker("w", areas=frozenset({"呼家楼社区"})),
        "blocked": worker("w", active=False),
        "overlapping_booking": worker(
            "w",
            bookings=(
                Booking("other", START + dt.timedelta(hours=8), END + dt.timedelta(hours=2)),
            ),
        ),
        "unavailable_day": worker("w", availability={"days": [0, 1]}),  # the job is on a Wednesday
        "unavailable_time": worker("w", availability={"from": "09:00", "to": "18:00"}),
    }
    for code, who in cases.items():
        reasons = check_eligibility(JOB, who)
        assert codes(reasons) == [code], code
        assert reasons[0].detail_zh and reasons[0].detail_en
    assert "保洁" in check_eligibility(JOB, cases["skills_missing"])[0].detail_zh


def test_already_assigned_and_declined_workers_are_not_ranked_again():
    job = JobFacts(
        **{
            **JOB.__dict__,
            "assigned_worker_ids": frozenset({"a"}),
            "declined_worker_ids": frozenset({"d"}),
        }
    )
    assert codes(check_eligibility(job, worker("a"))) == ["already_assigned"]
    assert codes(check_eligibility(job, worker("d"))) == ["declined"]


def test_no_area_limit_and_a_fitting_window_are_fine():
    assert check_eligibility(JOB, worker("w", areas=frozenset())) == []
    assert (
        check_eligibility(
            JOB, worker("w", availability={"days": [2], "from": "07:30", "to": "17:00"})
        )
        == []
    )


def test_bookings_that_touch_or_are_flexible_do_not_overlap():
    touching = Booking("b", END, END + dt.timedelta(hours=3))
    flexible = Booking("c", None, None)
    assert check_eligibility(JOB, worker("w", bookings=(touching, flexible))) == []
    flexible_job = JobFacts(id="f", community="团结湖社区", time_flexible=True)
    busy = Booking("b", START, END)
    assert check_eligibility(flexible_job, worker("w", bookings=(busy,), skills=frozenset())) == []


def test_manual_assignment_skips_skills_and_area_but_never_overlap_or_block():
    odd = worker("w", skills=frozenset(), areas=frozenset({"别处"}))
    assert check_eligibility(JOB, odd, manual=True) == []
    booked = worker("w", bookings=(Booking("o", START, END),))
    assert codes(check_eligibility(JOB, booked, manual=True)) == ["overlapping_booking"]
    assert codes(check_eligibility(JOB, worker("w", active=False), manual=True)) == ["blocked"]


def test_fairness_rotation_puts_whoever_got_work_least_recently_first():
    workers = [
        worker("recent", last_assigned_at=NOW - dt.timedelta(hours=1)),
        worker("never"),
        worker("yesterday", last_assigned_at=NOW - dt.timedelta(hours=20)),
        worker("last_week", last_assigned_at=NOW - dt.timedelta(days=7)),
        worker("three_days", last_assigned_at=NOW - dt.timedelta(days=3)),
    ]
    order = [r.worker_id for r in rank(JOB, workers, NOW)]
    # never and the capped ones (+400) tie on points; the tie goes to the longest wait.
    assert order == ["never", "last_week", "three_days", "yesterday", "recent"]


def test_present_workers_rank_before_absent_ones_whatever_else():
    absent_best = worker("absent", rating_sum=10, rating_count=2, priority_groups=("veteran",))
    present_worst = worker(
        "present", present=True, no_show_count=9, last_assigned_at=NOW - dt.timedelta(minutes=5)
    )
    order = [r.worker_id for r in rank(JOB, [absent_best, present_worst], NOW)]
    assert order == ["present", "absent"]


def test_score_is_the_sum_of_its_named_parts():
    who = worker(
        "w",
        present=True,
        last_assigned_at=NOW - dt.timedelta(hours=5),
        no_show_count=1,
        late_cancel_count=1,
        rating_sum=9,
        rating_count=2,
        priority_groups=("veteran",),
    )
    (ranked,) = rank(JOB, [who], NOW)
    parts = {r.code: r.points for r in ranked.reasons}
    assert parts == {
        "present": 1000,
        "rotation": 50,
        "reliability": -90,
        "rating": 30,
        "priority_group": 50,
    }
    assert ranked.score == sum(parts.values()) == 1040
    assert ranked.rank == 1 and ranked.eligible


def test_reliability_and_ratings_order_equally_waiting_workers():
    workers = [
        worker("no_shows", no_show_count=2),
        worker("rated_well", rating_sum=5, rating_count=1),
        worker("plain"),
        worker("late", late_cancel_count=1),
    ]
    assert [r.worker_id for r in rank(JOB, workers, NOW)] == [
        "rated_well",
        "plain",
        "late",
        "no_shows",
    ]


def test_ineligible_workers_come_last_with_rank_zero_and_their_reasons():
    ranked = rank(JOB, [worker("out", areas=frozenset({"别处"})), worker("in")], NOW)
    assert [(r.worker_id, r.rank, r.eligible) for r in ranked] == [
        ("in", 1, True),
        ("out", 0, False),
    ]
    assert codes(ranked[1].reasons) == ["outside_area"]


@given(
    st.lists(
        st.tuples(st.integers(0, 200), st.booleans(), st.integers(0, 3)), min_size=1, max_size=12
    )
)
def test_ranks_are_dense_and_scores_never_increase(specs):
    workers = [
        worker(
            f"w{i}",
            last_assigned_at=None if hours == 0 else NOW - dt.timedelta(hours=hours),
            present=present,
            no_show_count=no_shows,
        )
        for i, (hours, present, no_shows) in enumerate(specs)
    ]
    ranked = rank(JOB, workers, NOW)
    assert [r.rank for r in ranked] == list(range(1, len(workers) + 1))
    assert all(a.score >= b.score for a, b in zip(ranked, ranked[1:], strict=False))
    assert all(r.score == sum(p.points for p in r.reasons) for r in ranked)


HOURS = [
    {},
    {"days": [0, 1, 2, 3, 4]},
    {"days": [5, 6]},
    {"from": "07:00", "to": "22:00"},
    {"from": "09:00", "to": "12:00"},
    {"days": [2], "from": "22:00", "to": "18:00"},
]
SHARED_HOURS = [dict(h) for h in HOURS]  # one object per distinct text, as the pool read gives them


@given(
    st.lists(
        st.tuples(
            st.integers(0, 200),
            st.booleans(),
            st.integers(0, 6),
            st.integers(0, 3),
            st.integers(0, 5),
            st.booleans(),
            st.booleans(),
            st.integers(0, 5),
            st.sampled_from(["ok", "blocked", "unskilled", "booked", "declined", "assigned"]),
        ),
        min_size=1,
        max_size=12,
    ),
    st.integers(1, 12),
)
def test_keeping_the_best_few_ranks_them_as_the_whole_ranking_does(specs, keep):
    job = dataclasses.replace(
        JOB, declined_worker_ids=frozenset({"w0", "w4"}), assigned_worker_ids=frozenset({"w1"})
    )
    workers = [
        worker(
            f"w{i}",
            last_assigned_at=None if hours == 0 else NOW - dt.timedelta(hours=hours),
            present=present,
            no_show_count=no_shows,
            late_cancel_count=late,
            rating_count=ratings,
            rating_sum=ratings * 4 - i % 3 if ratings else 0,
            priority_groups=("veteran",) if group else (),
            areas=frozenset({"团结湖社区" if able else "别处"}),
            availability=SHARED_HOURS[window],
            active=trait != "blocked",
            skills=frozenset({"moving"} if trait == "unskilled" else {"cleaning"}),
            bookings=(Booking("other", START, END),) if trait == "booked" else (),
        )
        for i, (hours, present, no_shows, late, ratings, group, able, window, trait) in enumerate(
            specs
        )
    ]
    for w in workers:
        assert points(w, NOW) == sum(p.points for p in score(w, NOW))
    whole = rank(job, workers, NOW)
    assert {r.worker_id for r in whole if r.eligible} == {
        w.id for w in workers if not check_eligibility(job, w)
    }
    assert all(
        r.reasons == tuple(check_eligibility(job, w))
        for r, w in (
            (r, next(w for w in workers if w.id == r.worker_id)) for r in whole if not r.eligible
        )
    )
    best = rank_best(job, workers, NOW, keep=keep)
    eligible = [r for r in whole if r.eligible]
    assert best.rows[: best.stored] == eligible[:keep]
    assert best.rows[best.stored :] == [r for r in whole if not r.eligible]
    assert (best.eligible, best.ineligible) == (len(eligible), len(whole) - len(eligible))
    codes_left_out: dict[str, int] = {}
    for r in whole[len(eligible) :]:
        for code in {c.code for c in r.reasons}:
            codes_left_out[code] = codes_left_out.get(code, 0) + 1
    assert best.left_out == codes_left_out


# ------------------------------------------------------------------ cascade plan

SETTINGS = CascadeSettings(
    offer_timeout_seconds=20,
    escalate_after_seconds=45,
    parallel_per_place=1,
    widen_after_seconds=20,
    max_parallel_per_place=3,
)


def cjob(**kw) -> CascadeJob:
    values = {
        "id": "j",
        "mode": "offer",
        "status": "open",
        "headcount": 2,
        "confirmed": 0,
        "dispatch_started_at": NOW,
    }
    values.update(kw)
    return CascadeJob(**values)


def at(seconds: int) -> dt.datetime:
    return NOW + dt.timedelta(seconds=seconds)


def test_first_offers_go_one_per_open_place_to_the_best_ranked():
    step = plan(cjob(), [], ["a", "b", "c"], NOW, SETTINGS)
    assert step.offer_to == ("a", "b") and step.expires_at == at(20) and not step.escalate


def test_expired_offers_make_room_and_the_cascade_widens_with_time():
    offers = [OfferView("o1", "a", "pending", at(20)), OfferView("o2", "b", "pending", at(20))]
    step = plan(cjob(), offers, ["c", "d", "e", "f"], at(20), SETTINGS)
    assert step.expire == ("o1", "o2")
    assert step.offer_to == ("c", "d", "e", "f")  # 2 places × 2 offers each after 20 s


def test_escalation_at_45_seconds_or_when_nobody_is_left():
    pending = [OfferView("o", "a", "pending", at(60))]
    assert not plan(cjob(), pending, [], at(44), SETTINGS).escalate
    assert plan(cjob(), pending, [], at(45), SETTINGS).escalate
    assert plan(cjob(), [], [], at(1), SETTINGS).escalate  # nobody left to offer
    # those who fit are considering other jobs' offers: wait for them until the usual time
    assert not plan(cjob(), [], [], at(1), SETTINGS, busy_elsewhere=True).escalate
    assert plan(cjob(), [], [], at(45), SETTINGS, busy_elsewhere=True).escalate
    assert not plan(
        cjob(escalated_at=at(45), status="escalated"), pending, [], at(50), SETTINGS
    ).escalate


def test_grab_jobs_send_no_offers_and_full_jobs_do_nothing():
    assert plan(cjob(mode="grab"), [], ["a"], at(5), SETTINGS).idle
    assert plan(cjob(mode="grab"), [], ["a"], at(45), SETTINGS).escalate
    assert plan(cjob(confirmed=2), [], ["a"], at(50), SETTINGS).idle
