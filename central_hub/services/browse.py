"""Finding things on the hub's pages: stations, people and jobs by what admins know about them
(a name, a district, a masked ID number, a mobile number, a month), a page at a time, and the
district → community drill-down.

Searches take the raw query-string values and raise a field error for a value that cannot be
meant (a page number of "abc", a month of "2026-13"). At the plan's 2027 size every query here
reads an index (migration 13) and at most one page of rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import peewee

from central_hub import db
from central_hub.models import Job, Station, Worker
from kuaigong.errors import FieldErrors, NotFound

PER_PAGE = 25
# Counting stops here: beyond it a page says "10000 多条" instead of reading every index entry
# of the city's 200,000 people for a figure nobody pages through.
COUNT_CAP = 10_000
MAX_QUERY = 64
_MOBILE = re.compile(r"^1\d{10}$")
_ID_TAIL = re.compile(r"^\d{3}[\dXx]$")
_ID_MASKED = re.compile(r"^\d{6}\*{8}\d{3}[\dXx]$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Page:
    """One page of a search: its rows, which page it is and how many rows match in all."""

    rows: list[Any]
    number: int
    total: int  # COUNT_CAP + 1 when there are more than COUNT_CAP
    per_page: int = PER_PAGE
    more: bool = False  # whether a later page has rows (known even past the cap)

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.more


def _page_number(raw: Any, errs: FieldErrors) -> int:
    if raw in (None, ""):
        return 1
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 100_000:
        errs.add("page", "invalid", "页码须为正整数", "Page must be a positive whole number")
        return 1
    return int(text)


def _text(raw: Any) -> str:
    return str(raw or "").strip()[:MAX_QUERY]


def _like(text: str) -> str:
    """`text` as a LIKE prefix pattern, its own % and _ taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _starts(field: peewee.Field, text: str) -> peewee.Node:
    """`field` starts with `text` (case as typed), as a LIKE that an index of the column reads
    (the column compares bytewise on PostgreSQL, migration 13)."""
    pattern = peewee.Value(_like(text), converter=str, unpack=False)  # not the column's
    like = (field, peewee.SQL("LIKE"), pattern, peewee.SQL("ESCAPE '\\'"))
    return peewee.NodeList(like, parens=True)


def _page(query: peewee.Select, number: int) -> Page:
    total = query.order_by().limit(COUNT_CAP + 1).count()
    rows = list(query.limit(PER_PAGE + 1).offset((number - 1) * PER_PAGE))
    return Page(rows[:PER_PAGE], number, total, more=len(rows) > PER_PAGE)


# ---------------------------------------------------------------- stations


def stations(args: dict[str, Any], rows: list[dict[str, Any]]) -> Page:
    """The watch rows (`stations.station_rows`) whose station matches `q` (in its name,
    district or community), `district` and `status`, a page at a time."""
    errs = FieldErrors()
    number = _page_number(args.get("page"), errs)
    errs.raise_if_any()
    q, district, status = _text(args.get("q")), _text(args.get("district")), args.get("status")
    picked = [
        r
        for r in rows
        if (
            not q
            or any(
                q in s for s in (r["station"].name, r["station"].district, r["station"].community)
            )
        )
        and (not district or r["station"].district == district)
        and (not status or r["station"].status == status)
    ]
    start = (number - 1) * PER_PAGE
    more = len(picked) > start + PER_PAGE
    return Page(picked[start : start + PER_PAGE], number, len(picked), more=more)


def districts() -> list[str]:
    """Every district that has a station, in order."""
    return [
        d
        for (d,) in Station.select(Station.district).distinct().order_by(Station.district).tuples()
    ]


def _live_counts(model: type[peewee.Model]) -> Counter[str]:
    """Live records per station."""
    query = (
        model.select(model.station, peewee.fn.COUNT(peewee.SQL("*")))
        .where(~model.deleted)
        .group_by(model.station)
        .tuples()
    )
    return Counter(dict(query))


def drill_down(
    district: str | None = None, counts: tuple[Counter[str], Counter[str]] | None = None
) -> dict[str, Any]:
    """Stations, people and jobs per district (or, given a district, per community in it);
    `counts`: live workers and jobs per station when the caller has them."""
    query = Station.select().order_by(Station.district, Station.community, Station.name)
    if district is not None:
        query = query.where(Station.district == district)
    stations_ = list(query)
    if district is not None and not stations_:
        raise NotFound(f"区县 {district}", f"District {district}")
    workers, jobs = counts or (_live_counts(Worker), _live_counts(Job))
    groups: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"stations": [], "workers": 0, "jobs": 0}
    )
    for st in stations_:
        group = groups[st.community if district is not None else st.district]
        group["stations"].append(st)
        group["workers"] += workers[st.id]
        group["jobs"] += jobs[st.id]
    rows = [{"name": name, **group} for name, group in groups.items()]
    return {
        "district": district,
        "rows": rows,
        "stations": sum(len(r["stations"]) for r in rows),
        "workers": sum(r["workers"] for r in rows),
        "jobs": sum(r["jobs"] for r in rows),
        "worker_counts": workers,
        "job_counts": jobs,
    }


# ---------------------------------------------------------------- people


def _json_text(field: peewee.Field, key: str) -> peewee.Node:
    """The text under `key` of a JSON text column, as the indexes of migration 13 spell it."""
    if db.is_sqlite():
        return peewee.fn.json_extract(field, peewee.SQL(f"'$.{key}'"))
    text = (peewee.Cast(field, "jsonb"), peewee.SQL(f"->> '{key}'"))
    return peewee.NodeList(text, glue=" ", parens=True)


