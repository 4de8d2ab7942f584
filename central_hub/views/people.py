"""Finding a person by a typed ID number (sent by POST, so it stays out of logs and history);
a person's page: masked ID number, their records at each station, and opening the sealed
number (admins only, with a purpose; shown once, never cached)."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from central_hub.services import idnumbers
from central_hub.views.auth import admin_required, login_required

bp = Blueprint("people", __name__, url_prefix="/people")


@bp.get("/")
@login_required
def lookup() -> ResponseReturnValue:
    return render_template("people_lookup.html")


@bp.post("/")
@login_required
def find() -> ResponseReturnValue:
    id_hash = idnumbers.find_person(request.form.get("id_number"))
    return redirect(url_for("people.show", id_hash=id_hash), 303)


@bp.get("/<id_hash>")
@login_required
def show(id_hash: str) -> ResponseReturnValue:
    return render_template("person.html", person=idnumbers.person_view(id_hash), revealed=None)


@bp.post("/<id_hash>/reveal")
@admin_required
def reveal(id_hash: str) -> ResponseReturnValue:
    number = idnumbers.reveal_id_number(id_hash, g.admin, request.form.get("purpose"))
    page = render_template("person.html", person=idnumbers.person_view(id_hash), revealed=number)
    return page, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}
