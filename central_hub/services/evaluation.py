"""The annual station evaluation: indicators under 工作量 / 专业化 / 服务成效, each with a
weight and thresholds an admin sets per year; a score, a grade and a subsidy band per station; and a
rectification case with a deadline for a failed station, closed by a re-evaluation.

Every indicator is measured for all stations at once, grouped queries over the replicated
records (no query per station), so a year recomputes in a few queries whatever the number of
stations. The figures the stations and the city view also show (registrations, postings,
placements, complaints closed in time, fill rate, the 60-second share, priority-group
placements) come from their one definition in kuaigong.figures, summed per station by
services.citystats; the year is the city's local year.

A published evaluation goes to its station through the hub-signed log (entity "evaluation",
one entry per station, targeted at it), so the station shows its own score and what pulls it
down; hub-log fields hold no floats, so numbers travel as their display text.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app

from central_hub import db
from central_hub.models import Admin, EvaluationResult, EvaluationScheme, RectificationCase, Station
from central_hub.services import citystats, hublog
from central_hub.states import CaseStatus, Grade, Role, SubsidyBand
from kuaigong import clock, figures
from kuaigong.errors import Conflict, FieldErrors, Forbidden, NotFound
from kuaigong.states import JobStatus

HEADINGS: list[tuple[str, str, str]] = [
    ("workload", "工作量", "Workload"),
    ("professionalism", "专业化", "Professionalism"),
    ("results", "服务成效", "Service results"),
]
GRADE_NAMES = {
    Grade.EXCELLENT: ("优秀", "Excellent"),
    Grade.PASS: ("合格", "Pass"),
    Grade.FAIL: ("不合格", "Fail"),
}
BAND_NAMES = {
    SubsidyBand.FULL: ("全额补贴", "Full subsidy"),
    SubsidyBand.STANDARD: ("标准补贴", "Standard subsidy"),
    SubsidyBand.NONE: ("暂停补贴", "No subsidy"),
}
CASE_NAMES = {
    CaseStatus.OPEN: ("整改中", "Rectifying"),
    CaseStatus.FIXED: ("已整改", "Fixed"),
    CaseStatus.FAILED_AGAIN: ("复评仍不合格，建议关停", "Failed again: closure recommended"),
}


@dataclass(frozen=True)
class Indicator:
    """One measured indicator and the defaults of its weight and thresholds."""

    code: str
    heading: str
    zh: str
    en: str
    unit: str  # shown after the value ("人", "%", "分", …)
    higher_is_better: bool
    weight: float
    full: float  # at or beyond this the indicator earns its whole weight
    partial: float  # at or beyond this, half of it
    # Nothing to measure (no holds, no complaints): nothing went wrong there, so the whole weight;
    # for results, nothing achieved: none of it.
    empty_scores_full: bool = False


INDICATORS: list[Indicator] = [
    Indicator(
        "registrations", "workload", "新登记人数", "Registrations", "人", True, 10, 2000, 1000
    ),
    Indicator("postings", "workload", "发布岗位数", "Postings", "个", True, 10, 500, 250),
    Indicator("placements", "workload", "上岗人次", "Placements", "人次", True, 10, 1000, 500),
    Indicator(
        "holds_in_time",
        "professionalism",
        "审核及时率",
        "Holds reviewed in time",
        "%",
        True,
        10,
        95,
        80,
        empty_scores_full=True,
    ),
    Indicator(
        "complaints_in_time",
        "professionalism",
        "投诉按时办结率",
        "Complaints closed in time",
        "%",
        True,
        10,
        95,
        80,
        empty_scores_full=True,
    ),
    Indicator(
        "duplicates",
        "professionalism",
        "重复登记数",
        "Duplicate registrations",
        "条",
        False,
        5,
        5,
        20,
        empty_scores_full=True,
    ),
    Indicator(
        "rejected_entries",
        "professionalism",
        "被拒数据条数",
        "Rejected entries",
        "条",
        False,
        5,
        10,
        50,
        empty_scores_full=True,
    ),
    Indicator("fill_rate", "results", "岗位满员率", "Fill rate", "%", True, 12, 90, 70),
    Indicator(
        "share_60s", "results", "60 秒内满员占比", "Filled within 60 s", "%", True, 12, 80, 50
    ),
    Indicator("rating", "results", "服务评价均分", "Average rating", "分", True, 8, 4.5, 3.5),
    Indicator(
        "priority_placements",
        "results",
        "重点群体上岗人次",
        "Priority-group placements",
        "人次",
        True,
        8,
        100,
        30,
    ),
]
BY_CODE = {i.code: i for i in INDICATORS}
DEFAULT_EXCELLENT_AT, DEFAULT_PASS_AT = 85.0, 60.0
DEFAULT_SUBSIDY_FULL, DEFAULT_SUBSIDY_STANDARD = 50_000, 30_000


# ---- the scheme ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scheme:
    """A year's weights, thresholds, grade scores and subsidy amounts (stored or the defaults)."""

    year: int
    indicators: dict[str, dict[str, float]]  # code -> weight, full, partial
    excellent_at: float
    pass_at: float
    subsidy_full: int
    subsidy_standard: int
    stored: bool


