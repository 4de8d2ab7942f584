"""The staff console, kiosk and display board render in Chinese (English on the switch), forms are
CSRF-protected, and bad form input comes back marked next to each field with the values kept."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from web_helpers import (
    ADMIN_PASSWORD,
    STAFF_PASSWORD,
    Api,
    id_number,
    job_body,
    worker_body,
    worker_token,
)

from station_node import db
from station_node.models import IdAccess, Job, Worker

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return CSRF.search(page.get_data(as_text=True)).group(1)


def log_in(client: FlaskClient, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    token = csrf_of(client, "/console/login")
    response = client.post(
        "/console/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


@pytest.fixture
def console(web_app, api: Api, admin_token) -> FlaskClient:
    """A browser-like client signed in as the station admin."""
    client = web_app.test_client()
    log_in(client)
    return client


def test_console_needs_login(web_app, admin_token):
    client = web_app.test_client()
    response = client.get("/console/workers")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]
    page = client.get("/console/login").get_data(as_text=True)
    assert "工作人员登录" in page and 'lang="zh-CN"' in page
    token = CSRF.search(page).group(1)
    wrong = client.post(
        "/console/login", data={"username": "admin", "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.get_data(as_text=True)


def test_a_form_without_its_csrf_token_is_refused(web_app, admin_token):
    client = web_app.test_client()
    response = client.post("/console/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)
    assert client.get("/console/").status_code == 302  # still not signed in


def test_every_console_page_renders_in_chinese(
    console: FlaskClient, api: Api, employer_id, worker_ids
):
    job = api.post("/jobs", job_body(employer_id, dispatch_mode="offer")).get_json()["job"]
    held = api.post("/jobs", job_body(employer_id, description="先交培训费500元")).get_json()["job"]
    pages = {
        "/console/": "今日驿站",
        "/console/workers": "按姓名、手机号、身份证号或工人编号查找",
        "/console/workers/new": "登记工人",
        f"/console/workers/{worker_ids[0]}": "信用情况",
        "/console/presence": "今日在站工人",
        "/console/employers": "登记用工方",
        "/console/employers/new": "统一社会信用代码",
        "/console/jobs": "岗位",
        "/console/jobs/new": "发布岗位",
        "/console/jobs/held": "暂扣原因",
        f"/console/jobs/{job['id']}": "排序与理由",
        f"/console/jobs/{held['id']}": "核实无误，放行",
        "/console/board": "派工看板",
        "/console/stats": "60秒内满员的比例",
        "/console/staff": "工作人员账号",
    }
    for path, text in pages.items():
        response = console.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, (path, body[:800])
        assert text in body, path
        assert 'lang="zh-CN"' in body
        assert "http://" not in body.replace("http://localhost", "") and "https://" not in body, (
            path
        )


def test_english_switch(console: FlaskClient):
    switched = console.get("/lang/en?next=/console/workers")
    assert switched.status_code == 302 and switched.headers["Location"].endswith("/console/workers")
    page = console.get("/console/workers").get_data(as_text=True)
    assert 'lang="en"' in page and "Workers" in page and "Register a worker" in page
    assert "登记工人" not in page
    console.get("/lang/zh_CN")
    assert "登记工人" in console.get("/console/workers").get_data(as_text=True)
    assert "Register a worker" in console.get("/console/workers?lang=en").get_data(as_text=True)
    assert console.get("/lang/en?next=https://evil.example/").headers["Location"] == "/"


def test_register_worker_form_marks_bad_fields_and_keeps_values(web_app, console: FlaskClient):
    token = csrf_of(console, "/console/workers/new")
    bad = console.post(
        "/console/workers/new",
        data={
            "csrf_token": token,
            "name": "周建国",
            "id_number": "11010519491231002Y",
            "mobile": "123",
            "skills": ["cleaning"],
            "areas": ["团结湖社区"],
            "priority_groups": ["veteran"],
        },
    )
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert (
        'id="id_number-error"' in page
        and 'id="mobile-error"' in page
        and 'id="consent_given-error"' in page
    )
    assert 'value="周建国"' in page and 'value="cleaning" checked' in page
    with web_app.app_context(), db.database.connection_context():
        assert Worker.select().count() == 0

    good = console.post(
        "/console/workers/new",
        data={
            "csrf_token": token,
            "name": "周建国",
            "id_number": id_number(),
            "mobile": "13800138000",
            "skills": ["cleaning", "moving"],
            "areas": ["团结湖社区"],
            "avail_days": ["0", "1"],
            "avail_from": "08:00",
            "avail_to": "18:00",
            "priority_groups": ["veteran"],
            "consent_given": "1",
            "consent_purpose": "优先推荐岗位",
        },
    )
    assert good.status_code == 302, good.get_data(as_text=True)[:2000]
    shown = console.get(good.headers["Location"]).get_data(as_text=True)
    assert "周建国" in shown and "********" in shown and "退役军人" in shown


def test_admin_reveals_an_id_number_with_a_purpose_and_it_is_logged(
    web_app, console: FlaskClient, api: Api
):
    body = worker_body()
    worker_id = api.post("/workers", body).get_json()["worker"]["id"]
    page = console.get(f"/console/workers/{worker_id}").get_data(as_text=True)
    assert body["id_number"] not in page
    token = CSRF.search(page).group(1)
    shown = console.post(
        f"/console/workers/{worker_id}/reveal",
        data={"csrf_token": token, "purpose": "核对工伤保险"},
    )
    assert body["id_number"] in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"
    with web_app.app_context(), db.database.connection_context():
        assert [a.purpose for a in IdAccess.select()] == ["核对工伤保险"]


def test_staff_cannot_reveal_id_numbers(web_app, api: Api, staff_token):
    worker_id = api.post("/workers", worker_body()).get_json()["worker"]["id"]
    client = web_app.test_client()
    log_in(client, "clerk", STAFF_PASSWORD)
    token = csrf_of(client, f"/console/workers/{worker_id}")
    refused = client.post(
        f"/console/workers/{worker_id}/reveal", data={"csrf_token": token, "purpose": "好奇"}
    )
    assert refused.status_code == 403 and "管理员" in refused.get_data(as_text=True)


def test_post_a_job_through_the_form(web_app, console: FlaskClient, employer_id, worker_ids):
    token = csrf_of(console, "/console/jobs/new")
    form = {k: str(v) for k, v in job_body(employer_id).items() if k not in ("skills", "pay_fen")}
    bad = console.post(
        "/console/jobs/new",
        data={**form, "csrf_token": token, "pay_yuan": "很多", "headcount": "0"},
    )
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert (
        'id="pay_yuan-error"' in page
        and "工资金额格式不正确" in page
        and 'id="headcount-error"' in page
    )
    assert 'value="小区保洁"' in page
    good = console.post(
        "/console/jobs/new",
        data={
            **form,
            "csrf_token": token,
            "pay_yuan": "25.5",
            "skills": ["cleaning"],
            "insurance_required": "1",
        },
    )
    assert good.status_code == 302, good.get_data(as_text=True)[:3000]
    with web_app.app_context(), db.database.connection_context():
        job = Job.get()
        assert (job.pay_fen, job.status, job.insurance_required) == (2550, "open", True)
    page = console.get(good.headers["Location"]).get_data(as_text=True)
    assert "排序与理由" in page and "已发布" in page


def test_held_job_is_released_from_the_review_page(
    web_app, console: FlaskClient, api: Api, employer_id
):
    held = api.post("/jobs", job_body(employer_id, description="需先交押金200元")).get_json()["job"]
    page = console.get("/console/jobs/held").get_data(as_text=True)
    assert held["title"] in page and "押金" in page
    token = CSRF.search(page).group(1)
    done = console.post(f"/console/jobs/{held['id']}/release", data={"csrf_token": token})
    assert done.status_code == 302
    with web_app.app_context(), db.database.connection_context():
        assert Job.get_by_id(held["id"]).status == "open"


def test_lifecycle_buttons_on_the_job_page(
    web_app, console: FlaskClient, api: Api, employer_id, worker_ids
):
    job = api.post("/jobs", job_body(employer_id, pay_unit="day", pay_fen=20000)).get_json()["job"]
    token = csrf_of(console, f"/console/jobs/{job['id']}")
    assign = console.post(
        f"/console/jobs/{job['id']}/assign", data={"csrf_token": token, "worker_id": worker_ids[0]}
    )
    assert assign.status_code == 302
    page = console.get(f"/console/jobs/{job['id']}").get_data(as_text=True)
    assert "已人工派工" in page and "到岗签到" in page
    aid = re.search(r"/console/assignments/([0-9a-f]+)/checkin", page).group(1)
    for action, data in (
        ("checkin", {}),
        ("complete", {"quantity": "1"}),
        ("settle", {"pay_yuan": "200", "pay_method": "cash"}),
        ("confirm-pay", {}),
        ("rate", {"by": "employer", "stars": "5"}),
    ):
        response = console.post(
            f"/console/assignments/{aid}/{action}", data={"csrf_token": token, **data}
        )
        assert response.status_code == 302, action
        followed = console.get(response.headers["Location"]).get_data(as_text=True)
        assert 'class="flash ok"' in followed, (
            action,
            re.findall(r'class="flash[^"]*"[^>]*>([^<]*)', followed),
        )
    refused = console.post(f"/console/assignments/{aid}/checkin", data={"csrf_token": token})
    followed = console.get(refused.headers["Location"]).get_data(as_text=True)
    assert 'class="flash error"' in followed  # a refusal is shown, never a 500


def test_kiosk_sign_in_grab_and_my_jobs(web_app, api: Api, employer_id):
    body = worker_body()
    worker_id = api.post("/workers", body).get_json()["worker"]["id"]
    job = api.post("/jobs", job_body(employer_id, title="超市理货")).get_json()["job"]
    kiosk = web_app.test_client()
    home = kiosk.get("/kiosk/").get_data(as_text=True)
    assert "找工作" in home and "超市理货" in home and "12333" in home
    token = csrf_of(kiosk, "/kiosk/signin")
    wrong = kiosk.post(
        "/kiosk/signin",
        data={"csrf_token": token, "id_number": body["id_number"], "mobile": "13000000000"},
    )
    assert wrong.status_code == 401 and "不对" in wrong.get_data(as_text=True)
    signed = kiosk.post(
        "/kiosk/signin",
        data={"csrf_token": token, "id_number": body["id_number"], "mobile": body["mobile"]},
    )
    assert signed.status_code == 302
    grabbed = kiosk.post(f"/kiosk/jobs/{job['id']}/grab", data={"csrf_token": token})
    mine = kiosk.get(grabbed.headers["Location"]).get_data(as_text=True)
    assert "您已抢到这个岗位" in mine and "超市理货" in mine and "已抢到" in mine, mine[-3000:]
    again = kiosk.post(f"/kiosk/jobs/{job['id']}/grab", data={"csrf_token": token})
    second = kiosk.get(again.headers["Location"]).get_data(as_text=True)
    assert 'class="flash error"' in second and "该工人" not in second
    kiosk.post("/kiosk/signout", data={"csrf_token": token})
    assert kiosk.get("/kiosk/mine").status_code == 302
    by_token = kiosk.post(
        "/kiosk/signin", data={"csrf_token": token, "token": worker_token(api, worker_id)}
    )
    assert by_token.status_code == 302


def test_display_board_shows_open_jobs_rules_and_hotline(api: Api, employer_id):
    api.post("/jobs", job_body(employer_id, title="社区绿化养护"))
    api.post("/jobs", job_body(employer_id, title="先交押金的活", description="交押金300元"))
    page = api.client.get("/board/").get_data(as_text=True)
    assert "社区绿化养护" in page and "先交押金的活" not in page
    assert "12333" in page and "投诉" in page and "押金" in page
    assert 'http-equiv="refresh"' not in page  # a reload while the station is down sticks


def test_names_are_escaped(console: FlaskClient, api: Api):
    api.post("/workers", worker_body(name="<b>坏</b>"))
    page = console.get("/console/workers").get_data(as_text=True)
    assert "<b>坏</b>" not in page and "&lt;b&gt;坏" in page
