"""City figures from the replicated records, by the one definition (docs/figures.md).

The counts are added up in SQL, one GROUP BY per kind of record and grouping (station,
district, sector, month, or the whole city), and turned into figures by `kuaigong.figures`,
the same functions the stations use; the median and p90 seconds to fill are picked in SQL at
the positions `kuaigong.figures` names. Nothing loops over records in Python. Each record
counts in the period of its own time (job: posted, assignment: confirmed, complaint:
received, worker: registered); months are local months in the city's zone.
(The annual evaluation: services.evaluation.)
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import Any

from flask import current_app

from central_hub import db
from central_hub.models import Station
from kuaigong import clock
from kuaigong import figures as fig
from kuaigong.states import AssignmentStatus, JobStatus

GROUPINGS = ("city", "station", "district", "sector", "month")
TARGET_MONTH = "2027-12"  # the city's targets are for the end of 2027


def settings(now: dt.datetime | None = None) -> fig.Settings:
    """Dispatch target, complaint deadline and the city's offset from UTC in whole hours (from
    UTC_OFFSET_HOURS, else the zone TIME_ZONE as it stands now; China keeps no summer time)."""
    cfg = current_app.config
    if cfg.get("UTC_OFFSET_HOURS") is not None:
        offset = int(cfg["UTC_OFFSET_HOURS"])
    else:
        zone = zoneinfo.ZoneInfo(cfg.get("TIME_ZONE") or "Asia/Shanghai")
        moment = (now or clock.now()).replace(tzinfo=dt.UTC)
        delta = moment.astimezone(zone).utcoffset() or dt.timedelta()
        offset = int(delta.total_seconds() // 3600)
    if cfg.get("COMPLAINT_RESOLVE_HOURS") is not None:
        hours = int(cfg["COMPLAINT_RESOLVE_HOURS"])
    elif cfg.get("EVALUATION_COMPLAINT_DAYS") is not None:
        hours = 24 * int(cfg["EVALUATION_COMPLAINT_DAYS"])
    else:
        hours = fig.DEFAULT_RESOLVE_HOURS
    return fig.Settings(
        target_seconds=int(cfg.get("DISPATCH_TARGET_SECONDS", fig.DEFAULT_TARGET_SECONDS)),
        resolve_hours=hours,
        utc_offset_hours=offset,
    )


# -- SQL pieces ---------------------------------------------------------------------------------
def _month(column: str, offset: int) -> str:
    """The local month 'YYYY-MM' of a stored UTC time column."""
    if db.is_sqlite():
        return f"strftime('%Y-%m', {column}, '{offset:+d} hours')"
    return f"to_char({column} + interval '{offset:d} hours', 'YYYY-MM')"


def _plus_hours(column: str, hours: int) -> str:
    if db.is_sqlite():
        return f"datetime({column}, '+{hours:d} hours')"
    return f"({column} + interval '{hours:d} hours')"


def _key(grouping: str, table: str, time_column: str, offset: int) -> tuple[str, str]:
    """(key expression, join) grouping rows of `table` (alias t) the given way."""
    if grouping == "city":
        return "'city'", ""
    if grouping == "station":
        return "t.station", ""
    if grouping == "district":
        return "s.district", 'JOIN "station" s ON s.id = t.station'
    if grouping == "month":
        return _month(f"t.{time_column}", offset), ""
    if grouping == "sector":
        if table == "job":
            return "t.category", ""
        if table == "assignment":
            return "COALESCE(j.category, '')", 'LEFT JOIN "job" j ON j.id = t.job_id'
        raise ValueError("complaints and registrations belong to no sector")
    raise ValueError(grouping)


def _group(grouping: str, key: str) -> str:
    """GROUP BY clause (none for the whole city: PostgreSQL refuses to group by a constant)."""
    return "" if grouping == "city" else f" GROUP BY {key}"


def _partition(grouping: str, key: str) -> str:
    return "" if grouping == "city" else f"PARTITION BY {key} "


def _has_code(column: str, code: str) -> str:
    """Whether a ",a,b," column holds the code (no LIKE: its % would clash with the driver)."""
    assert code.replace("_", "").isalpha()
    if db.is_sqlite():
        return f"instr({column}, ',{code},') > 0"
    return f"position(',{code},' in {column}) > 0"


class _Query:
    """WHERE conditions and their parameters over one table (alias t)."""

    def __init__(self, time_column: str, since: Any, until: Any, station: str | None) -> None:
        p = db.database.param
        self.conds = ["NOT t.deleted", f"t.{time_column} IS NOT NULL"]
        self.params: list[Any] = []
        if since is not None:
            self.conds.append(f"t.{time_column} >= {p}")
            self.params.append(db.dbtime(since))
        if until is not None:
            self.conds.append(f"t.{time_column} < {p}")
            self.params.append(db.dbtime(until))
        if station is not None:
            self.conds.append(f"t.station = {p}")
            self.params.append(station)

    @property
    def where(self) -> str:
        return " AND ".join(self.conds)


def _rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in db.database.execute_sql(sql, list(params)).fetchall()]


def _lit(value: str) -> str:
    """A state's text as an SQL literal (states are fixed ASCII words)."""
    assert value.replace("_", "").isalpha()
    return f"'{value}'"


