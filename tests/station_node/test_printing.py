"""Job slips: queued with every confirmation (grab, accepted offer, staff), on demand from the
console, claimed and reported by the printer's device process; the printer's status and failed
slips show on the console; a printer that is offline never holds up a grab. ID card reads: the
reader posts cards, the console form and the kiosk use them, an expired card is refused."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_helpers import ADMIN_PASSWORD, Api, csrf_token, employer_body, job_body, worker_body

from devices.idcard import IdCard
from devices.kinds import DeviceKind
from devices.slips import JobSlip, render_slip
from kuaigong.errors import Conflict
from station_node import db
from station_node.models import Job, PrintJob, Staff, Worker
from station_node.services import dispatch, idcard_reads, printing
from station_node.services.devices import pair, start_pairing
from station_node.services.staff import create_staff as create_staff_member

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _grab_job(make_job, **over: Any) -> Job:
    return make_job(dispatch_mode="grab", headcount=1, **over)


def test_a_grab_queues_the_slip_in_its_own_transaction(app: Flask, make_job, make_worker):
    job = _grab_job(make_job, title="小区保洁")
    worker = make_worker(name="李秀英")
    assignment = dispatch.grab(job.id, worker.id, None)
    [row] = PrintJob.select()
    assert (
        row.assignment_id == assignment.id and row.status == "queued" and row.reason == "confirmed"
    )
    slip = row.slip
    assert slip["job_title"] == "小区保洁"
    assert slip["time_window"] == "5月7日 08:00–17:00"  # station time, not UTC
    assert slip["pay"] == "25 元/小时"
    assert slip["worker_name"] == "李秀英"
    assert "*" in slip["worker_id_masked"] and slip["worker_id_masked"] == worker.id_masked
    assert slip["employer_phone"].endswith("13912345678")
    assert slip["job_number"] == job.id[:8].upper()
    assert slip["qr_url"] == f"http://localhost/m/jobs/{job.id[:8].upper()}"  # the phone page
    assert slip["labour_hotline"] == "12333"

    data = render_slip(JobSlip(**slip))
    for text in ("小区保洁", "李秀英", "团结湖北里3号楼", slip["worker_id_masked"], "12333"):
        assert text.encode("gb18030") in data, text

    # A grab that loses (the job is full) leaves no slip behind.
    with pytest.raises(Conflict):
        dispatch.grab(job.id, make_worker().id, None)
    assert PrintJob.select().count() == 1


def test_accepted_offers_and_staff_assignments_queue_slips(
    app: Flask, staff, make_job, make_worker
):
    app.config.update(PUBLIC_URL="https://zhan.example.cn/", STATION_HOTLINE="010-65001234")
    workers = [make_worker(), make_worker()]
    job = make_job(dispatch_mode="offer", headcount=2)
    offered = {o.worker_id: o for o in job.offers}
    worker_id, offer = next(iter(offered.items()))
    dispatch.accept_offer(offer.id, worker_id, None)
    other = next(w for w in workers if w.id != worker_id)
    dispatch.assign(job.id, other.id, staff)
    rows = list(PrintJob.select().order_by(PrintJob.id))
    assert [r.assignment.worker_id for r in rows] == [worker_id, other.id]
    assert rows[0].slip["qr_url"] == f"https://zhan.example.cn/m/jobs/{job.id[:8].upper()}"
    assert rows[0].slip["station_hotline"] == "010-65001234"


def test_a_slip_that_cannot_be_built_never_blocks_the_grab(app: Flask, make_job, make_worker):
    app.config.update(PUBLIC_URL="ftp://wrong.example")  # a QR code needs http(s)
    job = _grab_job(make_job)
    dispatch.grab(job.id, make_worker().id, None)
    [row] = PrintJob.select()
    assert row.status == "failed" and "网址" in row.error
    assert Job.get_by_id(job.id).confirmed_count == 1


def _paired(app: Flask, kind: str, name: str) -> tuple[str, str]:
    """A device paired through the service; returns its id and token."""
    with app.app_context(), db.database.connection_context():
        staff = Staff.get_or_none(Staff.username == "pairing")
        if staff is None:
            staff = create_staff_member("pairing", "配对", "staff", "password-1")[0]
        shown = start_pairing(staff)
        device, token = pair(shown.code, kind, name)
    return device.id, token


@pytest.fixture
def printer(web_app: Flask) -> Api:
    return Api(web_app.test_client(), _paired(web_app, DeviceKind.PRINTER, "柜台打印机")[1])


@pytest.fixture
def reader(web_app: Flask) -> Api:
    return Api(web_app.test_client(), _paired(web_app, DeviceKind.IDREADER, "窗口读卡器")[1])


@pytest.fixture
def console(web_app: Flask, admin_token: str) -> FlaskClient:
    client = web_app.test_client()
    token = CSRF.search(client.get("/console/login").get_data(as_text=True)).group(1)
    signed = client.post(
        "/console/login",
        data={"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": token},
    )
    assert signed.status_code == 302
    return client


def _grabbed(api: Api) -> tuple[str, str, dict[str, Any]]:
    """A worker grabs a one-place job through the API; returns job id, worker id, assignment."""
    employer_id = api.post("/employers", employer_body()).get_json()["employer"]["id"]
    job = api.post("/jobs", job_body(employer_id, dispatch_mode="grab", headcount=1)).get_json()
    worker_id = api.post("/workers", worker_body()).get_json()["worker"]["id"]
    grabbed = api.post(f"/jobs/{job['job']['id']}/grab", {"worker_id": worker_id})
    assert grabbed.status_code in (200, 201), grabbed.get_json()
    return job["job"]["id"], worker_id, grabbed.get_json()


def test_printer_claims_reports_and_the_console_shows_failures(
    web_app: Flask, api: Api, printer: Api, console: FlaskClient
):
    job_id, _, _ = _grabbed(api)
    claimed = printer.post("/printer/claim", {"limit": 5})
    assert claimed.status_code == 200, claimed.get_json()
    [slip] = claimed.get_json()["slips"]
    assert slip["slip"]["job_number"] == job_id[:8].upper() and slip["attempts"] == 1
    assert printer.post("/printer/claim", {}).get_json()["slips"] == []  # handed out once
    failed = printer.post(f"/printer/slips/{slip['id']}/failed", {"error": "纸用完了"})
    assert failed.get_json()["status"] == "failed"
    again = printer.post(f"/printer/slips/{slip['id']}/printed")
    assert again.status_code == 409  # no longer on the printer

    page = console.get("/console/printer").get_data(as_text=True)
    assert "纸用完了" in page and "重新打印" in page and "打印程序没有运行" in page
    assert "1 张派工单没有打印出来" in console.get("/console/workers").get_data(as_text=True)
    token = csrf_token(console, "/console/printer")
    console.post(f"/console/printer/slips/{slip['id']}/retry", data={"csrf_token": token})
    [again] = printer.post("/printer/claim", {}).get_json()["slips"]
    assert again["id"] == slip["id"] and again["attempts"] == 2
    assert printer.post(f"/printer/slips/{slip['id']}/printed").get_json()["status"] == "printed"


def test_device_endpoints_refuse_other_credentials(api: Api, reader: Api, printer: Api):
    assert api.as_(None).post("/printer/claim", {}).status_code == 401
    assert reader.post("/printer/claim", {}).status_code == 403
    assert printer.post("/idcard/reads", {}).status_code == 403
    bad = printer.post("/printer/claim", {"limit": "all"})
    assert bad.status_code == 422 and "limit" in bad.get_json()["error"]["message"]
    bad_state = printer.post("/printer/status", {"state": "on fire"})
    assert bad_state.status_code == 422


def test_an_offline_printer_never_blocks_a_grab_and_shows_on_the_console(
    web_app: Flask, api: Api, printer: Api, console: FlaskClient
):
    offline = {"state": "offline", "message": "连不上打印机（tcp://10.0.0.9:9100）", "waiting": 3}
    assert printer.post("/printer/status", offline).status_code == 200
    _, _, _ = _grabbed(api)  # succeeds while the printer is down
    page = console.get("/console/printer").get_data(as_text=True)
    assert "连不上打印机（tcp://10.0.0.9:9100）" in page and 'data-state="offline"' in page
    home = console.get("/console/").get_data(as_text=True)  # every console page warns
    assert "打印机有问题：连不上打印机（tcp://10.0.0.9:9100）" in home


def test_staff_print_a_slip_on_demand_from_the_job_page(
    web_app: Flask, api: Api, console: FlaskClient
):
    job_id, worker_id, _ = _grabbed(api)
    page = console.get(f"/console/jobs/{job_id}").get_data(as_text=True)
    assert "打印派工单" in page
    with web_app.app_context(), db.database.connection_context():
        assignment_id = dispatch.assignment_id(job_id, worker_id)
    token = csrf_token(console, f"/console/jobs/{job_id}")
    done = console.post(
        f"/console/assignments/{assignment_id}/print-slip",
        data={"csrf_token": token, "back": f"/console/jobs/{job_id}"},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/console/jobs/{job_id}")
    with web_app.app_context(), db.database.connection_context():
        reasons = [r.reason for r in PrintJob.select().order_by(PrintJob.id)]
    assert reasons == ["confirmed", "on_demand"]
    missing = console.post("/console/assignments/nope/print-slip", data={"csrf_token": token})
    assert "找不到派工记录" in console.get(missing.headers["Location"]).get_data(as_text=True)


# ---------------------------------------------------------------- ID card reads


def card_json(id_number: str, name: str = "刘桂兰", valid_until: str | None = "2035-06-01") -> dict:
    return {
        "name": name,
        "sex": "F",
        "ethnicity": "汉",
        "birth_date": f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}",
        "address": "北京市朝阳区团结湖社区北里3号楼",
        "id_number": id_number,
        "issuing_office": "北京市公安局朝阳分局",
        "valid_from": "2015-06-01",
        "valid_until": valid_until,
    }


def test_a_card_read_fills_the_console_form_and_an_expired_one_is_refused(
    web_app: Flask, reader: Api, console: FlaskClient, caplog
):
    body = worker_body()
    form = console.get("/console/workers/new").get_data(as_text=True)
    assert "读身份证" in form and "idcard.js" in form
    none = console.get("/console/idcard/latest")
    assert none.status_code == 404 and none.get_json()["message"] == "请把身份证放在读卡器上"

    assert reader.post("/idcard/reads", card_json(body["id_number"])).status_code == 201
    latest = console.get("/console/idcard/latest").get_json()["card"]
    assert latest["name"] == "刘桂兰" and latest["id_number"] == body["id_number"]
    assert latest["address"] == "北京市朝阳区团结湖社区北里3号楼" and "photo" not in latest

    # The clock is 2025-05-06 at the station: a card valid until 2025-05-05 is expired.
    expired = reader.post("/idcard/reads", card_json(body["id_number"], valid_until="2025-05-05"))
    assert expired.status_code == 409
    assert "身份证已过有效期（有效期至 2025年5月5日）" in expired.get_json()["error"]["message"]
    refused = console.get("/console/idcard/latest")
    assert refused.status_code == 409 and "已过有效期" in refused.get_json()["message"]
    # Its last day still counts.
    today = reader.post("/idcard/reads", card_json(body["id_number"], valid_until="2025-05-06"))
    assert today.status_code == 201

    number = body["id_number"]
    wrong_check = number[:17] + ("1" if number[17] == "0" else "0")
    bad = reader.post("/idcard/reads", card_json(wrong_check))
    assert bad.status_code == 422
    assert body["id_number"] not in caplog.text  # personal data stays out of the logs


def test_reads_are_forgotten_after_a_minute(app: Flask, manual_clock):
    card = IdCard(**{k: v for k, v in _sample().items()})
    idcard_reads.record("reader-1", card)
    assert idcard_reads.latest() is not None
    manual_clock.advance(61)
    assert idcard_reads.latest() is None


def _sample() -> dict[str, Any]:
    from devices.simulated.idcard import SAMPLE_CARDS

    card = SAMPLE_CARDS[0]
    return {f: getattr(card, f) for f in card.__dataclass_fields__}


def test_a_card_on_the_kiosk_reader_signs_in_and_checks_in(web_app: Flask, api: Api, reader: Api):
    body = worker_body()
    worker_id = api.post("/workers", body).get_json()["worker"]["id"]
    kiosk = web_app.test_client()
    page = kiosk.get("/kiosk/signin").get_data(as_text=True)
    assert "kiosk_card.js" in page and "把身份证放在读卡器上即可登录" in page
    token = CSRF.search(page).group(1)
    assert kiosk.get("/kiosk/idcard").get_json() == {"state": "none"}

    reader.post("/idcard/reads", card_json(body["id_number"], name=body["name"]))
    waiting = kiosk.get("/kiosk/idcard").get_json()
    assert waiting["state"] == "card" and set(waiting) == {"state", "read"}  # no details shown
    signed = kiosk.post("/kiosk/idcard/signin", data={"csrf_token": token, "read": waiting["read"]})
    assert signed.status_code == 302 and signed.headers["Location"].endswith("/kiosk/mine")
    assert kiosk.get("/kiosk/idcard").get_json() == {"state": "signed_in"}
    mine = kiosk.get("/kiosk/mine").get_data(as_text=True)
    assert body["name"] in mine and "签到" in mine
    checked = kiosk.post("/kiosk/checkin", data={"csrf_token": token})
    assert "签到成功" in kiosk.get(checked.headers["Location"]).get_data(as_text=True)
    with web_app.app_context(), db.database.connection_context():
        assert Worker.get_by_id(worker_id).presences.count() == 1

    # The read was used once: posting it again signs nobody in.
    other = web_app.test_client()
    again = other.post(
        "/kiosk/idcard/signin",
        data={"csrf_token": csrf_token(other, "/kiosk/signin"), "read": waiting["read"]},
    )
    assert again.status_code == 409


def test_an_unknown_or_expired_card_at_the_kiosk_says_what_to_do(
    web_app: Flask, api: Api, reader: Api, id_number
):
    kiosk = web_app.test_client()
    token = csrf_token(kiosk, "/kiosk/signin")
    stranger = id_number(birth="19700202", seq=77)
    reader.post("/idcard/reads", card_json(stranger))
    read = kiosk.get("/kiosk/idcard").get_json()["read"]
    unknown = kiosk.post("/kiosk/idcard/signin", data={"csrf_token": token, "read": read})
    assert unknown.status_code == 401
    assert "没有找到您的登记，请到窗口办理" in unknown.get_data(as_text=True)

    reader.post("/idcard/reads", card_json(stranger, valid_until="2024-01-01"))
    refused = kiosk.get("/kiosk/idcard").get_json()
    assert refused["state"] == "refused" and "身份证已过有效期" in refused["message"]


def test_the_kiosk_watches_only_its_own_reader(web_app: Flask, api: Api):
    kiosk_reader_id, kiosk_token = _paired(web_app, DeviceKind.IDREADER, "一体机读卡器")
    _, desk_token = _paired(web_app, DeviceKind.IDREADER, "窗口读卡器")
    web_app.config["IDCARD_READER_FOR_KIOSK"] = kiosk_reader_id
    body = worker_body()
    api.post("/workers", body)
    kiosk = web_app.test_client()
    Api(web_app.test_client(), desk_token).post("/idcard/reads", card_json(body["id_number"]))
    assert kiosk.get("/kiosk/idcard").get_json() == {"state": "none"}
    Api(web_app.test_client(), kiosk_token).post("/idcard/reads", card_json(body["id_number"]))
    assert kiosk.get("/kiosk/idcard").get_json()["state"] == "card"
    web_app.config["IDCARD_READER_FOR_KIOSK"] = "窗口读卡器"  # by the name it was paired under
    Api(web_app.test_client(), desk_token).post("/idcard/reads", card_json(body["id_number"]))
    read = kiosk.get("/kiosk/idcard").get_json()["read"]
    Api(web_app.test_client(), kiosk_token).post("/idcard/reads", card_json(body["id_number"]))
    assert kiosk.get("/kiosk/idcard").get_json()["read"] == read


def test_printing_states_are_the_models_vocabulary():
    assert printing.PRINT_STATES == ("queued", "printing", "printed", "failed")
    assert dt.timedelta(minutes=5) < printing.RECLAIM_AFTER


def test_the_printer_page_and_card_sign_in_read_in_english(
    web_app: Flask, printer: Api, console: FlaskClient
):
    offline = {
        "state": "offline",
        "message": "连不上打印机（tcp://10.0.0.9:9100）",
        "message_en": "cannot reach the printer (tcp://10.0.0.9:9100)",
    }
    printer.post("/printer/status", offline)
    console.get("/lang/en?next=/console/printer")
    page = console.get("/console/printer").get_data(as_text=True)
    assert "Receipt printer" in page and "cannot reach the printer (tcp://10.0.0.9:9100)" in page
    assert not re.search(r"[\u4e00-\u9fff]", page.split("<main", 1)[-1].split("</main>")[0])
    form = console.get("/console/workers/new").get_data(as_text=True)
    assert "Read ID card" in form
    kiosk = web_app.test_client()
    kiosk.get("/lang/en?next=/kiosk/signin")
    assert "Place your ID card on the reader to sign in" in kiosk.get("/kiosk/signin").get_data(
        as_text=True
    )


def test_only_the_kiosk_beside_the_reader_sees_its_cards(web_app: Flask, api: Api, reader: Api):
    """The reader posts from 127.0.0.1 (the kiosk machine); a phone on the station's Wi-Fi
    must not be able to watch for cards and sign in as whoever places one."""
    body = worker_body()
    api.post("/workers", body)
    reader.post("/idcard/reads", card_json(body["id_number"]))
    phone = web_app.test_client()
    phone.environ_base["REMOTE_ADDR"] = "192.168.1.77"
    assert phone.get("/kiosk/idcard").get_json() == {"state": "none"}
    read = web_app.test_client().get("/kiosk/idcard").get_json()["read"]
    token = csrf_token(phone, "/kiosk/signin")
    taken = phone.post("/kiosk/idcard/signin", data={"csrf_token": token, "read": read})
    assert taken.status_code == 409
    web_app.config["IDCARD_KIOSK_SAME_ADDRESS"] = False  # a reader wired to another machine
    assert phone.get("/kiosk/idcard").get_json()["state"] == "card"
