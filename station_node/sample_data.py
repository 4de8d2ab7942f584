"""Sample data for a demonstration station: workers, employers and jobs a real station would see.

Everything goes through the services (validation, screening, dispatch, change log), so the
demo exercises the same paths as real use. ID numbers are generated with a correct check
character; the data are drawn from the station's enrolled id (`seed_key`), so stations seeded
one after another are different stations with different residents — only `SHARED_RESIDENT` is
registered at each on purpose, so the hub shows one merge and one booking conflict.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import zlib
from typing import Any

from flask import Flask
from stdnum.cn import ric, uscc

from kuaigong import clock
from kuaigong.errors import Conflict, KuaigongError
from kuaigong.states import JobStatus
from station_node import catalog, config
from station_node import station_state as state
from station_node.identity import ensure_keys
from station_node.models import Employer, Job, Ranking, Staff, Worker
from station_node.services import assignments, dispatch, local_now, local_today, utc_offset_hours
from station_node.services.complaints import file_complaint
from station_node.services.posting import post_job
from station_node.services.registration import check_in_worker, register_employer, register_worker
from station_node.services.staff import create_staff

# One resident registered at every demo station (the standard's own example ID number): the hub
# proposes merging the registrations, and the evening shift each station books them on is an
# overlapping booking for a hub admin to decide.
SHARED_RESIDENT: dict[str, Any] = {
    "name": "张秀英",
    "id_number": "11010519491231002X",
    "mobile": "13911112222",
    "skills": ["sorting", "loading", "moving"],
}
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "kuaigong"
WORKER_COUNT = 40

# Districts whose codes stdnum accepts for births from the 1950s on (Beijing, Tianjin, Shanghai).
_AREA_CODES = (
    "110105",
    "110105",
    "110105",
    "110101",
    "110102",
    "110106",
    "110108",
    "120101",
    "310104",
)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐韩冯邓曹彭"
_MALE = (
    "建国",
    "志强",
    "伟",
    "磊",
    "军",
    "勇",
    "海涛",
    "晓东",
    "国庆",
    "德明",
    "永刚",
    "春生",
    "立新",
    "长江",
    "宏伟",
)
_FEMALE = (
    "秀英",
    "桂兰",
    "丽娟",
    "淑芬",
    "红梅",
    "美玲",
    "晓燕",
    "玉兰",
    "春花",
    "静",
    "敏",
    "雪梅",
    "凤霞",
    "丽华",
    "桂芳",
)
_MOBILE_PREFIXES = (
    "138",
    "139",
    "135",
    "136",
    "150",
    "151",
    "158",
    "186",
    "187",
    "188",
    "177",
    "199",
)
_PROFILES = (
    ["cleaning", "housekeeping", "gardening"],
    ["cleaning", "elderly_care"],
    ["elderly_care", "cooking", "housekeeping"],
    ["moving", "loading", "sorting"],
    ["sorting", "delivery", "loading"],
    ["painting", "construction_labour", "moving"],
    ["kitchen_help", "waiting", "cleaning"],
    ["flyering", "promotion", "event_staff"],
    ["security", "event_staff", "moving"],
    ["gardening", "farming", "moving"],
    ["electrician", "plumbing", "repair"],
    ["tutoring", "data_entry", "flyering"],
)


def _id_number(rng: random.Random, male: bool, today: dt.date) -> str:
    birth = dt.date(1962, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 42))
    birth = min(birth, dt.date(today.year - 18, 1, 1))
    seq = rng.randrange(1, 499) * 2 + (1 if male else 0)
    body = f"{rng.choice(_AREA_CODES)}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def _credit_code(rng: random.Random) -> str:
    body = f"9111010{rng.randrange(5, 6)}MA0{rng.randrange(0, 10**6):06d}"
    return body + uscc.calc_check_digit(body)


def _mobile(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(0, 10**8):08d}"


def _worker(rng: random.Random, today: dt.date, communities: list[str]) -> dict[str, Any]:
    male = rng.random() < 0.55
    number = _id_number(rng, male, today)
    age = today.year - int(number[6:10])
    groups: list[str] = []
    if age >= 50 and rng.random() < 0.5:
        groups.append("older_worker")
    if rng.random() < 0.2:
        groups.append(
            rng.choice(
                [
                    "migrant_worker",
                    "unemployed",
                    "new_employment_form",
                    "veteran",
                    "disability",
                    "low_income",
                ]
            )
        )
    data: dict[str, Any] = {
        "name": rng.choice(_SURNAMES) + rng.choice(_MALE if male else _FEMALE),
        "id_number": number,
        "mobile": _mobile(rng),
        "skills": rng.choice(_PROFILES),
        # most live near the station's busiest four communities; a few range further
        "areas": rng.sample(communities[:4], k=rng.randint(2, 4))
        + rng.sample(communities[4:], k=rng.randint(0, 1)),
        "availability": rng.choice(
            [
                {"days": [0, 1, 2, 3, 4, 5, 6], "from": "06:00", "to": "23:30"},
                {"days": [0, 1, 2, 3, 4, 5, 6], "from": "06:00", "to": "23:30"},
                {"days": [0, 1, 2, 3, 4, 5, 6], "from": "07:00", "to": "20:00"},
                {"days": [0, 1, 2, 3, 4], "from": "07:00", "to": "18:00"},
            ]
        ),
        "priority_groups": groups,
    }
    if groups:
        data["consent"] = {"given": True, "purpose": "用于优先推荐岗位和就业帮扶统计"}
    return data


def _employers(rng: random.Random, today: dt.date) -> list[dict[str, Any]]:
    orgs = [
        ("团结湖物业管理有限公司", "周经理", "团结湖路甲8号"),
        ("双井街道社区养老服务驿站", "孙站长", "双井街道广渠路22号"),
        ("快送物流（北京）有限公司", "郑主管", "劲松南路5号院分拣中心"),
        ("麦子店餐饮管理有限公司", "梁厨师长", "麦子店街37号"),
        ("三里屯会展服务有限公司", "唐经理", "三里屯路19号"),
        ("高薪速聘人力资源咨询有限公司", "韩先生", "八里庄西里100号"),
    ]
    out: list[dict[str, Any]] = [
        {
            "kind": "organisation",
            "name": name,
            "credit_code": _credit_code(rng),
            "contact_name": contact,
            "mobile": _mobile(rng),
            "address": f"北京市朝阳区{address}",
        }
        for name, contact, address in orgs
    ]
    for name, address in (("刘女士", "劲松八区12号楼3单元"), ("陈先生", "六里屯北里6号楼")):
        out.append(
            {
                "kind": "person",
                "name": name,
                "id_number": _id_number(rng, name.endswith("先生"), today),
                "mobile": _mobile(rng),
                "address": f"北京市朝阳区{address}",
            }
        )
    return out


def _jobs(employers: list[Any], communities: list[str]) -> list[dict[str, Any]]:
    base = (local_now() + dt.timedelta(days=1)).date()

    def at(day: int, hhmm: str) -> str:
        return f"{base + dt.timedelta(days=day)}T{hhmm}"

    prop, care, logistics, catering, events, agency, mrs_liu, mr_chen = employers
    c = communities
    rows = [
        (
            prop,
            "小区楼道保洁",
            "property",
            ["cleaning"],
            3,
            2500,
            "hour",
            c[0],
            at(0, "08:00"),
            at(0, "12:00"),
            "offer",
            "楼道、地库清扫，工具由物业提供，当天结算。",
        ),
        (
            care,
            "助老陪护（上门）",
            "elderly_care",
            ["elderly_care"],
            2,
            22000,
            "day",
            c[2],
            at(0, "08:30"),
            at(0, "17:30"),
            "offer",
            "陪同社区老人就医、买菜，需耐心细致。",
        ),
        (
            logistics,
            "快递分拣装车",
            "logistics",
            ["sorting"],
            6,
            2800,
            "hour",
            c[3],
            at(0, "18:00"),
            at(0, "22:00"),
            "grab",
            "夜班分拣，能搬20公斤以上包裹，提供晚餐。",
        ),
        (
            catering,
            "餐厅午市帮厨",
            "catering",
            ["kitchen_help"],
            2,
            2500,
            "hour",
            c[1],
            at(0, "10:00"),
            at(0, "14:00"),
            "offer",
            "洗切配菜、清洁后厨，包一顿午饭。",
        ),
        (
            events,
            "会展搭建小工",
            "major_project",
            ["moving"],
            8,
            30000,
            "day",
            c[0],
            at(1, "07:00"),
            at(1, "19:00"),
            "grab",
            "展位搭建与撤展搬运，现场有安全员，统一购买快工保险。",
        ),
        (
            mr_chen,
            "旧房墙面刷漆",
            "construction",
            ["painting"],
            1,
            180000,
            "job",
            c[2],
            at(1, "08:00"),
            at(1, "18:00"),
            "offer",
            "一居室墙面翻新，材料由业主提供，一天完成。",
        ),
        (
            mrs_liu,
            "家庭深度保洁",
            "household",
            ["cleaning", "housekeeping"],
            1,
            15000,
            "job",
            c[1],
            None,
            None,
            "offer",
            "三室一厅开荒保洁，本周内任选一天。",
        ),
        (
            prop,
            "社区绿化修剪",
            "property",
            ["gardening"],
            2,
            18000,
            "day",
            c[3],
            at(2, "07:30"),
            at(2, "16:30"),
            "offer",
            "修剪绿篱、清理落叶，工具由物业提供。",
        ),
        (
            events,
            "商场促销派发传单",
            "advertising",
            ["flyering"],
            4,
            2500,
            "hour",
            c[2],
            at(1, "10:00"),
            at(1, "16:00"),
            "grab",
            "在商场门口派发传单，站立工作。",
        ),
        (
            agency,
            "写字楼保安（高薪急招）",
            "property",
            ["security"],
            5,
            9000,
            "hour",
            c[5],
            at(0, "08:00"),
            at(0, "20:00"),
            "offer",
            "入职需交押金300元，服装费自理，身份证原件由公司统一保管。",
        ),
    ]
    out = []
    for (
        employer,
        title,
        category,
        skills,
        headcount,
        pay,
        unit,
        community,
        starts,
        ends,
        mode,
        text,
    ) in rows:
        job: dict[str, Any] = {
            "employer_id": employer.id,
            "title": title,
            "category": category,
            "skills": skills,
            "headcount": headcount,
            "pay_fen": pay,
            "pay_unit": unit,
            "address": f"北京市朝阳区{community}",
            "community": community,
            "description": text,
            "dispatch_mode": mode,
            "source": "phone" if employer is mrs_liu else "walk_in",
            "urgency": "urgent" if mode == "grab" else "normal",
        }
        if starts is None:
            job["time_flexible"] = True
        else:
            job.update(starts_at=starts, ends_at=ends)
        out.append(job)
    out[1].update(source="department", source_department="朝阳区民政局养老服务科")
    return out


def seed_key(app: Flask) -> str:
    """What a station's demo data are drawn from: its enrolled id (the hub's id for it), else an
    id configured for it, else a random one — never one id shared by every station."""

    enr = state.enrolment(app)
    if enr is not None:
        return enr.station_id
    configured = str(app.config.get("STATION_ID") or "")
    return configured if configured and configured != config.STATION_ID else secrets.token_hex(8)


def seed(app: Flask) -> list[str]:
    """Fill an empty station with sample data; on a station that has data, change nothing."""
    ensure_keys(app)
    if Staff.select().where(Staff.username == ADMIN_USERNAME).exists() or Worker.select().exists():
        return [
            "站点已有数据，未重复写入示例数据 (station already has data; nothing seeded)",
            f"工作人员登录 (staff login): {ADMIN_USERNAME} / {ADMIN_PASSWORD}",
        ]
    key = seed_key(app)
    rng = random.Random(zlib.crc32(key.encode()))
    today = local_today()
    communities = catalog.areas()
    while len(communities) < 8:
        communities = communities + communities
    admin, token = create_staff(ADMIN_USERNAME, "驿站管理员", "admin", ADMIN_PASSWORD)

    workers: list[Worker] = []
    while len(workers) < WORKER_COUNT:
        try:
            workers.append(register_worker(_worker(rng, today, communities), admin))
        except Conflict:
            continue  # the same generated ID twice: draw another
    for worker in rng.sample(workers, k=15):
        check_in_worker(worker.id, admin)

    employers = [register_employer(data, admin) for data in _employers(rng, today)]
    jobs = [post_job(data, admin) for data in _jobs(employers, communities)]
    held = [job for job in jobs if job.status == JobStatus.HELD]
    filled = _fill_this_mornings_offers(jobs, admin)
    shared = register_worker({**SHARED_RESIDENT, "areas": communities[:4]}, admin)
    evening_shift = next(job for job in jobs if job.category == "logistics")
    try:
        dispatch.grab(evening_shift.id, shared.id, admin)
    except KuaigongError:
        pass  # the shift filled already: the demo goes on without the booking
    finished = _history(app, admin, workers, employers[0], communities)
    agency = employers[5]  # the one whose "security guard" posting screening holds
    file_complaint(
        {
            "by": "resident",
            "kind": "fee_demanded",
            "employer_id": agency.id,
            "text": "打电话问保安的活，对方说先交300元押金、身份证原件交给公司保管才能上岗。",
        },
        admin,
    )
    return [
        f"示例数据已写入 (sample data): {len(workers)} 名劳动者 workers, "
        f"{len(employers)} 家雇主 employers, "
        f"{len(jobs)} 个工作 jobs（{len(held)} 个待审核 held for review, "
        f"{filled} 个已派满 filled）",
        "今日签到 (checked in today): 15",
        f"前天完成的工作 (finished the day before yesterday): {len(finished)} 份派工 assignments",
        f"工作人员登录 (staff login): {ADMIN_USERNAME} / {ADMIN_PASSWORD}",
        f"示例数据按本站编号生成 (drawn for station): {key}",
        f"管理员 API 令牌 (admin API token): {token}",
    ]


# The one sample offer job left looking for people when the demo starts (staff see it on the
# console); its trade, painting, leaves the cleaners free for a job a newcomer posts.
STILL_OFFERING_SKILL = "painting"


def _fill_this_mornings_offers(jobs: list[Job], admin: Staff) -> int:
    """Staff filled most offer jobs this morning from each job's ranking (by phone, say), so
    the demo opens with a station at work rather than every fitting worker holding an offer.
    Returns how many jobs are full."""
    filled = 0
    for job in jobs:
        if job.dispatch_mode != "offer" or job.status not in (JobStatus.OPEN, JobStatus.ESCALATED):
            continue
        if STILL_OFFERING_SKILL in (job.skills or []):
            continue
        ranked = (
            Ranking.select(Ranking.worker)
            .where((Ranking.job == job.id) & Ranking.eligible)
            .order_by(Ranking.rank)
        )
        places = int(job.headcount)
        for row in ranked:
            if places == 0:
                break
            try:
                dispatch.assign(job.id, row.worker_id, admin)
            except KuaigongError:
                continue  # booked elsewhere in that window: the next one
            places -= 1
        filled += int(places == 0)
    return filled


def _history(
    app: Flask, admin: Staff, workers: list[Worker], employer: Employer, communities: list[str]
) -> list[Any]:
    """A job from the day before yesterday, lived through the services on a hand-moved clock:
    posted, filled, worked, paid and rated (one worker did not come), so the figures have data."""
    previous = clock.installed(app)
    day = local_today() - dt.timedelta(days=2)
    utc = -dt.timedelta(hours=utc_offset_hours())
    moved = clock.ManualClock(dt.datetime.combine(day, dt.time(7, 30)) + utc)
    clock.install(app, moved)
    try:
        job: Job = post_job(
            {
                "employer_id": employer.id,
                "title": "社区文化节场地清扫",
                "category": "property",
                "skills": ["cleaning"],
                "headcount": 3,
                "pay_fen": 2500,
                "pay_unit": "hour",
                "address": f"北京市朝阳区{communities[0]}",
                "community": communities[0],
                "description": "文化节结束后清扫广场和活动室，工具由物业提供。",
                "starts_at": f"{day}T09:00",
                "ends_at": f"{day}T12:00",
                "dispatch_mode": "offer",
                "source": "walk_in",
            },
            admin,
        )
        done = []
        for worker in workers[:3]:
            moved.advance(17)
            done.append(dispatch.assign(job.id, worker.id, admin))
        moved.set(dt.datetime.combine(day, dt.time(9, 5)) + utc)
        for a in done[:2]:
            assignments.check_in_assignment(a.id, admin)
        assignments.mark_no_show(done[2].id, admin)
        moved.set(dt.datetime.combine(day, dt.time(12, 10)) + utc)
        finished = [assignments.complete_assignment(a.id, 30, admin) for a in done[:2]]
        for a in finished:
            assignments.settle_assignment(a.id, assignments.expected_pay_fen(a), "transfer", admin)
            assignments.confirm_pay(a.id, a.worker_id)
            assignments.rate_assignment(a.id, "employer", 5, admin)
            assignments.rate_assignment(a.id, "worker", 4, admin)
        return finished
    finally:
        clock.install(app, previous or clock.SystemClock())
