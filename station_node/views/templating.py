"""What every template can use: money and time formats, catalog labels, status names."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask

from kuaigong import words
from kuaigong.i18n import lang
from station_node import catalog
from station_node.services import utc_offset_hours
from station_node.views import console_attention

SHORT_ID_LENGTH = 8

# Status words shown on pages, in both languages (codes stay in the API).
STATUS_LABELS: dict[str, tuple[str, str]] = {
    **words.RECORD_STATES,
    "pending": ("等待回复", "Waiting"),
    "staff": ("工作人员", "Staff"),
    "admin": ("管理员", "Admin"),
    "M": ("男", "Male"),
    "F": ("女", "Female"),
}

# The hub's decisions as the sync page lists them (station_node.sync.decisions.decision_code).
HUB_DECISIONS: dict[str, tuple[str, str]] = {
    "rule:blocked_employer": ("市级规则：停用用工方", "City rule: employer blocked"),
    "rule:blocked_intermediary": ("市级规则：停用中介", "City rule: intermediary blocked"),
    "rule:announcement": ("市级公告", "City announcement"),
    "rule:service_rules": ("服务规则", "Service rules"),
    "rule:hotline": ("服务热线", "Hotline"),
    "rule:screening_phrase": ("市级规则：筛查词语", "City rule: screening phrase"),
    "rule:other": ("市级规则", "City rule"),
    "rule:withdrawn": ("撤销市级规则", "City rule withdrawn"),
    "key:registered": ("登记驿站签名密钥", "Station signing key registered"),
    "key:revoked": ("吊销驿站签名密钥", "Station signing key revoked"),
    "merge:confirm": ("确认是同一人", "Same person confirmed"),
    "merge:reject": ("认定不是同一人", "Not the same person"),
    "booking:keep": ("派工时间冲突裁定", "Overlapping bookings decided"),
    "field:accept_winner": (
        "信息冲突裁定：采用较新的修改",
        "Field conflict: the later change stands",
    ),
    "field:use_loser": (
        "信息冲突裁定：采用被覆盖的值",
        "Field conflict: the overwritten value restored",
    ),
    "station:reset_epoch": ("签发新纪元", "New epoch signed"),
    "station:unfreeze": ("解除冻结", "Unfrozen"),
    "station:dismiss": ("备份恢复提醒已核实", "Backup restore dismissed"),
    "station:accept_hub_time": ("按中心时间接收", "Accepted with hub time"),
    "station:other": ("关于本站的决定", "Decision about this station"),
    "other": ("其他", "Other"),
}
HUB_OUTCOMES: dict[str, tuple[str, str]] = {
    "applied": ("已在本站执行", "Applied here"),
    "nothing_here": ("本站无需改动", "Nothing to change here"),
    "not_ours": ("与本站无关", "Not for this station"),
    "refused": ("未能执行", "Could not be applied"),
    "deferred": ("等待新纪元后执行", "Waits for the new epoch"),
}

TABLES: dict[str, catalog.Labels] = {
    "skill": catalog.SKILLS,
    "category": catalog.CATEGORIES,
    "pay_unit": catalog.PAY_UNITS,
    "source": catalog.SOURCES,
    "dispatch_mode": catalog.DISPATCH_MODES,
    "term": catalog.TERMS,
    "urgency": catalog.URGENCIES,
    "pay_method": catalog.PAY_METHODS,
    "employer_kind": catalog.EMPLOYER_KINDS,
    "priority_group": catalog.PRIORITY_GROUPS,
    "status": STATUS_LABELS,
    "hub_decision": HUB_DECISIONS,
    "hub_outcome": HUB_OUTCOMES,
}


def money(fen: int | None) -> str:
    """Integer fen as yuan: 12345 → '¥123.45'."""
    if fen is None:
        return "—"
    yuan, rest = divmod(int(fen), 100)
    return f"¥{yuan}.{rest:02d}" if rest else f"¥{yuan}"


def pay(job: Any) -> str:
    """A job's pay with its unit: '180 元/天' or '180 yuan per day' (the unit names the
    currency)."""
    yuan, rest = divmod(int(job.pay_fen), 100)
    amount = f"{yuan}.{rest:02d}" if rest else str(yuan)
    return f"{amount} {label(job.pay_unit, 'pay_unit')}"


# Named date formats whose words differ by language: (Chinese, English).
DATE_FORMS: dict[str, tuple[str, str]] = {
    "day": ("%m月%d日", "%b %d"),
    "day_time": ("%m月%d日 %H:%M", "%b %d %H:%M"),
}


def local(value: dt.datetime | None, form: str | None = None) -> str:
    """A stored UTC time in the station's time zone; `form` is a strftime format or a
    DATE_FORMS name, and without one the time reads as people say it (see `when`)."""
    if value is None:
        return "—"
    if form is None:
        return when(value)

    if form in DATE_FORMS:
        form = DATE_FORMS[form][lang() == "en"]
    return (value + dt.timedelta(hours=utc_offset_hours())).strftime(form)


_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _shifted(value: dt.datetime) -> dt.datetime:
    return value + dt.timedelta(hours=utc_offset_hours())


def _day_words(moment: dt.datetime) -> str:
    """A local moment's date as people say it: '12月5日 周六' / 'Sat Dec 5'."""
    if lang() == "en":
        return f"{_WEEKDAYS_EN[moment.weekday()]} {moment.strftime('%b')} {moment.day}"
    return f"{moment.month}月{moment.day}日 {_WEEKDAYS[moment.weekday()]}"


