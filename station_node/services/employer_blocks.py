"""What a blocked employer means for its jobs, and the city's block list at registration.

Blocking an employer (at the desk, or by a city rule the sync client applies) holds its live
jobs for review at once: reason `employer_blocked`, pending offers withdrawn, no further offers
and no grabs. Lifting the block releases nothing by itself; staff release held jobs.
The city's blocked credit codes and keyed ID hashes come from the hub's rules (kept by the sync
client); an employer registered with one of them starts blocked.
"""

from __future__ import annotations

from typing import Any

from kuaigong import clock
from kuaigong.errors import Conflict
from kuaigong.states import LIVE_JOBS, JobStatus, OfferStatus
from station_node import changelog, db
from station_node.hub_records import CityRule
from station_node.models import Employer, Job, Offer

CITY_BLOCK_KINDS = ("blocked_employer", "blocked_intermediary")
_BLOCKED_OF_JOB = (
    'SELECT "e"."blocked" FROM "job" AS "j" JOIN "employer" AS "e" ON "e"."id" = "j"."employer_id" '
    'WHERE "j"."id" = ?'
)


def blocked_reason(why: str | None) -> dict[str, Any]:
    """The screening reason a blocked employer's job carries (as screening words it)."""
    return {
        "code": "employer_blocked",
        "message_zh": f"该雇主已被暂停（{why or '未写原因'}），发布的工作须经工作人员审核",
        "message_en": (
            f"The employer is blocked ({why or 'no reason given'}); its postings need review"
        ),
    }


def hold_open_jobs(employer: Employer) -> int:
    """Hold the employer's live jobs for review and withdraw their pending offers (caller's
    transaction); returns how many jobs were held."""
    jobs = list(
        Job.select(Job.id, Job.screening_reasons).where(
            (Job.employer == employer.id) & Job.status.in_(LIVE_JOBS)
        )
    )
    for job in jobs:
        hold_job(job.id, job.screening_reasons, employer.block_reason)
    return len(jobs)


def hold_job(job_id: str, reasons: list[dict[str, Any]] | None, why: str | None) -> None:
    """Hold one job of a blocked employer: pending offers withdrawn, status held, reason added."""
    now = clock.now()
    for offer in Offer.select(Offer.id).where(
        (Offer.job == job_id) & (Offer.status == OfferStatus.PENDING)
    ):
        Offer.update(status=OfferStatus.WITHDRAWN, answered_at=now).where(
            Offer.id == offer.id
        ).execute()
        changelog.record(
            "offer", offer.id, "update", {"status": OfferStatus.WITHDRAWN, "answered_at": now}
        )
    kept = [r for r in reasons or [] if r.get("code") != "employer_blocked"] + [blocked_reason(why)]
    Job.update(status=JobStatus.HELD, screening_reasons=kept, updated_at=now).where(
        Job.id == job_id
    ).execute()
    changelog.record(
        "job",
        job_id,
        "update",
        {"status": JobStatus.HELD, "screening_reasons": kept, "updated_at": now},
    )


def refuse_if_blocked(job_id: str) -> None:
    """Conflict `employer_blocked` when the job's employer is blocked (grabs, offers, assigning)."""
    row = db.database.execute_sql(_BLOCKED_OF_JOB, (str(job_id),)).fetchone()
    if row is not None and row[0]:
        raise employer_blocked_conflict()


def employer_blocked_conflict() -> Conflict:
    """What a worker or staff member is told when the job's employer is blocked."""
    return Conflict(
        "employer_blocked",
        "该用工方已被暂停，此工作暂停抢单和派单，等待驿站工作人员审核",
        "The employer is blocked: this job takes no grabs or offers until staff review it",
    )


def city_block(credit_code: str | None, id_hash: str | None) -> str | None:
    """The block reason when the city's rules block this credit code or keyed ID hash, else None."""
    if not credit_code and not id_hash:
        return None
    code = credit_code.strip().upper() if credit_code else None
    rules = CityRule.select(CityRule.body).where(
        CityRule.kind.in_(CITY_BLOCK_KINDS) & CityRule.active
    )
    for rule in rules.order_by(CityRule.hub_seq):
        body = rule.body if isinstance(rule.body, dict) else {}
        rule_code = str(body.get("credit_code") or "").strip().upper()
        if (code and rule_code == code) or (id_hash and body.get("id_hash") == id_hash):
            return f"市级规则：{body.get('reason') or body.get('name') or ''}"[:200]
    return None
