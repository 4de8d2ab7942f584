"""Posting: every bad field named, held vs open, release/reject by staff, cancellation."""

from __future__ import annotations

import datetime as dt

import pytest

from kuaigong.errors import Conflict, Forbidden, InvalidInput
from station_node.models import ChangeEntry, Job, Ranking
from station_node.services import posting
from station_node.services.registration import block_employer


def _fields(exc) -> dict[str, str]:
    return {f.field: f.code for f in exc.value.fields}


def test_clean_job_opens_and_dispatch_starts_in_the_same_transaction(
    app, staff, make_employer, job_data, no_dispatch
):
    job = posting.post_job(job_data(make_employer()), staff)
    assert job.status == "open" and job.screening_reasons == []
    assert no_dispatch == [("start", job.id)]
    # 08:00 station time tomorrow is 00:00 UTC
    assert job.starts_at.hour == 0 and job.ends_at.hour == 9
    entry = ChangeEntry.select().where(ChangeEntry.entity == "job").get()
    assert (
        entry.op == "create"
        and entry.fields["pay_fen"] == 2500
        and entry.fields["posted_by"] == "wang"
    )


def test_held_job_is_not_dispatched_until_released(
    app, staff, make_employer, job_data, no_dispatch
):
    job = posting.post_job(job_data(make_employer(), description="上岗前交押金100元"), staff)
    assert job.status == "held"
    assert [r["code"] for r in job.screening_reasons] == ["asks_for_money"]
    assert no_dispatch == []
    with pytest.raises(Forbidden):
        posting.release_job(job.id, None)
    released = posting.release_job(job.id, staff)
    assert released.status == "open" and released.reviewed_by.id == staff.id
    assert released.reviewed_at is not None
    assert no_dispatch == [("start", job.id)]
    with pytest.raises(Conflict) as caught:
        posting.release_job(job.id, staff)
    assert caught.value.code == "job_not_held"


def test_rejecting_a_held_job_records_who_and_why(app, staff, make_employer, job_data, no_dispatch):
    employer = make_employer()
    block_employer(employer.id, "多次拖欠工资", staff)
    job = posting.post_job(job_data(employer), staff)
    assert [r["code"] for r in job.screening_reasons] == ["employer_blocked"]
    with pytest.raises(InvalidInput):
        posting.reject_job(job.id, staff, "")
    rejected = posting.reject_job(job.id, staff, "雇主欠薪未处理")
    assert rejected.status == "rejected" and rejected.reviewed_by.id == staff.id
    assert rejected.screening_reasons[-1]["code"] == "rejected_by_staff"
    last = ChangeEntry.select().order_by(ChangeEntry.seq.desc()).first()
    assert last.fields["status"] == "rejected" and last.fields["reviewed_by"] == "wang"
    assert no_dispatch == []


def test_every_bad_field_is_named_and_nothing_is_written(
    app, staff, make_employer, job_data, counts, no_dispatch
):
    employer = make_employer()
    before = counts()
    with pytest.raises(InvalidInput) as caught:
        posting.post_job(
            job_data(
                employer,
                title="x" * 101,
                category="mining",
                skills=["cleaning", "alchemy"],
                headcount=0,
                pay_fen=-5,
                pay_unit="week",
                address=None,
                community="火星社区",
                term="forever",
                urgency=3,
                insurance_required="perhaps",
                source="department",
                dispatch_mode="lottery",
                starts_at="2025-13-01T08:00",
                ends_at=12,
                description=["not", "text"],
            ),
            staff,
        )
    assert _fields(caught) == {
        "title": "too_long",
        "category": "unknown_choice",
        "description": "wrong_type",
        "skills": "unknown_code",
        "headcount": "too_small",
        "pay_unit": "unknown_choice",
        "address": "required",
        "community": "unknown_choice",
        "term": "unknown_choice",
        "urgency": "unknown_choice",
        "insurance_required": "not_boolean",
        "dispatch_mode": "unknown_choice",
        "pay_fen": "too_small",
        "source_department": "required",
        "starts_at": "bad_datetime",
        "ends_at": "wrong_type",
    }
    assert counts() == before and no_dispatch == []


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"headcount": 501}, {"headcount": "too_large"}),
        ({"headcount": "2.5"}, {"headcount": "not_integer"}),
        ({"pay_fen": 1_000_001}, {"pay_fen": "too_large"}),
        ({"pay_fen": 12.5}, {"pay_fen": "not_integer"}),
        ({"employer_id": "nope"}, {"employer_id": "unknown_employer"}),
        ({"employer_id": None}, {"employer_id": "required"}),
        ({"starts_at": None, "ends_at": None}, {"starts_at": "required", "ends_at": "required"}),
        ({"title": "   "}, {"title": "required"}),
        ({"description": "字" * 2001}, {"description": "too_long"}),
    ],
)
def test_single_bad_fields(app, staff, make_employer, job_data, no_dispatch, over, expected):
    with pytest.raises(InvalidInput) as caught:
        posting.post_job(job_data(make_employer(), **over), staff)
    assert _fields(caught) == expected


