"""The assignment lifecycle after confirmation, against the real dispatch engine and a pinned clock.

The job in these tests runs tomorrow 08:00-17:00 station time; the clock starts at 09:00 today,
23 hours before the start.
"""

from __future__ import annotations

import pytest

from kuaigong.errors import Conflict, Forbidden, InvalidInput
from station_node.models import Assignment, ChangeEntry, Job, Worker
from station_node.services import assignments as lifecycle
from station_node.services import dispatch

HOUR = 3600


@pytest.fixture
def booked(app, staff, manual_clock, make_employer, make_worker, job_data):
    """A one-place job with a worker assigned by hand; returns (job, worker, assignment)."""
    from station_node.services.posting import post_job

    worker = make_worker()
    job = post_job(job_data(make_employer(), headcount=1), staff)
    assignment = dispatch.assign(job.id, worker.id, staff)
    return Job.get_by_id(job.id), Worker.get_by_id(worker.id), assignment


def _fresh(row):
    return type(row).get_by_id(row.id)


def test_full_lifecycle_to_pay_and_ratings_closes_the_job(staff, manual_clock, booked):
    job, worker, a = booked
    assert job.status == "filled"
    manual_clock.advance(23 * HOUR - 600)  # ten minutes before the start
    lifecycle.check_in_assignment(a.id, staff)
    manual_clock.advance(9 * HOUR)
    done = lifecycle.complete_assignment(a.id, "80", staff)  # 8.0 hours
    assert done.status == "completed" and done.quantity == 80
    assert lifecycle.expected_pay_fen(done) == 20000
    assert _fresh(worker).completed_count == 1
    settled = lifecycle.settle_assignment(a.id, 20000, "cash", staff)
    assert (settled.status, settled.pay_fen, settled.pay_method) == ("settled", 20000, "cash")
    assert _fresh(job).status == "closed"
    confirmed = lifecycle.confirm_pay(a.id, worker)
    assert confirmed.worker_confirmed_pay_at is not None
    lifecycle.rate_assignment(a.id, "worker", 5, None)
    lifecycle.rate_assignment(a.id, "employer", "4", staff)
    final = _fresh(a)
    assert (final.rating_of_employer, final.rating_of_worker) == (5, 4)
    w = _fresh(worker)
    assert (w.rating_sum, w.rating_count, w.no_show_count, w.late_cancel_count) == (4, 1, 0, 0)


@pytest.mark.parametrize(
    ("move", "args"),
    [
        ("settle_assignment", (100, "cash")),
        ("rate_assignment", ("worker", 5)),
    ],
)
def test_moves_out_of_order_are_conflicts(staff, booked, move, args):
    _, _, a = booked
    with pytest.raises(Conflict) as caught:
        getattr(lifecycle, move)(a.id, *args, staff)
    assert caught.value.code == "illegal_transition"
    assert caught.value.details["status"] == "confirmed"
    assert "已确认" in caught.value.message_zh


def test_illegal_moves_write_nothing(staff, manual_clock, booked, counts):
    _, worker, a = booked
    lifecycle.check_in_assignment(a.id, staff)
    before = counts()
    for call in (
        lambda: lifecycle.check_in_assignment(a.id, staff),
        lambda: lifecycle.cancel_assignment(a.id, "worker", "有事", staff),
        lambda: lifecycle.mark_no_show(a.id, staff),
        lambda: lifecycle.confirm_pay(a.id, worker),
    ):
        with pytest.raises(Conflict):
            call()
    assert counts() == before and _fresh(a).status == "checked_in"


def test_pay_confirmation_and_ratings_are_guarded(staff, make_worker, booked):
    _, worker, a = booked
    lifecycle.complete_assignment(a.id, 75, staff)
    with pytest.raises(InvalidInput) as caught:
        lifecycle.settle_assignment(a.id, "12.50", "wechat", staff)
    assert {f.field: f.code for f in caught.value.fields} == {
        "pay_fen": "not_integer",
        "pay_method": "unknown_choice",
    }
    lifecycle.settle_assignment(a.id, 18750, "transfer", staff)
    with pytest.raises(Forbidden):
        lifecycle.confirm_pay(a.id, make_worker())
    lifecycle.confirm_pay(a.id, worker.id)
    with pytest.raises(Conflict) as caught:
        lifecycle.confirm_pay(a.id, worker.id)
    assert caught.value.code == "already_confirmed"
    with pytest.raises(InvalidInput) as caught:
        lifecycle.rate_assignment(a.id, "neighbour", 6, staff)
    assert {f.field: f.code for f in caught.value.fields} == {
        "by": "unknown_choice",
        "stars": "too_large",
    }
    lifecycle.rate_assignment(a.id, "employer", 3, staff)
    with pytest.raises(Conflict) as caught:
        lifecycle.rate_assignment(a.id, "employer", 5, staff)
    assert caught.value.code == "already_rated"


def test_early_worker_cancellation_frees_the_place_without_penalty(staff, booked):
    job, worker, a = booked
    cancelled = lifecycle.cancel_assignment(a.id, "worker", "家里有事", None)
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancel_late) == (
        "cancelled",
        "worker",
        False,
    )
    assert _fresh(worker).late_cancel_count == 0
    job = _fresh(job)
    # back in dispatch (escalated to staff at once when nobody else is eligible)
    assert job.status in ("open", "escalated") and job.confirmed_count == 0


