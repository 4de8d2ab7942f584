"""Bundles for stations with no link at all, through the real commands on both sides:
`kuaigong station export-bundle` → `kuaigong hub import-bundle`, and `kuaigong hub export-bundle`
→ `kuaigong station import-bundle`. Importing twice changes nothing; a truncated or edited file
is refused with a typed error and changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner
from integration_helpers import Hub, Station

from central_hub.cli import hub as hub_cli
from station_node.cli import station as station_cli


def _applied(hub: Hub, station_id: str) -> int:
    from central_hub.models import AppliedEntry

    with hub.ctx():
        return AppliedEntry.select().where(AppliedEntry.station == station_id).count()


def _run(group: Any, *args: str) -> Any:
    return CliRunner().invoke(group, list(args), catch_exceptions=False)


def _data(st: Station) -> str:
    return str(st.app.config["DATA_DIR"])


def test_bundles_both_ways(sqlite_hub: Hub, enrolled: Any, tmp_path: Path) -> None:
    from central_hub.services import rules

    st = enrolled(sqlite_hub, "village")
    employer = st.employer(77)
    for _ in range(4):
        st.worker()
    total = st.entries()
    stick = tmp_path / "to_hub.kgb"
    out = _run(station_cli, "export-bundle", "--data", _data(st), str(stick))
    assert out.exit_code == 0, out.output
    assert f"wrote {total} entries" in out.output
    hub_data = sqlite_hub.app.config["DATA_DIR"]

    blob = stick.read_bytes()
    (tmp_path / "cut.kgb").write_bytes(blob[: len(blob) // 2])
    edited = blob.replace("张三".encode(), "张四".encode(), 1)
    assert edited != blob
    (tmp_path / "edited.kgb").write_bytes(edited)
    for name, code in (("cut.kgb", "truncated"), ("edited.kgb", "altered")):
        out = CliRunner().invoke(
            hub_cli, ["import-bundle", "--data", hub_data, str(tmp_path / name)]
        )
        assert out.exit_code == 2 and "错误" in out.output, out.output
        assert code in out.output or ("不完整" if code == "truncated" else "改动") in out.output
    assert _applied(sqlite_hub, st.station_id) == 0

    for _ in range(2):  # twice: the second import only replays
        out = _run(hub_cli, "import-bundle", "--data", hub_data, str(stick))
        assert out.exit_code == 0, out.output
        assert _applied(sqlite_hub, st.station_id) == total
    assert "replay" in out.output

    # The other way: the hub's receipt and its log (a city rule blocking our employer).
    from station_node.models import Employer

    with st.ctx():
        credit = Employer.get_by_id(employer).credit_code
    with sqlite_hub.ctx():
        rules.add_rule(
            "blocked_employer",
            {"name": "黑中介", "credit_code": credit, "reason": "收取押金"},
            None,
        )
    back = tmp_path / "to_station.kgb"
    out = _run(hub_cli, "export-bundle", "--data", hub_data, st.station_id, str(back))
    assert out.exit_code == 0, out.output
    blob = back.read_bytes()
    (tmp_path / "cut_back.kgb").write_bytes(blob[:-10])
    out = CliRunner().invoke(
        station_cli, ["import-bundle", "--data", _data(st), str(tmp_path / "cut_back.kgb")]
    )
    assert out.exit_code == 2 and "bundle_truncated" in out.output
    for _ in range(2):
        out = _run(station_cli, "import-bundle", "--data", _data(st), str(back))
        assert out.exit_code == 0, out.output
        assert f"hub holds our log up to {total}" in out.output
    from station_node.hub_records import CityRule, HubEntry

    with st.ctx():
        assert Employer.get_by_id(employer).blocked is True
        assert CityRule.select().count() == 1
        applied = HubEntry.select().count()
    assert st.entries() == total + 1  # the block, logged once with the hub as its origin
    out = _run(station_cli, "import-bundle", "--data", _data(st), str(back))
    with st.ctx():
        assert HubEntry.select().count() == applied
    assert st.entries() == total + 1