_DISPATCHABLE = (
    f"(t.status NOT IN ({_lit(JobStatus.HELD)}, {_lit(JobStatus.REJECTED)}) AND NOT "
    f"(t.status = {_lit(JobStatus.CANCELLED)} AND t.dispatch_started_at IS NULL))"
)


def _sum(cond: str, value: str = "1") -> str:
    return f"SUM(CASE WHEN {cond} THEN {value} ELSE 0 END)"


def _job_tallies(
    grouping: str, since: Any, until: Any, station: str | None, now: dt.datetime, cfg: fig.Settings
) -> dict[str, fig.Tally]:
    key, join = _key(grouping, "job", "posted_at", cfg.utc_offset_hours)
    q = _Query("posted_at", since, until, station)
    p = db.database.param
    d = _DISPATCHABLE
    confirmed = "COALESCE(t.confirmed_count, 0)"
    unfilled = f"{d} AND t.filled_at IS NULL"
    start = "COALESCE(t.dispatch_started_at, t.posted_at)"
    columns = [
        "COUNT(*)",
        _sum(f"t.status = {_lit(JobStatus.HELD)}"),
        _sum(f"t.status = {_lit(JobStatus.REJECTED)}"),
        _sum(f"t.status = {_lit(JobStatus.CANCELLED)} AND t.dispatch_started_at IS NULL"),
        _sum(d),
        _sum(f"{d} AND t.filled_at IS NOT NULL"),
        _sum(f"{unfilled} AND {confirmed} > 0"),
        _sum(f"{unfilled} AND {confirmed} <= 0"),
        _sum(f"{d} AND t.filled_at IS NOT NULL AND t.fill_seconds <= {p}"),
        _sum(f"{unfilled} AND {start} > {p}"),
        _sum(f"{d} AND t.headcount > 0", "t.headcount"),
        _sum(
            f"{d} AND t.headcount > 0 AND {confirmed} > 0",
            f"CASE WHEN {confirmed} < t.headcount THEN {confirmed} ELSE t.headcount END",
        ),
    ]
    sql = (
        f"SELECT {key}, {', '.join(columns)} "
        f'FROM "job" t {join} WHERE {q.where}{_group(grouping, key)}'
    )
    cutoff = db.dbtime(fig.pending_cutoff(now, cfg))
    out = {}
    for row in _rows(sql, [cfg.target_seconds, cutoff, *q.params]):
        tally = fig.Tally()
        (
            tally.posted,
            tally.held,
            tally.rejected,
            tally.cancelled_before_dispatch,
            tally.dispatchable,
            tally.filled,
            tally.partly_filled,
            tally.unfilled,
            tally.within_target,
            tally.pending,
            tally.places,
            tally.places_confirmed,
        ) = (int(v or 0) for v in row[1:])
        out[str(row[0])] = tally
    return out


def _fill_percentiles(
    grouping: str, since: Any, until: Any, station: str | None, cfg: fig.Settings
) -> dict[str, tuple[float | None, int | None]]:
    """(median, p90) seconds to fill per group, picked in SQL where kuaigong.figures says."""
    key, join = _key(grouping, "job", "posted_at", cfg.utc_offset_hours)
    q = _Query("posted_at", since, until, station)
    part = _partition(grouping, key)
    sql = f"""
        WITH r AS (
            SELECT {key} AS k, t.fill_seconds AS s,
                   ROW_NUMBER() OVER ({part}ORDER BY t.fill_seconds) - 1 AS i,
                   COUNT(*) OVER ({part.strip()}) AS n
            FROM "job" t {join}
            WHERE {q.where} AND {_DISPATCHABLE} AND t.fill_seconds IS NOT NULL)
        SELECT MAX(k),
               AVG(CASE WHEN i = (n - 1) / 2 OR i = n / 2 THEN s END),
               MAX(CASE WHEN i = (9 * n + 9) / 10 - 1 THEN s END)
        FROM r{_group(grouping, "k")}"""
    return {
        str(k): (float(med) if med is not None else None, int(p90) if p90 is not None else None)
        for k, med, p90 in _rows(sql, q.params)
        if k is not None  # the whole city with no filled job: one empty row
    }


