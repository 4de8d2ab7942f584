"""Paired screens: only a paired kiosk or board (or signed-in staff) sees the screen pages.

`kuaigong device kiosk|board` pairs with a code from the console, then asks the station for a
one-time link with its device token (`POST /api/v1/devices/screen-link`) and opens it in the
screen's browser. Opening the link (`/screens/link/<token>`, two minutes, once) leaves a long-lived
signed cookie naming the device and goes on to /kiosk/ or /board/. From then on every request to
a kiosk or board page looks that device up: unknown, revoked or of the other kind, the browser
gets a page (403) saying the screen is not paired and how to pair it; staff signed in on the
console may preview the pages anyway. `SCREENS_NEED_PAIRING = False` turns the check off.

The open page follows its own topic `screen:<device id>` (`static/screen.js`): revoking the
device on the console publishes there, and the page reloads into the refusal at once.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from itsdangerous import BadSignature, URLSafeSerializer

from kuaigong.i18n import lang
from station_node import auth
from station_node.models import Device
from station_node.services import devices

bp = Blueprint("screens", __name__, url_prefix="/screens")

COOKIE = "kuaigong_screen"
COOKIE_SALT = "kuaigong.screen-cookie"
COOKIE_MAX_AGE = 400 * 24 * 3600  # as long as browsers keep a cookie; each new link renews it
MAX_LINK = 64
# The blueprints whose every route is a screen's page, and the kind of screen it belongs to.
SCREEN_BLUEPRINTS = {
    "kiosk": "kiosk",
    "kiosk_complaints": "kiosk",
    "kiosk_idcard": "kiosk",
    "board": "board",
}


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(str(current_app.secret_key), salt=COOKIE_SALT)


def cookie_device_id() -> str | None:
    """The device id the browser's screen cookie names, if the cookie is ours (signed)."""
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 200:
        return None
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return None
    device_id = value.get("d") if isinstance(value, dict) else None
    return device_id if isinstance(device_id, str) and device_id else None


def cookie_screen() -> Device | None:
    """The screen this browser was paired as (looked up now: revoked_at tells if it still is)."""
    if "screen_cookie_device" not in g:
        device_id = cookie_device_id()
        g.screen_cookie_device = devices.screen(device_id) if device_id else None
    found: Device | None = g.screen_cookie_device
    return found


def follows(device_id: str) -> bool:
    """Whether this browser is the paired, not revoked screen `device_id` (its event topic)."""
    device = cookie_screen()
    return device is not None and device.revoked_at is None and str(device.id) == device_id


def _needs_pairing() -> bool:
    return bool(current_app.config.get("SCREENS_NEED_PAIRING", True))


def guard() -> Any:
    """Before every kiosk and board request: a paired screen of that kind, or staff, or 403."""
    kind = SCREEN_BLUEPRINTS.get(request.blueprint or "")
    if kind is None:
        return None
    g.screen = None
    if not _needs_pairing():
        return None
    device = cookie_screen()
    if device is not None and device.revoked_at is None and device.kind == kind:
        g.screen = device
        return None
    if auth.current_staff() is not None:
        return None  # staff previewing from the console
    return refusal(kind, device)


def _texts(kind: str, device: Device | None) -> dict[str, Any]:
    english = lang() == "en"
    page = devices.kind_label(kind, "en" if english else "zh")
    command = f"kuaigong device {kind} --open"
    if device is not None and device.revoked_at is not None:
        why = (
            ("This screen was revoked", f"Staff revoked “{device.name}” on the console.")
            if english
            else ("这台屏幕已被驿站停用", f"驿站工作人员已在控制台停用了设备“{device.name}”。")
        )
    elif device is not None:
        mine = devices.kind_label(device.kind, "en" if english else "zh")
        why = (
            (f"This screen is paired as a {mine.lower()}", f"It cannot show the {page.lower()}.")
            if english
            else (f"这台屏幕配对的是{mine}", f"不能显示{page}的页面。")
        )
    else:
        why = (
            (
                "This screen is not paired with the station",
                f"The {page.lower()} shows only on a paired screen.",
            )
            if english
            else ("这台屏幕还没有与驿站配对", f"{page}的页面只在已配对的屏幕上显示。")
        )
    if english:
        steps = [
            'A staff member signs in to the console, opens Devices and presses "Make a pairing '
            'code".',
            f"On this screen's computer, run: {command}  and type the 6-digit code.",
            "The command opens this screen's page in the browser; from then on it shows here.",
        ]
        how, staff = (
            "How to pair it",
            "Station staff may preview this page: sign in to the console.",
        )
        sign_in = "Staff sign-in"
    else:
        steps = [
            "驿站工作人员登录控制台，打开“设备”页，点“生成配对码”。",
            f"在这台屏幕的电脑上运行：{command}  ，输入 6 位配对码。",
            "命令会用浏览器打开本屏幕的页面，此后这台屏幕就能正常显示。",
        ]
        how, staff = "怎样配对", "驿站工作人员登录控制台后，可以直接预览本页面。"
        sign_in = "工作人员登录"
    return {
        "title": why[0],
        "lead": why[1],
        "how": how,
        "steps": steps,
        "staff": staff,
        "sign_in": sign_in,
    }


def refusal(kind: str, device: Device | None) -> Response:
    """The page a screen that may not show `kind`'s pages gets instead (403, never cached)."""
    back = request.full_path.rstrip("?") if request.method == "GET" else f"/{kind}/"
    body = render_template(
        "screens/refused.html",
        text=_texts(kind, device),
        sign_in_url=url_for("console.login", next=back),
    )
    response = current_app.make_response((body, 403))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/link/<token>")
def open_link(token: str) -> Any:
    """Open a one-time screen link: leave the screen's cookie and go to its page."""
    if len(token) > MAX_LINK:
        token = ""  # no link is that long: answered as an unknown one
    device = devices.open_screen_link(token)
    response = redirect(devices.SCREEN_PAGES[device.kind])
    response.set_cookie(
        COOKIE,
        _serializer().dumps({"d": str(device.id)}),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/check")
def check() -> Any:
    """Whether this browser may still show `?kind=` pages (204) or not (403): the open page asks
    when its event stream was refused, without touching a resident's kiosk session."""
    kind = request.args.get("kind", "")
    if kind not in devices.SCREEN_KINDS:
        return "", 404
    if not _needs_pairing():
        return "", 204, {"Cache-Control": "no-store"}
    device = cookie_screen()
    fine = device is not None and device.revoked_at is None and device.kind == kind
    return "", 204 if fine else 403, {"Cache-Control": "no-store"}


def register(app: Flask) -> None:
    """The link and check routes, and the check before every kiosk and board request."""
    app.register_blueprint(bp)
    # First of the app's checks: an unpaired screen is told so, not asked for a form's token.
    app.before_request_funcs.setdefault(None, []).insert(0, guard)
