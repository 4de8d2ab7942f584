"""City figures from the replicated records, by the one definition (docs/figures.md).

The counts are added up in SQL, one GROUP BY per kind of record into cells of station ×
sector × local month (`cube`); every grouping the page shows (station, district, sector,
month, the whole city) is a sum of those cells, turned into figures by `kuaigong.figures`, the
same functions the stations use. The median and p90 seconds to fill do not add up: they are
picked in SQL per grouping, at the positions `kuaigong.figures` names. Nothing loops over
records in Python. The all-time figures of the city page come from a summary of those cells
per station (`refresh_stations`, kept by the transactions that change the records), so a
view does not count the whole city again; other periods are counted from the records. Each
record
counts in the period of its own time (job: posted, assignment: confirmed, complaint:
received, worker: registered); months are local months in the city's zone.
(The annual evaluation: services.evaluation.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import current_app, has_app_context

from central_hub import db
from central_hub.models import CityCell, CityCellBuild, CityFillTime, Station
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


def _month_start(column: str, offset: int) -> str:
    """What to group by for local months: on PostgreSQL the month's first moment (truncating
    is much cheaper than formatting every row; `_month_text` formats the groups afterwards)."""
    if db.is_sqlite():
        return _month(column, offset)
    return f"date_trunc('month', {column} + interval '{offset:d} hours')"


def _month_text(grouped: str) -> str:
    """'YYYY-MM' of a `_month_start` group."""
    return grouped if db.is_sqlite() else f"to_char({grouped}, 'YYYY-MM')"


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
    month = _month_start(f"t.{time_column}", cfg.utc_offset_hours)
    sector, join = "NULL", ""
    if table == "job":
        sector = "t.category"
    elif table == "assignment":
        sector = "COALESCE(j.category, '')"
        join = 'LEFT JOIN "job" j ON j.id = t.job_id LEFT JOIN "worker" w ON w.id = t.worker_id'
    named = ", ".join(f"{c} AS v{i}" for i, c in enumerate(columns))
    values = ", ".join(f"v{i}" for i in range(len(columns)))
    return (
        f"SELECT st, sec, {_month_text('m')}, {values} FROM (SELECT t.station AS st, "
        f'{sector} AS sec, {month} AS m, {named} FROM "{table}" t {join} '
        f"WHERE {where} GROUP BY 1, 2, 3) AS g"
    )


def _job_sql(q: _Query, cutoff: Any, cfg: fig.Settings) -> tuple[str, list[Any]]:
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
    return _cube_sql("job", columns, q.where, cfg), [cfg.target_seconds, cutoff, *q.params]


def _job_counts(tally: fig.Tally, values: list[int]) -> None:
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
    ) = values


def _assignment_sql(q: _Query, cutoff: Any, cfg: fig.Settings) -> tuple[str, list[Any]]:
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
    return _cube_sql("assignment", columns, q.where, cfg), q.params


def _assignment_counts(tally: fig.Tally, values: list[int]) -> None:
    (
        tally.assignments,
        tally.showed_up,
        tally.no_shows,
        tally.placements,
        tally.placements_priority,
        tally.wage_paid_fen,
    ) = values[:6]
    tally.placements_by_group = dict(zip(fig.PRIORITY_GROUPS, values[6:], strict=True))


def _complaint_sql(q: _Query, cutoff: Any, cfg: fig.Settings) -> tuple[str, list[Any]]:
    in_time = f"t.resolved_at <= {_plus_hours('t.created_at', cfg.resolve_hours)}"
    columns = [
        "COUNT(*)",
        _sum("t.resolved_at IS NULL"),
        _sum(f"t.resolved_at IS NOT NULL AND {in_time}"),
        _sum(f"t.resolved_at IS NOT NULL AND NOT ({in_time})"),
    ]
    return _cube_sql("complaint", columns, q.where, cfg), q.params


def _complaint_counts(tally: fig.Tally, values: list[int]) -> None:
    (
        tally.complaints_received,
        tally.complaints_open,
        tally.complaints_resolved_in_time,
        tally.complaints_resolved_late,
    ) = values


def _worker_sql(q: _Query, cutoff: Any, cfg: fig.Settings) -> tuple[str, list[Any]]:
    return _cube_sql("worker", ["COUNT(*)"], q.where, cfg), q.params


def _worker_counts(tally: fig.Tally, values: list[int]) -> None:
    (tally.registrations,) = values


# Per kind of record: the time it counts by, its cube query, how a cube row fills a tally, and
# whether it has a sector.
_KINDS: dict[str, tuple[str, Callable[..., tuple[str, list[Any]]], Callable[..., None], bool]] = {
    "job": ("posted_at", _job_sql, _job_counts, True),
    "assignment": ("confirmed_at", _assignment_sql, _assignment_counts, True),
    "complaint": ("created_at", _complaint_sql, _complaint_counts, False),
    "worker": ("created_at", _worker_sql, _worker_counts, False),
}


def _add_row(
    cells: dict[Cell, fig.Tally], kind: str, station: Any, sector: Any, month: Any, values: Any
) -> None:
    """One cube row of a kind of record into its cell (records of a kind without a sector go
    to a cell of no sector; jobs without one to the sector "")."""
    has_sector, fill = _KINDS[kind][3], _KINDS[kind][2]
    key = (str(station), str(sector or "") if has_sector else None, str(month))
    fill(cells.setdefault(key, fig.Tally()), [int(v or 0) for v in values])


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
    cutoff = db.dbtime(fig.pending_cutoff(now, cfg))
    for kind, (time_column, sql, _fill, _sector) in _KINDS.items():
        q = _Query(time_column, since, until, station)
        for row in _rows(*sql(q, cutoff, cfg)):
            _add_row(cells, kind, row[0], row[1], row[2], row[3:])
    return cells


FIGURE_KINDS = frozenset(("job", "assignment", "complaint", "worker"))

# -- the summary ----------------------------------------------------------------------------------
# The all-time cube is kept per station in city_cell (and the seconds to fill in city_fill_time)
# by the transactions that change the records: ingest (services.merge), an admin's decided value
# and a booking conflict's cancellations. Only `pending` depends on the moment the page is shown:
# the summary holds none (a cutoff no job reaches) and the page counts them live.
_NEVER = dt.datetime(9999, 12, 31)
# How many counts each kind's cube query gives; a cell keeps them in n0, n1, …
_WIDTHS = {"job": 12, "assignment": 6 + len(fig.PRIORITY_GROUPS), "complaint": 4, "worker": 1}
_COUNT_COLUMNS = tuple(f"n{i}" for i in range(max(_WIDTHS.values())))


def _built_with(cfg: fig.Settings) -> tuple[int, int, int]:
    return cfg.utc_offset_hours, cfg.target_seconds, cfg.resolve_hours


def refresh_stations(stations: Iterable[str]) -> None:
    """Count these stations' cells again, inside the caller's transaction, after their records
    changed. Outside an app (no settings to count with) the stations are only marked stale:
    the next figures page counts them."""
    wanted = sorted(set(stations))
    if not wanted:
        return
    if not has_app_context():
        CityCellBuild.delete().where(CityCellBuild.station.in_(wanted)).execute()
        return
    cfg = settings()
    for station in wanted:  # in order: two transactions never wait on each other's stations
        _count_station(station, cfg)


def stations_of(table: str, column: str, ids: Iterable[str]) -> set[str]:
    """Stations whose assignments refer to these jobs or workers: their cells count the job's
    sector and the worker's priority groups."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    assert table == "assignment" and column in ("job_id", "worker_id")
    return {
        str(s)
        for (s,) in db.fetch_in(f'SELECT "station" FROM "{table}" WHERE {{in}}', column, wanted)
    }