def _assignment_tallies(
    grouping: str, since: Any, until: Any, station: str | None, cfg: fig.Settings
) -> dict[str, dict[str, int]]:
    key, join = _key(grouping, "assignment", "confirmed_at", cfg.utc_offset_hours)
    q = _Query("confirmed_at", since, until, station)
    placed = ", ".join(_lit(s) for s in sorted(fig.PLACED))
    showed = ", ".join(_lit(s) for s in sorted(fig.SHOWED_UP_ASSIGNMENTS))
    is_placed = f"t.status IN ({placed})"
    groups = [_has_code("w.priority_groups", g) for g in fig.PRIORITY_GROUPS]
    columns = [
        "COUNT(*)",
        _sum(f"t.status IN ({showed})"),
        _sum(f"t.status = {_lit(AssignmentStatus.NO_SHOW)}"),
        _sum(is_placed),
        _sum(f"{is_placed} AND ({' OR '.join(groups)})"),
        _sum(f"t.status = {_lit(AssignmentStatus.SETTLED)}", "COALESCE(t.pay_fen, 0)"),
        *(_sum(f"{is_placed} AND {cond}") for cond in groups),
    ]
    sql = (
        f"SELECT {key}, {', '.join(columns)} "
        f'FROM "assignment" t {join} LEFT JOIN "worker" w ON w.id = t.worker_id '
        f"WHERE {q.where}{_group(grouping, key)}"
    )
    names = ["assignments", "showed_up", "no_shows", "placements", "placements_priority"]
    names += ["wage_paid_fen", *fig.PRIORITY_GROUPS]
    return {
        str(row[0]): dict(zip(names, (int(v or 0) for v in row[1:]), strict=True))
        for row in _rows(sql, q.params)
    }


def _complaint_tallies(
    grouping: str, since: Any, until: Any, station: str | None, cfg: fig.Settings
) -> dict[str, dict[str, int]]:
    key, join = _key(grouping, "complaint", "created_at", cfg.utc_offset_hours)
    q = _Query("created_at", since, until, station)
    in_time = f"t.resolved_at <= {_plus_hours('t.created_at', cfg.resolve_hours)}"
    sql = f"""
        SELECT {key}, COUNT(*),
          {_sum("t.resolved_at IS NULL")},
          {_sum(f"t.resolved_at IS NOT NULL AND {in_time}")},
          {_sum(f"t.resolved_at IS NOT NULL AND NOT ({in_time})")}
        FROM "complaint" t {join} WHERE {q.where}{_group(grouping, key)}"""
    names = ["received", "open", "in_time", "late"]
    return {
        str(row[0]): dict(zip(names, (int(v or 0) for v in row[1:]), strict=True))
        for row in _rows(sql, q.params)
    }


def _registrations(
    grouping: str, since: Any, until: Any, station: str | None, cfg: fig.Settings
) -> dict[str, int]:
    key, join = _key(grouping, "worker", "created_at", cfg.utc_offset_hours)
    q = _Query("created_at", since, until, station)
    sql = f'SELECT {key}, COUNT(*) FROM "worker" t {join} WHERE {q.where}{_group(grouping, key)}'
    return {str(k): int(n) for k, n in _rows(sql, q.params)}


def figures_by(
    grouping: str,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    station: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, fig.Figures]:
    """The figures per station, district, sector or month (or 'city': one key), for records of
    [since, until) (None: unbounded), of one station when given."""
    if grouping not in GROUPINGS:
        raise ValueError(grouping)
    now = now or clock.now()
    cfg = settings(now)
    jobs = _job_tallies(grouping, since, until, station, now, cfg)
    times = _fill_percentiles(grouping, since, until, station, cfg)
    assignments = _assignment_tallies(grouping, since, until, station, cfg)
    complaints: dict[str, dict[str, int]] = {}
    registrations: dict[str, int] = {}
    if grouping != "sector":  # complaints and registrations belong to no sector
        complaints = _complaint_tallies(grouping, since, until, station, cfg)
        registrations = _registrations(grouping, since, until, station, cfg)
    keys = set(jobs) | set(assignments) | set(complaints) | set(registrations)
    out = {}
    for key in sorted(keys):
        tally = jobs.get(key) or fig.Tally()
        a = assignments.get(key)
        if a is not None:
            tally.assignments, tally.showed_up, tally.no_shows = (
                a["assignments"],
                a["showed_up"],
                a["no_shows"],
            )
            tally.placements, tally.placements_priority = a["placements"], a["placements_priority"]
            tally.wage_paid_fen = a["wage_paid_fen"]
            tally.placements_by_group = {g: a[g] for g in fig.PRIORITY_GROUPS}
        c = complaints.get(key)
        if c is not None:
            tally.complaints_received, tally.complaints_open = c["received"], c["open"]
            tally.complaints_resolved_in_time = c["in_time"]
            tally.complaints_resolved_late = c["late"]
        tally.registrations = registrations.get(key, 0)
        median, p90 = times.get(key, (None, None))
        out[key] = fig.derive(tally, median, p90)
    return out


