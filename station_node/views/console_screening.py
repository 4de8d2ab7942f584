"""Staff console: the screening vocabulary — the station's phrases (admins add and remove
them) and the city's phrases from the hub (read only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from kuaigong.errors import KuaigongError
from kuaigong.i18n import lang
from station_node import auth
from station_node.services import vocabulary
from station_node.views import forms

bp = Blueprint("console_screening", __name__, url_prefix="/console")


def _page(values: MultiDict[str, str], errors: dict[str, str], error: str | None) -> str:
    language = lang()
    return render_template(
        "console/screening.html",
        rows=vocabulary.station_phrases(),
        city=vocabulary.city_phrases(),
        kinds=[(k, vocabulary.kind_label(k, language)) for k in vocabulary.PHRASE_KINDS],
        kind_label=lambda k: vocabulary.kind_label(k, language),
        values=values,
        errors=errors,
        error=error,
    )


@bp.get("/screening")
@auth.console_login
def phrases() -> Any:
    """The vocabulary screening adds to its own: the station's and the city's phrases."""
    return _page(MultiDict(), {}, None)


@bp.post("/screening")
@auth.console_admin
def add() -> Any:
    """An admin adds a phrase; bad fields come back marked with the values kept (422)."""
    values: MultiDict[str, str] = request.form
    data = {"kind": values.get("kind", ""), "phrase": values.get("phrase", "")}
    row, errors, error = forms.submit(lambda: vocabulary.add_phrase(data, g.staff))
    if row is not None:
        flash(_("已加入筛查词库：%(phrase)s", phrase=row.phrase), "ok")
        return redirect(url_for("console_screening.phrases"))
    return _page(values, errors, error), 422


@bp.post("/screening/<phrase_id>/remove")
@auth.console_admin
def remove(phrase_id: str) -> Any:
    """An admin removes a phrase; a refusal is shown on the page, never a 500."""
    try:
        row = vocabulary.remove_phrase(phrase_id, g.staff)
        flash(_("已从筛查词库删除：%(phrase)s", phrase=row.phrase), "ok")
    except KuaigongError as exc:
        flash(exc.message(lang()), "error")
    return redirect(url_for("console_screening.phrases"))
