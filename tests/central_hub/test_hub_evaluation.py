"""The annual station evaluation on a hub fed with known records: measured indicators, scores
under an admin's scheme, grades and subsidy bands, rectification cases and re-evaluation, the
pages, and the XLSX export checked cell by cell."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from flask import Flask
from hub_helpers import add_admin, csrf_token, login
from openpyxl import load_workbook

from central_hub import db
from central_hub.models import (
    Admin,
    Assignment,
    Complaint,
    HubLogEntry,
    Ignored,
    Job,
    RectificationCase,
    Station,
    Worker,
)
from central_hub.services import evaluation
from central_hub.states import CaseStatus, Grade
from kuaigong import clock, figures
from kuaigong.errors import Forbidden, InvalidInput

T0 = dt.datetime(2026, 4, 1, 8, 0, 0)
NOW = dt.datetime(2027, 1, 2, 8, 0, 0)  # early the next year: the year is over


def _z(value: dt.datetime) -> str:
    return value.isoformat() + "Z"


def seed(app: Flask) -> None:
    """Three stations: 东城 (busy), 西城 (one job, nothing else), 南城 (nothing at all)."""
    with app.app_context(), db.database.connection_context():
        for sid, name, district, community in (
            ("sta", "东城驿站", "东城区", "和平里"),
            ("stb", "西城驿站", "西城区", "月坛"),
            ("stc", "南城驿站", "丰台区", "方庄"),
        ):
            Station.create(
                id=sid, name=name, district=district, community=community, status="active"
            )
        Worker.create(
            id="a0",
            station="sta",
            id_hash="1" * 64,
            name="甲",
            created_at=T0,
            data={"priority_groups": ["disability"]},
            priority_groups=",disability,",
        )
        Worker.create(id="a1", station="sta", id_hash="2" * 64, name="乙", created_at=T0)
        Worker.create(id="a2", station="sta", id_hash="3" * 64, name="丙", created_at=T0)
        # The same ID number registered again at the same station: a duplicate.
        Worker.create(
            id="a3", station="sta", id_hash="1" * 64, name="甲", created_at=T0 + dt.timedelta(1)
        )
        Worker.create(id="old", station="sta", id_hash="9" * 64, created_at=dt.datetime(2025, 5, 1))
        Worker.create(id="b0", station="stb", id_hash="1" * 64, name="甲", created_at=T0)
        for i, secs in enumerate([30, 50, 90]):
            Job.create(
                id=f"ja{i}",
                station="sta",
                status="filled",
                headcount=1,
                posted_at=T0,
                dispatch_started_at=T0,
                filled_at=T0 + dt.timedelta(seconds=secs),
            )
        Job.create(id="ja3", station="sta", status="open", headcount=1, posted_at=T0)
        # Screening holds: one reviewed within 2 hours, one after 30 hours (and rejected).
        Job.create(
            id="jh1",
            station="sta",
            status="open",
            headcount=1,
            posted_at=T0,
            data={"reviewed_at": _z(T0 + dt.timedelta(hours=2))},
        )
        Job.create(
            id="jh2",
            station="sta",
            status="rejected",
            headcount=1,
            posted_at=T0,
            data={"reviewed_at": _z(T0 + dt.timedelta(hours=30))},
        )
        Job.create(id="jb0", station="stb", status="open", headcount=2, posted_at=T0)
        Assignment.create(
            id="as0",
            station="sta",
            job_id="ja0",
            worker_id="a0",
            status="settled",
            confirmed_at=T0,
            data={"rating_of_worker": 5, "rating_of_employer": 4},
        )
        Assignment.create(
            id="as1",
            station="sta",
            job_id="ja1",
            worker_id="a1",
            status="completed",
            confirmed_at=T0,
            data={"rating_of_employer": 3, "rating_of_worker": "bad"},
        )
        Assignment.create(
            id="as2", station="sta", job_id="ja2", worker_id="a2", status="no_show", confirmed_at=T0
        )
        Complaint.create(
            id="c1",
            station="sta",
            status="resolved",
            created_at=T0,
            resolved_at=T0 + dt.timedelta(days=2),
        )
        Complaint.create(
            id="c2",
            station="sta",
            status="resolved",
            created_at=T0,
            resolved_at=T0 + dt.timedelta(days=10),
        )
        # Open, but its seven days are not up yet: not counted either way.
        Complaint.create(
            id="c3", station="sta", status="open", created_at=dt.datetime(2026, 12, 30)
        )
        for seq in (1, 2):
            Ignored.create(
                station="sta",
                seq=seq,
                entity="worker",
                entity_id="x",
                reason="bad",
                at=dt.datetime(2026, 5, 1),
            )


# A scheme sized for the few records above (weights as the defaults).
SMALL = {
    "registrations": (10, 4, 2),
    "postings": (10, 5, 2),
    "placements": (10, 2, 1),
    "holds_in_time": (10, 95, 50),
    "complaints_in_time": (10, 95, 30),
    "duplicates": (5, 0, 1),
    "rejected_entries": (5, 1, 5),
    "fill_rate": (12, 90, 60),
    "share_60s": (12, 80, 50),
    "rating": (8, 4.5, 3.5),
    "priority_placements": (8, 1, 1),
}


def scheme_form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "excellent_at": "85",
        "pass_at": "60",
        "subsidy_full": "50000",
        "subsidy_standard": "30000",
    }
    for code, (weight, full, partial) in SMALL.items():
        form.update({f"{code}_weight": weight, f"{code}_full": full, f"{code}_partial": partial})
    form.update(changes)
    return form


@pytest.fixture
def hub(app: Flask) -> Flask:
    clock.install(app, clock.ManualClock(NOW))
    seed(app)
    return app


def test_indicators_are_measured_by_their_definitions(hub: Flask) -> None:
    with hub.test_request_context(), db.database.connection_context():
        rows = {r.station: r for r in evaluation.compute(2026)}
        sta = rows["sta"].measured
        assert sta == {
            "registrations": 4,
            "postings": 6,
            "placements": 2,
            "holds_in_time": 50.0,
            "complaints_in_time": 33.3,
            "duplicates": 1,
            "rejected_entries": 2,
            "fill_rate": 60.0,
            "share_60s": 40.0,
            "rating": 4.0,
            "priority_placements": 1,
        }
        assert rows["stb"].measured["fill_rate"] == 0.0
        assert rows["stb"].measured["share_60s"] == 0.0
        assert rows["stc"].measured["share_60s"] is None
        assert rows["stc"].measured["registrations"] == 0
        # The shared definitions, computed by kuaigong.figures from the same records.
        jobs = [
            figures.JobFacts(
                posted_at=j.posted_at,
                status=j.status,
                headcount=j.headcount,
                dispatch_started_at=j.dispatch_started_at,
                filled_at=j.filled_at,
            )
            for j in Job.select().where(Job.station == "sta")
        ]
        complaints = [
            figures.ComplaintFacts(c.created_at, c.resolved_at)
            for c in Complaint.select().where(Complaint.station == "sta")
        ]
        shared = figures.summarise(jobs, (), complaints, now=NOW)
        assert sta["fill_rate"] == shared.fill_rate.percent
        assert sta["share_60s"] == shared.within_target_share.percent
        assert sta["complaints_in_time"] == shared.complaints_in_time.percent


def test_default_scheme_then_an_admins_scheme_changes_scores_and_grades(hub: Flask) -> None:
    add_admin(hub)
    with hub.test_request_context(), db.database.connection_context():
        admin = Admin.get(Admin.username == "chen")
        by_default = {r.station: r for r in evaluation.compute(2026)}
        # Defaults are sized for a real year; these few records meet only the easy marks.
        assert by_default["sta"].total == 14.0
        assert by_default["sta"].grade == Grade.FAIL
        evaluation.save_scheme(2026, scheme_form(), admin)
        rows = {r.station: r for r in evaluation.compute(2026)}
        assert rows["sta"].scores["duplicates"] == 2.5  # one duplicate: the half mark
        assert (rows["sta"].total, rows["sta"].grade, rows["sta"].band) == (
            63.0,
            "pass",
            "standard",
        )
        assert rows["sta"].subsidy == 30000
        assert (rows["stb"].total, rows["stb"].grade, rows["stb"].subsidy) == (30.0, "fail", 0)
        # Moving weight from registrations to the priority groups moves the score.
        evaluation.save_scheme(
            2026,
            scheme_form(registrations_weight=0, priority_placements_weight=18, excellent_at="63"),
            admin,
        )
        rows = {r.station: r for r in evaluation.compute(2026)}
        assert rows["sta"].total == 63.0
        assert rows["stb"].total == 30.0
        following = evaluation.scheme(2027)  # carries on until an admin sets 2027
        assert not following.stored and following.indicators["priority_placements"]["weight"] == 18
        assert evaluation.scheme(2025).indicators["priority_placements"]["weight"] == 8
        assert rows["sta"].grade == Grade.EXCELLENT  # at the excellent score exactly
        assert rows["sta"].subsidy == 50000


def test_grading_thresholds() -> None:
    plan = evaluation.Scheme(2026, evaluation.default_indicators(), 85, 60, 9, 5, True)
    assert evaluation.grade(85, plan) == Grade.EXCELLENT
    assert evaluation.grade(84.9, plan) == Grade.PASS
    assert evaluation.grade(60, plan) == Grade.PASS
    assert evaluation.grade(59.9, plan) == Grade.FAIL
    assert evaluation.band(Grade.PASS, plan) == ("standard", 5)
    assert evaluation.band(Grade.FAIL, plan) == ("none", 0)
    fewer = evaluation.BY_CODE["duplicates"]
    setting = {"weight": 10, "full": 2, "partial": 5}
    assert [evaluation.score(fewer, setting, v) for v in (0, 2, 3, 5, 6, None)] == [
        10,
        10,
        5,
        5,
        0,
        10,
    ]
    more = evaluation.BY_CODE["fill_rate"]
    setting = {"weight": 12, "full": 90, "partial": 70}
    assert [evaluation.score(more, setting, v) for v in (95, 90, 70, 69.9, None)] == [
        12,
        12,
        6,
        0,
        0,
    ]


def test_a_bad_scheme_is_refused_whole(hub: Flask) -> None:
    add_admin(hub)
    add_admin(hub, "li", role="auditor")
    with hub.test_request_context(), db.database.connection_context():
        admin = Admin.get(Admin.username == "chen")
        with pytest.raises(InvalidInput) as err:
            evaluation.save_scheme(2026, scheme_form(rating_weight=9), admin)
        assert "权重合计须为 100" in str(err.value.as_dict("zh"))
        with pytest.raises(InvalidInput) as err:
            evaluation.save_scheme(
                2026, scheme_form(fill_rate_partial=95, pass_at="x", duplicates_full=3), admin
            )
        fields = {e["field"] for e in err.value.as_dict("zh")["fields"]}
        assert {"fill_rate_partial", "pass_at", "duplicates_partial"} <= fields
        with pytest.raises(Forbidden):
            evaluation.save_scheme(2026, scheme_form(), Admin.get(Admin.username == "li"))
        assert not evaluation.scheme(2026).stored


def test_a_failed_station_gets_a_case_and_a_re_evaluation_closes_it(hub: Flask) -> None:
    add_admin(hub)
    with hub.test_request_context(), db.database.connection_context():
        admin = Admin.get(Admin.username == "chen")
        evaluation.save_scheme(2026, scheme_form(), admin)
        evaluation.publish(2026, admin)
        cases = {c.station: c for c in RectificationCase.select()}
        assert set(cases) == {"stb", "stc"}
        # 90 days from the local day of publishing (Beijing), to the end of that local day.
        assert cases["stb"].deadline == dt.datetime(2027, 4, 2, 15, 59, 59)
        assert cases["stb"].status == CaseStatus.OPEN
        assert "fill_rate" in cases["stb"].reasons
        # Each station hears of its own evaluation, and only its own.
        sent = {tuple(e.targets): e.fields for e in HubLogEntry.select().where(
            HubLogEntry.entity == "evaluation"
        )}  # fmt: skip
        assert set(sent) == {("sta",), ("stb",), ("stc",)}
        assert sent[("stb",)]["case"]["deadline"] == "2027-04-02T15:59:59Z"
        assert sent[("sta",)]["total"] == "63" and sent[("sta",)]["case"] is None

        evaluation.compute(2026)  # a recompute keeps when each result was sent
        assert evaluation.results(2026, "sta")[0].published_at == NOW
        # Before the deadline, still failing: the case stays open.
        still = evaluation.reevaluate(cases["stb"].id, admin)
        assert (still.status, still.re_total) == (CaseStatus.OPEN, 30.0)
        # 西城 fixes things: registrations, quick fills, placements of priority workers.
        for i in range(4):
            Worker.create(
                id=f"b{i + 1}",
                station="stb",
                id_hash=f"{i + 5:064x}",
                created_at=T0,
                data={"priority_groups": ["veteran"]},
                priority_groups=",veteran,",
            )
            Job.create(
                id=f"jb{i + 1}",
                station="stb",
                status="filled",
                headcount=1,
                posted_at=T0,
                filled_at=T0 + dt.timedelta(seconds=20),
            )
            Assignment.create(
                id=f"bs{i}",
                station="stb",
                job_id=f"jb{i + 1}",
                worker_id=f"b{i + 1}",
                status="settled",
                confirmed_at=T0,
                data={"rating_of_worker": 5},
            )
        Job.update(status="filled", filled_at=T0 + dt.timedelta(seconds=9)).where(
            Job.id == "jb0"
        ).execute()
        Job.get_by_id("jb0").save()  # keeps fill_seconds in step
        fixed = evaluation.reevaluate(cases["stb"].id, admin, "补登记、加快派工")
        assert (fixed.status, fixed.re_grade, fixed.re_total) == ("fixed", "excellent", 100.0)
        assert evaluation.results(2026, "sta")[0].total == 63.0  # others untouched
        # 南城 changes nothing; after the deadline it has failed again: closure recommended.
        clock.install(hub, clock.ManualClock(dt.datetime(2027, 4, 3)))
        again = evaluation.reevaluate(cases["stc"].id, admin)
        assert again.status == CaseStatus.FAILED_AGAIN
        last = HubLogEntry.select().order_by(HubLogEntry.seq.desc()).get()
        assert last.targets == ["stc"] and last.fields["case"]["status"] == "failed_again"


XLSX_SUMMARY = [
    [
        "驿站编号",
        "驿站名称",
        "区县",
        "社区",
        "工作量得分",
        "专业化得分",
        "服务成效得分",
        "总分",
        "等级",
        "补贴档次",
        "补贴金额（元）",
        "整改期限",
    ],
    ["sta", "东城驿站", "东城区", "和平里", 30, 15, 18, 63, "合格", "标准补贴", 30000, None],
    [
        "stb",
        "西城驿站",
        "西城区",
        "月坛",
        0,
        30,
        0,
        30,
        "不合格",
        "暂停补贴",
        0,
        "2027-04-02 23:59",
    ],
    [
        "stc",
        "南城驿站",
        "丰台区",
        "方庄",
        0,
        30,
        0,
        30,
        "不合格",
        "暂停补贴",
        0,
        "2027-04-02 23:59",
    ],
]
XLSX_WORKLOAD = [
    [
        "驿站编号",
        "驿站名称",
        "新登记人数（人）",
        "新登记人数得分",
        "发布岗位数（个）",
        "发布岗位数得分",
        "上岗人次（人次）",
        "上岗人次得分",
        "小计",
    ],
    ["sta", "东城驿站", 4, 10, 6, 10, 2, 10, 30],
    ["stb", "西城驿站", 1, 0, 1, 0, 0, 0, 0],
    ["stc", "南城驿站", 0, 0, 0, 0, 0, 0, 0],
]
XLSX_PROFESSIONALISM = [
    [
        "驿站编号",
        "驿站名称",
        "审核及时率（%）",
        "审核及时率得分",
        "投诉按时办结率（%）",
        "投诉按时办结率得分",
        "重复登记数（条）",
        "重复登记数得分",
        "被拒数据条数（条）",
        "被拒数据条数得分",
        "小计",
    ],
    ["sta", "东城驿站", 50, 5, 33.3, 5, 1, 2.5, 2, 2.5, 15],
    ["stb", "西城驿站", None, 10, None, 10, 0, 5, 0, 5, 30],
    ["stc", "南城驿站", None, 10, None, 10, 0, 5, 0, 5, 30],
]
XLSX_RESULTS = [
    [
        "驿站编号",
        "驿站名称",
        "岗位满员率（%）",
        "岗位满员率得分",
        "60 秒内满员占比（%）",
        "60 秒内满员占比得分",
        "服务评价均分（分）",
        "服务评价均分得分",
        "重点群体上岗人次（人次）",
        "重点群体上岗人次得分",
        "小计",
    ],
    ["sta", "东城驿站", 60, 6, 40, 0, 4, 4, 1, 8, 18],
    ["stb", "西城驿站", 0, 0, 0, 0, None, 0, 0, 0, 0],
    ["stc", "南城驿站", None, 0, None, 0, None, 0, 0, 0, 0],
]


def test_xlsx_export_cell_by_cell(hub: Flask) -> None:
    add_admin(hub)
    client = hub.test_client()
    login(client)
    token = csrf_token(client, "/evaluation/scheme?year=2026")
    saved = client.post("/evaluation/scheme?year=2026", data={**scheme_form(), "csrf_token": token})
    assert saved.status_code == 302
    assert (
        client.post("/evaluation/publish?year=2026", data={"csrf_token": token}).status_code == 302
    )

    response = client.get("/evaluation/export.xlsx?year=2026")
    assert response.status_code == 200
    assert str(response.mimetype).endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["2026年度汇总", "工作量", "专业化", "服务成效"]
    for name, expected in zip(
        book.sheetnames,
        [XLSX_SUMMARY, XLSX_WORKLOAD, XLSX_PROFESSIONALISM, XLSX_RESULTS],
        strict=True,
    ):
        sheet = book[name]
        assert sheet.freeze_panes == "A2", name
        cells = [[c.value for c in row] for row in sheet.iter_rows()]
        assert cells == expected, name
        for row in sheet.iter_rows(min_row=2):
            for cell, want in zip(row, expected[row[0].row - 1], strict=True):
                if isinstance(want, (int, float)):  # numbers stay numbers, not text
                    assert cell.data_type == "n", (name, cell.coordinate)
        assert all(c.font.bold for c in sheet[1])

    english = load_workbook(
        io.BytesIO(client.get("/evaluation/export.xlsx?year=2026&lang=en").data)
    )
    assert english.sheetnames == ["Summary 2026", "Workload", "Professionalism", "Service results"]
    assert english["Summary 2026"]["I2"].value == "Pass"
    assert english["Workload"]["C1"].value == "Registrations (人)"

    text = client.get("/evaluation/export.csv?year=2026&lang=zh_CN").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:12] == XLSX_SUMMARY[0]
    assert rows[1][:12] == [
        "sta",
        "东城驿站",
        "东城区",
        "和平里",
        "30.0",
        "15.0",
        "18.0",
        "63.0",
    ] + [
        "合格",
        "标准补贴",
        "30000",
        "",
    ]


def test_pages_for_admins_and_auditors(hub: Flask) -> None:
    add_admin(hub)
    add_admin(hub, "li", role="auditor")
    admin = hub.test_client()
    login(admin)
    token = csrf_token(admin, "/evaluation/scheme?year=2026")
    admin.post("/evaluation/scheme?year=2026", data={**scheme_form(), "csrf_token": token})
    admin.post("/evaluation/publish?year=2026", data={"csrf_token": token})

    page = admin.get("/evaluation/?year=2026").get_data(as_text=True)
    order = [page.index(f'data-station="{s}"') for s in ("sta", "stb", "stc")]
    assert order == sorted(order)  # best score first
    ascending = admin.get("/evaluation/?year=2026&sort=score_asc").get_data(as_text=True)
    assert ascending.index('data-station="stb"') < ascending.index('data-station="sta"')

    mine = admin.get("/evaluation/station/stb?year=2026").get_data(as_text=True)
    assert '<strong id="total">30</strong>' in mine and "不合格" in mine
    assert "evaluation_print.css" in mine and 'media="print"' in mine
    assert "2027-04-02 23:59" in mine  # the deadline in local time
    pulls = mine[mine.index('id="pulls-down"') :]
    assert pulls.index("岗位满员率") < pulls.index("新登记人数")  # 12 points lost before 10

    english = admin.get("/evaluation/station/stb?year=2026&lang=en").get_data(as_text=True)
    assert '<strong id="grade">Fail</strong>' in english and "Rectify by" in english
    assert "Fill rate" in english and "What pulls the score down" in english
    admin.get("/evaluation/?lang=zh_CN")
    cases = admin.get("/evaluation/cases?year=2026").get_data(as_text=True)
    assert "2027-04-02 23:59" in cases and "整改中" in cases
    assert admin.get("/evaluation/station/nowhere?year=2026").status_code == 404
    bad = admin.post(
        "/evaluation/scheme?year=2026", data={**scheme_form(rating_weight=9), "csrf_token": token}
    )
    assert bad.status_code == 422 and 'data-field="weights"' in bad.get_data(as_text=True)
    assert admin.get("/evaluation/export.csv?year=twenty").status_code == 422
    assert admin.get("/city/evaluation?year=2026").status_code == 302

    auditor = hub.test_client()
    login(auditor, "li")
    form = auditor.get("/evaluation/scheme?year=2026").get_data(as_text=True)
    assert "readonly" in form and "保存方案" not in form
    token = csrf_token(auditor, "/evaluation/scheme?year=2026")
    refused = auditor.post("/evaluation/publish?year=2026", data={"csrf_token": token})
    assert refused.status_code == 403
