"""Posting in seconds: what the job form can fill in by itself.

A station posts the same few jobs for the same employers again and again, so the form starts
from what it already knows: the employer found as staff type, that employer's address and
usual community, their last jobs ready to repeat with the same hours on the next day they fit,
today's community and the pay unit a category is usually paid in.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from peewee import fn
from pypinyin import Style, lazy_pinyin
from werkzeug.datastructures import MultiDict

from kuaigong import clock
from kuaigong.i18n import lang
from station_node import catalog
from station_node.models import Employer, Job
from station_node.services import local_today, utc_offset_hours
from station_node.views import templating

FOUND_LIMIT = 8
INITIALS_SCAN = 20_000
RECENT_JOBS = 3
FORM_TIME = "%Y-%m-%dT%H:%M"

# The unit most jobs of a category are paid in; staff can still pick another.
PAY_UNIT_BY_CATEGORY = {
    "major_project": "day",
    "education": "hour",
    "elderly_care": "hour",
    "construction": "day",
    "property": "day",
    "agriculture": "day",
    "household": "hour",
    "catering": "hour",
    "advertising": "day",
    "logistics": "piece",
}


def todays_community() -> str:
    """The community most of today's postings went to, else the station's first."""
    since = _utc(dt.datetime.combine(local_today(), dt.time()))
    row = (
        Job.select(Job.community, fn.COUNT(Job.id).alias("n"))
        .where(Job.posted_at >= since)
        .group_by(Job.community)
        .order_by(fn.COUNT(Job.id).desc(), fn.MAX(Job.posted_at).desc())
        .first()
    )
    if row is not None and row.community in catalog.areas():
        return str(row.community)
    areas = catalog.areas()
    return areas[0] if areas else ""


def _utc(local: dt.datetime) -> dt.datetime:
    return local - dt.timedelta(hours=utc_offset_hours())


def _local(moment: dt.datetime) -> dt.datetime:
    return moment + dt.timedelta(hours=utc_offset_hours())


def _yuan(fen: int) -> str:
    yuan, rest = divmod(int(fen), 100)
    return f"{yuan}.{rest:02d}" if rest else str(yuan)


def next_window(
    starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """A past job's hours moved to the first day they still lie ahead (UTC in, UTC out)."""
    length = ends_at - starts_at
    local_start = _local(starts_at)
    local_now = _local(now)
    day = local_now.date()
    candidate = dt.datetime.combine(day, local_start.time())
    if candidate <= local_now:
        candidate += dt.timedelta(days=1)
    return _utc(candidate), _utc(candidate) + length


def repeat_values(job: Job, now: dt.datetime | None = None) -> MultiDict[str, str]:
    """The job form filled from a past job, its hours moved to the next day they fit."""
    values: MultiDict[str, str] = MultiDict(
        {
            "employer_id": job.employer_id,
            "title": job.title,
            "category": job.category,
            "headcount": str(job.headcount),
            "pay_yuan": _yuan(job.pay_fen),
            "pay_unit": job.pay_unit,
            "description": job.description or "",
            "address": job.address,
            "community": job.community,
            "term": job.term,
            "urgency": job.urgency,
            "source": job.source,
            "source_department": job.source_department or "",
            "dispatch_mode": job.dispatch_mode,
        }
    )
    for skill in job.skills or []:
        values.add("skills", skill)
    if job.insurance_required:
        values["insurance_required"] = "1"
    if job.time_flexible or job.starts_at is None or job.ends_at is None:
        values["time_flexible"] = "1"
    else:
        start, end = next_window(job.starts_at, job.ends_at, now or clock.now())
        values["starts_at"] = _local(start).strftime(FORM_TIME)
        values["ends_at"] = _local(end).strftime(FORM_TIME)
    return values


def _recent(employer_id: str) -> list[Job]:
    return list(
        Job.select()
        .where(Job.employer == employer_id)
        .order_by(Job.posted_at.desc())
        .limit(RECENT_JOBS)
    )


def _job_summary(job: Job) -> str:
    en = lang() == "en"
    if job.time_flexible or job.starts_at is None:
        when = "flexible hours" if en else "时间灵活"
    else:
        when = f"{_local(job.starts_at):%H:%M}–{_local(job.ends_at or job.starts_at):%H:%M}"
    people = f"{job.headcount} people" if en else f"{job.headcount}人"
    return f"{job.title} · {people} · {templating.pay(job)} · {when}"


@functools.lru_cache(maxsize=20_000)
def initials(name: str) -> str:
    """A name's pinyin initials (团结湖物业 → tjhwy), so staff can find it without an input
    method."""
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()


def _by_initials(text: str, seen: set[str], limit: int) -> list[Employer]:
    """Employers whose name's pinyin initials start with `text` (the names are few enough per
    station to read through)."""
    out: list[Employer] = []
    query = Employer.select().order_by(Employer.blocked, Employer.name).limit(INITIALS_SCAN)
    for employer in query:
        if employer.id not in seen and initials(employer.name).startswith(text):
            out.append(employer)
            if len(out) >= limit:
                break
    return out


def find_employers(query: str) -> list[dict[str, Any]]:
    """Employers whose name, contact, mobile, short number or name's pinyin initials match,
    with their last jobs."""
    text = query.strip()[:64]
    if not text:
        return []
    match = (
        Employer.name.contains(text)
        | Employer.contact_name.contains(text)
        | Employer.mobile.contains(text)
    )
    if text.isalnum() and text.isascii():
        match |= Employer.id.startswith(text.lower())
    rows = list(
        Employer.select().where(match).order_by(Employer.blocked, Employer.name).limit(FOUND_LIMIT)
    )
    if len(rows) < FOUND_LIMIT and text.isascii() and text.isalpha():
        rows += _by_initials(text.lower(), {e.id for e in rows}, FOUND_LIMIT - len(rows))
    found = []
    for employer in rows:
        recent = _recent(employer.id)
        found.append(
            {
                "id": employer.id,
                "number": templating.short_id(employer.id),
                "name": employer.name,
                "contact": employer.contact_name,
                "mobile": employer.mobile,
                "address": recent[0].address if recent else employer.address,
                "community": recent[0].community if recent else "",
                "blocked": employer.blocked,
                "jobs": [{"id": j.id, "text": _job_summary(j)} for j in recent],
            }
        )
    return found


def employer_values(employer: Employer, base: MultiDict[str, str]) -> MultiDict[str, str]:
    """The form for a new job of this employer: their usual job if they have one, else their
    address."""
    recent = _recent(employer.id)
    if recent:
        return repeat_values(recent[0])
    values = base.copy()
    values["employer_id"] = employer.id
    values["address"] = employer.address
    return values