def _count_station(station: str, cfg: fig.Settings) -> None:
    if not db.is_sqlite():  # one writer of a station's cells at a time; later reads see it all
        lock = f"SELECT pg_advisory_xact_lock(hashtext({db.database.param}))"
        _rows(lock, [f"city_cell:{station}"])
    CityCell.delete().where(CityCell.station == station).execute()
    CityFillTime.delete().where(CityFillTime.station == station).execute()
    registered = _registrations(station, cfg)
    cells = [
        (station, "worker", "", month, count, *[0] * (len(_COUNT_COLUMNS) - 1))
        for month, count in registered
    ]
    for kind, (time_column, sql, _fill, _sector) in _KINDS.items():
        if kind == "worker":
            continue
        q = _Query(time_column, None, None, station)
        for row in _rows(*sql(q, db.dbtime(_NEVER), cfg)):
            counts = [int(v or 0) for v in row[3:]]
            counts += [0] * (len(_COUNT_COLUMNS) - len(counts))
            cells.append((station, kind, str(row[1] or ""), str(row[2]), *counts))
    db.insert_values(
        CityCell._meta.table_name, ("station", "kind", "sector", "month", *_COUNT_COLUMNS), cells
    )
    q = _Query("posted_at", None, None, station)
    month = _month("t.posted_at", cfg.utc_offset_hours)
    times = _rows(
        f'SELECT t.category, {month}, t.fill_seconds, COUNT(*) FROM "job" t '
        f"WHERE {q.where} AND {_DISPATCHABLE} AND t.fill_seconds IS NOT NULL GROUP BY 1, 2, 3",
        q.params,
    )
    db.insert_values(
        CityFillTime._meta.table_name,
        ("station", "sector", "month", "seconds", "jobs"),
        [(station, sector, str(m), int(s), int(n)) for sector, m, s, n in times],
    )
    p = db.database.param
    live = f"station = {p} AND NOT deleted"
    undated = _rows(f'SELECT COUNT(*) FROM "worker" WHERE {live} AND created_at IS NULL', [station])
    jobs = _rows(f'SELECT COUNT(*) FROM "job" WHERE {live}', [station])
    live_workers = sum(n for _m, n in registered) + int(undated[0][0])
    CityCellBuild.insert(
        station=station,
        utc_offset_hours=cfg.utc_offset_hours,
        target_seconds=cfg.target_seconds,
        resolve_hours=cfg.resolve_hours,
        live_workers=live_workers,
        live_jobs=int(jobs[0][0]),
        built_at=clock.now(),
    ).on_conflict(
        conflict_target=[CityCellBuild.station],
        preserve=[
            CityCellBuild.utc_offset_hours,
            CityCellBuild.target_seconds,
            CityCellBuild.resolve_hours,
            CityCellBuild.live_workers,
            CityCellBuild.live_jobs,
            CityCellBuild.built_at,
        ],
    ).execute()