def station_figures(
    station: str,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> fig.Figures:
    """One station's figures for [since, until): what its own figures page shows."""
    found = figures_by("city", since, until, station=station, now=now)
    return found.get("city") or fig.derive(fig.Tally(), None, None)


# -- targets --------------------------------------------------------------------------------------
def registered_people() -> int:
    """People registered in the city: one person at several stations counts once."""
    people = db.database.execute_sql(
        'SELECT COUNT(*) FROM (SELECT DISTINCT id_hash FROM "worker" '
        "WHERE NOT deleted AND id_hash IS NOT NULL) AS p"
    ).fetchone()[0]
    no_hash = db.database.execute_sql(
        'SELECT COUNT(*) FROM "worker" WHERE NOT deleted AND id_hash IS NULL'
    ).fetchone()[0]
    return int(people or 0) + int(no_hash or 0)


def people_by_month(offset: int) -> list[tuple[str, int]]:
    """New people per local month: each person counts in the month of their first registration."""
    month = _month("first", offset)
    sql = f"""
        SELECT {month}, COUNT(*) FROM (
            SELECT MIN(created_at) AS first FROM "worker"
            WHERE NOT deleted AND id_hash IS NOT NULL AND created_at IS NOT NULL GROUP BY id_hash
            UNION ALL
            SELECT created_at FROM "worker"
            WHERE NOT deleted AND id_hash IS NULL AND created_at IS NOT NULL) AS f
        GROUP BY {month}"""
    return sorted((str(m), int(n)) for m, n in _rows(sql, []))


def targets(monthly: dict[str, fig.Figures], now: dt.datetime | None = None) -> dict[str, Any]:
    """Registered people and jobs posted against the city's 2027 targets, with projections."""
    now = now or clock.now()
    cfg = current_app.config
    offset = settings(now).utc_offset_hours
    this_month = fig.month_of(now, offset)
    jobs_posted = sum(f.tally.posted for f in monthly.values())
    return {
        "workers": fig.project(
            registered_people(),
            people_by_month(offset),
            this_month,
            int(cfg["TARGET_WORKERS"]),
            TARGET_MONTH,
        ),
        "jobs": fig.project(
            jobs_posted,
            [(m, f.tally.posted) for m, f in monthly.items()],
            this_month,
            int(cfg["TARGET_JOBS"]),
            TARGET_MONTH,
        ),
    }


def trend(monthly: dict[str, fig.Figures], this_month: str, months: int = 24) -> list[Any]:
    """(month, figures) for every month up to this one since the first with records (at most
    `months`), empty months included."""
    known = [m for m in monthly if m <= this_month]
    if not known:
        return []
    series = fig.months_between(min(known), this_month)[-months:]
    empty = fig.derive(fig.Tally(), None, None)
    return [(m, monthly.get(m, empty)) for m in series]


def city_view(now: dt.datetime | None = None) -> dict[str, Any]:
    """The city figures page: totals, today, breakdowns, month-by-month trends and targets."""
    now = now or clock.now()
    cfg = settings(now)
    this_month = fig.month_of(now, cfg.utc_offset_hours)
    day_start, day_end = fig.day_bounds(now, cfg.utc_offset_hours)
    monthly = figures_by("month", now=now)
    stations = {st.id: st for st in Station.select().order_by(Station.district, Station.name)}
    per_station = figures_by("station", now=now)
    per_station_today = figures_by("station", day_start, day_end, now=now)
    empty = fig.derive(fig.Tally(), None, None)
    return {
        "now": now,
        "settings": cfg,
        "this_month": this_month,
        "city": figures_by("city", now=now).get("city", empty),
        "today": figures_by("city", day_start, day_end, now=now).get("city", empty),
        "stations": [
            (st, per_station.get(sid, empty), per_station_today.get(sid, empty))
            for sid, st in stations.items()
        ],
        "districts": figures_by("district", now=now),
        "sectors": figures_by("sector", now=now),
        "trend": trend(monthly, this_month),
        "targets": targets(monthly, now),
        "priority_groups": fig.PRIORITY_GROUPS,
    }