def default_indicators() -> dict[str, dict[str, float]]:
    return {i.code: {"weight": i.weight, "full": i.full, "partial": i.partial} for i in INDICATORS}


def scheme(year: int) -> Scheme:
    """The year's scheme. A year no admin has set yet takes the latest earlier year's (an
    admin's choices carry on until changed), else the plan's defaults; either way unsaved."""
    row = EvaluationScheme.get_or_none(EvaluationScheme.year == year)
    stored = row is not None
    if row is None:
        row = (
            EvaluationScheme.select()
            .where(EvaluationScheme.year < year)
            .order_by(EvaluationScheme.year.desc())
            .first()
        )
    if row is None:
        return Scheme(
            year,
            default_indicators(),
            DEFAULT_EXCELLENT_AT,
            DEFAULT_PASS_AT,
            DEFAULT_SUBSIDY_FULL,
            DEFAULT_SUBSIDY_STANDARD,
            False,
        )
    merged = default_indicators()
    for code, setting in (row.indicators or {}).items():
        if code in merged and isinstance(setting, dict):
            merged[code].update({k: float(v) for k, v in setting.items() if k in merged[code]})
    return Scheme(
        year,
        merged,
        float(row.excellent_at),
        float(row.pass_at),
        int(row.subsidy_full),
        int(row.subsidy_standard),
        stored,
    )


def _require_admin(actor: Admin | None) -> None:
    if actor is not None and actor.role != Role.ADMIN:
        raise Forbidden("read_only", "审计员只能查看，不能修改", "Auditors may only read")


def _number(
    errs: FieldErrors, data: dict[str, Any], name: str, zh: str, en: str, low: float, high: float
) -> float:
    raw = data.get(name)
    try:
        value = float(str(raw).strip())
    except (TypeError, ValueError):
        errs.add(name, "invalid", f"{zh}须为数字", f"{en} must be a number")
        return 0.0
    if value != value or not low <= value <= high:  # NaN, or out of range
        errs.add(name, "range", f"{zh}须在 {low:g}–{high:g} 之间", f"{en} must be {low:g}–{high:g}")
        return 0.0
    return value