def _masked_tail(field: peewee.Field) -> peewee.Node:
    if db.is_sqlite():
        return peewee.fn.substr(_json_text(field, "id_masked"), -4)
    return peewee.fn.right(peewee.NodeList((_json_text(field, "id_masked"),)), 4)


def people(args: dict[str, Any]) -> tuple[Page, str]:
    """People's records at the stations matching `q`, and how `q` was read: an 11-digit mobile
    number, a masked ID number as pages show it (or its last four characters), else the start
    of a name."""
    errs = FieldErrors()
    number = _page_number(args.get("page"), errs)
    errs.raise_if_any()
    q = _text(args.get("q"))
    query = Worker.select(
        Worker.id, Worker.station, Worker.name, Worker.id_hash, Worker.created_at, Worker.data
    ).where(~Worker.deleted)
    if not q:
        return _page(query.order_by(Worker.name, Worker.id), number), "all"
    if _MOBILE.match(q):
        return _few(query.where(_json_text(Worker.data, "mobile") == q), number), "mobile"
    if _ID_MASKED.match(q) or _ID_TAIL.match(q):
        query = query.where(_masked_tail(Worker.data) == q[-4:].upper())
        if len(q) > 4:
            query = query.where(_json_text(Worker.data, "id_masked") == q.upper())
        return _few(query, number), "id_masked"
    query = query.where(_starts(Worker.name, q))
    return _page(query.order_by(Worker.name, Worker.id), number), "name"


def _few(query: peewee.Select, number: int) -> Page:
    """A page of the few people a number matches, sorted here: asked to sort by name, PostgreSQL
    would walk the whole name index looking for them."""
    rows = sorted(query.limit(COUNT_CAP + 1), key=lambda w: (w.name, w.id))
    start = (number - 1) * PER_PAGE
    more = len(rows) > start + PER_PAGE
    return Page(rows[start : start + PER_PAGE], number, len(rows), more=more)


# ---------------------------------------------------------------- jobs


def _month(raw: Any, errs: FieldErrors) -> tuple[dt.datetime, dt.datetime] | None:
    text = _text(raw)
    if not text:
        return None
    match = _MONTH.match(text)
    if not match or not 2000 <= int(match[1]) <= 2100 or not 1 <= int(match[2]) <= 12:
        errs.add("month", "invalid", "月份须写成 2026-03 这样", "Month must look like 2026-03")
        return None
    year, month = int(match[1]), int(match[2])
    start = dt.datetime(year, month, 1)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1)
    return start, end


def jobs(args: dict[str, Any], zone: ZoneInfo) -> Page:
    """Jobs matching the title start `q`, `station`, `sector`, `status` and `month` (calendar
    month of posting in the city's time `zone`), newest posting first."""
    errs = FieldErrors()
    number = _page_number(args.get("page"), errs)
    month = _month(args.get("month"), errs)
    errs.raise_if_any()
    query = Job.select(
        Job.id,
        Job.station,
        Job.title,
        Job.category,
        Job.status,
        Job.headcount,
        Job.posted_at,
        Job.fill_seconds,
    ).where(~Job.deleted)
    q = _text(args.get("q"))
    if q:
        query = query.where(_starts(Job.title, q))
    for name, column in (
        ("station", Job.station),
        ("sector", Job.category),
        ("status", Job.status),
    ):
        value = _text(args.get(name))
        if value:
            query = query.where(column == value)
    if month is not None:
        start, end = (m.replace(tzinfo=zone).astimezone(dt.UTC).replace(tzinfo=None) for m in month)
        query = query.where((Job.posted_at >= start) & (Job.posted_at < end))
    return _page(query.order_by(Job.posted_at.desc(), Job.id.desc()), number)


def sectors() -> list[str]:
    """Every sector code a live job carries, in order."""
    return [c for (c,) in Job.select(Job.category).distinct().order_by(Job.category).tuples()]


def station_activity(station_id: str, zone: ZoneInfo, now: dt.datetime) -> dict[str, Any]:
    """A station's people and jobs, and its postings per local month over the last 12 months
    (oldest first, months without postings included as 0)."""
    local_now = now.replace(tzinfo=dt.UTC).astimezone(zone)
    months: list[tuple[int, int]] = []
    year, month = local_now.year, local_now.month
    for _ in range(12):
        months.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    months.reverse()
    since = dt.datetime(*months[0], 1, tzinfo=zone).astimezone(dt.UTC).replace(tzinfo=None)
    posted = Counter(
        (at.year, at.month)
        for (stamp,) in Job.select(Job.posted_at)
        .where((Job.station == station_id) & ~Job.deleted & (Job.posted_at >= since))
        .tuples()
        for at in (stamp.replace(tzinfo=dt.UTC).astimezone(zone),)
    )
    live = (Job.station == station_id) & ~Job.deleted
    return {
        "workers": Worker.select().where((Worker.station == station_id) & ~Worker.deleted).count(),
        "jobs": Job.select().where(live).count(),
        "jobs_open": Job.select().where(live & Job.status.in_(("open", "escalated"))).count(),
        "months": [f"{y}-{m:02d}" for y, m in months],
        "postings": [posted[ym] for ym in months],
    }
