"""The language switch: a link that remembers 中文 or English for this browser's session."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response

from kuaigong import i18n

bp = Blueprint("language", __name__)


def safe_next(target: str | None) -> str:
    """Only same-site paths: never bounce the user to another host."""
    if not target:
        return "/"
    parts = urlparse(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return "/"  # "/\\host" is another host to a browser; a line break would split the header
    return target


@bp.get("/lang/<code>")
def switch(code: str) -> Response:
    """Remember the chosen language and go back to the page the user came from."""
    i18n.remember(code)
    return redirect(safe_next(request.args.get("next")))
