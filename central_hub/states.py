"""Every fixed set of values a hub column or reply holds, one StrEnum each.

A member is its stored text (StrEnum compares and serialises as the string), so the tables and
the wire keep the values they always had; code names them instead of spelling the literals.
"""

from __future__ import annotations

import enum


class StationStatus(enum.StrEnum):
    """Where a station stands with the hub (Station.status)."""

    PENDING = "pending"  # created by an admin, no key enrolled yet: pushes and pulls refused
    ACTIVE = "active"  # enrolled a key: its signed batches, pulls and alerts are taken
    REVOKED = "revoked"  # taken out of service (allowed by the column, not set by the hub today)


class KeyStatus(enum.StrEnum):
    """What a station key may still sign (StationKey.status)."""

    ACTIVE = "active"  # the station's current key
    RETIRED = "retired"  # rotated away: valid for the part of the log it signed before
    REVOKED = "revoked"  # revoked by an admin: entries after its revocation point are refused


# What key_status() shows for a station that never enrolled a key (not a stored value).
NO_KEY = "none"


class CodePurpose(enum.StrEnum):
    """What a one-time enrolment code lets a station do (EnrolmentCode.purpose)."""

    ENROL = "enrol"  # register the station's first key
    ROTATE = "rotate"  # register a new key; the old one retires


class Role(enum.StrEnum):
    """A hub account's role (Admin.role)."""

    ADMIN = "admin"  # may change things
    AUDITOR = "auditor"  # may only read


class IssueStatus(enum.StrEnum):
    """Where a reconciliation item stands (Issue.status)."""

    OPEN = "open"  # waiting for an admin
    DECIDED = "decided"  # an admin decided it; the decision is in the hub log


class IssueKind(enum.StrEnum):
    """What a reconciliation item is about (Issue.kind)."""

    MERGE = "merge"  # two stations' workers look like one person
    BOOKING = "booking"  # one person booked twice at overlapping hours
    FIELD = "field"  # a field value lost last-writer-wins
    FORK = "fork"  # a station signed two contents for one seq; it is frozen
    REJECTED = "rejected"  # a batch its own key signed broke the rules; it is frozen
    RESTORED = "restored"  # the station's database went back to an old backup
    CLOCK = "clock"  # the station's clock ran ahead; its batches are refused
    ALTERED = "altered"  # the station reports a logged entry changed in its database


# Open items that stand for a station whose log went apart from the hub's copy.
LOG_APART_KINDS = frozenset({IssueKind.FORK, IssueKind.RESTORED, IssueKind.REJECTED})
# Items with evidence of a refused batch kept by the hub (Evidence rows).
EVIDENCE_KINDS = frozenset({IssueKind.FORK, IssueKind.REJECTED})
# Open items that hold a station's sync up until an admin decides (shown on its page).
HOLDING_KINDS = LOG_APART_KINDS | {IssueKind.CLOCK}


class EvidenceKind(enum.StrEnum):
    """What a kept refused batch proves (Evidence.kind)."""

    FORK = "fork"  # two signed checkpoints for one seq
    REJECTED = "rejected"  # a batch the station's key signed that the rules refuse


class Verdict(enum.StrEnum):
    """The hub's answer to one pushed batch (the reply's `verdict`)."""

    APPLY = "apply"  # applied; the head moved
    REPLAY = "replay"  # already held; nothing changed
    GAP = "gap"  # held until the missing entries come in
    FORK = "fork"  # the station forked its log; frozen
    REJECTED = "rejected"  # refused with a signed rejection
    REFUSED = "refused"  # not provably the station's: counted, nothing signed


class AlertKind(enum.StrEnum):
    """What a station's signed integrity alert reports."""

    ENTRY_ALTERED = "entry_altered"  # a logged entry changed in its database
    LOG_RESTORED = "log_restored"  # its log went on after a restore; it waits for a reset
    RESET_CARRIED = "reset_carried"  # how many entries an epoch reset carried over


class ThrottleScope(enum.StrEnum):
    """What failed sign-ins are counted against (SigninThrottle.scope)."""

    ACCOUNT = "account"  # the typed username
    ADDRESS = "address"  # the client address


class SigninEventKind(enum.StrEnum):
    """The audit of sign-in locks (SigninEvent.event)."""

    LOCKED = "locked"  # too many failures: locked until a time
    UNLOCKED = "unlocked"  # an admin lifted the lock


class Grade(enum.StrEnum):
    """A station's grade in the annual evaluation (EvaluationResult.grade)."""

    EXCELLENT = "excellent"  # 优秀: at or above the scheme's excellent score
    PASS = "pass"  # 合格: at or above the pass score
    FAIL = "fail"  # 不合格: below it; a rectification case is opened when the year is published


class SubsidyBand(enum.StrEnum):
    """The service subsidy a grade earns (EvaluationResult.band); the amounts are per year."""

    FULL = "full"  # 优秀
    STANDARD = "standard"  # 合格
    NONE = "none"  # 不合格: no subsidy until the station passes again


class CaseStatus(enum.StrEnum):
    """Where a failed station's rectification stands (RectificationCase.status)."""

    OPEN = "open"  # ordered to fix things by the deadline
    FIXED = "fixed"  # a re-evaluation passed
    FAILED_AGAIN = "failed_again"  # failed again after the deadline: closure recommended
