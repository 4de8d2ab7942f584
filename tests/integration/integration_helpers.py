"""Real hub servers (waitress on 127.0.0.1:0, in a thread or a subprocess) and station apps
on their own SQLite files, for the end-to-end sync tests.

The station app binds one process-wide database proxy, so each `Station` re-binds it to its
own file before it does anything (`with st.ctx():`, `st.sync()`); the hub runs on its own proxy
in its server threads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import waitress
from flask import Flask
from pg_helpers import PG_URL, drop_schema, pg_or_skip
from stdnum.cn import ric, uscc

ROOT = Path(__file__).resolve().parents[2]


def hub_config(tmp: Path, engine: str) -> tuple[dict[str, Any], str]:
    """Hub test config for `engine` and its PostgreSQL schema ('' on SQLite)."""
    config: dict[str, Any] = {"DATA_DIR": str(tmp / "hub"), "TESTING": True}
    schema = ""
    if engine == "postgres":
        pg_or_skip()
        schema = f"synctest_{os.getpid()}_{secrets.token_hex(4)}"
        config.update(DATABASE_URL=PG_URL, DATABASE_SCHEMA=schema)
    return config, schema


class Hub:
    """A hub app served by waitress on 127.0.0.1:<free port> in a thread."""

    def __init__(self, tmp: Path, engine: str = "sqlite") -> None:
        from central_hub import create_app, db, keys

        config, self.schema = hub_config(tmp, engine)
        self.app: Flask = create_app(config)
        db.migrate(self.schema)
        keys.ensure_keys(self.app)
        self.server: Any = None
        self.thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Hub:
        """Serve (again on the same port after `stop`, when it was served before)."""
        self.server = waitress.create_server(
            self.app, host="127.0.0.1", port=self.port, threads=4, ident="kuaigong-hub-test"
        )
        self.port = self.server.effective_port
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (the port closes; stations see the hub unreachable)."""
        if self.server is not None:
            self.server.close()
            if self.thread is not None:
                self.thread.join(5)

    @contextlib.contextmanager
    def ctx(self) -> Iterator[None]:
        """An app context with a connection, for calling hub services directly."""
        from central_hub import db

        with self.app.test_request_context(), db.database.connection_context():
            yield

    def new_code(self, name: str) -> tuple[str, str]:
        """Create a station at the hub (an admin's step); returns (station id, one-time code)."""
        from central_hub.services import stations

        with self.ctx():
            issued = stations.create_station(
                {"name": name, "district": "东城区", "community": name}, None
            )
        return issued.station.id, issued.code

    def close(self) -> None:
        """Stop and drop the PostgreSQL schema."""
        from central_hub import db

        with contextlib.suppress(Exception):
            if self.server is not None:
                self.server.close()
        if not db.database.is_closed():
            db.database.close()
        if self.schema:
            drop_schema(self.schema)


class HubProcess:
    """`tests/integration/hub_serve.py` in a subprocess (so it can be SIGKILLed)."""

    def __init__(self, tmp: Path, engine: str = "sqlite") -> None:
        self.config, self.schema = hub_config(tmp, engine)
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.app: Flask | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, env: dict[str, str] | None = None) -> HubProcess:
        import json

        cmd = [
            sys.executable,
            str(Path(__file__).with_name("hub_serve.py")),
            json.dumps(self.config),
            str(self.port),
        ]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, **(env or {})}
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("port "), f"hub did not start: {line!r}"
        self.port = int(line.split()[1])
        return self

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush — like pulling the plug."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def admin_app(self) -> Flask:
        """An in-process app on the same database, for admin steps and assertions."""
        if self.app is None:
            from central_hub import create_app

            self.app = create_app(self.config)
        return self.app

    @contextlib.contextmanager
    def ctx(self) -> Iterator[None]:
        from central_hub import db

        with self.admin_app().test_request_context(), db.database.connection_context():
            yield

    def new_code(self, name: str) -> tuple[str, str]:
        from central_hub.services import stations

        with self.ctx():
            issued = stations.create_station(
                {"name": name, "district": "东城区", "community": name}, None
            )
        return issued.station.id, issued.code

    def close(self) -> None:
        self.kill()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        if self.schema:
            drop_schema(self.schema)


_ids = itertools.count(1)