def save_scheme(year: int, data: dict[str, Any], actor: Admin | None) -> Scheme:
    """Set a year's scheme from form fields `<code>_weight`, `<code>_full`, `<code>_partial`,
    `excellent_at`, `pass_at`, `subsidy_full`, `subsidy_standard`; weights must add up to 100."""
    _require_admin(actor)
    errs = FieldErrors()
    indicators: dict[str, dict[str, float]] = {}
    for ind in INDICATORS:
        c = ind.code
        weight = _number(errs, data, f"{c}_weight", f"{ind.zh}权重", f"{ind.en} weight", 0, 100)
        full = _number(errs, data, f"{c}_full", f"{ind.zh}满分线", f"{ind.en} full mark", 0, 1e9)
        partial = _number(
            errs, data, f"{c}_partial", f"{ind.zh}得半分线", f"{ind.en} half mark", 0, 1e9
        )
        if ind.higher_is_better and partial > full:
            errs.add(
                f"{c}_partial",
                "order",
                f"{ind.zh}：得半分线不能高于满分线",
                f"{ind.en}: the half mark cannot be above the full mark",
            )
        if not ind.higher_is_better and partial < full:
            errs.add(
                f"{c}_partial",
                "order",
                f"{ind.zh}（越少越好）：得半分线不能低于满分线",
                f"{ind.en} (fewer is better): the half mark cannot be below the full mark",
            )
        indicators[c] = {"weight": weight, "full": full, "partial": partial}
    excellent_at = _number(errs, data, "excellent_at", "优秀分数线", "Excellent score", 0, 100)
    pass_at = _number(errs, data, "pass_at", "合格分数线", "Pass score", 0, 100)
    if pass_at > excellent_at:
        errs.add(
            "pass_at", "order", "合格分数线不能高于优秀分数线", "The pass score is above excellent"
        )
    subsidy_full = _number(errs, data, "subsidy_full", "优秀补贴", "Full subsidy", 0, 1e8)
    subsidy_standard = _number(
        errs, data, "subsidy_standard", "合格补贴", "Standard subsidy", 0, 1e8
    )
    total = round(sum(s["weight"] for s in indicators.values()), 6)
    if not errs and total != 100:
        errs.add(
            "weights",
            "sum",
            f"各项权重合计须为 100，现为 {total:g}",
            f"The weights must add up to 100, not {total:g}",
        )
    errs.raise_if_any()
    with db.atomic():
        fields = {
            "indicators": indicators,
            "excellent_at": excellent_at,
            "pass_at": pass_at,
            "subsidy_full": int(subsidy_full),
            "subsidy_standard": int(subsidy_standard),
            "updated_by": actor.username if actor is not None else None,
            "updated_at": clock.now(),
        }
        if EvaluationScheme.get_or_none(EvaluationScheme.year == year) is None:
            EvaluationScheme.create(year=year, **fields)
        else:
            EvaluationScheme.update(**fields).where(EvaluationScheme.year == year).execute()
    return scheme(year)


# ---- measuring: one grouped query per indicator --------------------------------------------


def _epoch(expr: str) -> str:
    """SQL: seconds since 1970 of a stored time column or of a change-log time text."""
    if db.is_sqlite():
        return f"CAST(strftime('%s', {expr}) AS INTEGER)"
    return f"date_part('epoch', {expr})"


def _json_time(field: str) -> str:
    """SQL: a change-log time in `data` ("2026-05-01T08:00:00Z") as a time, NULL unless it is
    one (a malformed value must not stop the evaluation)."""
    if db.is_sqlite():
        text = f"json_extract(data, '$.{field}')"
        digits = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*"
        return f"(CASE WHEN {text} GLOB '{digits}' THEN substr({text}, 1, 19) END)"
    text = f"(data::json->>'{field}')"
    return (
        f"(CASE WHEN {text} ~ '^\\d{{4}}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d' "
        f"THEN CAST(substr({text}, 1, 19) AS timestamp) END)"
    )


def _json_rating(field: str) -> str:
    """SQL: a 1–5 rating in `data`, NULL when absent or not one. On PostgreSQL read from the
    text (compact sorted JSON, kuaigong.db.JSONField: `"field":4,` or `"field":4}`) with plain
    string functions: parsing every row as JSON, or a regular expression, costs more than the
    rest of the evaluation together."""
    if db.is_sqlite():
        text = f"CAST(json_extract(data, '$.{field}') AS TEXT)"
        return f"(CASE WHEN {text} GLOB '[1-5]' THEN CAST({text} AS INTEGER) END)"
    key = f'"{field}":'
    at = f"(position('{key}' in data) + {len(key)})"
    digit = f"substr(data, {at}, 1)"
    return (
        f"(CASE WHEN position('{key}' in data) > 0 AND {digit} IN ('1', '2', '3', '4', '5') "
        f"AND substr(data, {at} + 1, 1) IN (',', '}}') THEN CAST({digit} AS INTEGER) END)"
    )


