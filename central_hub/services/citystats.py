"""City figures from the replicated records, by the one definition (docs/figures.md).

The counts are added up in SQL, one GROUP BY per kind of record into cells of station ×
sector × local month (`cube`); every grouping the page shows (station, district, sector,
month, the whole city) is a sum of those cells, turned into figures by `kuaigong.figures`, the
same functions the stations use. The median and p90 seconds to fill do not add up: they are
picked in SQL per grouping, at the positions `kuaigong.figures` names. Nothing loops over
records in Python. Each record
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


def _job_key(grouping: str, offset: int) -> tuple[str, str]:
    """(key expression, join) grouping jobs (alias t) the given way, as `roll_up` groups cells."""
    if grouping == "city":
        return "'city'", ""
    if grouping == "station":
        return "t.station", ""
    if grouping == "district":
        return "COALESCE(s.district, '')", 'LEFT JOIN "station" s ON s.id = t.station'
    if grouping == "month":
        return _month("t.posted_at", offset), ""
    if grouping == "sector":
        return "t.category", ""
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


# A cell of the cube: (station, sector or None for records without one, local month).
Cell = tuple[str, str | None, str]


def _cube_sql(table: str, columns: list[str], where: str, cfg: fig.Settings) -> str:
    """Counts per station, sector and local month of one kind of record (alias t)."""
    time_column = {"job": "posted_at", "assignment": "confirmed_at"}.get(table, "created_at")
    month = _month(f"t.{time_column}", cfg.utc_offset_hours)
    sector, join = "NULL", ""
    if table == "job":
        sector = "t.category"
    elif table == "assignment":
        sector = "COALESCE(j.category, '')"
        join = 'LEFT JOIN "job" j ON j.id = t.job_id LEFT JOIN "worker" w ON w.id = t.worker_id'
    return (
        f"SELECT t.station, {sector}, {month}, {', '.join(columns)} "
        f'FROM "{table}" t {join} WHERE {where} GROUP BY 1, 2, 3'
    )


def _job_cube(q: _Query, now: dt.datetime, cfg: fig.Settings, cube: dict[Cell, fig.Tally]) -> None:
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
    cutoff = db.dbtime(fig.pending_cutoff(now, cfg))
    sql = _cube_sql("job", columns, q.where, cfg)
    for row in _rows(sql, [cfg.target_seconds, cutoff, *q.params]):
        tally = cube.setdefault((str(row[0]), str(row[1] or ""), str(row[2])), fig.Tally())
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
        ) = (int(v or 0) for v in row[3:])


def _assignment_cube(q: _Query, cfg: fig.Settings, cube: dict[Cell, fig.Tally]) -> None:
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
    for row in _rows(_cube_sql("assignment", columns, q.where, cfg), q.params):
        tally = cube.setdefault((str(row[0]), str(row[1] or ""), str(row[2])), fig.Tally())
        values = [int(v or 0) for v in row[3:]]
        (
            tally.assignments,
            tally.showed_up,
            tally.no_shows,
            tally.placements,
            tally.placements_priority,
            tally.wage_paid_fen,
        ) = values[:6]
        tally.placements_by_group = dict(zip(fig.PRIORITY_GROUPS, values[6:], strict=True))


def _complaint_cube(q: _Query, cfg: fig.Settings, cube: dict[Cell, fig.Tally]) -> None:
    in_time = f"t.resolved_at <= {_plus_hours('t.created_at', cfg.resolve_hours)}"
    columns = [
        "COUNT(*)",
        _sum("t.resolved_at IS NULL"),
        _sum(f"t.resolved_at IS NOT NULL AND {in_time}"),
        _sum(f"t.resolved_at IS NOT NULL AND NOT ({in_time})"),
    ]
    for row in _rows(_cube_sql("complaint", columns, q.where, cfg), q.params):
        tally = cube.setdefault((str(row[0]), None, str(row[2])), fig.Tally())
        (
            tally.complaints_received,
            tally.complaints_open,
            tally.complaints_resolved_in_time,
            tally.complaints_resolved_late,
        ) = (int(v or 0) for v in row[3:])


def _registration_cube(q: _Query, cfg: fig.Settings, cube: dict[Cell, fig.Tally]) -> None:
    for row in _rows(_cube_sql("worker", ["COUNT(*)"], q.where, cfg), q.params):
        cube.setdefault((str(row[0]), None, str(row[2])), fig.Tally()).registrations = int(row[3])


def cube(
    since: dt.datetime | None,
    until: dt.datetime | None,
    station: str | None,
    now: dt.datetime,
    cfg: fig.Settings,
) -> dict[Cell, fig.Tally]:
    """Every count per station, sector and local month, for records of [since, until): one
    GROUP BY per kind of record; the groupings the page shows are sums of these cells."""
    cells: dict[Cell, fig.Tally] = {}
    _job_cube(_Query("posted_at", since, until, station), now, cfg, cells)
    _assignment_cube(_Query("confirmed_at", since, until, station), cfg, cells)
    _complaint_cube(_Query("created_at", since, until, station), cfg, cells)
    _registration_cube(_Query("created_at", since, until, station), cfg, cells)
    return cells


def _districts() -> dict[str, str]:
    return {str(sid): str(d) for sid, d in _rows('SELECT id, district FROM "station"', [])}


def roll_up(
    cells: dict[Cell, fig.Tally], grouping: str, districts: dict[str, str]
) -> dict[str, fig.Tally]:
    """The cube's cells summed per station, district, sector, month or for the whole city.
    Cells without a sector (complaints, registrations) are left out of the sectors."""
    parts: dict[str, list[fig.Tally]] = {}
    for (station, sector, month), tally in cells.items():
        if grouping == "city":
            key = "city"
        elif grouping == "station":
            key = station
        elif grouping == "district":
            key = districts.get(station, "")
        elif grouping == "month":
            key = month
        elif sector is None:
            continue
        else:
            key = sector
        parts.setdefault(key, []).append(tally)
    return {key: fig.combine(tallies) for key, tallies in parts.items()}


def _fill_percentiles(
    grouping: str, since: Any, until: Any, station: str | None, cfg: fig.Settings
) -> dict[str, tuple[float | None, int | None]]:
    """(median, p90) seconds to fill per group, picked in SQL where kuaigong.figures says."""
    key, join = _job_key(grouping, cfg.utc_offset_hours)
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


def figures_by(
    grouping: str,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    station: str | None = None,
    now: dt.datetime | None = None,
    cells: dict[Cell, fig.Tally] | None = None,
) -> dict[str, fig.Figures]:
    """The figures per station, district, sector or month (or 'city': one key), for records of
    [since, until) (None: unbounded), of one station when given. `cells`: the cube of the same
    records, when the caller already has it."""
    if grouping not in GROUPINGS:
        raise ValueError(grouping)
    now = now or clock.now()
    cfg = settings(now)
    if cells is None:
        cells = cube(since, until, station, now, cfg)
    tallies = roll_up(cells, grouping, _districts() if grouping == "district" else {})
    times = _fill_percentiles(grouping, since, until, station, cfg)
    if grouping == "city":
        tallies.setdefault("city", fig.Tally())
    return {
        key: fig.derive(tally, *times.get(key, (None, None)))
        for key, tally in sorted(tallies.items())
    }


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


def targets(monthly: dict[str, fig.Figures], now: dt.datetime | None = None) -> dict[str, Any]:
    """Registered people and jobs posted against the city's 2027 targets, with projections
    from the monthly registrations and postings."""
    now = now or clock.now()
    cfg = current_app.config
    this_month = fig.month_of(now, settings(now).utc_offset_hours)
    return {
        "workers": fig.project(
            registered_people(),
            [(m, f.tally.registrations) for m, f in monthly.items()],
            this_month,
            int(cfg["TARGET_WORKERS"]),
            TARGET_MONTH,
        ),
        "jobs": fig.project(
            sum(f.tally.posted for f in monthly.values()),
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
    """The city figures page: totals, today, breakdowns, month-by-month trends and targets.
    Two cubes (all time, today) hold every count; the rest are sums of their cells."""
    now = now or clock.now()
    cfg = settings(now)
    this_month = fig.month_of(now, cfg.utc_offset_hours)
    day = fig.day_bounds(now, cfg.utc_offset_hours)
    cells = cube(None, None, None, now, cfg)
    today = cube(*day, None, now, cfg)
    monthly = figures_by("month", now=now, cells=cells)
    stations = {st.id: st for st in Station.select().order_by(Station.district, Station.name)}
    per_station = figures_by("station", now=now, cells=cells)
    per_station_today = figures_by("station", *day, now=now, cells=today)
    empty = fig.derive(fig.Tally(), None, None)
    return {
        "now": now,
        "settings": cfg,
        "this_month": this_month,
        "city": figures_by("city", now=now, cells=cells)["city"],
        "today": figures_by("city", *day, now=now, cells=today)["city"],
        "stations": [
            (st, per_station.get(sid, empty), per_station_today.get(sid, empty))
            for sid, st in stations.items()
        ],
        "districts": figures_by("district", now=now, cells=cells),
        "sectors": figures_by("sector", now=now, cells=cells),
        "trend": trend(monthly, this_month),
        "targets": targets(monthly, now),
        "priority_groups": fig.PRIORITY_GROUPS,
    }
