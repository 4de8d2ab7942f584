"""The JSON API end to end against the real services: register, post, screen, dispatch, grab,
the assignment's life, figures, and who may do what."""

from __future__ import annotations

import datetime as dt
import re

from web_helpers import Api, job_body, worker_body, worker_token

from kuaigong import clock

MASKED = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")


def test_healthz_and_openapi_need_no_login(web_app):
    client = web_app.test_client()
    assert client.get("/api/v1/healthz").get_json() == {"status": "ok"}
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    for path in (
        "/workers",
        "/jobs",
        "/jobs/{job_id}/grab",
        "/assignments/{assignment_id}/settle",
        "/offers/{offer_id}/accept",
        "/stats",
        "/healthz",
    ):
        assert path in doc["paths"], path
    assert "Error" in doc["components"]["schemas"]


def test_openapi_documents_every_api_route_and_method(web_app):
    doc = web_app.test_client().get("/api/v1/openapi.json").get_json()
    missing = []
    for rule in web_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method.lower() not in doc["paths"].get(path, {}):
                missing.append(f"{method} {path}")
    assert not missing, missing


def test_worker_registration_shows_the_id_number_only_masked(api: Api):
    body = worker_body(name="王秀英")
    response = api.post("/workers", body)
    assert response.status_code == 201
    worker = response.get_json()["worker"]
    assert MASKED.match(worker["id_number_masked"])
    assert body["id_number"] not in response.get_data(as_text=True)
    assert worker["birth_date"] == "1985-01-01" and worker["sex"] in ("M", "F")

    shown = api.get(f"/workers/{worker['id']}")
    assert shown.status_code == 200
    assert body["id_number"] not in shown.get_data(as_text=True)
    assert shown.get_json()["worker"]["name"] == "王秀英"


def test_post_job_returns_screening_and_dispatch_state(api: Api, employer_id, worker_ids):
    response = api.post("/jobs", job_body(employer_id, headcount=2, dispatch_mode="grab"))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["job"]["status"] == "open"
    assert data["job"]["screening"] == {"held": False, "reasons": []}
    assert data["dispatch_state"]["headcount"] == 2
    assert data["dispatch_state"]["open_places"] == 2
    ranked = {row["worker_id"] for row in data["ranking"] if row["eligible"]}
    assert set(worker_ids) <= ranked
    assert all(row["reasons"] for row in data["ranking"])


def test_a_posting_asking_for_a_deposit_is_held_until_released(api: Api, employer_id):
    body = job_body(employer_id, description="入职前需交押金300元和报名费")
    response = api.post("/jobs", body)
    assert response.status_code == 201
    job = response.get_json()["job"]
    assert job["status"] == "held" and job["screening"]["held"]
    assert job["screening"]["reasons"]
    assert "dispatch_state" not in response.get_json()
    held = api.get("/jobs?status=held").get_json()["jobs"]
    assert [j["id"] for j in held] == [job["id"]]

    released = api.post(f"/jobs/{job['id']}/release")
    assert released.status_code == 200
    assert released.get_json()["job"]["status"] == "open"


def test_grab_fills_the_job_then_409_job_full(api: Api, employer_id, worker_ids):
    job = api.post("/jobs", job_body(employer_id, headcount=1)).get_json()["job"]
    first = api.post(f"/jobs/{job['id']}/grab", {"worker_id": worker_ids[0]})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["assignment"]["status"] == "confirmed"

    second = api.post(f"/jobs/{job['id']}/grab", {"worker_id": worker_ids[1]})
    assert second.status_code == 409
    error = second.get_json()["error"]
    assert error["code"] == "job_full"
    assert "满" in error["message"]
    assert api.get(f"/jobs/{job['id']}").get_json()["job"]["status"] == "filled"


def test_grab_409_when_the_worker_is_booked_at_the_same_time(api: Api, employer_id, worker_ids):
    one = api.post("/jobs", job_body(employer_id, headcount=2)).get_json()["job"]
    two = api.post("/jobs", job_body(employer_id, headcount=2, title="搬家帮工")).get_json()["job"]
    assert api.post(f"/jobs/{one['id']}/grab", {"worker_id": worker_ids[0]}).status_code == 201
    clash = api.post(f"/jobs/{two['id']}/grab", {"worker_id": worker_ids[0]})
    assert clash.status_code == 409
    assert clash.get_json()["error"]["code"] == "overlapping_booking"