def year_bounds(year: int, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in naive UTC of the city's local year (the figures' months at its offset)."""
    offset = citystats.settings(now).utc_offset_hours
    return (
        figures.month_bounds(f"{year}-01", offset)[0],
        figures.month_bounds(f"{year}-12", offset)[1],
    )


class _Measure:
    """Runs the grouped queries for one local year, optionally narrowed to one station."""

    def __init__(self, year: int, station: str | None) -> None:
        self.now = clock.now()
        self.start, self.end = year_bounds(year, self.now)
        self.station = station
        self.p = db.database.param

    def _where(self, column: str, alias: str = "") -> tuple[str, list[Any]]:
        pre = f"{alias}." if alias else ""
        sql = f"NOT {pre}deleted AND {pre}{column} >= {self.p} AND {pre}{column} < {self.p}"
        params: list[Any] = [db.dbtime(self.start), db.dbtime(self.end)]
        if self.station is not None:
            sql += f" AND {pre}station = {self.p}"
            params.append(self.station)
        return sql, params

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return list(db.database.execute_sql(sql, params).fetchall())

    def share(self, sql: str, params: list[Any]) -> dict[str, float | None]:
        """From rows (station, hits, of): hits as a percentage of `of` (None when of is 0)."""
        return {
            s: figures.Ratio(int(hits or 0), int(of or 0)).percent
            for s, hits, of in self._rows(sql, params)
        }

    def holds_in_time(self) -> dict[str, float | None]:
        """Held jobs posted in the year: share reviewed within the hours allowed; a hold still
        waiting counts once its time is up."""
        hours = int(current_app.config["EVALUATION_HOLD_REVIEW_HOURS"])
        where, params = self._where("posted_at")
        reviewed = _json_time("reviewed_at")
        late_from = db.dbtime(self.now - dt.timedelta(hours=hours))
        sql = f"""
            SELECT station,
                   SUM(CASE WHEN r IS NOT NULL AND {_epoch("r")} - {_epoch("posted_at")}
                            <= {hours * 3600} THEN 1 ELSE 0 END),
                   SUM(CASE WHEN r IS NOT NULL OR posted_at < {self.p} THEN 1 ELSE 0 END)
            FROM (SELECT station, posted_at, {reviewed} AS r FROM "job"
                  WHERE {where} AND (status = {self.p} OR data LIKE {self.p})) AS h
            GROUP BY station"""
        return self.share(sql, [late_from, *params, JobStatus.HELD.value, '%"reviewed_at":"%'])

    def duplicates(self) -> dict[str, int]:
        """Workers registered in the year whose ID number the station had already registered."""
        where, params = self._where("created_at", "w")
        sql = f"""
            SELECT w.station, COUNT(*) FROM "worker" w
            WHERE {where} AND w.id_hash IS NOT NULL AND EXISTS (
                SELECT 1 FROM "worker" o WHERE o.id_hash = w.id_hash AND o.station = w.station
                AND NOT o.deleted AND (o.created_at < w.created_at
                    OR (o.created_at = w.created_at AND o.id < w.id)))
            GROUP BY w.station"""
        return {s: int(n) for s, n in self._rows(sql, params)}

    def rejected_entries(self) -> dict[str, int]:
        """Entries the station sent that the hub took into its chain but could not apply."""
        sql = f"""SELECT station, COUNT(*) FROM "ignored" WHERE at >= {self.p} AND at < {self.p}
                  GROUP BY station"""
        params = [db.dbtime(self.start), db.dbtime(self.end)]
        return {s: int(n) for s, n in self._rows(sql, params)}

    def rating(self) -> dict[str, float | None]:
        """The mean of every 1–5 rating given on the station's placements of the year, by
        employers of workers and by workers of the work."""
        where, params = self._where("confirmed_at")
        sql = f"""
            SELECT station, SUM(COALESCE(a, 0)) + SUM(COALESCE(b, 0)), COUNT(a) + COUNT(b)
            FROM (SELECT station, {_json_rating("rating_of_worker")} AS a,
                         {_json_rating("rating_of_employer")} AS b
                  FROM "assignment" WHERE {where} AND data LIKE {self.p}) AS r
            GROUP BY station"""
        return {
            s: (round(int(total or 0) / int(n), 2) if n else None)
            for s, total, n in self._rows(sql, [*params, '%"rating_of_%'])
        }

    def all(self) -> dict[str, dict[str, Any]]:
        """indicator code -> {station -> value}. The figures the station's own figures page and
        the city view show come from their one definition (kuaigong.figures, summed per station
        by citystats); the evaluation's own indicators from the queries above."""
        shared = citystats.figures_by("station", self.start, self.end, self.station, self.now)
        return {
            "registrations": {s: f.tally.registrations for s, f in shared.items()},
            "postings": {s: f.tally.posted for s, f in shared.items()},
            "placements": {s: f.tally.placements for s, f in shared.items()},
            "holds_in_time": self.holds_in_time(),
            "complaints_in_time": {s: f.complaints_in_time.percent for s, f in shared.items()},
            "duplicates": self.duplicates(),
            "rejected_entries": self.rejected_entries(),
            "fill_rate": {s: f.fill_rate.percent for s, f in shared.items()},
            "share_60s": {s: f.within_target_share.percent for s, f in shared.items()},
            "rating": self.rating(),
            "priority_placements": {s: f.tally.placements_priority for s, f in shared.items()},
        }


