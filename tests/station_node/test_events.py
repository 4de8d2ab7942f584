"""Live events: the bus publishes only what committed, and `/api/v1/events` streams it as
Server-Sent Events over a real waitress server: board events to anyone, a worker's offers only
to that worker, resume with Last-Event-ID, a reload when the id is gone."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from web_helpers import (
    ADMIN_PASSWORD,
    T0,
    Api,
    create_staff,
    employer_body,
    job_body,
    make_web_app,
    worker_body,
    worker_token,
)

from kuaigong import clock
from station_node import db, events


@dataclass
class Station:
    app: Flask
    url: str
    port: int
    api: Api
    employer_id: str


@pytest.fixture
def station(tmp_path: Any) -> Iterator[Station]:
    """A station on waitress at 127.0.0.1:<free port>, its clock pinned at T0, streams of 3 s."""
    import waitress

    events.reset()
    app = make_web_app(tmp_path, EVENTS_STREAM_SECONDS=3)
    clock.install(app, clock.ManualClock(T0))
    api = Api(app.test_client(), create_staff(app, "admin", "admin", ADMIN_PASSWORD))
    employer = api.post("/employers", json=employer_body())
    assert employer.status_code == 201, employer.get_json()
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    port = int(server.effective_port)
    employer_id = employer.get_json()["employer"]["id"]
    try:
        yield Station(app, f"http://127.0.0.1:{port}", port, api, employer_id)
    finally:
        _let_streams_end()
        server.close()
        thread.join(timeout=5)


class Stream:
    """One SSE connection read line by line (never blocks past `timeout`)."""

    def __init__(self, port: int, query: str, headers: dict[str, str] | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        self.conn.request("GET", "/api/v1/events?" + query, headers=headers or {})
        self.response = self.conn.getresponse()
        self.status = self.response.status

    def next_event(self, timeout: float = 5.0, kind: str | None = None) -> dict[str, Any] | None:
        """The next event (of `kind`, when given) as {id, event, data}; None at the stream's end."""
        deadline = time.monotonic() + timeout
        fields: dict[str, Any] = {}
        while time.monotonic() < deadline:
            raw = self.response.readline()  # streams here end after 3 s: never stuck
            if not raw:
                return None
            line = raw.decode().rstrip("\n")
            if line == "":
                if "event" in fields and (kind is None or fields["event"] == kind):
                    fields["data"] = json.loads(fields.get("data", "null"))
                    return fields
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
        raise AssertionError(f"no {kind or 'event'} within {timeout} s")

    def close(self) -> None:
        self.conn.close()


def _post_job(station: Station, **over: Any) -> str:
    created = station.api.post("/jobs", json=job_body(station.employer_id, **over))
    assert created.status_code == 201, created.get_json()
    return str(created.get_json()["job"]["id"])


def test_a_posted_job_reaches_a_board_stream_and_a_resume_gets_what_was_missed(station):
    stream = Stream(station.port, "topics=board")
    assert stream.status == 200
    assert stream.response.getheader("Content-Type", "").startswith("text/event-stream")
    first = _post_job(station, title="搬家帮工")
    seen = stream.next_event(kind="job")
    assert seen is not None and seen["data"]["job_id"] == first
    assert seen["data"]["status"] == "open"
    last_id = str(events.last_id())  # after every event of the first posting
    stream.close()

    # Posted while no page was connected: the reconnect with Last-Event-ID still gets it.
    second = _post_job(station, title="小区保洁")
    again = Stream(station.port, "topics=board", {"Last-Event-ID": last_id})
    resumed = again.next_event(kind="job")
    assert resumed is not None and resumed["data"]["job_id"] == second
    assert int(resumed["id"]) > int(last_id)
    again.close()

    # The same with the id in the query, as a page passes the id it was rendered at.
    third = Stream(station.port, f"topics=board&last_event_id={last_id}")
    found = third.next_event(kind="job")
    assert found is not None and found["data"]["job_id"] == second
    third.close()


def test_an_id_older_than_the_buffer_gets_a_reload_and_streams_end_for_reconnecting(station):
    _post_job(station)
    stale = Stream(station.port, "topics=board", {"Last-Event-ID": "12"})
    reload = stale.next_event(kind="reload")
    assert reload is not None and int(reload["id"]) == events.last_id()
    assert stale.next_event() is None  # the stream closed after telling the page to reload
    stale.close()

    quiet = Stream(station.port, "topics=board")
    started = time.monotonic()
    assert quiet.next_event(timeout=10) is None  # ends by itself (3 s here, 25 s by default)
    assert 2.5 < time.monotonic() - started < 8
    quiet.close()


