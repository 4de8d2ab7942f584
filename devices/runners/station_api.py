"""The station's HTTP API as a device process sees it: JSON over `requests` with a device token.

Every call has a timeout. A station that cannot be reached raises `StationUnreachable` (the
runner waits and tries again); an answer the station refused raises `StationRefused` with the
station's own message, which is already in Chinese.
"""

from __future__ import annotations

from typing import Any

import requests


class StationError(Exception):
    """The station could not take the call; `message_zh`/`message_en` say why."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(f"{message_zh}\n{message_en}")
        self.message_zh = message_zh
        self.message_en = message_en


class StationUnreachable(StationError):
    """No answer: the station is off, restarting, or the network is down."""


class StationRefused(StationError):
    """The station answered with an error (`status`, its `code`)."""

    def __init__(self, status: int, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_zh, message_en)
        self.status = status
        self.code = code


class StationApi:
    """POSTs JSON to `<base_url>/api/v1/...` with `Authorization: Bearer <token>`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = session or requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """The answer's JSON object; raises StationUnreachable or StationRefused."""
        url = f"{self.base_url}/api/v1{path}"
        try:
            response = self._session.post(url, json=body or {}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise StationUnreachable(
                f"连不上驿站（{self.base_url}）", f"cannot reach the station at {self.base_url}"
            ) from exc
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.status_code >= 400:
            error = data.get("error")
            if not isinstance(error, dict):
                error = {}
            message = str(error.get("message") or f"驿站拒绝了请求（{response.status_code}）")
            raise StationRefused(
                response.status_code,
                str(error.get("code") or "http_error"),
                message,
                f"the station refused the request ({response.status_code}): {message}",
            )
        return data

    def close(self) -> None:
        self._session.close()