def test_worker_token_grabs_for_itself_only(api: Api, employer_id, worker_ids):
    job = api.post("/jobs", job_body(employer_id, headcount=2)).get_json()["job"]
    mine = api.as_(worker_token(api, worker_ids[0]))
    other = mine.post(f"/jobs/{job['id']}/grab", {"worker_id": worker_ids[1]})
    assert other.status_code == 403
    assert other.get_json()["error"]["code"] == "not_your_account"
    own = mine.post(f"/jobs/{job['id']}/grab")
    assert own.status_code == 201
    assert own.get_json()["assignment"]["worker_id"] == worker_ids[0]
    # a worker sees open jobs and their own place in the ranking, not other people's
    shown = mine.get(f"/jobs/{job['id']}").get_json()
    assert "ranking" not in shown
    assert [r["worker_id"] for r in shown["my_ranking"]] == [worker_ids[0]]
    assert mine.get(f"/workers/{worker_ids[1]}").status_code == 403
    assert mine.post("/workers", worker_body()).status_code == 403
    assert mine.get("/stats").status_code == 403


def test_offer_cascade_accept_and_decline(api: Api, employer_id, worker_ids):
    job = api.post("/jobs", job_body(employer_id, headcount=1, dispatch_mode="offer")).get_json()
    offered = job["dispatch_state"]["offered"]
    assert offered, job["dispatch_state"]
    first = offered[0]
    token = worker_token(api, first["worker_id"])
    pending = api.as_(token).get(f"/workers/{first['worker_id']}/offers").get_json()["offers"]
    assert [o["offer_id"] for o in pending] == [first["offer_id"]]

    declined = api.as_(token).post(f"/offers/{first['offer_id']}/decline")
    assert declined.status_code == 200
    assert declined.get_json()["offer"]["status"] == "declined"
    again = api.as_(token).post(f"/offers/{first['offer_id']}/accept")
    assert again.status_code == 409

    state = api.get(f"/jobs/{job['job']['id']}").get_json()["dispatch_state"]
    nxt = state["offered"][0]
    assert nxt["worker_id"] != first["worker_id"]
    stranger = api.as_(token).post(f"/offers/{nxt['offer_id']}/accept")
    assert stranger.status_code == 403
    accepted = api.post(f"/offers/{nxt['offer_id']}/accept")
    assert accepted.status_code == 201
    assert accepted.get_json()["assignment"]["via"] == "offer"


def test_assignment_lifecycle_through_the_api(api: Api, employer_id, worker_ids):
    job = api.post("/jobs", job_body(employer_id, pay_unit="day", pay_fen=20000)).get_json()["job"]
    assignment = api.post(f"/jobs/{job['id']}/assign", {"worker_id": worker_ids[2]}).get_json()[
        "assignment"
    ]
    assert assignment["via"] == "manual"
    aid = assignment["id"]
    assert (
        api.post(f"/assignments/{aid}/checkin").get_json()["assignment"]["status"] == "checked_in"
    )
    done = api.post(f"/assignments/{aid}/complete", {"quantity": 1})
    assert done.status_code == 200 and done.get_json()["assignment"]["status"] == "completed"
    paid = api.post(f"/assignments/{aid}/settle", {"pay_fen": 20000, "pay_method": "cash"})
    assert paid.status_code == 200 and paid.get_json()["assignment"]["pay_fen"] == 20000
    mine = api.as_(worker_token(api, worker_ids[2]))
    confirmed = mine.post(f"/assignments/{aid}/confirm-pay")
    assert confirmed.status_code == 200
    assert confirmed.get_json()["assignment"]["worker_confirmed_pay_at"]
    assert mine.post(f"/assignments/{aid}/rate", {"stars": 5}).status_code == 200
    rated = api.post(f"/assignments/{aid}/rate", {"by": "employer", "stars": 4}).get_json()[
        "assignment"
    ]
    assert (rated["rating_of_employer"], rated["rating_of_worker"]) == (5, 4)
    worker = api.get(f"/workers/{worker_ids[2]}").get_json()
    assert worker["worker"]["reliability"]["completed"] == 1
    assert [a["id"] for a in worker["assignments"]] == [aid]


