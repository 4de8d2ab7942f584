"""API: the screening vocabulary — the station's phrases (admins add and remove them) and the
city's phrases from the hub."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from station_node import auth
from station_node.models import ScreeningPhrase
from station_node.services import vocabulary
from station_node.views.api import body

bp = Blueprint("api_screening", __name__, url_prefix="/api/v1")


def _phrase(row: ScreeningPhrase) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "phrase": row.phrase,
        "typed": row.typed,
        "added_by": row.added_by,
        "added_at": row.added_at.isoformat() + "Z",
    }


@bp.get("/screening/phrases")
@auth.api_staff
def list_phrases() -> Any:
    """The station's phrases and the city's phrases in force here."""
    city = [
        {"kind": p["kind"], "phrase": p["phrase"], "rule_id": p["rule_id"]}
        for p in vocabulary.city_phrases()
    ]
    return jsonify(
        phrases=[_phrase(r) for r in vocabulary.station_phrases()],
        city=city,
        kinds=list(vocabulary.PHRASE_KINDS),
    )


@bp.post("/screening/phrases")
@auth.api_admin
def add_phrase() -> Any:
    """Add a phrase (201); 422 names the bad field, a duplicate included."""
    row = vocabulary.add_phrase(body(), auth.current_staff())
    return jsonify(phrase=_phrase(row)), 201


@bp.delete("/screening/phrases/<phrase_id>")
@auth.api_admin
def remove_phrase(phrase_id: str) -> Any:
    """Remove a phrase."""
    row = vocabulary.remove_phrase(phrase_id, auth.current_staff())
    return jsonify(phrase=_phrase(row))
