"""Finding people by name, masked ID number or mobile (a page at a time), or by a typed ID
number (sent by POST, so it stays out of logs and history);
a person's page: masked ID number, their records at each station, and opening the sealed
number (admins only, with a purpose; shown once, never cached)."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from central_hub.services import browse, idnumbers, stations
from central_hub.views.auth import admin_required, login_required

bp = Blueprint("people", __name__, url_prefix="/people")


@bp.get("/")
@login_required
def lookup() -> ResponseReturnValue:
    page, how = browse.people(request.args.to_dict())
    return render_template(
        "people_lookup.html", page=page, how=how, args=request.args, names=stations.names()
    )


@bp.post("/")
@login_required
def find() -> ResponseReturnValue:
    id_hash = idnumbers.find_person(request.form.get("id_number"))
    return redirect(url_for("people.show", id_hash=id_hash), 303)


@bp.get("/<id_hash>")
@login_required
def show(id_hash: str) -> ResponseReturnValue:
    return render_template(
        "person.html", person=idnumbers.person_view(id_hash), revealed=None, names=stations.names()
    )


@bp.post("/<id_hash>/reveal")
@admin_required
def reveal(id_hash: str) -> ResponseReturnValue:
    number = idnumbers.reveal_id_number(id_hash, g.admin, request.form.get("purpose"))
    page = render_template(
        "person.html",
        person=idnumbers.person_view(id_hash),
        revealed=number,
        names=stations.names(),
    )
    return page, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}
