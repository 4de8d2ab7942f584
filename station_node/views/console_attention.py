"""What needs staff now: which unfilled jobs are really overdue, and the board's order.

The dispatch engine escalates any open job that has not filled within its target, which is
right for the engine (it stops waiting and asks for a hand) but wrong as a red flag: a grab job
is meant to wait for workers to take it, and a job that starts in three days has days to fill.
Staff must act now only on a job that is escalated, still has places, and starts soon (or is an
offer job with no fixed time). The job being dispatched right now stays at the top of the
board, where the person who just posted it is looking.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kuaigong import clock
from kuaigong.states import LIVE_JOBS, ComplaintStatus, JobStatus, OfferStatus
from station_node.models import Complaint, Employer, Job, Offer, Worker

# An unfilled job starting within this window is the staff's to fill by hand.
ACT_WITHIN = dt.timedelta(hours=4)
# An offer this close to lapsing is worth a phone call to the worker.
LAPSING_WITHIN = dt.timedelta(seconds=60)
SHOWN = 8


def needs_staff(
    status: str,
    mode: str,
    escalated_at: dt.datetime | None,
    starts_at: dt.datetime | None,
    open_places: int,
    now: dt.datetime,
) -> bool:
    """Whether an unfilled job is overdue: escalated, places left, and due to start soon."""
    if status not in LIVE_JOBS or open_places <= 0 or escalated_at is None:
        return False
    if starts_at is None:
        return mode == "offer"  # a flexible grab job simply waits for a taker
    return starts_at - now <= ACT_WITHIN


def job_needs_staff(job: Job, now: dt.datetime | None = None) -> bool:
    """`needs_staff` for a Job row."""
    return needs_staff(
        job.status,
        job.dispatch_mode,
        job.escalated_at,
        None if job.time_flexible else job.starts_at,
        job.headcount - job.confirmed_count,
        now or clock.now(),
    )


def board_rows(rows: list[dict[str, Any]], target_seconds: int) -> list[dict[str, Any]]:
    """The dispatch board rows with `needs_staff` and `dispatching` set, in the console's order:
    jobs being dispatched now first (newest on top), then the overdue, then the waiting, then
    the filled."""
    now = clock.now()
    ids = [r["job_id"] for r in rows]
    starts = {
        j.id: (None if j.time_flexible else j.starts_at)
        for j in Job.select(Job.id, Job.starts_at, Job.time_flexible).where(Job.id.in_(ids))
    }
    for r in rows:
        r["needs_staff"] = needs_staff(
            r["status"],
            r["mode"],
            now if r["escalated"] else None,
            starts.get(r["job_id"]),
            r["open_places"],
            now,
        )
        r["dispatching"] = (
            r["status"] in LIVE_JOBS
            and not r["escalated"]
            and r["seconds_since_start"] <= target_seconds
        )

    def rank(r: dict[str, Any]) -> tuple[int, int]:
        if r["status"] == JobStatus.FILLED:
            group = 3
        elif r["dispatching"]:
            group = 0
        elif r["needs_staff"]:
            group = 1
        else:
            group = 2
        return group, r["seconds_since_start"] if group < 3 else 0

    rows.sort(key=rank)
    return rows


def needs_you_now() -> dict[str, Any]:
    """The home page's list of what staff must do now: complaints waiting, jobs to dispatch by
    hand, offers about to lapse, postings held for review."""
    now = clock.now()
    live = (
        Job.select(Job, Employer)
        .join(Employer)
        .where(Job.status.in_(list(LIVE_JOBS)) & Job.escalated_at.is_null(False))
        .order_by(Job.starts_at.asc(nulls="LAST"))
    )
    by_hand = [j for j in live if job_needs_staff(j, now)]
    offers = list(
        Offer.select(Offer, Job, Worker)
        .join(Job, on=(Offer.job == Job.id))
        .switch(Offer)
        .join(Worker, on=(Offer.worker == Worker.id))
        .where(
            (Offer.status == OfferStatus.PENDING)
            & (Offer.expires_at > now)
            & (Offer.expires_at <= now + LAPSING_WITHIN)
        )
        .order_by(Offer.expires_at)
        .limit(SHOWN)
    )
    complaints = Complaint.select().where(Complaint.status == ComplaintStatus.OPEN)
    held = Job.select(Job, Employer).join(Employer).where(Job.status == JobStatus.HELD)
    return {
        "complaints": list(complaints.order_by(Complaint.created_at).limit(SHOWN)),
        "complaints_total": complaints.count(),
        "by_hand": by_hand[:SHOWN],
        "by_hand_total": len(by_hand),
        "lapsing": [(o, max(0, int((o.expires_at - now).total_seconds()))) for o in offers],
        "held": list(held.order_by(Job.posted_at).limit(SHOWN)),
        "held_total": held.count(),
    }
