"""The station's blueprints: staff console, kiosk, display board and JSON API."""

from __future__ import annotations

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFProtect

from kuaigong import i18n
from station_node.views import (
    api,
    api_assignments,
    api_complaints,
    api_devices,
    api_devices_io,
    api_jobs,
    api_screening,
    api_sms,
    api_workers,
    board,
    console,
    console_complaints,
    console_devices,
    console_evaluation,
    console_jobs,
    console_printer,
    console_screening,
    console_sms,
    console_workers,
    errors,
    events,
    kiosk,
    kiosk_complaints,
    kiosk_idcard,
    language,
    phone,
    screens,
    sync_status,
    templating,
)

csrf = CSRFProtect()


def register(app: Flask) -> None:
    """Attach language, CSRF protection, the error handlers and every blueprint to the app."""

    if isinstance(app.json, DefaultJSONProvider):
        app.json.ensure_ascii = False  # Chinese as UTF-8, not \uXXXX
    i18n.init_app(app)
    csrf.init_app(app)
    errors.register(app)
    templating.register(app)
    for module in (
        api,
        api_workers,
        api_jobs,
        api_assignments,
        api_complaints,
        api_screening,
        api_devices,
        api_sms,
    ):
        # Bearer-token clients carry no cookie to forge; session callers are checked in auth.
        csrf.exempt(module.bp)
        app.register_blueprint(module.bp)
    for module in (
        language,
        console,
        console_workers,
        console_jobs,
        console_complaints,
        console_screening,
        console_devices,
        console_sms,
        console_evaluation,
        kiosk,
        kiosk_complaints,
        board,
    ):
        app.register_blueprint(module.bp)

    app.register_blueprint(sync_status.bp)
    app.register_blueprint(events.bp)  # GET only: the event stream
    app.register_blueprint(phone.bp)
    csrf.exempt(api_devices_io.bp)  # device tokens only: no cookie to forge
    for module in (api_devices_io, console_printer, kiosk_idcard):
        app.register_blueprint(module.bp)
    screens.register(app)  # the kiosk and board pages show only on a paired screen
