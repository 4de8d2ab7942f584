"""The OpenAPI 3.1 document of the hub's station-facing JSON API, written next to its views.

Stations enrol with a one-time code, push signed batches (the signature is the credential) and
pull the hub log with a signed request header; the admin pages are HTML and not part of it.
"""

from __future__ import annotations

from typing import Any

from kuaigong import errors

ERROR_TEXT = {
    400: "Malformed body (not JSON, not an object, not UTF-8, nested too deeply) or damaged gzip",
    401: "The station's signature (X-Kuaigong-Auth) is missing or wrong",
    403: "Unknown enrolment code, station not enrolled, or the batch's signature/key refused",
    404: "No such station",
    409: "The state forbids it: code used, key in use, fork, wrong epoch, after beyond the head",
    410: "The enrolment code has expired",
    413: "Body too large (before or after gzip)",
    415: "Unsupported Content-Encoding",
    422: "Invalid fields, each named in error.fields; or a malformed, drifting or broken batch",
    423: "The station is frozen until an admin decides",
    429: "Too many out-of-order batches held for this station",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int, schema: str = "Error") -> dict[str, Any]:
    return {str(s): _json(_ref(schema), ERROR_TEXT[s]) for s in statuses}


def _station_id() -> dict[str, Any]:
    return {"name": "station_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _paths() -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "/healthz": {
            "get": {
                "summary": "Liveness",
                "security": [],
                "responses": {
                    "200": _json(
                        {"type": "object", "required": ["status"], "properties": {"status": text}},
                        "OK",
                    )
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": _json({"type": "object"}, "OK")},
            }
        },
        "/enroll": {
            "post": {
                "summary": "Register a station's Ed25519 key with a one-time enrolment code",
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("EnrolInput")}},
                },
                "responses": {
                    "201": _json(_ref("Enrolment"), "Enrolled"),
                    **_errors(400, 403, 409, 410, 413, 422),
                },
            }
        },
        "/stations/{station_id}/push": {
            "post": {
                "summary": "Push one signed sync_protocol batch, with the station's signed call in "
                "X-Kuaigong-Call (checked before the body is read)",
                "security": [],
                "parameters": [
                    _station_id(),
                    {
                        "name": "X-Kuaigong-Call",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "Hex of the station-signed call: method, path, station, "
                        "time, nonce, body length and SHA-256 (docs/sync-protocol.md, section 12)",
                    },
                    {
                        "name": "X-Kuaigong-Pending",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "Entries still waiting at the station",
                    },
                    {
                        "name": "X-Kuaigong-Wall",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "The station's wall clock, ms",
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-kuaigong-batch": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                },
                "responses": {
                    "200": _json(_ref("PushAnswer"), "apply or replay; store the receipt"),
                    "202": _json(
                        _ref("PushAnswer"), "gap: the batch is held; send the missing range"
                    ),
                    **_errors(400, 401, 403, 404, 409, 413, 415, 422, 423, 429),
                },
            }
        },
        "/stations/{station_id}/hub-log": {
            "get": {
                "summary": "Hub-log entries after `after`, as one hub-signed batch",
                "security": [{"stationSignature": []}],
                "parameters": [
                    _station_id(),
                    {
                        "name": "after",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "The hub-log seq already held (a whole number ≥ 0)",
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "X-Kuaigong-Head",
                        "in": "header",
                        "required": False,
                        "schema": text,
                        "description": "The station's log head, <epoch>:<seq>",
                    },
                ],
                "responses": {
                    "200": _json(_ref("HubLogPage"), "OK"),
                    **_errors(401, 403, 404, 409, 422),
                },
            }
        },
        "/stations/{station_id}/alerts": {
            "post": {
                "summary": "A station-signed integrity alert: an altered log entry, a log that "
                "went on after a restore, entries an epoch reset carried (the signature is the "
                "credential)",
                "security": [],
                "parameters": [_station_id()],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"},
                            "description": "sync_protocol.signed.sign('alert', "
                            "{station, time, id, kind, details}, key)",
                        }
                    },
                },
                "responses": {
                    "201": _json(_ref("AlertAnswer"), "Taken (again: nothing changes)"),
                    **_errors(401, 403, 404, 413, 422),
                },
            }
        },
    }


def _schemas() -> dict[str, Any]:
    text = {"type": "string"}
    integer = {"type": "integer"}
    return {
        "Error": errors.openapi_schema(),
        "EnrolInput": {
            "type": "object",
            "required": ["code", "public_key"],
            "properties": {
                "code": {"type": "string", "minLength": 1, "examples": ["ABCD-EFGH-JKMN"]},
                "public_key": {
                    "type": "string",
                    "pattern": "^[0-9a-fA-F]{64}$",
                    "description": "The station's Ed25519 public key, 64 hex digits",
                },
            },
        },
        "Enrolment": {
            "type": "object",
            "required": [
                "station_id",
                "key_id",
                "hub_id",
                "hub_public_key",
                "id_hash_key",
                "seal_public_key",
                "epoch",
                "head_seq",
                "head_hash",
                "hub_seq",
            ],
            "properties": {
                "station_id": text,
                "station_name": text,
                "district": text,
                "community": text,
                "key_id": text,
                "hub_id": text,
                "hub_public_key": text,
                "hub_key_id": text,
                "id_hash_key": text,
                "seal_public_key": text,
                "epoch": integer,
                "head_seq": integer,
                "head_hash": text,
                "hub_seq": integer,
            },
        },
        "PushAnswer": {
            "type": "object",
            "required": ["verdict", "station", "epoch", "accepted_seq", "receipt"],
            "properties": {
                "verdict": {
                    "type": "string",
                    "enum": ["apply", "replay", "gap", "fork", "rejected"],
                },
                "station": text,
                "epoch": integer,
                "accepted_seq": integer,
                "head": text,
                "hub_seq": integer,
                "hub_time": integer,
                "receipt": text,
                "applied": integer,
                "missing_from": integer,
                "missing_to": integer,
                "rejection": text,
                "error": _ref("Error/properties/error"),
            },
        },
        "AlertAnswer": {
            "type": "object",
            "required": ["station", "id", "kind", "outcome"],
            "properties": {"station": text, "id": text, "kind": text, "outcome": text},
        },
        "HubLogPage": {
            "type": "object",
            "required": [
                "hub",
                "station",
                "after",
                "count",
                "last_seq",
                "hub_seq",
                "more",
                "batch",
            ],
            "properties": {
                "hub": text,
                "station": text,
                "after": integer,
                "count": integer,
                "last_seq": integer,
                "hub_seq": integer,
                "more": {"type": "boolean"},
                "hub_time": integer,
                "batch": {"type": ["string", "null"]},
            },
        },
    }


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kuaigong hub API for stations (快工·城市枢纽)",
            "version": "1.0.0",
            "description": "Stations enrol with a one-time code, push signed change-log batches "
            "and pull the hub log with X-Kuaigong-Auth (see central_hub/README.md). Errors: "
            '{"error": {code, message, message_en, fields?, details?}}.',
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "stationSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Kuaigong-Auth",
                    "description": "hex of sync_protocol.signed.sign('request', "
                    "{after, station, time}, key)",
                }
            },
            "schemas": _schemas(),
        },
        "paths": _paths(),
    }
