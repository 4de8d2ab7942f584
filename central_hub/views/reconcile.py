"""The reconciliation queue pages."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from central_hub.models import KINDS, Evidence, FieldLoss
from central_hub.services import hublog, stations
from central_hub.services import reconcile as service
from central_hub.states import EVIDENCE_KINDS, IssueKind, IssueStatus
from central_hub.views.auth import admin_required, login_required

bp = Blueprint("reconcile", __name__, url_prefix="/reconcile")


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    kind = request.args.get("kind")
    kind = kind if kind in KINDS else None
    status = (
        IssueStatus.DECIDED
        if request.args.get("status") == IssueStatus.DECIDED
        else IssueStatus.OPEN
    )
    return render_template(
        "reconcile.html",
        issues=service.queue(status, kind),
        counts=service.open_counts(),
        kind=kind,
        status=status,
        station_names=stations.names(),
    )


@bp.get("/<int:issue_id>")
@login_required
def show(issue_id: int) -> ResponseReturnValue:
    issue = service.get_issue(issue_id)
    evidence = []
    if issue.kind in EVIDENCE_KINDS and issue.details.get("evidence"):
        evidence = list(Evidence.select().where(Evidence.id == issue.details["evidence"]))
    losses = []
    if issue.kind == IssueKind.FIELD:
        d = issue.details
        losses = list(
            FieldLoss.select()
            .where((FieldLoss.entity == d["entity"]) & (FieldLoss.entity_id == d["entity_id"]))
            .order_by(FieldLoss.id.desc())
            .limit(20)
        )
    delivery = hublog.delivery(issue.hub_seq) if issue.hub_seq else []
    return render_template(
        "issue.html",
        issue=issue,
        evidence=evidence,
        losses=losses,
        delivery=delivery,
        decisions=service.DECISIONS[issue.kind],
        station_names=stations.names(),
    )


@bp.post("/<int:issue_id>/decide")
@admin_required
def decide(issue_id: int) -> ResponseReturnValue:
    service.decide(
        issue_id,
        request.form.get("decision", ""),
        request.form.get("note", ""),
        g.admin,
        keep=request.form.get("keep"),
    )
    return redirect(url_for("reconcile.show", issue_id=issue_id))
