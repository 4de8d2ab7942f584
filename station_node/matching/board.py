"""Rows of the live dispatch board, shaped from plain data (the service layer reads the rows)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kuaigong.states import JobStatus, OfferStatus


def mask_name(name: str) -> str:
    """Hide the middle of a name for public screens: 张三丰 → 张*丰, 李四 → 李*."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _iso(when: dt.datetime | None) -> str | None:
    return when.replace(microsecond=0).isoformat() + "Z" if when else None


def board_row(
    job: dict[str, Any],
    offers: list[dict[str, Any]],
    assignments: list[dict[str, Any]],
    now: dt.datetime,
    target_seconds: int,
) -> dict[str, Any]:
    """One job on the board: its countdown to the target and who was offered, declined, confirmed.

    `job` holds id, title, community, dispatch_mode, status, headcount, confirmed_count,
    dispatch_started_at, escalated_at, filled_at; each offer id, worker_id, name, status,
    expires_at; each assignment worker_id, name, via, confirmed_at.
    """
    started = job["dispatch_started_at"]
    until = job["filled_at"] if job["status"] == JobStatus.FILLED and job["filled_at"] else now
    elapsed = int((until - started).total_seconds()) if started else 0
    people: dict[str, list[dict[str, Any]]] = {
        "offered": [],
        "declined": [],
        "expired": [],
        "withdrawn": [],
        "confirmed": [],
    }
    for offer in offers:
        entry = {
            "offer_id": offer["id"],
            "worker_id": offer["worker_id"],
            "name": offer["name"],
            "name_masked": mask_name(offer["name"]),
        }
        if offer["status"] == OfferStatus.PENDING:
            entry["seconds_left"] = max(0, int((offer["expires_at"] - now).total_seconds()))
            people["offered"].append(entry)
        elif offer["status"] in people:
            people[offer["status"]].append(entry)
    for assignment in assignments:
        people["confirmed"].append(
            {
                "worker_id": assignment["worker_id"],
                "name": assignment["name"],
                "name_masked": mask_name(assignment["name"]),
                "via": assignment["via"],
                "confirmed_at": _iso(assignment["confirmed_at"]),
            }
        )
    return {
        "job_id": job["id"],
        "title": job["title"],
        "community": job["community"],
        "mode": job["dispatch_mode"],
        "status": job["status"],
        "headcount": job["headcount"],
        "confirmed_count": job["confirmed_count"],
        "open_places": max(0, job["headcount"] - job["confirmed_count"]),
        "dispatch_started_at": _iso(started),
        "seconds_since_start": elapsed,
        "seconds_left": max(0, target_seconds - elapsed),
        "overdue": job["status"] != JobStatus.FILLED and elapsed > target_seconds,
        "escalated": job["escalated_at"] is not None,
        "filled_at": _iso(job["filled_at"]),
        **people,
    }