def _registrations(station: str, cfg: fig.Settings) -> list[tuple[str, int]]:
    """(local month, live workers registered in it) of a station. A station has thousands of
    workers and ingest recounts it after every batch: each month is counted over its range of
    the (station, created_at) index instead of working out every worker's month."""
    p = db.database.param
    live = f"t.station = {p} AND NOT t.deleted AND t.created_at IS NOT NULL"
    # apart: SQLite reads a MIN or a MAX off the index only when it is alone
    first, last = (
        _rows(f'SELECT {end}(t.created_at) FROM "worker" t WHERE {live}', [station])[0][0]
        for end in ("MIN", "MAX")
    )
    if first is None:
        return []
    months = fig.months_between(
        *(fig.month_of(_as_time(v), cfg.utc_offset_hours) for v in (first, last))
    )
    bounds = [fig.month_bounds(m, cfg.utc_offset_hours) for m in months]
    within = f"{live} AND t.created_at >= {p} AND t.created_at < {p}"
    counts = [f'(SELECT COUNT(*) FROM "worker" t WHERE {within})' for _m in months]
    params = [v for lo, hi in bounds for v in (station, db.dbtime(lo), db.dbtime(hi))]
    found = _rows(f"SELECT {', '.join(counts)}", params)[0]
    return [(m, int(n)) for m, n in zip(months, found, strict=True) if n]


