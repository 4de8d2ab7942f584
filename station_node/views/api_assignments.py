"""API: an assignment's life after confirmation — check-in, completion, pay, ratings, cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify

from kuaigong.errors import FieldError, InvalidInput
from station_node import auth
from station_node.models import Assignment, Staff
from station_node.services.assignments import (
    cancel_assignment,
    check_in_assignment,
    complete_assignment,
    mark_no_show,
    rate_assignment,
    settle_assignment,
)
from station_node.services.assignments import confirm_pay as confirm
from station_node.views import serializers
from station_node.views.api import body, found, text_field

bp = Blueprint("api_assignments", __name__, url_prefix="/api/v1/assignments")


def _assignment(assignment_id: str) -> Assignment:
    return found(Assignment, assignment_id, "该派工记录", "Assignment")


def _answer(assignment_id: str) -> Any:
    return jsonify(assignment=serializers.assignment(_assignment(assignment_id)))


def _side(data: dict[str, Any]) -> str:
    """Who acts: a worker token is always 'worker'; staff say by=worker|employer|staff."""
    if auth.current_staff() is None:
        return "worker"
    by = text_field(data, "by", "操作方", "by")
    if by not in ("worker", "employer", "staff"):
        raise InvalidInput(
            [
                FieldError(
                    "by",
                    "invalid_choice",
                    "操作方只能是 worker、employer 或 staff",
                    "by must be worker, employer or staff",
                )
            ]
        )
    return by


def _own(assignment_id: str) -> Assignment:
    """The assignment, checked to belong to the calling worker when a worker token is used."""
    row = _assignment(assignment_id)
    auth.require_self(row.worker_id)
    return row


def _party(assignment_id: str) -> tuple[dict[str, Any], Assignment, str]:
    """The body, the caller's own assignment and who acts (see `_side`)."""
    data = body()
    row = _own(assignment_id)
    return data, row, _side(data)


def _staff_act(assignment_id: str, action: Callable[[str, Staff | None], Any]) -> Any:
    """Run a staff action on the assignment; answer the assignment as it is after."""
    action(_assignment(assignment_id).id, auth.current_staff())
    return _answer(assignment_id)


@bp.post("/<assignment_id>/checkin")
@auth.api_staff
def check_in(assignment_id: str) -> Any:
    """The worker arrived on site."""

    return _staff_act(assignment_id, check_in_assignment)


@bp.post("/<assignment_id>/no-show")
@auth.api_staff
def no_show(assignment_id: str) -> Any:
    """The worker did not come; it counts against their reliability and frees the place."""

    return _staff_act(assignment_id, mark_no_show)


@bp.post("/<assignment_id>/complete")
@auth.api_staff
def complete(assignment_id: str) -> Any:
    """Work done: {"quantity"} in the job's pay unit (hours in tenths, pieces, days)."""

    data = body()
    complete_assignment(_assignment(assignment_id).id, data.get("quantity"), auth.current_staff())
    return _answer(assignment_id)


@bp.post("/<assignment_id>/settle")
@auth.api_staff
def settle(assignment_id: str) -> Any:
    """Record pay handed over: {"pay_fen", "pay_method": cash|transfer}. The station holds no
    money."""

    data = body()
    settle_assignment(
        _assignment(assignment_id).id,
        data.get("pay_fen"),
        data.get("pay_method"),
        auth.current_staff(),
    )
    return _answer(assignment_id)


@bp.post("/<assignment_id>/confirm-pay")
@auth.api_staff_or_worker
def confirm_pay(assignment_id: str) -> Any:
    """The worker confirms they received the pay (themselves, or at the desk with staff)."""

    row = _own(assignment_id)
    confirm(row.id, row.worker)
    return _answer(assignment_id)


@bp.post("/<assignment_id>/rate")
@auth.api_staff_or_worker
def rate(assignment_id: str) -> Any:
    """A rating 1..5: {"by": worker|employer, "stars"}; a worker token rates the employer."""

    data, row, by = _party(assignment_id)
    if by == "staff":
        raise InvalidInput(
            [
                FieldError(
                    "by",
                    "invalid_choice",
                    "评价方只能是 worker 或 employer",
                    "by must be worker or employer",
                )
            ]
        )
    rate_assignment(row.id, by, data.get("stars"), auth.current_staff())
    return _answer(assignment_id)


@bp.post("/<assignment_id>/cancel")
@auth.api_staff_or_worker
def cancel(assignment_id: str) -> Any:
    """Cancel: {"by": worker|employer|staff, "reason"}; late when close to the start."""

    data, row, by = _party(assignment_id)
    reason = text_field(data, "reason", "原因", "Reason", required=False, max_len=200)
    cancel_assignment(row.id, by, reason or "", auth.current_staff())
    return _answer(assignment_id)
