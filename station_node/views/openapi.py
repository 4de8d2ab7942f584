"""The OpenAPI 3.1 document of the station's JSON API, written by hand next to the views."""

from __future__ import annotations

from typing import Any

from devices.kinds import DeviceKind
from kuaigong import errors
from kuaigong.states import JobStatus
from station_node import catalog
from station_node.services import complaints, vocabulary


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _codes(table: catalog.Labels) -> dict[str, Any]:
    return {"type": "string", "enum": list(table)}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Malformed body (not JSON, not an object) or CSRF token missing on a session call",
        401: "No valid credentials",
        403: "Not allowed for this role or this worker",
        404: "No such record",
        409: "The state forbids it (job_full, overlapping_booking, job_not_open, offer_closed …)",
        413: "Body too large",
        422: "Invalid fields: each named in error.fields",
        429: "Too many wrong attempts: wait error.details.retry_after seconds",
    }
    return {
        str(s): {"description": text[s], "content": {"application/json": {"schema": _ref("Error")}}}
        for s in statuses
    }


def _op(
    summary: str,
    ok: int,
    schema: str | None,
    body: str | None = None,
    errors: tuple[int, ...] = (400, 401, 403, 404, 422),
    public: bool = False,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            str(ok): {
                "description": "OK",
                "content": {
                    "application/json": {"schema": _ref(schema) if schema else {"type": "object"}}
                },
            },
            **_errors(*errors),
        },
    }
    if body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    if public:
        op["security"] = []
    return op


def _id(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "maxLength": 64},
    }


def _events_op() -> dict[str, Any]:
    """The live event stream: Server-Sent Events, not JSON."""
    op = _op(
        "Live events as Server-Sent Events (id, event, data as JSON). Topics: board (public); "
        "worker or worker:<id> (that worker's phone or kiosk session or token, or staff); "
        "staff; screen:<device id>. Resume with the Last-Event-ID header (or last_event_id); "
        "an id older than the station holds gets a `reload` event. Each stream ends after "
        "about 25 s and the client reconnects.",
        200,
        None,
        errors=(400, 401, 403, 422),
        public=True,
    )
    event = {
        "type": "object",
        "properties": {"id": {"type": "string"}, "event": {"type": "string"}, "data": {}},
    }
    op["responses"]["200"]["content"] = {"text/event-stream": {"schema": event}}
    op["parameters"] = [
        {"name": "topics", "in": "query", "schema": {"type": "string", "default": "board"}},
        {"name": "last_event_id", "in": "query", "schema": {"type": "integer"}},
        {"name": "Last-Event-ID", "in": "header", "schema": {"type": "string"}},
    ]
    return op