def test_a_worker_topic_needs_that_worker(station):
    api = station.api
    one = api.post("/workers", json=worker_body()).get_json()["worker"]
    two = api.post("/workers", json=worker_body()).get_json()["worker"]
    token = worker_token(api, one["id"])

    anonymous = Stream(station.port, "topics=worker")
    assert anonymous.status == 401
    assert "登录" in json.loads(anonymous.response.read())["error"]["message"]
    for query in (f"topics=worker:{two['id']}", "topics=staff", "topics=board,staff"):
        refused = Stream(station.port, query, {"Authorization": f"Bearer {token}"})
        assert refused.status == 403, query
        refused.close()
    unknown = Stream(station.port, "topics=everything")
    assert unknown.status == 422
    assert "没有这个主题" in unknown.response.read().decode()

    own = Stream(station.port, "topics=worker", {"Authorization": f"Bearer {token}"})
    assert own.status == 200
    assert one["id"] in events.connected_workers()
    assert two["id"] not in events.connected_workers()
    own.close()


def test_an_offer_reaches_the_offered_workers_stream_and_the_staff_stream(station):
    api = station.api
    worker = api.post("/workers", json=worker_body()).get_json()["worker"]
    assert api.post(f"/workers/{worker['id']}/checkin").status_code == 200
    token = worker_token(api, worker["id"])
    mine = Stream(station.port, "topics=worker", {"Authorization": f"Bearer {token}"})
    staff = Stream(station.port, "topics=staff", {"Authorization": f"Bearer {api.token}"})
    job_id = _post_job(station, dispatch_mode="offer")
    offer = mine.next_event(kind="offer")
    assert offer is not None
    assert offer["data"]["job_id"] == job_id and offer["data"]["worker_id"] == worker["id"]
    assert staff.next_event(kind="offer") is not None

    accepted = api.as_(token).post(f"/offers/{offer['data']['offer_id']}/accept")
    assert accepted.status_code == 201, accepted.get_json()
    booked = mine.next_event(kind="booked")
    assert booked is not None and booked["data"]["job_id"] == job_id
    closed = mine.next_event(kind="offer_closed")
    assert closed is not None and closed["data"]["status"] == "accepted"
    mine.close()
    staff.close()


def test_a_publish_inside_a_transaction_waits_for_commit_and_vanishes_on_rollback(app):
    events.reset()
    with events.subscribe(["board"]) as sub:
        with db.atomic():
            events.publish("board", "job", {"job_id": "kept"})
            with pytest.raises(RuntimeError), db.atomic():  # a savepoint that rolls back
                events.publish("board", "job", {"job_id": "inner"})
                raise RuntimeError
            assert sub.wait(0.01) == []  # not before the commit
        with pytest.raises(RuntimeError), db.atomic():
            events.publish("board", "job", {"job_id": "lost"})
            raise RuntimeError
        seen = sub.wait(0.5)
    assert [e.data["job_id"] for e in seen] == ["kept"]


def test_a_subscriber_left_behind_the_buffer_is_told_to_reload(app, monkeypatch):
    events.reset()
    with events.subscribe(["board"]) as sub:
        for n in range(events.BUFFER + 5):
            events.publish("staff", "job", {"n": n})
        assert sub.wait(0.01) == [] or sub.reload
        assert sub.reload


def test_an_expired_offer_is_announced_to_its_worker_and_the_next_one_offered(
    app, manual_clock, make_worker, make_employer, make_job
):
    from station_node.services import dispatch

    events.reset()
    first, second = make_worker(), make_worker()
    with events.subscribe([events.worker_topic(first.id), events.worker_topic(second.id)]) as sub:
        job = make_job(dispatch_mode="offer", headcount=1)
        made = sub.wait(0.5)
        assert [(e.kind, e.data["job_id"]) for e in made] == [("offer", job.id)]
        offered = made[0].data["worker_id"]
        manual_clock.advance(app.config["OFFER_TIMEOUT_SECONDS"] + 1)
        dispatch.tick()
        seen = sub.wait(0.5)
    assert [(e.kind, e.data["status"], e.data["worker_id"]) for e in seen[:1]] == [
        ("offer_closed", "expired", offered)
    ]
    assert [(e.kind, e.data["worker_id"]) for e in seen[1:]] == [
        ("offer", ({first.id, second.id} - {offered}).pop())
    ]


def _let_streams_end(limit: float = 5.0) -> None:
    """Closing waitress under a stream still being written races its select loop."""
    deadline = time.monotonic() + limit
    while events.open_streams() and time.monotonic() < deadline:
        time.sleep(0.05)