def when(value: dt.datetime | None) -> str:
    """A stored UTC moment as the station reads it: '12月5日 周六 18:00'."""
    if value is None:
        return "—"
    moment = _shifted(value)
    return f"{_day_words(moment)} {moment:%H:%M}"


def span(start: dt.datetime | None, end: dt.datetime | None) -> str:
    """A job's time: '12月5日 周六 18:00–22:00', both dates only when it crosses midnight."""
    if start is None:
        return "—"
    if end is None:
        return when(start)
    first, last = _shifted(start), _shifted(end)
    if first.date() == last.date():
        return f"{_day_words(first)} {first:%H:%M}–{last:%H:%M}"
    return f"{when(start)} – {when(end)}"


def duration(seconds: float | int | None) -> str:
    """A length of time in words: '45秒', '2分15秒', '1小时5分' (English: '2 min 15 s')."""
    if seconds is None:
        return "—"
    total = max(int(round(float(seconds))), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    en = lang() == "en"
    if hours:
        return f"{hours} h {minutes} min" if en else f"{hours}小时{minutes}分"
    if minutes:
        return f"{minutes} min {secs} s" if en else f"{minutes}分{secs}秒"
    return f"{secs} s" if en else f"{secs}秒"


def weekly(availability: dict[str, Any] | None) -> str:
    """Weekly availability in words: '每天 06:00–23:30', '周一至周五 08:00–18:00'."""
    if not availability:
        return "Any time" if lang() == "en" else "不限"
    names = _WEEKDAYS_EN if lang() == "en" else _WEEKDAYS
    days = sorted({int(d) % 7 for d in availability.get("days", range(7))})
    if days == list(range(7)):
        text = "Every day" if lang() == "en" else "每天"
    elif days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        text = (
            f"{names[days[0]]}–{names[days[-1]]}"
            if lang() == "en"
            else (f"{names[days[0]]}至{names[days[-1]]}")
        )
    else:
        text = ("、" if lang() == "zh" else ", ").join(names[d] for d in days)
    since, until = availability.get("from", ""), availability.get("to", "")
    return f"{text} {since}–{until}" if since and until else text


def short_id(value: str | None) -> str:
    """The short number staff read and type for a record: the start of its id, upper-case
    (the same number job slips print)."""
    if not value:
        return "—"
    return str(value)[:SHORT_ID_LENGTH].upper()


def label(code: str | None, table: str) -> str:
    """The catalog label of a code in the page's language."""
    if code is None:
        return "—"
    return catalog.label(TABLES[table], code, lang())


def labels(codes: list[str] | None, table: str) -> str:
    """Several codes' labels joined with the language's list separator."""
    sep = "、" if lang() == "zh" else ", "
    return sep.join(label(c, table) for c in codes or []) or "—"


def message(item: dict[str, Any]) -> str:
    """A bilingual reason dict (message_zh/_en, detail_zh/_en, or message) in the page's
    language."""
    side = "en" if lang() == "en" else "zh"
    for key in (f"message_{side}", f"detail_{side}", "message", "detail", "code"):
        if item.get(key):
            return str(item[key])
    return ""


def register(app: Flask) -> None:
    """Install the filters and globals."""
    app.jinja_env.filters.update(
        money=money,
        pay=pay,
        local=local,
        label=label,
        labels=labels,
        message=message,
        when=when,
        span=span,
        duration=duration,
        weekly=weekly,
        short_id=short_id,
        needs_staff=console_attention.job_needs_staff,
    )

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"choices": lambda table: catalog.choices(TABLES[table], lang())}
