"""The states a station record can be in, and the groups of them the code asks about.

Each enum's values are exactly what the `status` columns store and the change log carries,
so rows written before these enums existed read back as members. Templates and the API
compare with the plain strings, which a StrEnum member equals. This module imports nothing
from the station: the models, the services and the pure matching engine all build on it.
"""

from __future__ import annotations

import enum


class JobStatus(enum.StrEnum):
    """Where a job request is: held → open → (escalated) → filled → closed, or it stops early."""

    HELD = "held"
    """Screening flagged it; staff must approve or reject it before anyone sees it."""
    OPEN = "open"
    """Being dispatched: workers may grab it or get offers."""
    ESCALATED = "escalated"
    """Still dispatched, but not full in time, so staff were asked to step in."""
    FILLED = "filled"
    """Every place is taken; reopens if a confirmed worker drops out before the start."""
    CLOSED = "closed"
    """The work is over and every assignment is finished."""
    CANCELLED = "cancelled"
    """The employer or staff called it off."""
    REJECTED = "rejected"
    """Staff turned it down after screening held it."""


class OfferStatus(enum.StrEnum):
    """One offer of a job to one worker in the cascade."""

    PENDING = "pending"
    """Sent and waiting for the worker's answer until its deadline."""
    ACCEPTED = "accepted"
    """The worker took it, and was confirmed on the job."""
    DECLINED = "declined"
    """The worker said no."""
    EXPIRED = "expired"
    """The deadline passed without an answer."""
    WITHDRAWN = "withdrawn"
    """The station took it back: the job filled, was cancelled or its employer was blocked."""


class AssignmentStatus(enum.StrEnum):
    """A worker confirmed on a job, from confirmation to pay (see services.assignments)."""

    CONFIRMED = "confirmed"
    """The worker has the place and is expected on site."""
    CHECKED_IN = "checked_in"
    """The worker arrived on site."""
    COMPLETED = "completed"
    """The work is done; pay is still to be recorded."""
    SETTLED = "settled"
    """Pay was recorded."""
    NO_SHOW = "no_show"
    """The worker did not turn up."""
    CANCELLED = "cancelled"
    """The worker, the employer or staff cancelled before the work started."""


class ComplaintStatus(enum.StrEnum):
    """A complaint taken at the station."""

    OPEN = "open"
    """Waiting for staff to deal with it."""
    RESOLVED = "resolved"
    """Staff recorded how it was resolved."""


class WorkerStatus(enum.StrEnum):
    """Whether a worker may sign in and be dispatched."""

    ACTIVE = "active"
    """May sign in, grab and receive offers."""
    BLOCKED = "blocked"
    """Stopped by staff (with a reason); kept for the record but never dispatched."""


# Jobs the dispatcher is working on: grabs and offers are taken only here.
LIVE_JOBS = frozenset({JobStatus.OPEN, JobStatus.ESCALATED})
# Jobs past review and not over: being dispatched or full. Workers may see them; they close
# once their assignments finish.
ACTIVE_JOBS = LIVE_JOBS | {JobStatus.FILLED}
# Jobs that will never be dispatched again.
ENDED_JOBS = frozenset({JobStatus.CLOSED, JobStatus.CANCELLED, JobStatus.REJECTED})

# Offers the worker turned down or let lapse: that worker is not offered the job again.
REFUSED_OFFERS = frozenset({OfferStatus.DECLINED, OfferStatus.EXPIRED})

# Assignments that hold the worker's time, so an overlapping job cannot be taken.
BOOKED_ASSIGNMENTS = frozenset({AssignmentStatus.CONFIRMED, AssignmentStatus.CHECKED_IN})
# Assignments still waiting for something to happen (the job cannot close while one is).
UNFINISHED_ASSIGNMENTS = BOOKED_ASSIGNMENTS | {AssignmentStatus.COMPLETED}
# Assignments that take one of the job's places.
PLACE_HOLDING_ASSIGNMENTS = UNFINISHED_ASSIGNMENTS | {AssignmentStatus.SETTLED}
# Assignments where the worker turned up.
SHOWED_UP_ASSIGNMENTS = frozenset(
    {AssignmentStatus.CHECKED_IN, AssignmentStatus.COMPLETED, AssignmentStatus.SETTLED}
)
# Assignments the worker dropped out of: that worker cannot be confirmed on the job again.
DROPPED_ASSIGNMENTS = frozenset({AssignmentStatus.CANCELLED, AssignmentStatus.NO_SHOW})
