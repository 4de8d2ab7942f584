"""City-wide figures and the annual station evaluation, computed from replicated records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from peewee import SQL, fn

from central_hub import db
from central_hub.models import Assignment, Complaint, Job, Station, Worker
from kuaigong.states import AssignmentStatus, ComplaintStatus, JobStatus

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


def _fill_times(
    start: dt.datetime | None = None, end: dt.datetime | None = None
) -> dict[str, dict[str, Any]]:
    """Per station, from its filled jobs (filled within [start, end) when given), all in SQL:
    fills, median and p90 seconds to fill, and how many filled within the dispatch target."""
    p = db.database.param
    params: list[Any] = []
    period = ""
    if start is not None and end is not None:
        period = f" AND filled_at >= {p} AND filled_at < {p}"
        params = [db.dbtime(start), db.dbtime(end)]
    target = int(current_app.config["DISPATCH_TARGET_SECONDS"])
    # Reads the index (station, fill_seconds, filled_at) over live filled jobs, already in order.
    sql = f"""
        WITH r AS (
            SELECT station, fill_seconds AS s,
                   ROW_NUMBER() OVER (PARTITION BY station ORDER BY fill_seconds) - 1 AS i,
                   COUNT(*) OVER (PARTITION BY station) AS n
            FROM "job" WHERE NOT deleted AND fill_seconds IS NOT NULL{period})
        SELECT station, MAX(n),
               AVG(CASE WHEN i = (n - 1) / 2 OR i = n / 2 THEN s END),
               MAX(CASE WHEN i = n * 9 / 10 THEN s END),
               SUM(CASE WHEN s <= {target} THEN 1 ELSE 0 END)
        FROM r GROUP BY station"""
    return {
        station: {"fills": int(n), "median": int(median), "p90": int(p90), "within": int(within)}
        for station, n, median, p90, within in db.database.execute_sql(sql, params).fetchall()
    }


def city_view() -> dict[str, Any]:
    """Registered workers and jobs against the 2027 targets, fill rate, fill seconds per station,
    complaints."""
    cfg = current_app.config
    # One person registered at several stations counts once; both read only the live-id index.
    people = db.database.execute_sql(
        'SELECT COUNT(*) FROM (SELECT DISTINCT id_hash FROM "worker" '
        "WHERE NOT deleted AND id_hash IS NOT NULL) AS p"
    ).fetchone()[0]
    no_hash = db.database.execute_sql(
        'SELECT COUNT(*) FROM "worker" WHERE NOT deleted AND id_hash IS NULL'
    ).fetchone()[0]
    workers = int(people or 0) + int(no_hash or 0)
    mark = db.database.param
    jobs, dispatchable, filled = (
        int(x or 0)
        for x in db.database.execute_sql(
            f"SELECT COUNT(*), SUM(CASE WHEN status NOT IN ({mark}, {mark}) THEN 1 ELSE 0 END), "
            'SUM(CASE WHEN filled_at IS NOT NULL THEN 1 ELSE 0 END) FROM "job" WHERE NOT deleted',
            (JobStatus.HELD.value, JobStatus.REJECTED.value),
        ).fetchone()
    )
    times = _fill_times()
    stations = []
    for st in Station.select().order_by(Station.district, Station.name):
        t = times.get(st.id)
        stations.append(
            {
                "station": st,
                "fills": t["fills"] if t else 0,
                "median": t["median"] if t else None,
                "p90": t["p90"] if t else None,
                "within": round(100 * t["within"] / t["fills"]) if t else None,
            }
        )
    complaints = {
        row.status: row.n
        for row in Complaint.select(Complaint.status, fn.COUNT(Complaint.id).alias("n"))
        .where(~Complaint.deleted)
        .group_by(Complaint.status)
    }
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
        "complaints_open": complaints.get(ComplaintStatus.OPEN, 0),
        "complaints_resolved": complaints.get(ComplaintStatus.RESOLVED, 0),
        "complaints_total": sum(complaints.values()),
    }


def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)


def _count_by_station(
    model: Any, column: Any, start: dt.datetime, end: dt.datetime, extra: Any = None
) -> dict[str, int]:
    query = model.select(model.station, fn.COUNT(SQL("*")).alias("n")).where(
        (column >= start) & (column < end) & ~model.deleted
    )
    if extra is not None:
        query = query.where(extra)
    return {row.station: row.n for row in query.group_by(model.station)}


def evaluation(year: int) -> list[dict[str, Any]]:
    """One row per station: the annual evaluation figures for `year`."""
    start, end = _year_bounds(year)
    regs = _count_by_station(Worker, Worker.created_at, start, end)
    posts = _count_by_station(Job, Job.posted_at, start, end)
    no_shows = _count_by_station(
        Assignment,
        Assignment.confirmed_at,
        start,
        end,
        Assignment.status == AssignmentStatus.NO_SHOW,
    )
    resolved = _count_by_station(
        Complaint, Complaint.resolved_at, start, end, Complaint.status == ComplaintStatus.RESOLVED
    )
    times = _fill_times(start, end)
    rows = []
    for st in Station.select().order_by(Station.district, Station.name):
        t = times.get(st.id)
        rows.append(
            {
                "station_id": st.id,
                "name": st.name,
                "district": st.district,
                "community": st.community,
                "registrations": regs.get(st.id, 0),
                "postings": posts.get(st.id, 0),
                "fills": t["fills"] if t else 0,
                "median_dispatch_seconds": t["median"] if t else None,
                "share_within_60s": round(100 * t["within"] / t["fills"], 1) if t else None,
                "no_shows": no_shows.get(st.id, 0),
                "complaints_resolved": resolved.get(st.id, 0),
            }
        )
    return rows