def test_late_worker_cancellation_counts_against_them(staff, manual_clock, booked):
    _, worker, a = booked
    manual_clock.advance(12 * HOUR)  # 11 hours before the start (< LATE_CANCEL_HOURS = 12)
    cancelled = lifecycle.cancel_assignment(a.id, "worker", "临时不去了", None)
    assert cancelled.cancel_late is True
    assert _fresh(worker).late_cancel_count == 1


def test_late_employer_cancellation_does_not_count_against_the_worker(staff, manual_clock, booked):
    _, worker, a = booked
    manual_clock.advance(20 * HOUR)
    cancelled = lifecycle.cancel_assignment(a.id, "employer", "活干完了", staff)
    assert cancelled.cancel_late is True and cancelled.cancelled_by == "employer"
    assert _fresh(worker).late_cancel_count == 0
    with pytest.raises(InvalidInput):
        lifecycle.cancel_assignment(a.id, "someone", "", staff)
    with pytest.raises(Forbidden):
        lifecycle.cancel_assignment(a.id, "staff", "驿站取消", None)


def test_after_the_start_only_staff_can_cancel(staff, manual_clock, booked, counts):
    job, worker, a = booked
    manual_clock.advance(23 * HOUR + 60)  # a minute after the start, the worker not checked in
    before = counts()
    for side in ("employer", "worker"):
        with pytest.raises(Conflict) as caught:
            lifecycle.cancel_assignment(a.id, side, "不需要了", staff)
        assert caught.value.code == "job_started" and caught.value.status == 409
        assert "工作已经开始" in caught.value.message_zh
    assert "登记未到岗" in caught.value.message_zh or "工作人员" in caught.value.message_zh
    assert counts() == before and _fresh(a).status == "confirmed"
    # the station itself may still call it off, as a recorded decision that costs the worker nothing
    cancelled = lifecycle.cancel_assignment(a.id, "staff", "工地停电，当天停工", staff)
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancel_late) == (
        "cancelled",
        "staff",
        True,
    )
    assert _fresh(worker).late_cancel_count == 0


def test_employer_cancelling_after_the_start_gets_the_way_forward(staff, manual_clock, booked):
    _, _, a = booked
    manual_clock.advance(24 * HOUR)
    with pytest.raises(Conflict) as caught:
        lifecycle.cancel_assignment(a.id, "employer", "活干完了", staff)
    assert "用工方不能再取消" in caught.value.message_zh and "登记完工" in caught.value.message_zh
    assert lifecycle.mark_no_show(a.id, staff).status == "no_show"  # the way the message points to


def test_no_show_only_after_the_start(staff, manual_clock, booked):
    job, worker, a = booked
    with pytest.raises(Conflict) as caught:
        lifecycle.mark_no_show(a.id, staff)
    assert caught.value.code == "not_started"
    manual_clock.advance(24 * HOUR)
    assert lifecycle.mark_no_show(a.id, staff).status == "no_show"
    assert _fresh(worker).no_show_count == 1
    assert _fresh(job).confirmed_count == 0


def test_job_closes_when_the_last_assignment_finishes(
    app, staff, manual_clock, make_employer, make_worker, job_data
):
    from station_node.services.posting import post_job

    first, second = make_worker(), make_worker()
    job = post_job(job_data(make_employer(), headcount=2), staff)
    a1 = dispatch.assign(job.id, first.id, staff)
    a2 = dispatch.assign(job.id, second.id, staff)
    assert _fresh(job).status == "filled"
    manual_clock.advance(24 * HOUR)
    lifecycle.complete_assignment(a1.id, 80, staff)
    lifecycle.settle_assignment(a1.id, 20000, "cash", staff)
    assert _fresh(job).status == "filled"  # the second worker is still to come
    lifecycle.mark_no_show(a2.id, staff)
    assert _fresh(job).status == "closed"


def test_each_move_logs_its_rows_in_one_gap_free_run(staff, booked):
    _, worker, a = booked
    last = ChangeEntry.select().order_by(ChangeEntry.seq.desc()).first().seq
    lifecycle.complete_assignment(a.id, 80, staff)
    entries = list(ChangeEntry.select().where(ChangeEntry.seq > last).order_by(ChangeEntry.seq))
    assert [e.seq for e in entries] == [last + 1, last + 2]
    assert [(e.entity, e.entity_id) for e in entries] == [
        ("assignment", a.id),
        ("worker", worker.id),
    ]
    assert entries[0].fields["status"] == "completed" and entries[0].fields["quantity"] == 80
    assert entries[1].fields["completed_count"] == 1
    assert entries[0].hlc_wall <= entries[1].hlc_wall
    assert Assignment.get_by_id(a.id).status == "completed"


def test_quantity_is_required_and_capped_by_the_window(staff, booked):
    _, _, a = booked  # a 9-hour job paid by the hour
    with pytest.raises(InvalidInput) as caught:
        lifecycle.complete_assignment(a.id, 12345, staff)
    assert {f.field: f.code for f in caught.value.fields} == {"quantity": "too_large"}
    with pytest.raises(InvalidInput):
        lifecycle.complete_assignment(a.id, "8.5", staff)
    with pytest.raises(InvalidInput) as caught:
        lifecycle.complete_assignment(a.id, None, staff)
    assert {f.field: f.code for f in caught.value.fields} == {"quantity": "required"}
    assert lifecycle.complete_assignment(a.id, 110, staff).quantity == 110  # 9 h + 2 h overtime
