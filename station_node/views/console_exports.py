"""What the console exports: workers, jobs, assignments and the station's figures, as the
pages show them (words, local times, yuan, short numbers)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from station_node.models import Assignment, Employer, Job, Worker
from station_node.services.stats import station_stats
from station_node.views import templating as t
from station_node.views.console_lists import MAX_EXPORT_ROWS, Columns


def _yuan(fen: int | None) -> str:
    return "" if fen is None else t.money(fen).lstrip("¥")


def _share(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.0f}%"


def workers() -> tuple[Columns, Any]:
    columns: Columns = [
        (_("工人编号"), lambda w: t.short_id(w.id)),
        (_("姓名"), lambda w: w.name),
        (_("身份证号"), lambda w: w.id_masked),
        (_("手机"), lambda w: w.mobile),
        (_("技能"), lambda w: t.labels(w.skills, "skill")),
        (_("社区"), lambda w: "、".join(w.areas or [])),
        (_("可工作时间"), lambda w: t.weekly(w.availability)),
        (_("完成次数"), lambda w: w.completed_count),
        (_("未到岗"), lambda w: w.no_show_count),
        (_("状态"), lambda w: t.label(w.status, "status")),
        (_("登记时间"), lambda w: t.when(w.created_at)),
    ]
    return columns, Worker.select().order_by(Worker.created_at.desc()).limit(MAX_EXPORT_ROWS)


def jobs() -> tuple[Columns, Any]:
    columns: Columns = [
        (_("岗位编号"), lambda j: t.short_id(j.id)),
        (_("工作名称"), lambda j: j.title),
        (_("用工方"), lambda j: j.employer.name),
        (_("行业类别"), lambda j: t.label(j.category, "category")),
        (_("所在社区"), lambda j: j.community),
        (_("时间"), lambda j: _("时间灵活") if j.time_flexible else t.span(j.starts_at, j.ends_at)),
        (_("工资"), lambda j: t.pay(j)),
        (_("招聘人数"), lambda j: j.headcount),
        (_("已确认"), lambda j: j.confirmed_count),
        (_("派工方式"), lambda j: t.label(j.dispatch_mode, "dispatch_mode")),
        (_("状态"), lambda j: t.label(j.status, "status")),
        (_("发布时间"), lambda j: t.when(j.posted_at)),
    ]
    rows = Job.select(Job, Employer).join(Employer).order_by(Job.posted_at.desc())
    return columns, rows.limit(MAX_EXPORT_ROWS)


def assignments() -> tuple[Columns, Any]:
    columns: Columns = [
        (_("岗位编号"), lambda a: t.short_id(a.job_id)),
        (_("工作名称"), lambda a: a.job.title),
        (_("工人编号"), lambda a: t.short_id(a.worker_id)),
        (_("工人"), lambda a: a.worker.name),
        (_("状态"), lambda a: t.label(a.status, "status")),
        (_("开始"), lambda a: t.when(a.starts_at)),
        (_("确认时间"), lambda a: t.when(a.confirmed_at)),
        (_("实发工资（元）"), lambda a: _yuan(a.pay_fen)),
        (_("发放方式"), lambda a: t.label(a.pay_method, "pay_method") if a.pay_method else ""),
    ]
    rows = (
        Assignment.select(Assignment, Job, Worker)
        .join(Job)
        .switch(Assignment)
        .join(Worker)
        .order_by(Assignment.confirmed_at.desc())
    )
    return columns, rows.limit(MAX_EXPORT_ROWS)


def figures() -> tuple[Columns, Any]:
    stats = station_stats()
    today, total = stats["today"], stats["all_time"]

    def pair(read: Any) -> tuple[Any, Any]:
        return read(today), read(total)

    lines = [
        (_("登记工人"), *pair(lambda s: s["registrations"]["workers"])),
        (_("登记用工方"), *pair(lambda s: s["registrations"]["employers"])),
        (_("发布岗位"), *pair(lambda s: s["postings"]["total"])),
        (_("暂扣待审核"), *pair(lambda s: s["postings"]["by_status"].get("held", 0))),
        (_("满员率"), *pair(lambda s: _share(s["fill_rate"]))),
        (
            _("发布到满员用时（中位数）"),
            *pair(lambda s: t.duration(s["time_to_fill"]["median_seconds"])),
        ),
        (_("60秒内满员的比例"), *pair(lambda s: _share(s["time_to_fill"]["within_60s_share"]))),
        (_("派工人次"), *pair(lambda s: s["assignments"]["total"])),
        (_("未到岗率"), *pair(lambda s: _share(s["no_show_rate"]))),
    ]
    columns: Columns = [
        (_("指标"), lambda r: r[0]),
        (_("今天"), lambda r: r[1]),
        (_("累计"), lambda r: r[2]),
    ]
    return columns, lines


TABLES = {"workers": workers, "jobs": jobs, "assignments": assignments, "figures": figures}
FILE_NAMES = {"workers": "工人", "jobs": "岗位", "assignments": "派工记录", "figures": "驿站数据"}