def test_no_show_and_cancel(web_app, api: Api, employer_id, worker_ids):
    job = api.post("/jobs", job_body(employer_id, headcount=2)).get_json()["job"]
    a = api.post(f"/jobs/{job['id']}/grab", {"worker_id": worker_ids[0]}).get_json()["assignment"]
    b = api.post(f"/jobs/{job['id']}/grab", {"worker_id": worker_ids[1]}).get_json()["assignment"]
    early = api.post(f"/assignments/{a['id']}/no-show")
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "not_started"
    started = dt.datetime.fromisoformat(job["starts_at"].rstrip("Z")) + dt.timedelta(minutes=30)
    clock.install(web_app, clock.ManualClock(started))
    assert (
        api.post(f"/assignments/{a['id']}/no-show").get_json()["assignment"]["status"] == "no_show"
    )
    assert api.get(f"/workers/{worker_ids[0]}").get_json()["worker"]["reliability"]["no_shows"] == 1
    refused = api.post(f"/assignments/{b['id']}/cancel", {"by": "employer", "reason": "活干完了"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "job_started"
    assert "用工方不能再取消" in refused.get_json()["error"]["message"]
    cancelled = api.post(f"/assignments/{b['id']}/cancel", {"by": "staff", "reason": "工地停工"})
    assert cancelled.status_code == 200
    assert cancelled.get_json()["assignment"]["status"] == "cancelled"


def test_stats_figures(api: Api, employer_id, worker_ids):
    job = api.post("/jobs", job_body(employer_id)).get_json()["job"]
    api.post(f"/jobs/{job['id']}/grab", {"worker_id": worker_ids[0]})
    stats = api.get("/stats").get_json()
    assert stats["all_time"]["registrations"]["workers"] == 3
    assert stats["all_time"]["postings"]["total"] == 1
    assert stats["all_time"]["fill_rate"] == 1.0


def test_auth_401_without_token_and_403_for_staff_on_admin_only(
    web_app, api: Api, staff_token, employer_id
):
    anonymous = api.as_(None)
    for path in ("/workers", "/jobs", "/employers"):
        response = anonymous.post(path, {})
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"
        assert "登录" in response.get_json()["error"]["message"]
    assert anonymous.get("/stats").status_code == 401
    assert api.as_("not-a-real-token").get("/jobs").status_code == 401
    clerk = api.as_(staff_token)
    blocked = clerk.post(f"/employers/{employer_id}/block", {"reason": "收取押金"})
    assert blocked.status_code == 403
    assert blocked.get_json()["error"]["code"] == "admin_only"
    done = api.post(f"/employers/{employer_id}/block", {"reason": "收取押金"})
    assert done.status_code == 200 and done.get_json()["employer"]["blocked"] is True


def test_english_errors_on_request(api: Api):
    zh = api.post("/workers", {"name": ""})
    assert zh.status_code == 422
    assert "请填写" in zh.get_data(as_text=True)
    en = api.post("/workers", {"name": ""}, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert en.status_code == 422
    assert re.search(r"[\u4e00-\u9fff]", en.get_json()["error"]["message"]) is None
    query = api.client.post(
        "/api/v1/workers?lang=en", json={}, headers={"Authorization": f"Bearer {api.token}"}
    )
    assert "required" in query.get_json()["error"]["fields"][0]["message"]


def test_session_api_calls_need_the_csrf_header(web_app, admin_token):
    from web_helpers import ADMIN_PASSWORD

    client = web_app.test_client()
    web_app.config["WTF_CSRF_ENABLED"] = False
    client.post("/console/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    web_app.config["WTF_CSRF_ENABLED"] = True
    assert client.get("/api/v1/jobs").status_code == 200
    refused = client.post("/api/v1/workers", json=worker_body())
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