def _paths() -> dict[str, Any]:
    lifecycle = {
        "checkin": ("The worker arrived on site", None),
        "no-show": ("The worker did not come", None),
        "complete": ("Work done, with quantity in the pay unit (hours in tenths)", "CompleteInput"),
        "settle": ("Record the pay the employer handed over", "SettleInput"),
        "confirm-pay": ("The worker confirms receipt of pay (worker token or staff)", None),
        "rate": ("Rate 1..5 (worker rates employer, employer rates worker)", "RateInput"),
        "cancel": ("Cancel before the work starts (late when close to the start)", "CancelInput"),
    }
    paths: dict[str, Any] = {
        "/healthz": {"get": _op("Liveness and database check", 200, None, errors=(), public=True)},
        "/openapi.json": {"get": _op("This document", 200, None, errors=(), public=True)},
        "/me": {"get": _op("Who the credentials belong to", 200, None, errors=(401,))},
        "/stats": {
            "get": _op("Station figures: today and all time", 200, "Stats", errors=(401, 403))
        },
        "/workers": {
            "post": _op(
                "Register a worker",
                201,
                "WorkerEnvelope",
                "WorkerInput",
                (400, 401, 403, 409, 413, 422),
            ),
            "get": _op("List workers (?q= name or mobile)", 200, None, errors=(401, 403)),
        },
        "/workers/{worker_id}": {
            "get": _op("A worker with their assignments", 200, "WorkerEnvelope")
        },
        "/workers/{worker_id}/checkin": {
            "post": _op("Check in to today's present pool", 200, None)
        },
        "/workers/{worker_id}/token": {
            "post": _op("Issue the worker's own token (shown once)", 201, None)
        },
        "/workers/{worker_id}/offers": {"get": _op("The worker's pending offers", 200, None)},
        "/employers": {
            "post": _op(
                "Register an employer",
                201,
                "EmployerEnvelope",
                "EmployerInput",
                (400, 401, 403, 409, 413, 422),
            )
        },
        "/employers/{employer_id}": {"get": _op("An employer", 200, "EmployerEnvelope")},
        "/employers/{employer_id}/block": {
            "post": _op("Block an employer (admin)", 200, "EmployerEnvelope", "ReasonInput")
        },
        "/employers/{employer_id}/unblock": {
            "post": _op("Unblock an employer (admin)", 200, "EmployerEnvelope")
        },
        "/jobs": {
            "post": _op(
                "Post a job: screened, then held or opened for dispatch",
                201,
                "JobDetail",
                "JobInput",
                (400, 401, 403, 404, 413, 422),
            ),
            "get": _op("List jobs (?status=)", 200, None, errors=(401, 422)),
        },
        "/jobs/{job_id}": {
            "get": _op(
                "A job with its dispatch state; staff also get the ranking with reasons",
                200,
                "JobDetail",
            )
        },
        "/jobs/{job_id}/release": {
            "post": _op(
                "Release a held job after review", 200, "JobDetail", errors=(401, 403, 404, 409)
            )
        },
        "/jobs/{job_id}/reject": {
            "post": _op(
                "Reject a held job",
                200,
                None,
                "RequiredReasonInput",
                (400, 401, 403, 404, 409, 422),
            )
        },
        "/jobs/{job_id}/cancel": {
            "post": _op(
                "Cancel a job", 200, None, "RequiredReasonInput", (400, 401, 403, 404, 409, 422)
            )
        },
        "/jobs/{job_id}/grab": {
            "post": _op(
                "Grab a place (worker token: for itself; staff: worker_id)",
                201,
                "AssignmentEnvelope",
                "GrabInput",
                (400, 401, 403, 404, 409, 422),
            )
        },
        "/jobs/{job_id}/assign": {
            "post": _op(
                "Assign a worker by hand",
                201,
                "AssignmentEnvelope",
                "GrabInput",
                (400, 401, 403, 404, 409, 422),
            )
        },
        "/offers/{offer_id}/accept": {
            "post": _op("Accept an offer", 201, "AssignmentEnvelope", errors=(401, 403, 404, 409))
        },
        "/offers/{offer_id}/decline": {
            "post": _op("Decline an offer", 200, None, errors=(401, 403, 404, 409))
        },
        "/board": {"get": _op("Live dispatch board rows", 200, None, errors=(401, 403))},
        "/complaints": {
            "post": _op(
                "File a complaint (staff, or a worker token for itself)",
                201,
                None,
                "ComplaintInput",
                (400, 401, 403, 404, 413, 422),
            ),
            "get": _op(
                "List complaints, open first (?status=; a worker token sees its own)",
                200,
                None,
                errors=(401, 422),
            ),
        },
        "/complaints/{complaint_id}/resolve": {
            "post": _op(
                "Resolve a complaint (staff)",
                200,
                None,
                "ResolutionInput",
                (400, 401, 403, 404, 409, 422),
            )
        },
    }
    paths["/screening/phrases"] = {
        "get": _op(
            "Screening vocabulary: the station's phrases and the city's",
            200,
            "PhraseList",
            errors=(401, 403),
        ),
        "post": _op(
            "Add a screening phrase (admin); stored normalised, once per kind",
            201,
            "PhraseEnvelope",
            "PhraseInput",
            (400, 401, 403, 413, 422),
        ),
    }
    paths["/screening/phrases/{phrase_id}"] = {
        "delete": _op(
            "Remove a screening phrase (admin)", 200, "PhraseEnvelope", errors=(401, 403, 404)
        ),
    }
    paths["/sms/claim"] = {
        "post": _op(
            "SMS gateway: claim up to `limit` queued messages, most urgent first (now sending)",
            200,
            "SmsClaimed",
            "SmsClaimInput",
            (400, 401, 403, 413, 422),
        )
    }
    paths["/sms/{message_id}/result"] = {
        "post": _op(
            "SMS gateway: a claimed message was sent (with references) or failed (with why)",
            200,
            "SmsResultEnvelope",
            "SmsResultInput",
            (400, 401, 403, 404, 413, 422),
        )
    }
    paths["/sms/incoming"] = {
        "post": _op(
            "SMS gateway: a message a phone sent; a reply 1/2 answers that worker's offer",
            201,
            "SmsIncomingEnvelope",
            "SmsIncomingInput",
            (400, 401, 403, 413, 422),
        )
    }
    paths["/devices/pair"] = {
        "post": _op(
            "Pair a device with the 6-digit code shown on the console; the token is shown once",
            201,
            "DevicePairing",
            "PairInput",
            (400, 401, 413, 422, 429),
            public=True,
        )
    }
    paths["/devices/station"] = {
        "get": _op(
            "This station's id, name and key fingerprint (for a device to check before pairing)",
            200,
            "StationAbout",
            errors=(),
            public=True,
        )
    }
    paths["/devices/me"] = {
        "get": _op(
            "The paired device this device token belongs to, and its station",
            200,
            "DeviceMe",
            errors=(401, 403),
        )
    }
    paths["/devices/screen-link"] = {
        "post": _op(
            "Kiosk or board: a one-time link (2 minutes) its browser opens to show its pages",
            201,
            "ScreenLink",
            errors=(401, 403),
        )
    }
    paths["/events"] = {"get": _events_op()}
    paths["/printer/claim"] = {
        "post": _op(
            "Printer: claim up to `limit` (1-50, default 5) queued job slips (now printing)",
            200,
            None,
            errors=(400, 401, 403, 413, 422),
        )
    }
    for outcome in ("printed", "failed"):
        paths[f"/printer/slips/{{slip_id}}/{outcome}"] = {
            "post": _op(
                f"Printer: a claimed slip was {outcome} (`error` says why it failed)",
                200,
                None,
                errors=(400, 401, 403, 404, 409, 413),
            )
        }
    paths["/printer/status"] = {
        "post": _op(
            "Printer: its state (unknown, ready, offline, error) and problem, for the console",
            200,
            None,
            errors=(400, 401, 403, 413, 422),
        )
    }
    paths["/idcard/reads"] = {
        "post": _op(
            "ID card reader: a card's text fields (never the photo); an expired card gets 409",
            201,
            None,
            errors=(400, 401, 403, 409, 413, 422),
        )
    }
    for action, (summary, body) in lifecycle.items():
        paths[f"/assignments/{{assignment_id}}/{action}"] = {
            "post": _op(summary, 200, "AssignmentEnvelope", body, (400, 401, 403, 404, 409, 422))
        }
    for path, item in paths.items():
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        if names:
            item["parameters"] = [_id(n) for n in names]
    return paths


