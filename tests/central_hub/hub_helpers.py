"""Helpers of the hub tests: apps on real SQLite files or PostgreSQL schemas, signing in."""

from __future__ import annotations

import os
import re
import secrets
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from pg_helpers import PG_URL, pg_or_skip

from central_hub import create_app, db
from central_hub.services import admins

PASSWORD = "kuaigong-admin-1"


def make_app(tmp_path: Any, engine: str, **extra: Any) -> tuple[Flask, str]:
    """A migrated hub app on `engine` ('sqlite' or 'postgres'); returns it and its PG schema."""
    schema = ""
    config: dict[str, Any] = {
        "DATA_DIR": str(tmp_path / "hub"),
        "TESTING": True,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        **extra,
    }
    if engine == "postgres":
        pg_or_skip()
        schema = f"hubtest_{os.getpid()}_{secrets.token_hex(4)}"
        config.update(DATABASE_URL=PG_URL, DATABASE_SCHEMA=schema)
    app = create_app(config)
    db.migrate(schema)
    return app, schema


def add_admin(app: Flask, username: str = "chen", role: str = "admin") -> None:
    """Create an admin account directly through the service."""
    with app.test_request_context(), db.database.connection_context():
        admins.create_admin(username, username, role, PASSWORD)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token from a page's form."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str = "chen") -> None:
    """Sign in through the real form (with its CSRF token)."""
    token = csrf_token(client)
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def post_form(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    """POST a form the way the browser does, with a CSRF token from the stations page."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/")})


class StationLog:
    """A station's signed change log, built with sync_protocol the way a station builds it."""

    def __init__(self, station_id: str, key: Any = None, wall_ms: int = 1_780_000_000_000) -> None:
        import sync_protocol as sp

        self.sp = sp
        self.station_id = station_id
        self.key = key or sp.SigningKey.generate()
        self.raws: list[bytes] = []
        self.wall = wall_ms
        self.epoch = 1

    def add(
        self, entity: str, entity_id: str, op: str, fields: dict[str, Any], wall: int | None = None
    ) -> bytes:
        """Append one entry; returns its canonical bytes."""
        sp = self.sp
        self.wall = wall if wall is not None else self.wall + 1000
        prev = sp.entry_hash(self.raws[-1]) if self.raws else None
        entry = sp.make_entry(
            station=self.station_id,
            epoch=self.epoch,
            seq=len(self.raws) + 1,
            prev_hash=prev,
            hlc=(self.wall, 0),
            entity=entity,
            entity_id=entity_id,
            op=op,
            fields=fields,
        )
        self.raws.append(sp.encode_entry(entry))
        return self.raws[-1]

    def batch(self, first: int, last: int, key: Any = None) -> bytes:
        """Signed batch of entries first..last (1-based, inclusive)."""
        return self.sp.sign_batch(
            self.raws[first - 1 : last], key or self.key, self.sp.Hlc(self.wall, 1)
        )

    def call(
        self, body: bytes, now_ms: int | Flask, station_id: str | None = None, key: Any = None
    ) -> dict[str, str]:
        """The signed-call header of a push of `body` (as sent) at the hub's time `now_ms`
        (or an app's clock)."""
        import secrets as _secrets

        if isinstance(now_ms, Flask):
            now_ms = hub_ms(now_ms)
        station = station_id or self.station_id
        header = self.sp.sign_call(
            station,
            "POST",
            f"/stations/{station}/push",
            body,
            now_ms,
            _secrets.token_hex(16),
            key or self.key,
        )
        return {self.sp.CALL_HEADER: header}

    def pull_auth(self, after: int, time_ms: int) -> str:
        """The X-Kuaigong-Auth header for a hub-log pull."""
        from sync_protocol.signed import sign

        return sign(
            "request", {"after": after, "station": self.station_id, "time": time_ms}, self.key
        ).hex()


def hub_ms(app: Flask) -> int:
    """The hub app's clock, in ms."""
    from kuaigong import clock

    with app.app_context():
        return clock.now_ms()


def server_ms(url: str) -> int:
    """A hub server's clock (its Date header), as a station learns it."""
    import email.utils

    import requests

    date = requests.get(f"{url}/api/v1/healthz", timeout=10).headers["Date"]
    return int(email.utils.parsedate_to_datetime(date).timestamp() * 1000)


def enrol_station(app: Flask, name: str = "东城驿站", key: Any = None) -> StationLog:
    """Create a station and enrol a fresh key through the real API; return its log."""
    from central_hub.services import stations

    with app.test_request_context(), db.database.connection_context():
        issued = stations.create_station(
            {"name": name, "district": "东城区", "community": name}, None
        )
    log = StationLog(issued.station.id, key)
    answer = app.test_client().post(
        "/api/v1/enroll", json={"code": issued.code, "public_key": log.key.public_key.hex()}
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return log