def _as_time(value: Any) -> dt.datetime:
    """A stored time as the driver returns it (text on SQLite)."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def current_builds(cfg: fig.Settings) -> dict[str, CityCellBuild]:
    """Every station's build, counting first the stations whose cells are missing or were
    counted with other settings (a new hub, a changed setting)."""
    builds = {b.station: b for b in CityCellBuild.select()}
    stale = [
        sid
        for (sid,) in Station.select(Station.id).tuples()
        if sid not in builds
        or (builds[sid].utc_offset_hours, builds[sid].target_seconds, builds[sid].resolve_hours)
        != _built_with(cfg)
    ]
    if stale:
        with db.atomic():
            for station in sorted(stale):
                _count_station(station, cfg)
        builds = {b.station: b for b in CityCellBuild.select()}
    return builds


def live_counts() -> tuple[Counter[str], Counter[str]]:
    """Live (not deleted) workers and jobs per station, as the summary keeps them."""
    builds = current_builds(settings()).values()
    return (
        Counter({b.station: b.live_workers for b in builds}),
        Counter({b.station: b.live_jobs for b in builds}),
    )


def summary_figures(
    grouping: str,
    now: dt.datetime,
    cfg: fig.Settings,
    pending: list[tuple[str, str, str, int]] | None = None,
) -> dict[str, fig.Figures]:
    """The figures of all time per station, district, sector or month (or 'city'), the counts
    summed from the summary's cells in SQL, with the jobs pending at `now` counted live.
    `pending`: `pending_jobs` of the same moment, from a caller that has made sure of the
    summary (`current_builds`) already."""
    if grouping not in GROUPINGS:
        raise ValueError(grouping)
    if pending is None:
        current_builds(cfg)
        pending = pending_jobs(now, cfg)
    key, join, where = {
        "city": ("'city'", "", ""),
        "station": ("c.station", "", ""),
        "district": ("COALESCE(s.district, '')", 'LEFT JOIN "station" s ON s.id = c.station', ""),
        "sector": ("c.sector", "", "WHERE c.kind IN ('job', 'assignment')"),
        "month": ("c.month", "", ""),
    }[grouping]
    group = "c.kind" if grouping == "city" else f"c.kind, {key}"
    sums = ", ".join(f"SUM(c.{n})" for n in _COUNT_COLUMNS)
    tallies: dict[str, fig.Tally] = {}
    if grouping == "city":
        tallies["city"] = fig.Tally()
    sql = f'SELECT c.kind, {key}, {sums} FROM "city_cell" c {join} {where} GROUP BY {group}'
    for kind, k, *counts in _rows(sql, []):
        fill = _KINDS[str(kind)][2]
        fill(
            tallies.setdefault(str(k), fig.Tally()), [int(v or 0) for v in counts[: _WIDTHS[kind]]]
        )
    districts = _districts() if grouping == "district" else {}
    for station, sector, month, count in pending:
        k = {
            "city": "city",
            "station": station,
            "district": districts.get(station, ""),
            "sector": sector,
            "month": month,
        }[grouping]
        tallies.setdefault(k, fig.Tally()).pending += count
    times = summary_fill_times(cfg, grouping)
    return {
        k: fig.derive(tally, *times.get(k, (None, None))) for k, tally in sorted(tallies.items())
    }


def pending_jobs(now: dt.datetime, cfg: fig.Settings) -> list[tuple[str, str, str, int]]:
    """(station, sector, local month, jobs) of the dispatchable jobs not full whose dispatch
    began less than the target before `now`: the one count that changes with the clock."""
    unfilled = f"{_DISPATCHABLE} AND t.filled_at IS NULL"
    start = "COALESCE(t.dispatch_started_at, t.posted_at)"
    q = _Query("posted_at", None, None, None)
    month = _month("t.posted_at", cfg.utc_offset_hours)
    cutoff = db.dbtime(fig.pending_cutoff(now, cfg))
    rows = _rows(
        f'SELECT t.station, t.category, {month}, COUNT(*) FROM "job" t '
        f"WHERE {q.where} AND {unfilled} AND {start} > {db.database.param} GROUP BY 1, 2, 3",
        [*q.params, cutoff],
    )
    return [(str(st), str(sector or ""), str(m), int(n)) for st, sector, m, n in rows]


def summary_fill_times(cfg: fig.Settings, grouping: str) -> FillTimes:
    """(median, p90) seconds to fill per group of all time, picked from the summary's counts
    of jobs per second at the positions kuaigong.figures names."""
    key = {
        "city": "'city'",
        "station": "f.station",
        "district": "COALESCE(s.district, '')",
        "sector": "f.sector",
        "month": "f.month",
    }[grouping]
    join = 'LEFT JOIN "station" s ON s.id = f.station' if grouping == "district" else ""
    group = "f.seconds" if grouping == "city" else f"{key}, f.seconds"
    upto = "CAST(SUM(c) OVER (PARTITION BY k ORDER BY s) AS BIGINT)"
    n = "CAST(SUM(c) OVER (PARTITION BY k) AS BIGINT)"

    def at(position: str) -> str:
        return f"(upto - c <= {position} AND {position} < upto)"

    sql = f"""
        WITH h AS (
            SELECT {key} AS k, f.seconds AS s, SUM(f.jobs) AS c
            FROM "city_fill_time" f {join} GROUP BY {group}),
        r AS (SELECT k, s, c, {upto} AS upto, {n} AS n FROM h)
        SELECT k,
               AVG(CASE WHEN {at("(n - 1) / 2")} OR {at("n / 2")} THEN s END),
               MAX(CASE WHEN {at("(9 * n + 9) / 10 - 1")} THEN s END)
        FROM r GROUP BY k"""
    return {
        str(k): (float(med), int(p90))
        for k, med, p90 in _rows(sql, [])
        if k is not None and med is not None
    }


def _districts() -> dict[str, str]:
    return {str(sid): str(d) for sid, d in _rows('SELECT id, district FROM "station"', [])}


def roll_up(
    cells: dict[Cell, fig.Tally], grouping: str, districts: dict[str, str]
) -> dict[str, fig.Tally]:
    """The cube's cells summed per station, district, sector, month or for the whole city.
    Cells without a sector (complaints, registrations) are left out of the sectors."""
    parts: dict[str, list[tuple[int, ...]]] = {}
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
        parts.setdefault(key, []).append(_counts_of(tally))
    return {
        key: _tally_of([sum(c) for c in zip(*rows, strict=True)]) for key, rows in parts.items()
    }


# The counts of a tally as one row of numbers, so thousands of cells add up column by column
# (what fig.combine does, field by field).
_FIELDS = tuple(f.name for f in dataclasses.fields(fig.Tally) if f.name != "placements_by_group")
_counts_of_fields = operator.attrgetter(*_FIELDS)
_counts_of_groups = operator.itemgetter(*fig.PRIORITY_GROUPS)


def _counts_of(tally: fig.Tally) -> tuple[int, ...]:
    return (*_counts_of_fields(tally), *_counts_of_groups(tally.placements_by_group))


def _tally_of(counts: list[int]) -> fig.Tally:
    tally = fig.Tally()
    for name, count in zip(_FIELDS, counts, strict=False):
        setattr(tally, name, count)
    tally.placements_by_group = dict(zip(fig.PRIORITY_GROUPS, counts[len(_FIELDS) :], strict=True))
    return tally


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


FillTimes = dict[str, tuple[float | None, int | None]]


def fill_times(
    since: Any,
    until: Any,
    station: str | None,
    cfg: fig.Settings,
    groupings: Sequence[str] = GROUPINGS,
) -> dict[str, FillTimes]:
    """(median, p90) seconds to fill per group, for each of several groupings. PostgreSQL picks
    them for every grouping in one pass (GROUPING SETS): percentile_cont(0.5) is the mean of
    the values at `fig.median_positions`, percentile_disc(0.9) the value at the nearest rank
    ceil(0.9 n), i.e. `fig.p90_position`. SQLite picks them per grouping by row number."""
    if db.is_sqlite():
        return {g: _fill_percentiles(g, since, until, station, cfg) for g in groupings}
    keyed = [g for g in groupings if g != "city"]
    keys = [_job_key(g, cfg.utc_offset_hours)[0] for g in keyed]
    join = _job_key("district", cfg.utc_offset_hours)[1] if "district" in keyed else ""
    sets = ["()"] if "city" in groupings else []
    sets += [f"({k})" for k in keys]
    q = _Query("posted_at", since, until, station)
    sql = f"""
        SELECT {"".join(f"{k}, GROUPING({k}), " for k in keys)}
               percentile_cont(0.5) WITHIN GROUP (ORDER BY t.fill_seconds),
               percentile_disc(0.9) WITHIN GROUP (ORDER BY t.fill_seconds)
        FROM "job" t {join}
        WHERE {q.where} AND {_DISPATCHABLE} AND t.fill_seconds IS NOT NULL
        GROUP BY GROUPING SETS ({", ".join(sets)})"""
    out: dict[str, FillTimes] = {g: {} for g in groupings}
    for row in _rows(sql, q.params):
        med, p90 = row[-2:]
        grouped = [g for i, g in enumerate(keyed) if row[2 * i + 1] == 0]
        grouping, key = (
            (grouped[0], row[2 * keyed.index(grouped[0])]) if grouped else ("city", "city")
        )
        if med is None or key is None:  # no filled job at all; jobs without a sector
            continue
        out[grouping][str(key)] = (float(med), int(p90))
    return out


def figures_by(
    grouping: str,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    station: str | None = None,
    now: dt.datetime | None = None,
    cells: dict[Cell, fig.Tally] | None = None,
    times: FillTimes | None = None,
) -> dict[str, fig.Figures]:
    """The figures per station, district, sector or month (or 'city': one key), for records of
    [since, until) (None: unbounded), of one station when given. `cells` and `times`: the cube
    and the fill times (`fill_times`) of the same records, when the caller already has them."""
    if grouping not in GROUPINGS:
        raise ValueError(grouping)
    now = now or clock.now()
    cfg = settings(now)
    if cells is None:
        cells = cube(since, until, station, now, cfg)
    tallies = roll_up(cells, grouping, _districts() if grouping == "district" else {})
    if times is None:
        times = fill_times(since, until, station, cfg, (grouping,))[grouping]
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
    today = cube(*day, None, now, cfg)
    times_today = fill_times(*day, None, cfg, ("city", "station"))

    current_builds(cfg)
    pending = pending_jobs(now, cfg)

    def by(grouping: str) -> dict[str, fig.Figures]:
        return summary_figures(grouping, now, cfg, pending)

    def by_today(grouping: str) -> dict[str, fig.Figures]:
        return figures_by(grouping, *day, now=now, cells=today, times=times_today[grouping])

    monthly = by("month")
    stations = {st.id: st for st in Station.select().order_by(Station.district, Station.name)}
    per_station, per_station_today = by("station"), by_today("station")
    empty = fig.derive(fig.Tally(), None, None)
    return {
        "now": now,
        "settings": cfg,
        "this_month": this_month,
        "city": by("city")["city"],
        "today": by_today("city")["city"],
        "stations": [
            (st, per_station.get(sid, empty), per_station_today.get(sid, empty))
            for sid, st in stations.items()
        ],
        "districts": by("district"),
        "sectors": by("sector"),
        "trend": trend(monthly, this_month),
        "targets": targets(monthly, now),
        "priority_groups": fig.PRIORITY_GROUPS,
    }