def _schemas() -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "Error": errors.openapi_schema(),
        "WorkerInput": {
            "type": "object",
            "required": ["name", "id_number", "mobile", "skills", "areas"],
            "properties": {
                "name": {"type": "string", "maxLength": 64},
                "id_number": {
                    "type": "string",
                    "description": "Resident ID (GB 11643); stored encrypted, shown masked",
                },
                "mobile": {"type": "string", "pattern": "^(\\+86)?1[3-9]\\d{9}$"},
                "skills": {"type": "array", "items": _codes(catalog.SKILLS)},
                "areas": {"type": "array", "items": text},
                "availability": {
                    "type": "object",
                    "properties": {
                        "days": {
                            "type": "array",
                            "items": {"type": "integer", "minimum": 0, "maximum": 6},
                        },
                        "from": {"type": "string", "pattern": "^\\d{2}:\\d{2}$"},
                        "to": {"type": "string", "pattern": "^\\d{2}:\\d{2}$"},
                    },
                },
                "priority_groups": {"type": "array", "items": _codes(catalog.PRIORITY_GROUPS)},
                "consent": {
                    "type": "object",
                    "description": "Required with priority_groups",
                    "properties": {"given": {"type": "boolean"}, "purpose": text},
                },
            },
        },
        "EmployerInput": {
            "type": "object",
            "required": ["kind", "name", "contact_name", "mobile", "address"],
            "properties": {
                "kind": _codes(catalog.EMPLOYER_KINDS),
                "name": text,
                "id_number": {"type": "string", "description": "person"},
                "credit_code": {"type": "string", "description": "organisation (GB 32100)"},
                "contact_name": text,
                "mobile": text,
                "address": text,
            },
        },
        "JobInput": {
            "type": "object",
            "required": [
                "employer_id",
                "title",
                "category",
                "headcount",
                "pay_fen",
                "pay_unit",
                "address",
                "community",
            ],
            "properties": {
                "employer_id": text,
                "title": {"type": "string", "maxLength": 100},
                "category": _codes(catalog.CATEGORIES),
                "description": text,
                "skills": {"type": "array", "items": _codes(catalog.SKILLS)},
                "headcount": {"type": "integer", "minimum": 1},
                "pay_fen": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "Pay in fen (1/100 yuan)",
                },
                "pay_unit": _codes(catalog.PAY_UNITS),
                "address": text,
                "community": text,
                "starts_at": {
                    "type": "string",
                    "description": "ISO 8601; without offset = station local time",
                },
                "ends_at": {"type": "string"},
                "time_flexible": {"type": "boolean"},
                "term": _codes(catalog.TERMS),
                "urgency": _codes(catalog.URGENCIES),
                "insurance_required": {"type": "boolean"},
                "source": _codes(catalog.SOURCES),
                "source_department": text,
                "dispatch_mode": _codes(catalog.DISPATCH_MODES),
            },
        },
        "GrabInput": {
            "type": "object",
            "properties": {
                "worker_id": {
                    "type": "string",
                    "description": "Required for staff; a worker token grabs for itself",
                }
            },
        },
        "ReasonInput": {
            "type": "object",
            "properties": {"reason": {"type": "string", "maxLength": 200}},
        },
        "RequiredReasonInput": {
            "type": "object",
            "required": ["reason"],
            "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 200}},
        },
        "CompleteInput": {
            "type": "object",
            "required": ["quantity"],
            "properties": {"quantity": {"type": "integer", "minimum": 1}},
        },
        "SettleInput": {
            "type": "object",
            "required": ["pay_fen", "pay_method"],
            "properties": {
                "pay_fen": {"type": "integer", "minimum": 1},
                "pay_method": _codes(catalog.PAY_METHODS),
            },
        },
        "RateInput": {
            "type": "object",
            "required": ["stars"],
            "properties": {
                "by": {
                    "type": "string",
                    "enum": ["worker", "employer"],
                    "description": "Staff must say; a worker token rates the employer",
                },
                "stars": {"type": "integer", "minimum": 1, "maximum": 5},
            },
        },
        "CancelInput": {
            "type": "object",
            "properties": {
                "by": {"type": "string", "enum": ["worker", "employer", "staff"]},
                "reason": {"type": "string", "maxLength": 200},
            },
        },
        "WorkerEnvelope": {
            "type": "object",
            "properties": {
                "worker": {
                    "type": "object",
                    "properties": {
                        "id": text,
                        "name": text,
                        "id_number_masked": {"type": "string", "examples": ["110105********002X"]},
                        "birth_date": text,
                        "sex": text,
                        "mobile": text,
                    },
                }
            },
        },
        "EmployerEnvelope": {"type": "object", "properties": {"employer": {"type": "object"}}},
        "AssignmentEnvelope": {
            "type": "object",
            "properties": {
                "assignment": {
                    "type": "object",
                    "properties": {
                        "id": text,
                        "job_id": text,
                        "worker_id": text,
                        "via": text,
                        "status": text,
                    },
                }
            },
        },
        "JobDetail": {
            "type": "object",
            "properties": {
                "job": {
                    "type": "object",
                    "properties": {
                        "id": text,
                        "status": {
                            "type": "string",
                            "enum": [status.value for status in JobStatus],
                        },
                        "screening": {
                            "type": "object",
                            "properties": {
                                "held": {"type": "boolean"},
                                "reasons": {"type": "array"},
                            },
                        },
                        "dispatch": {"type": "object"},
                    },
                },
                "dispatch_state": {
                    "type": "object",
                    "description": "Countdown and who was offered, declined, confirmed",
                },
                "ranking": {
                    "type": "array",
                    "description": "Staff only: each worker's rank, score and reasons",
                },
                "my_ranking": {
                    "type": "array",
                    "description": "Worker token: the worker's own entry",
                },
            },
        },
        "ComplaintInput": {
            "type": "object",
            "required": ["by", "kind", "text"],
            "properties": {
                "by": {"type": "string", "enum": ["worker", "employer", "resident"]},
                "kind": _codes(complaints.KINDS),
                "text": {"type": "string", "minLength": 5, "maxLength": 1000},
                "job_id": text,
                "worker_id": text,
                "employer_id": text,
            },
        },
        "ResolutionInput": {
            "type": "object",
            "required": ["resolution"],
            "properties": {"resolution": {"type": "string", "maxLength": 1000}},
        },
        "PhraseInput": {
            "type": "object",
            "required": ["kind", "phrase"],
            "properties": {
                "kind": {"type": "string", "enum": list(vocabulary.PHRASE_KINDS)},
                "phrase": {
                    "type": "string",
                    "maxLength": vocabulary.TYPED_MAX,
                    "description": "2-32 characters once spaces and punctuation are removed",
                },
            },
        },
        "Phrase": {
            "type": "object",
            "required": ["id", "kind", "phrase"],
            "properties": {
                "id": text,
                "kind": text,
                "phrase": {"type": "string", "description": "normalised"},
                "typed": text,
                "added_by": text,
                "added_at": text,
            },
        },
        "PhraseEnvelope": {
            "type": "object",
            "required": ["phrase"],
            "properties": {"phrase": _ref("Phrase")},
        },
        "PhraseList": {
            "type": "object",
            "required": ["phrases", "city"],
            "properties": {
                "phrases": {"type": "array", "items": _ref("Phrase")},
                "city": {
                    "type": "array",
                    "description": "The city's phrases from the hub's rules",
                    "items": {
                        "type": "object",
                        "properties": {"kind": text, "phrase": text, "rule_id": text},
                    },
                },
                "kinds": {"type": "array", "items": text},
            },
        },
        "PairInput": {
            "type": "object",
            "required": ["code", "kind", "name"],
            "properties": {
                "code": {"type": "string", "pattern": "^[0-9]{6}$"},
                "kind": {"type": "string", "enum": [k.value for k in DeviceKind]},
                "name": {"type": "string", "minLength": 1, "maxLength": 64},
            },
        },
        "Device": {
            "type": "object",
            "required": ["id", "kind", "name", "paired_at"],
            "properties": {
                "id": text,
                "kind": {"type": "string", "enum": [k.value for k in DeviceKind]},
                "name": text,
                "paired_at": text,
                "last_seen_at": {"type": ["string", "null"]},
                "revoked_at": {"type": ["string", "null"]},
            },
        },
        "PairedStation": {
            "type": "object",
            "required": ["id", "name", "fingerprint"],
            "properties": {
                "id": text,
                "name": text,
                "fingerprint": {
                    "type": "string",
                    "description": "The station key's fingerprint, as announced over mDNS",
                },
            },
        },
        "DevicePairing": {
            "type": "object",
            "required": ["device", "token", "station"],
            "properties": {
                "device": _ref("Device"),
                "token": {
                    "type": "string",
                    "description": "Send as Authorization: Bearer <token>; shown only once",
                },
                "station": _ref("PairedStation"),
            },
        },
        "ScreenLink": {
            "type": "object",
            "required": ["link", "expires_at", "page", "device"],
            "properties": {
                "link": {
                    "type": "string",
                    "description": "Path on the station; open station URL + link in the screen's "
                    "browser once, before expires_at (it leaves the screen's cookie)",
                },
                "expires_at": text,
                "page": {"type": "string", "enum": ["/kiosk/", "/board/"]},
                "device": _ref("Device"),
            },
        },
        "StationAbout": {
            "type": "object",
            "required": ["station"],
            "properties": {"station": _ref("PairedStation")},
        },
        "SmsClaimInput": {
            "type": "object",
            "properties": {
                "limit": {"type": "integer", "minimum": 1, "maximum": 20, "default": 1},
                "interval": {
                    "type": "number",
                    "minimum": 0.1,
                    "maximum": 600,
                    "description": "Seconds between the modem's messages: offers are paced by it",
                },
            },
        },
        "SmsClaimed": {
            "type": "object",
            "required": ["messages"],
            "properties": {
                "messages": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "integer"},
                            "mobile": text,
                            "text": text,
                            "priority": {"type": "integer", "enum": [0, 1, 2]},
                            "purpose": {
                                "type": "string",
                                "enum": ["offer", "code", "notice", "reply"],
                            },
                            "attempts": {"type": "integer"},
                        },
                    },
                }
            },
        },
        "SmsResultInput": {
            "type": "object",
            "required": ["sent"],
            "properties": {
                "sent": {"type": "boolean"},
                "references": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                "reason": {"type": "string", "maxLength": 200},
                "retryable": {"type": "boolean", "default": True},
            },
        },
        "SmsResultEnvelope": {
            "type": "object",
            "properties": {"message": {"type": "object"}},
        },
        "SmsIncomingInput": {
            "type": "object",
            "required": ["number", "text"],
            "properties": {
                "number": {"type": "string", "maxLength": 32},
                "text": {"type": "string", "maxLength": 1000},
                "received_at": {"type": ["string", "null"], "format": "date-time"},
            },
        },
        "SmsIncomingEnvelope": {
            "type": "object",
            "properties": {
                "message": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "status": text,
                        "outcome": {
                            "type": "string",
                            "enum": [
                                "accepted",
                                "declined",
                                "late",
                                "help",
                                "unknown_number",
                                "ignored",
                            ],
                        },
                        "received_at": {"type": ["string", "null"]},
                    },
                }
            },
        },
        "DeviceMe": {
            "type": "object",
            "required": ["device", "station"],
            "properties": {"device": _ref("Device"), "station": _ref("PairedStation")},
        },
        "Stats": {
            "type": "object",
            "properties": {"today": {"type": "object"}, "all_time": {"type": "object"}},
        },
    }


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kuaigong station API (快工·零工驿站)",
            "version": "1.0.0",
            "description": "Offline station API. Staff: Authorization: Bearer <token> "
            "(kuaigong station create-staff prints one) or the console session with an "
            "X-CSRFToken header. Workers: their own token, acting only for themselves. "
            'Errors: {"error": {code, message, fields}}.',
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
        "paths": _paths(),
    }
