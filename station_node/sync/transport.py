"""HTTP to the hub with `requests`: gzip bodies, short timeouts, typed failures.

Two ways a call fails: the hub cannot be reached (connection refused or cut, timeout, a 5xx, a
reply cut short) → `HubUnreachable`, retried later with back-off; or the hub answered with a
refusal → `HubRefused` carrying its code and message, shown to staff.
"""

from __future__ import annotations

import email.utils
import gzip
import secrets
import time
from typing import Any

import requests

import sync_protocol as sp
from kuaigong.errors import KuaigongError

CONNECT_TIMEOUT = 5.0
HEAD_HEADER = "X-Kuaigong-Head"  # our log's head on a pull: the hub notices a restored station
READ_TIMEOUT = 30.0


class SyncError(KuaigongError):
    """A sync step failed in a way staff can act on (code, Chinese and English message)."""


class HubUnreachable(SyncError):
    """No usable answer from the hub (network down, hub down, reply cut short)."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            "hub_unreachable",
            f"连不上市级中心：{detail}",
            f"The hub cannot be reached: {detail}",
            status=503,
        )


class HubRefused(SyncError):
    """The hub answered with a refusal."""

    def __init__(
        self,
        code: str,
        message_zh: str,
        message_en: str,
        status: int,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code, message_zh, message_en, details={"body": body or {}}, status=status)


def _refused(response: requests.Response) -> HubRefused:
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {}
    message = str(error.get("message") or response.reason or "")
    zh = str(error.get("message_zh") or message)
    en = str(error.get("message_en") or message)
    return HubRefused(
        str(error.get("code") or f"http_{response.status_code}"),
        f"市级中心拒绝了请求：{zh}",
        f"The hub refused the request: {en}",
        response.status_code,
        body if isinstance(body, dict) else None,
    )


def _stale_call_hub_time(response: requests.Response) -> int | None:
    """The hub's time from a `call_stale` refusal (our call's time was outside its window)."""
    if response.status_code != 401:
        return None
    try:
        error = response.json().get("error") or {}
        hub_time = (
            (error.get("details") or {}).get("hub_time")
            if error.get("code") == "call_stale"
            else None
        )
    except (ValueError, AttributeError):
        return None
    return hub_time if isinstance(hub_time, int) else None


class HubClient:
    """The hub's station API at `base_url` (…/api/v1 is added)."""

    def __init__(self, base_url: str, session: requests.Session | None = None) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"
        self.http = session or requests.Session()
        self.hub_time_ms: int | None = None  # from the last reply's Date header or body
        self._hub_time_at = 0.0  # time.monotonic() when hub_time_ms was learned

    def _learn_hub_time(self, hub_ms: int) -> None:
        self.hub_time_ms, self._hub_time_at = hub_ms, time.monotonic()

    def hub_now_ms(self, fallback_ms: int) -> int:
        """The hub's clock as last heard plus the time since (else `fallback_ms`)."""
        if self.hub_time_ms is None:
            return fallback_ms
        return self.hub_time_ms + int((time.monotonic() - self._hub_time_at) * 1000)

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", (CONNECT_TIMEOUT, READ_TIMEOUT))
        headers = {"Accept-Language": "zh-CN", **kwargs.pop("headers", {})}
        try:
            response = self.http.request(method, self.base + path, headers=headers, **kwargs)
            response.content  # noqa: B018  (read the whole body now: a cut reply fails here)
        except requests.RequestException as exc:
            raise HubUnreachable(type(exc).__name__) from None
        date = response.headers.get("Date")
        if date:
            try:
                self._learn_hub_time(
                    int(email.utils.parsedate_to_datetime(date).timestamp() * 1000)
                )
            except (TypeError, ValueError):
                pass
        if response.status_code >= 500:
            raise HubUnreachable(f"HTTP {response.status_code}")
        return response

    def _json(self, response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise HubUnreachable("reply is not JSON (cut short?)") from None
        if not isinstance(body, dict):
            raise HubUnreachable("reply is not a JSON object")
        return body

    def health(self) -> None:
        """Reachability check; also learns the hub's time from the Date header."""
        response = self._call("GET", "/healthz", timeout=(CONNECT_TIMEOUT, 5.0))
        if response.status_code != 200:
            raise _refused(response)

    def enroll(self, code: str, public_key_hex: str) -> dict[str, Any]:
        """Register our public key with a one-time code; the hub's keys come back."""
        response = self._call("POST", "/enroll", json={"code": code, "public_key": public_key_hex})
        if response.status_code != 201:
            raise _refused(response)
        return self._json(response)

    def push(
        self, station: str, batch: bytes, pending: int, wall_ms: int, key: sp.SigningKey
    ) -> tuple[int, dict[str, Any]]:
        """POST one signed batch (gzip) with a call signed by `key` over the gzip body; returns
        (HTTP status, JSON body) for 200/202/409/4xx verdicts."""
        body = gzip.compress(batch, compresslevel=5)
        path = f"/stations/{station}/push"
        for _attempt in range(2):  # once more when the hub says our idea of its time was off
            call = sp.sign_call(
                station, "POST", path, body, self.hub_now_ms(wall_ms), secrets.token_hex(16), key
            )
            response = self._call(
                "POST",
                path,
                data=body,
                headers={
                    "Content-Type": "application/x-kuaigong-batch",
                    "Content-Encoding": "gzip",
                    "X-Kuaigong-Pending": str(pending),
                    "X-Kuaigong-Wall": str(wall_ms),
                    sp.CALL_HEADER: call,
                },
            )
            hub_time = _stale_call_hub_time(response)
            if hub_time is None:
                break
            self._learn_hub_time(hub_time)
        data = (
            self._json(response)
            if response.headers.get("Content-Type", "").startswith("application/json")
            else {}
        )
        if "receipt" not in data:
            raise _refused(response)
        if isinstance(data.get("hub_time"), int):
            self._learn_hub_time(data["hub_time"])
        return response.status_code, data

    def pull(
        self,
        station: str,
        after: int,
        limit: int,
        auth_hex: str,
        head: tuple[int, int] | None = None,
    ) -> dict[str, Any]:
        """GET the hub log after `after` (signed ask); `head` (epoch, seq) is our log's head."""
        headers = {"X-Kuaigong-Auth": auth_hex}
        if head is not None:
            headers[HEAD_HEADER] = f"{head[0]}:{head[1]}"
        response = self._call(
            "GET",
            f"/stations/{station}/hub-log",
            params={"after": after, "limit": limit},
            headers=headers,
        )
        if response.status_code != 200:
            raise _refused(response)
        data = self._json(response)
        if isinstance(data.get("hub_time"), int):
            self._learn_hub_time(data["hub_time"])
        return data
