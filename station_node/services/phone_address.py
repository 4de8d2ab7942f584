"""The address phones on the station's Wi-Fi open: what the QR codes on the board and on
printed slips carry.

In order: `PUBLIC_URL` when staff set it; else the address this request came in on, unless that
is the station PC talking to itself (127.0.0.1, localhost), which no phone can reach; else the
address `kuaigong station run` serves on (`SERVING_URL`: the LAN address it found when serving on
every interface); else, as a last resort, the request's own address or localhost. A slip printed
by the dispatch beat (a confirmed SMS offer) has no request at all, so without the serving
address its QR code would point phones at themselves.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request


def _loopback(host: str) -> bool:
    """Whether a Host header ("127.0.0.1:8080", "[::1]:8080", "localhost") names this PC."""
    name = urlsplit(f"//{host}").hostname or ""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def phone_base_url() -> str:
    """The station's address for phones, without a trailing slash."""
    configured = str(current_app.config.get("PUBLIC_URL") or "")
    if configured:
        return configured.rstrip("/")
    in_request = has_request_context()
    if in_request and not _loopback(request.host):
        return request.host_url.rstrip("/")
    serving = str(current_app.config.get("SERVING_URL") or "")
    if serving:
        return serving.rstrip("/")
    if in_request:
        return request.host_url.rstrip("/")
    return "http://localhost"