def test_time_window_rules(app, staff, make_employer, job_data, manual_clock, no_dispatch):
    employer = make_employer()
    with pytest.raises(InvalidInput) as caught:
        posting.post_job(
            job_data(employer, starts_at="2025-05-07T17:00", ends_at="2025-05-07T08:00"), staff
        )
    assert _fields(caught) == {"ends_at": "end_before_start"}
    with pytest.raises(InvalidInput) as caught:  # clock: 2025-05-06 09:00 local
        posting.post_job(
            job_data(employer, starts_at="2025-05-06T08:00", ends_at="2025-05-06T12:00"), staff
        )
    assert _fields(caught) == {"starts_at": "in_the_past"}
    # a few minutes late is within the grace
    job = posting.post_job(
        job_data(employer, starts_at="2025-05-06T08:45", ends_at="2025-05-06T12:00"), staff
    )
    assert job.starts_at == dt.datetime(2025, 5, 6, 0, 45)
    flexible = posting.post_job(
        job_data(
            employer,
            time_flexible="true",
            starts_at=None,
            ends_at=None,
            pay_unit="job",
            pay_fen=30000,
            category="household",
            source="department",
            source_department="街道办",
        ),
        staff,
    )
    assert flexible.time_flexible and flexible.starts_at is None
    assert flexible.source_department == "街道办"


def test_post_with_the_real_dispatch_engine_ranks_workers(
    app, staff, make_employer, make_worker, job_data
):
    make_worker(skills=["cleaning"], areas=["团结湖社区"])
    job = posting.post_job(job_data(make_employer(), dispatch_mode="grab"), staff)
    job = Job.get_by_id(job.id)
    assert job.status == "open" and job.dispatch_started_at is not None
    assert Ranking.select().where(Ranking.job == job.id).count() >= 1


def test_cancel_job_withdraws_offers_and_frees_workers(
    app, staff, make_employer, make_worker, job_data
):
    from station_node.models import Assignment, Offer
    from station_node.services import dispatch

    worker = make_worker()
    job = posting.post_job(job_data(make_employer(), headcount=2), staff)
    assignment = dispatch.assign(job.id, worker.id, staff)
    assert Offer.select().where(Offer.job == job.id, Offer.status == "pending").count() >= 0
    cancelled = posting.cancel_job(job.id, staff, "雇主临时取消")
    assert cancelled.status == "cancelled" and cancelled.confirmed_count == 0
    assignment = Assignment.get_by_id(assignment.id)
    assert (assignment.status, assignment.cancelled_by) == ("cancelled", "employer")
    assert Offer.select().where(Offer.job == job.id, Offer.status == "pending").count() == 0
    with pytest.raises(Conflict) as caught:
        posting.cancel_job(job.id, staff, "again")
    assert caught.value.code == "job_finished"


def test_change_log_seq_is_gap_free_and_rolls_back_with_a_failed_write(
    app, staff, make_employer, job_data, no_dispatch
):
    from station_node.services import dispatch

    employer = make_employer()
    posting.post_job(job_data(employer), staff)
    before = [e.seq for e in ChangeEntry.select().order_by(ChangeEntry.seq)]

    def explode(job):
        raise RuntimeError("dispatch failed")

    dispatch.start_dispatch = explode  # the monkeypatched slot; restored by the fixture
    with pytest.raises(RuntimeError):
        posting.post_job(job_data(employer), staff)
    after = [e.seq for e in ChangeEntry.select().order_by(ChangeEntry.seq)]
    assert after == before == list(range(1, len(before) + 1))
    assert Job.select().count() == 1
