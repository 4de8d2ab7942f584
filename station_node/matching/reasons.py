"""The words behind each ranking reason: a code and its parameters, rendered in Chinese and English.

A ranking stores its reasons lean, as `[code, points]` or `[code, points, {parameters}]`
(e.g. `["rotation", 400, {"hours": 72}]`); the sentences staff read ("why him and not me") are
made from them when asked, so a posting at a large station writes a few bytes per worker,
not two paragraphs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app, has_app_context

from station_node import catalog

ROTATION_POINTS_PER_HOUR = 10
ROTATION_MAX_POINTS = 400

_DAY_NAMES_ZH = "一二三四五六日"
_DAY_NAMES_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

Texts = tuple[str, str]


def _when(value: Any) -> str:
    """A stored UTC moment (ISO text) as the station's month-day hours:minutes; "-" when
    unknown."""
    if not isinstance(value, str) or not value:
        return "-"
    try:
        offset = current_app.config.get("UTC_OFFSET_HOURS", 8) if has_app_context() else 8
        moment = dt.datetime.fromisoformat(value) + dt.timedelta(hours=int(offset))
        return moment.strftime("%m-%d %H:%M")
    except ValueError:
        return value


def _rotation(p: Mapping[str, Any]) -> Texts:
    if "hours" not in p:
        return "从未派到过工作，排在前面", "has never been given work: front of the line"
    hours = p["hours"]
    return (
        f"距上次派到工作 {hours} 小时"
        f"（每小时 +{ROTATION_POINTS_PER_HOUR}，最多 +{ROTATION_MAX_POINTS}）",
        f"{hours} h since last given work "
        f"(+{ROTATION_POINTS_PER_HOUR}/h, at most +{ROTATION_MAX_POINTS})",
    )


def _rating(p: Mapping[str, Any]) -> Texts:
    count = int(p.get("count") or 0)
    average = f"{int(p.get('sum') or 0) / count:.1f}" if count else "-"
    return (
        f"平均评分 {average} 星（{count} 次）",
        f"average rating {average} stars ({count} ratings)",
    )


def _day(p: Mapping[str, Any]) -> Texts:
    day = int(p.get("day", 0)) % 7
    return (
        f"星期{_DAY_NAMES_ZH[day]}不在可工作日内",
        f"{_DAY_NAMES_EN[day]} is not one of the worker's days",
    )


def _time(p: Mapping[str, Any]) -> Texts:
    start, end, since, until = p.get("start"), p.get("end"), p.get("from"), p.get("to")
    return (
        f"工作时间 {start}–{end} 不在可工作时段 {since}–{until} 内",
        f"{start}–{end} is outside the hours {since}–{until}",
    )


def _booking(p: Mapping[str, Any]) -> Texts:
    since, until = _when(p.get("from")), _when(p.get("to"))
    return f"该时段已有工作（{since}–{until}）", f"already booked {since}–{until}"


def _skills(p: Mapping[str, Any]) -> Texts:
    codes = [str(s) for s in p.get("skills") or ()]
    zh = [catalog.label(catalog.SKILLS, c, "zh") for c in codes]
    en = [catalog.label(catalog.SKILLS, c, "en") for c in codes]
    return "缺少所需技能：" + "、".join(zh), "lacks the required skills: " + ", ".join(en)


def _groups(p: Mapping[str, Any]) -> Texts:
    codes = [str(g) for g in p.get("groups") or ()]
    zh = "、".join(catalog.label(catalog.PRIORITY_GROUPS, c, "zh") for c in codes)
    en = ", ".join(catalog.label(catalog.PRIORITY_GROUPS, c, "en") for c in codes)
    return (
        f"重点群体：{zh}（已同意）",
        f"priority group: {en} (with consent)",
    )


_RENDER: dict[str, Callable[[Mapping[str, Any]], Texts]] = {
    "present": lambda p: ("今天已在驿站签到", "checked in at the station today"),
    "not_present": lambda p: ("今天未在驿站签到", "not checked in at the station today"),
    "rotation": _rotation,
    "reliability": lambda p: (
        f"爽约 {p.get('no_shows', 0)} 次，临时取消 {p.get('late_cancels', 0)} 次",
        f"{p.get('no_shows', 0)} no-shows, {p.get('late_cancels', 0)} late cancellations",
    ),
    "rating": _rating,
    "priority_group": _groups,
    "blocked": lambda p: ("账号已停用", "the worker's account is blocked"),
    "already_assigned": lambda p: ("已确认此工作", "already confirmed on this job"),
    "skills_missing": _skills,
    "outside_area": lambda p: (
        f"工作地点（{p.get('community')}）不在本人的服务区域内",
        f"the job's community ({p.get('community')}) is not one of the worker's areas",
    ),
    "unavailable_day": _day,
    "unavailable_time": _time,
    "declined": lambda p: ("已拒绝或未回复此工作的派单", "declined or let this job's offer lapse"),
    "overlapping_booking": _booking,
    "ranked_below": lambda p: (
        f"符合条件，但有 {p.get('ahead', 0)} 名工人得分不低于本人，排在前面"
        f"（排名只保存前 {p.get('stored', 0)} 名）",
        f"eligible, but {p.get('ahead', 0)} workers scored as high or higher and were ahead "
        f"(the ranking stores the best {p.get('stored', 0)})",
    ),
}


def render(code: str, params: Mapping[str, Any]) -> Texts:
    """The reason's sentence in Chinese and in English (an unknown code reads as itself)."""
    found = _RENDER.get(code)
    if found is None:
        return code, code
    try:
        return found(params)
    except (TypeError, ValueError, KeyError):  # parameters of an older or damaged row
        return code, code


def stored_as_dicts(stored: Any) -> list[dict[str, Any]]:
    """Stored reasons (lean lists, or the full dicts of older rankings) as explain() gives them."""
    out: list[dict[str, Any]] = []
    for item in stored or ():
        if isinstance(item, dict):  # as the first release stored them; no migration rewrites them
            out.append(item)
            continue
        code, points = str(item[0]), int(item[1])
        params = item[2] if len(item) > 2 and isinstance(item[2], dict) else {}
        zh, en = render(code, params)
        out.append({"code": code, "points": points, "detail_zh": zh, "detail_en": en})
    return out