def id_number(seq: int, birth: str = "19800101") -> str:
    """A valid resident ID number."""
    body = f"110105{birth}{seq % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def credit_code(n: int) -> str:
    """A valid unified social credit code."""
    body = f"91110105MA0{n:06d}"
    return body + uscc.calc_check_digit(body)


class Station:
    """A station app on its own data folder (SQLite file, keys, sync state)."""

    def __init__(self, tmp: Path, name: str, **config: Any) -> None:
        from station_node import create_app, db
        from station_node.identity import ensure_keys

        self.name = name
        self.app: Flask = create_app(
            {
                "DATA_DIR": str(tmp / name),
                "TESTING": True,
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                "SCREENS_NEED_PAIRING": False,  # its tests open the kiosk pages directly
                **config,
            }
        )
        self.activate()
        db.migrate()
        ensure_keys(self.app)
        with self.ctx():
            from station_node.services.staff import create_staff

            create_staff("wang", "王主任", "admin", "password-1")

    def activate(self) -> None:
        """Bind the station database proxy to this station's file."""
        from station_node import db

        db.open_database(db.database_path(self.app))  # closes the connections of the one before

    @contextlib.contextmanager
    def ctx(self) -> Iterator[None]:
        """This station's app context with an open connection."""
        from station_node import db

        self.activate()
        with self.app.app_context(), db.database.connection_context():
            yield

    @property
    def staff(self) -> Any:
        from station_node.models import Staff

        return Staff.get(Staff.username == "wang")

    def enroll(self, hub: Any, code: str) -> dict[str, Any]:
        from station_node.sync.enrolment import enroll

        self.activate()
        return enroll(self.app, hub.url, code)

    def sync(self) -> Any:
        from station_node.sync.client import sync_once

        self.activate()
        return sync_once(self.app)

    @property
    def station_id(self) -> str:
        from station_node import station_state as state

        with self.app.app_context():
            enr = state.enrolment()
            assert enr is not None
            return enr.station_id

    def today(self) -> dt.date:
        """The station's calendar date by its own clock (never the test machine's zone)."""
        from station_node.services import local_today

        with self.app.app_context():
            return local_today()

    # -- work at the station ------------------------------------------------------------------
    def worker(self, number: str | None = None, name: str = "张三", **over: Any) -> str:
        from station_node.services.registration import register_worker

        n = next(_ids)
        data = {
            "name": name,
            "id_number": number or id_number(n + 100),
            "mobile": f"138{n:08d}",
            "skills": ["cleaning", "moving"],
            "areas": ["团结湖社区"],
            "availability": {"days": [0, 1, 2, 3, 4, 5, 6], "from": "06:00", "to": "22:00"},
            **over,
        }
        with self.ctx():
            return register_worker(data, self.staff).id

    def employer(self, n: int | None = None) -> str:
        from station_node.services.registration import register_employer

        n = n or next(_ids)
        with self.ctx():
            return register_employer(
                {
                    "kind": "organisation",
                    "name": f"朝阳物业服务有限公司{n}",
                    "credit_code": credit_code(n),
                    "contact_name": "李经理",
                    "mobile": "13912345678",
                    "address": "北京市朝阳区团结湖路1号",
                },
                self.staff,
            ).id

    def job(
        self,
        employer_id: str,
        day: dt.date,
        start: str = "08:00",
        end: str = "17:00",
        title: str = "小区保洁",
    ) -> str:
        from station_node.services.posting import post_job

        with self.ctx():
            return post_job(
                {
                    "employer_id": employer_id,
                    "title": title,
                    "category": "property",
                    "description": "楼道和地库清扫，工具由物业提供",
                    "skills": ["cleaning"],
                    "headcount": 2,
                    "pay_fen": 2500,
                    "pay_unit": "hour",
                    "address": "团结湖北里3号楼",
                    "community": "团结湖社区",
                    "starts_at": f"{day}T{start}",
                    "ends_at": f"{day}T{end}",
                    "source": "walk_in",
                    "dispatch_mode": "grab",
                },
                self.staff,
            ).id

    def assign(self, job_id: str, worker_id: str) -> str:
        from station_node.services.dispatch import assign

        with self.ctx():
            return assign(job_id, worker_id, self.staff).id

    def entries(self) -> int:
        from station_node.models import ChangeEntry

        with self.ctx():
            return ChangeEntry.select().count()

    def status(self) -> dict[str, Any]:
        from station_node import station_state as state

        with self.app.app_context():
            return state.status()

    def close(self) -> None:
        from station_node import db

        db.close_all()