# ---- scoring -----------------------------------------------------------------------------


def score(ind: Indicator, setting: Mapping[str, float], value: float | None) -> float:
    """Points for one value: the whole weight at the full mark, half at the half mark."""
    weight = float(setting["weight"])
    if value is None:
        return weight if ind.empty_scores_full else 0.0
    full, partial = float(setting["full"]), float(setting["partial"])
    if ind.higher_is_better:
        return weight if value >= full else weight / 2 if value >= partial else 0.0
    return weight if value <= full else weight / 2 if value <= partial else 0.0


def grade(total: float, plan: Scheme) -> Grade:
    if total >= plan.excellent_at:
        return Grade.EXCELLENT
    return Grade.PASS if total >= plan.pass_at else Grade.FAIL


def band(g: Grade, plan: Scheme) -> tuple[SubsidyBand, int]:
    if g == Grade.EXCELLENT:
        return SubsidyBand.FULL, plan.subsidy_full
    if g == Grade.PASS:
        return SubsidyBand.STANDARD, plan.subsidy_standard
    return SubsidyBand.NONE, 0


def _count_zero(code: str) -> bool:
    """Counts read 0 where a station has no rows; rates and means read None (nothing to rate)."""
    return code in {
        "registrations",
        "postings",
        "placements",
        "duplicates",
        "rejected_entries",
        "priority_placements",
    }


def compute(year: int, station: str | None = None) -> list[EvaluationResult]:
    """Measure and score the year for every station (or the one named), store the results."""
    plan = scheme(year)
    measured = _Measure(year, station).all()
    query = Station.select(Station.id).order_by(Station.id)
    if station is not None:
        query = query.where(Station.id == station)
    ids = [s.id for s in query]
    now = clock.now()
    rows = []
    for sid in ids:
        values: dict[str, Any] = {}
        scores: dict[str, float] = {}
        for ind in INDICATORS:
            value = measured[ind.code].get(sid, 0 if _count_zero(ind.code) else None)
            values[ind.code] = value
            scores[ind.code] = score(ind, plan.indicators[ind.code], value)
        total = round(sum(scores.values()), 1)
        g = grade(total, plan)
        b, subsidy = band(g, plan)
        rows.append(
            {
                "year": year,
                "station": sid,
                "measured": values,
                "scores": scores,
                "total": total,
                "grade": g.value,
                "band": b.value,
                "subsidy": subsidy,
                "computed_at": now,
            }
        )
    with db.atomic():
        # A recomputed result keeps when it was last sent to its station.
        sent = {r.station: r.published_at for r in results(year, station)}
        for row in rows:
            row["published_at"] = sent.get(row["station"])
        gone = EvaluationResult.delete().where(EvaluationResult.year == year)
        if station is not None:
            gone = gone.where(EvaluationResult.station == station)
        gone.execute()
        for i in range(0, len(rows), 500):
            EvaluationResult.insert_many(rows[i : i + 500]).execute()
    return results(year, station)


def results(year: int, station: str | None = None) -> list[EvaluationResult]:
    """Stored results of the year, best score first."""
    query = EvaluationResult.select().where(EvaluationResult.year == year)
    if station is not None:
        query = query.where(EvaluationResult.station == station)
    return list(query.order_by(EvaluationResult.total.desc(), EvaluationResult.station))


