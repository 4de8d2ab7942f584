"""`kuaigong station seed-demo` at two enrolled stations gives two different sets of residents
(issue 9 §6): the data are drawn from the enrolled station id, not from the default id every
station has, which flooded the hub's queue with false merges. The one resident shared on
purpose (the demo's merge) stays. Each station's clock is pinned at T0."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from web_helpers import T0

from kuaigong import clock
from kuaigong.states import JobStatus, OfferStatus
from station_node import create_app, db, sample_data
from station_node import station_state as state
from station_node.identity import decrypt_id, ensure_keys
from station_node.models import Job, Offer, Staff, Worker
from station_node.services.posting import post_job


@pytest.fixture(autouse=True)
def _closed() -> Iterator[None]:
    yield
    db.close_all()


def _station(tmp_path: Path, name: str, station_id: str | None) -> Flask:
    app = create_app(
        {
            "DATA_DIR": str(tmp_path / name),
            "TESTING": True,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    clock.install(app, clock.ManualClock(T0))
    db.open_database(db.database_path(app))
    db.migrate()
    ensure_keys(app)
    if station_id is not None:
        with app.app_context():
            state.save_enrolment(
                state.Enrolment("http://127.0.0.1:9", station_id, name, "hub", "00" * 32, "", "k")
            )
    return app


def _seeded(app: Flask) -> tuple[set[str], list[str]]:
    """Seed the station; its residents' ID numbers and the summary it printed."""
    db.open_database(db.database_path(app))
    with app.app_context(), db.database.connection_context():
        summary = sample_data.seed(app)
        return {decrypt_id(w.id_cipher) for w in Worker.select()}, summary


def test_two_enrolled_stations_get_different_residents_but_the_one_shared_on_purpose(
    tmp_path: Path,
) -> None:
    east, summary = _seeded(_station(tmp_path, "east", "st1a2b3c4d5e"))
    west, _ = _seeded(_station(tmp_path, "west", "st9f8e7d6c5b"))
    assert len(east) == len(west) == sample_data.WORKER_COUNT + 1
    assert east & west == {sample_data.SHARED_RESIDENT["id_number"]}
    assert "示例数据按本站编号生成 (drawn for station): st1a2b3c4d5e" in summary
    again, _ = _seeded(_station(tmp_path, "east-again", "st1a2b3c4d5e"))
    assert again == east  # the same station id draws the same residents


def test_stations_not_enrolled_with_the_default_id_do_not_share_residents(tmp_path: Path) -> None:
    one, _ = _seeded(_station(tmp_path, "one", None))
    two, _ = _seeded(_station(tmp_path, "two", None))
    assert one & two == {sample_data.SHARED_RESIDENT["id_number"]}


@pytest.mark.parametrize("station_id", ["st1a2b3c4d5e", "st9f8e7d6c5b", "st0000demo01", "stzz"])
def test_a_job_posted_on_a_seeded_station_goes_out_at_once_to_someone_free(
    tmp_path: Path, station_id: str
) -> None:
    """The demo's first flow: a newcomer posts a cleaning job and watches an offer go out.
    The sample jobs must not leave every fitting worker holding an offer of theirs."""
    app = _station(tmp_path, "s", station_id)
    _, summary = _seeded(app)
    assert any("个已派满 filled" in line for line in summary), summary
    with app.app_context(), db.database.connection_context():
        live = Offer.select().where(Offer.status == OfferStatus.PENDING)
        assert {o.job.title for o in live} == {"旧房墙面刷漆"}  # the one still offering
        admin = Staff.get(Staff.username == sample_data.ADMIN_USERNAME)
        sample = Job.get(Job.title == "小区楼道保洁")
        assert sample.status == JobStatus.FILLED and sample.confirmed_count == sample.headcount
        job = post_job(
            {
                "employer_id": sample.employer_id,
                "title": "楼道保洁（新）",
                "category": sample.category,
                "skills": ["cleaning"],
                "headcount": 1,
                "pay_fen": 2500,
                "pay_unit": "hour",
                "address": "团结湖北里3号楼",
                "community": sample.community,
                "time_flexible": True,
                "source": "walk_in",
                "dispatch_mode": "offer",
            },
            admin,
        )
        assert job.status == JobStatus.OPEN
        assert Offer.select().where((Offer.job == job.id) & (Offer.status == "pending")).exists()
