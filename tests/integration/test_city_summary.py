"""The city figures page reads a summary per station, sector and local month that ingest keeps
current in the transaction that changes the records: after every sync it must equal the figures
counted from the records themselves, on SQLite and PostgreSQL, with no recount on reading."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from integration_helpers import Hub, Station

from kuaigong import clock as app_clock

START = dt.datetime(2025, 4, 30, 15, 50, 0)  # 23:50 on 30 April in the city
NOW = dt.datetime(2025, 5, 1, 1, 0, 0)


def _post(st: Station, employer: str, category: str) -> str:
    from station_node.services.posting import post_job

    with st.ctx():
        return post_job(
            {
                "employer_id": employer,
                "title": "小区保洁",
                "category": category,
                "description": "楼道和地库清扫，工具由物业提供",
                "skills": ["cleaning"],
                "headcount": 1,
                "pay_fen": 2500,
                "pay_unit": "hour",
                "address": "团结湖北里3号楼",
                "community": "团结湖社区",
                "starts_at": "2025-05-03T09:00",
                "ends_at": "2025-05-03T10:00",
                "source": "walk_in",
                "dispatch_mode": "grab",
            },
            st.staff,
        ).id


def _figures(summary: bool) -> dict[str, Any]:
    """Every grouping's figures of all time, from the summary or counted from the records."""
    from central_hub.services import citystats

    cfg = citystats.settings(NOW)
    return {
        g: {
            k: f.as_dict()
            for k, f in (
                citystats.summary_figures(g, NOW, cfg)
                if summary
                else citystats.figures_by(g, now=NOW)
            ).items()
        }
        for g in citystats.GROUPINGS
    }


def _builds() -> dict[str, Any]:
    from central_hub.models import CityCellBuild

    return {b.station: (b.built_at, b.live_workers, b.live_jobs) for b in CityCellBuild.select()}


def test_ingest_keeps_the_city_summary_current(
    hub: Hub, make_station: Callable[..., Station]
) -> None:
    from station_node.services import assignments, registration
    from station_node.services.dispatch import assign

    manual = app_clock.ManualClock(START)
    stations = []
    for name in ("团结湖驿站", "和平里驿站"):
        st = make_station(name)
        app_clock.install(st.app, manual)
        st.enroll(hub, hub.new_code(name)[1])
        stations.append(st)
    first, second = stations
    with hub.ctx():
        assert _figures(summary=True) == _figures(summary=False)  # counts every station once
        before = _builds()
    assert set(before) == {first.station_id, second.station_id}

    employer = first.employer()
    worker = first.worker(name="李兵")
    others = [first.worker(name=f"工人{n}") for n in range(3)]
    jobs = []
    for n, category in enumerate(("property", "catering", "property")):
        jobs.append(_post(first, employer, category))
        manual.advance(20 + 40 * n)
        with first.ctx():
            assign(jobs[-1], (worker, *others)[n], first.staff)
        manual.advance(400)  # the last job is posted on 1 May in the city
    second.worker(name="王芳")
    first.sync()
    second.sync()
    with hub.ctx():
        built = _builds()
        assert all(built[s][0] > before[s][0] for s in built)  # recounted by the ingest
        assert built[first.station_id][1:] == (4, 3)
        summary = _figures(summary=True)
        assert _builds() == built  # reading recounted nothing
        assert summary == _figures(summary=False)
        assert summary["city"]["city"]["filled"] == 3
        assert summary["sector"]["property"]["median_fill_seconds"] == 60  # 20 s and 100 s
        assert sorted(summary["month"]) == ["2025-04", "2025-05"]

    # The worker joins a priority group: the placement made before counts for the group now.
    manual.set(dt.datetime(2025, 5, 3, 2, 0))  # the jobs have begun: a no-show can be marked
    missed = assign_id(first, jobs[1])
    with first.ctx():
        registration.update_worker(
            worker,
            {
                "priority_groups": ["veteran"],
                "consent": {"given": True, "purpose": "优先推荐岗位"},
            },
            first.staff,
        )
        assignments.mark_no_show(missed, first.staff)
    first.sync()
    with hub.ctx():
        summary = _figures(summary=True)
        assert summary == _figures(summary=False)
        assert summary["city"]["city"]["placements_by_group"]["veteran"] == 1
        assert summary["city"]["city"]["no_shows"] == 1


def assign_id(st: Station, job_id: str) -> str:
    from station_node.models import Assignment

    with st.ctx():
        return str(Assignment.get(Assignment.job_id == job_id).id)


def test_a_changed_setting_recounts_the_summary(
    hub: Hub, make_station: Callable[..., Station]
) -> None:
    from station_node.services.dispatch import assign

    manual = app_clock.ManualClock(START)
    st = make_station("团结湖驿站")
    app_clock.install(st.app, manual)
    st.enroll(hub, hub.new_code("团结湖驿站")[1])
    employer, worker = st.employer(), st.worker(name="李兵")
    job = _post(st, employer, "property")
    manual.advance(45)
    with st.ctx():
        assign(job, worker, st.staff)
    st.sync()
    with hub.ctx():
        assert _figures(summary=True)["city"]["city"]["within_target"] == 1
    hub.app.config["DISPATCH_TARGET_SECONDS"] = 30
    with hub.ctx():
        summary = _figures(summary=True)
        assert summary == _figures(summary=False)
        assert summary["city"]["city"]["within_target"] == 0