# ---- what a station reads ---------------------------------------------------------------


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}" if value != int(value) else str(int(value))
    return str(value)


def lines(result: EvaluationResult, plan: Scheme) -> list[dict[str, Any]]:
    """Each indicator of a result with its setting, points and the points it lost."""
    out = []
    for ind in INDICATORS:
        setting = plan.indicators[ind.code]
        points = float(result.scores.get(ind.code, 0.0))
        out.append(
            {
                "indicator": ind,
                "value": result.measured.get(ind.code),
                "weight": float(setting["weight"]),
                "full": float(setting["full"]),
                "partial": float(setting["partial"]),
                "score": points,
                "lost": round(float(setting["weight"]) - points, 1),
            }
        )
    return out


def pulls_down(result: EvaluationResult, plan: Scheme) -> list[dict[str, Any]]:
    """The indicators that lost points, the most lost first."""
    lost = [line for line in lines(result, plan) if line["lost"] > 0]
    return sorted(lost, key=lambda line: (-line["lost"], line["indicator"].code))


def station_view(year: int, station_id: str) -> dict[str, Any]:
    """A station's evaluation page: its result, each indicator, what pulls it down, its case."""
    station = Station.get_or_none(Station.id == station_id)
    if station is None:
        raise NotFound(f"驿站 {station_id}", f"Station {station_id}")
    result = EvaluationResult.get_or_none(
        (EvaluationResult.year == year) & (EvaluationResult.station == station_id)
    )
    plan = scheme(year)
    case = RectificationCase.get_or_none(
        (RectificationCase.year == year) & (RectificationCase.station == station_id)
    )
    return {
        "station": station,
        "year": year,
        "result": result,
        "scheme": plan,
        "lines": lines(result, plan) if result else [],
        "pulls_down": pulls_down(result, plan) if result else [],
        "case": case,
    }


