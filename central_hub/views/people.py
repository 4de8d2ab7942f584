"""A person's page: masked ID number, their records at each station, and opening the sealed
number (admins only, with a purpose; shown once, never cached)."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request

from central_hub.services import idnumbers
from central_hub.views.auth import admin_required, login_required

bp = Blueprint("people", __name__, url_prefix="/people")


@bp.get("/<id_hash>")
@login_required
def show(id_hash: str):  # type: ignore[no-untyped-def]
    return render_template("person.html", person=idnumbers.person_view(id_hash), revealed=None)


@bp.post("/<id_hash>/reveal")
@admin_required
def reveal(id_hash: str):  # type: ignore[no-untyped-def]
    number = idnumbers.reveal_id_number(id_hash, g.admin, request.form.get("purpose"))
    page = render_template("person.html", person=idnumbers.person_view(id_hash), revealed=number)
    return page, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}
