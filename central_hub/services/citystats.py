"""City-wide figures and the annual station evaluation, computed from replicated records."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import Any

from flask import current_app
from peewee import fn

from central_hub.models import Assignment, Complaint, Job, Station, Worker

EVALUATION_COLUMNS: list[tuple[str, str, str]] = [
    ("station_id", "驿站编号", "Station id"),
    ("name", "驿站名称", "Station"),
    ("district", "区县", "District"),
    ("community", "社区", "Community"),
    ("registrations", "登记人数", "Registrations"),
    ("postings", "发布岗位", "Postings"),
    ("fills", "满员岗位", "Fills"),
    ("median_dispatch_seconds", "派工用时中位数（秒）", "Median dispatch seconds"),
    ("share_within_60s", "60 秒内满员占比（%）", "Share filled within 60 s (%)"),
    ("no_shows", "爽约次数", "No-shows"),
    ("complaints_resolved", "已办结投诉", "Complaints resolved"),
]


def _fill_seconds(job_row: Any) -> int | None:
    start = job_row.dispatch_started_at or job_row.posted_at
    if job_row.filled_at is None or start is None:
        return None
    return max(0, int((job_row.filled_at - start).total_seconds()))


def _fill_times(where: Any = None) -> dict[str, list[int]]:
    query = Job.select(Job.station, Job.posted_at, Job.dispatch_started_at, Job.filled_at).where(
        Job.filled_at.is_null(False) & ~Job.deleted)
    if where is not None:
        query = query.where(where)
    out: dict[str, list[int]] = defaultdict(list)
    for row in query.namedtuples():
        seconds = _fill_seconds(row)
        if seconds is not None:
            out[row.station].append(seconds)
    return out


def city_view() -> dict[str, Any]:
    """Registered workers and jobs against the 2027 targets, fill rate, fill seconds per station,
    complaints."""
    cfg = current_app.config
    people = (Worker.select(fn.COUNT(fn.DISTINCT(Worker.id_hash))).where(~Worker.deleted).scalar() or 0)
    no_hash = Worker.select().where(Worker.id_hash.is_null() & ~Worker.deleted).count()
    workers = people + no_hash
    jobs = Job.select().where(~Job.deleted).count()
    dispatchable = Job.select().where(~Job.deleted & Job.status.not_in(["held", "rejected"])).count()
    filled = Job.select().where(~Job.deleted & Job.filled_at.is_null(False)).count()
    times = _fill_times()
    stations = []
    for st in Station.select().order_by(Station.district, Station.name):
        secs = sorted(times.get(st.id, []))
        stations.append({
            "station": st,
            "fills": len(secs),
            "median": int(statistics.median(secs)) if secs else None,
            "p90": secs[min(len(secs) - 1, int(len(secs) * 0.9))] if secs else None,
            "within": round(100 * sum(s <= cfg["DISPATCH_TARGET_SECONDS"] for s in secs) / len(secs))
            if secs else None,
        })
    complaints = {row.status: row.n for row in Complaint.select(
        Complaint.status, fn.COUNT(Complaint.id).alias("n")).where(~Complaint.deleted).group_by(
        Complaint.status)}
    return {
        "workers": workers,
        "workers_target": cfg["TARGET_WORKERS"],
        "workers_pct": round(100 * workers / cfg["TARGET_WORKERS"], 1),
        "jobs": jobs,
        "jobs_target": cfg["TARGET_JOBS"],
        "jobs_pct": round(100 * jobs / cfg["TARGET_JOBS"], 1),
        "fill_rate": round(100 * filled / dispatchable, 1) if dispatchable else None,
        "filled": filled,
        "stations": stations,
        "complaints_open": complaints.get("open", 0),
        "complaints_resolved": complaints.get("resolved", 0),
        "complaints_total": sum(complaints.values()),
    }


def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)


def _count_by_station(model: Any, column: Any, start: dt.datetime, end: dt.datetime,
                      extra: Any = None) -> dict[str, int]:
    query = model.select(model.station, fn.COUNT(model.id).alias("n")).where(
        (column >= start) & (column < end) & ~model.deleted)
    if extra is not None:
        query = query.where(extra)
    return {row.station: row.n for row in query.group_by(model.station)}


def evaluation(year: int) -> list[dict[str, Any]]:
    """One row per station: the annual evaluation figures for `year`."""
    start, end = _year_bounds(year)
    target = current_app.config["DISPATCH_TARGET_SECONDS"]
    regs = _count_by_station(Worker, Worker.created_at, start, end)
    posts = _count_by_station(Job, Job.posted_at, start, end)
    no_shows = _count_by_station(Assignment, Assignment.confirmed_at, start, end,
                                 Assignment.status == "no_show")
    resolved = _count_by_station(Complaint, Complaint.resolved_at, start, end,
                                 Complaint.status == "resolved")
    times = _fill_times((Job.filled_at >= start) & (Job.filled_at < end))
    rows = []
    for st in Station.select().order_by(Station.district, Station.name):
        secs = times.get(st.id, [])
        rows.append({
            "station_id": st.id,
            "name": st.name,
            "district": st.district,
            "community": st.community,
            "registrations": regs.get(st.id, 0),
            "postings": posts.get(st.id, 0),
            "fills": len(secs),
            "median_dispatch_seconds": int(statistics.median(secs)) if secs else None,
            "share_within_60s": round(100 * sum(s <= target for s in secs) / len(secs), 1)
            if secs else None,
            "no_shows": no_shows.get(st.id, 0),
            "complaints_resolved": resolved.get(st.id, 0),
        })
    return rows