def _utc_z(value: dt.datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() + "Z" if value is not None else None


def _send(result: EvaluationResult, plan: Scheme, case: RectificationCase | None) -> None:
    """The station's evaluation as a hub-log entry for it alone (inside the caller's atomic),
    with the names it is shown under, so the station needs no copy of the catalogue."""
    fields: dict[str, Any] = {
        "year": result.year,
        "total": _fmt(float(result.total)),
        "grade": str(result.grade),
        "band": str(result.band),
        "subsidy": int(result.subsidy),
        "pass_at": _fmt(plan.pass_at),
        "excellent_at": _fmt(plan.excellent_at),
        "grade_name": list(GRADE_NAMES[Grade(result.grade)]),
        "band_name": list(BAND_NAMES[SubsidyBand(result.band)]),
        "headings": [[code, zh, en] for code, zh, en in HEADINGS],
        "indicators": [
            {
                "code": line["indicator"].code,
                "heading": line["indicator"].heading,
                "name": [line["indicator"].zh, line["indicator"].en],
                "unit": line["indicator"].unit,
                "value": _fmt(line["value"]),
                "weight": _fmt(line["weight"]),
                "full": _fmt(line["full"]),
                "partial": _fmt(line["partial"]),
                "score": _fmt(line["score"]),
                "lost": _fmt(line["lost"]),
            }
            for line in lines(result, plan)
        ],
        "case": None,
    }
    if case is not None:
        fields["case"] = {
            "status": str(case.status),
            "status_name": list(CASE_NAMES[CaseStatus(case.status)]),
            "deadline": _utc_z(case.deadline),
            "reasons": list(case.reasons or []),
            "re_total": _fmt(case.re_total) if case.re_total is not None else None,
        }
    hublog.append("evaluation", str(result.year), "update", fields, targets=[result.station])


def _deadline(now: dt.datetime) -> dt.datetime:
    """The end of the local day the rectification period ends on, as naive UTC."""
    zone = zoneinfo.ZoneInfo(current_app.config["TIME_ZONE"])
    local = now.replace(tzinfo=dt.UTC).astimezone(zone)
    days = int(current_app.config["EVALUATION_RECTIFY_DAYS"])
    end = dt.datetime.combine(local.date() + dt.timedelta(days=days), dt.time(23, 59, 59), zone)
    return end.astimezone(dt.UTC).replace(tzinfo=None)


def publish(year: int, actor: Admin | None) -> list[EvaluationResult]:
    """Recompute the year, open a rectification case for each failed station without one, and
    send every station its evaluation."""
    _require_admin(actor)
    rows = compute(year)
    plan = scheme(year)
    now = clock.now()
    with db.atomic():
        for result in rows:
            case = RectificationCase.get_or_none(
                (RectificationCase.year == year) & (RectificationCase.station == result.station)
            )
            if case is None and result.grade == Grade.FAIL:
                case = RectificationCase.create(
                    station=result.station,
                    year=year,
                    reasons=[line["indicator"].code for line in pulls_down(result, plan)],
                    total=float(result.total),
                    deadline=_deadline(now),
                    opened_at=now,
                    opened_by=actor.username if actor is not None else None,
                )
            EvaluationResult.update(published_at=now).where(
                EvaluationResult.id == result.id
            ).execute()
            _send(result, plan, case)
    return results(year)


def reevaluate(case_id: Any, actor: Admin | None, note: str = "") -> RectificationCase:
    """Evaluate a failed station's year again: a pass closes the case as fixed; a fail after
    the deadline closes it as failed again (closure recommended); a fail before the deadline
    leaves it open. The station learns the outcome through the hub log."""
    _require_admin(actor)
    try:
        number = int(case_id)
    except (TypeError, ValueError):
        number = -1
    case = RectificationCase.get_or_none(RectificationCase.id == number)
    if case is None:
        raise NotFound(f"整改案 {case_id}", f"Rectification case {case_id}")
    if case.status != CaseStatus.OPEN:
        raise Conflict("case_closed", "该整改案已结案", "This rectification case is closed")
    if len(note) > 500:
        errs = FieldErrors()
        errs.add("note", "too_long", "说明最多 500 个字", "The note is longer than 500")
        errs.raise_if_any()
    [result] = compute(case.year, case.station)
    plan = scheme(case.year)
    now = clock.now()
    if result.grade != Grade.FAIL:
        status = CaseStatus.FIXED
    elif now > case.deadline:
        status = CaseStatus.FAILED_AGAIN
    else:
        status = CaseStatus.OPEN
    with db.atomic():
        RectificationCase.update(
            status=status,
            reevaluated_at=now,
            re_total=float(result.total),
            re_grade=result.grade,
            note=note.strip(),
        ).where(RectificationCase.id == case.id).execute()
        case = RectificationCase.get_by_id(case.id)
        EvaluationResult.update(published_at=now).where(EvaluationResult.id == result.id).execute()
        _send(result, plan, case)
    return case


def cases(year: int | None = None) -> list[RectificationCase]:
    """Rectification cases, open ones first, nearest deadline first."""
    query = RectificationCase.select()
    if year is not None:
        query = query.where(RectificationCase.year == year)
    rows = list(query)
    return sorted(rows, key=lambda c: (c.status != CaseStatus.OPEN, c.deadline, c.station))


def table(year: int) -> list[dict[str, Any]]:
    """One row per station with stored results, best score first: the station, its result,
    the points under each heading and its rectification case."""
    stations = {s.id: s for s in Station.select()}
    open_cases = {
        c.station: c for c in RectificationCase.select().where(RectificationCase.year == year)
    }
    out = []
    for result in results(year):
        station = stations.get(result.station)
        by_heading = {
            code: round(
                sum(float(result.scores.get(i.code, 0)) for i in INDICATORS if i.heading == code), 1
            )
            for code, _, _ in HEADINGS
        }
        out.append(
            {
                "station_id": result.station,
                "name": station.name if station else result.station,
                "district": station.district if station else "",
                "community": station.community if station else "",
                "result": result,
                "headings": by_heading,
                "case": open_cases.get(result.station),
            }
        )
    return out


def local_time(value: dt.datetime | None) -> str:
    """A stored naive-UTC time as people here read it (the hub's TIME_ZONE)."""
    if value is None:
        return ""
    zone = zoneinfo.ZoneInfo(current_app.config["TIME_ZONE"])
    return value.replace(tzinfo=dt.UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")
