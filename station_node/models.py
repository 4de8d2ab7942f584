"""The station's tables. Rows change only through `station_node.services` (one transaction each).

Ids of synced records are text and globally unique (uuid4 hex), so the hub can merge stations
without renumbering; an assignment's id derives from its job and worker (natural key).
Times are stored as UTC datetimes; money as integer fen; lists as JSON text.
"""

from __future__ import annotations

import datetime as dt
import uuid

import peewee

from kuaigong import clock
from kuaigong.db import JSONField, Model
from kuaigong.states import (
    AssignmentStatus,
    ComplaintStatus,
    JobStatus,
    OfferStatus,
    WorkerStatus,
)
from station_node.db import database
from station_node.sms_states import SmsPriority


def new_id() -> str:
    """A fresh globally unique id for a synced record."""
    return uuid.uuid4().hex


def utcnow() -> dt.datetime:
    """Naive UTC now from the app's clock, the form every timestamp column stores."""
    return clock.now()


class BaseModel(Model):
    class Meta:
        database = database


class Staff(BaseModel):
    """A community staff member who signs in to the console or the API."""

    username = peewee.CharField(unique=True, max_length=64)
    display_name = peewee.CharField(max_length=64)
    role = peewee.CharField(max_length=16, default="staff")  # staff | admin
    password_hash = peewee.CharField(max_length=255)
    token_hash = peewee.CharField(max_length=64, null=True, unique=True)
    active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)


class Worker(BaseModel):
    """A resident looking for gig work. The ID number is kept only encrypted and hashed."""

    id = peewee.CharField(primary_key=True, max_length=32, default=new_id)
    name = peewee.CharField(max_length=64)
    id_cipher = peewee.BlobField()  # AES-GCM nonce + ciphertext under the station key
    id_hash = peewee.CharField(max_length=64, unique=True)  # keyed HMAC-SHA256 hex, for look-up
    id_masked = peewee.CharField(max_length=18)  # 110105********002X
    birth_date = peewee.DateField()
    sex = peewee.CharField(max_length=1)  # M | F, from the ID number
    mobile = peewee.CharField(max_length=11, index=True)
    skills = JSONField(default=list)  # codes from station_node.catalog.SKILLS
    areas = JSONField(default=list)  # community names the worker will work in
    availability = JSONField(default=dict)  # {"days": [0..6], "from": "08:00", "to": "18:00"}
    priority_groups = JSONField(default=list)  # codes; only with a PriorityConsent row
    status = peewee.CharField(max_length=16, default=WorkerStatus.ACTIVE)
    block_reason = peewee.CharField(max_length=200, null=True)
    no_show_count = peewee.IntegerField(default=0)
    late_cancel_count = peewee.IntegerField(default=0)
    completed_count = peewee.IntegerField(default=0)
    rating_sum = peewee.IntegerField(default=0)
    rating_count = peewee.IntegerField(default=0)
    last_assigned_at = peewee.DateTimeField(null=True)  # fairness rotation
    user_token_hash = peewee.CharField(max_length=64, null=True, unique=True)  # kiosk / app grabs
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)


class PriorityConsent(BaseModel):
    """Separate consent for sensitive priority-group flags, with its stated purpose."""

    worker = peewee.ForeignKeyField(Worker, backref="consents", on_delete="CASCADE")
    groups = JSONField()
    purpose = peewee.CharField(max_length=200)
    recorded_by = peewee.ForeignKeyField(Staff, null=True)
    consented_at = peewee.DateTimeField(default=utcnow)
    withdrawn_at = peewee.DateTimeField(null=True)


class Employer(BaseModel):
    """Who offers the work: a person (resident ID) or an organisation (credit code)."""

    id = peewee.CharField(primary_key=True, max_length=32, default=new_id)
    kind = peewee.CharField(max_length=16)  # person | organisation
    name = peewee.CharField(max_length=128)
    id_cipher = peewee.BlobField(null=True)  # persons only
    id_hash = peewee.CharField(max_length=64, null=True, index=True)
    id_masked = peewee.CharField(max_length=18, null=True)
    credit_code = peewee.CharField(max_length=18, null=True, index=True)  # organisations only
    contact_name = peewee.CharField(max_length=64)
    mobile = peewee.CharField(max_length=11)
    address = peewee.CharField(max_length=200)
    blocked = peewee.BooleanField(default=False)
    block_reason = peewee.CharField(max_length=200, null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)


class Job(BaseModel):
    """A job request; `status` is a JobStatus."""

    id = peewee.CharField(primary_key=True, max_length=32, default=new_id)
    employer = peewee.ForeignKeyField(Employer, backref="jobs")
    title = peewee.CharField(max_length=100)
    category = peewee.CharField(max_length=32)  # station_node.catalog.CATEGORIES
    description = peewee.TextField(default="")
    skills = JSONField(default=list)
    headcount = peewee.IntegerField()
    pay_fen = peewee.IntegerField()
    pay_unit = peewee.CharField(max_length=8)  # hour | day | piece | job
    address = peewee.CharField(max_length=200)
    community = peewee.CharField(max_length=64, index=True)
    starts_at = peewee.DateTimeField(null=True)  # null when the time is flexible
    ends_at = peewee.DateTimeField(null=True)
    time_flexible = peewee.BooleanField(default=False)
    term = peewee.CharField(max_length=8, default="short")  # short | long
    urgency = peewee.CharField(max_length=8, default="normal")  # normal | urgent
    insurance_required = peewee.BooleanField(default=True)
    source = peewee.CharField(max_length=16)  # walk_in | phone | kiosk | department
    source_department = peewee.CharField(max_length=100, null=True)
    dispatch_mode = peewee.CharField(max_length=8, default="offer")  # grab | offer
    status = peewee.CharField(max_length=16, default=JobStatus.OPEN, index=True)
    screening_reasons = JSONField(default=list)  # [{"code":..., "message":...}]
    reviewed_by = peewee.ForeignKeyField(Staff, null=True)
    reviewed_at = peewee.DateTimeField(null=True)
    posted_by = peewee.ForeignKeyField(Staff, null=True)
    posted_at = peewee.DateTimeField(default=utcnow, index=True)
    dispatch_started_at = peewee.DateTimeField(null=True)  # when it became dispatchable
    filled_at = peewee.DateTimeField(null=True)
    escalated_at = peewee.DateTimeField(null=True)
    confirmed_count = peewee.IntegerField(default=0)  # live assignments; guarded in the transaction
    updated_at = peewee.DateTimeField(default=utcnow)


class Presence(BaseModel):
    """A worker checked in at the station on a given day (the 'present' pool)."""

    worker = peewee.ForeignKeyField(Worker, backref="presences", on_delete="CASCADE")
    day = peewee.DateField(index=True)
    checked_in_at = peewee.DateTimeField(default=utcnow)
    checked_out_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = ((("worker", "day"), True),)


class PhoneCode(BaseModel):
    """A one-time code that signs a worker in on their own phone (/m/): sent by SMS or shown on
    the kiosk. Local to the station (not synced); only its keyed hash is kept."""

    worker = peewee.ForeignKeyField(Worker, on_delete="CASCADE")
    code_hash = peewee.CharField(max_length=64)
    channel = peewee.CharField(max_length=8)  # sms | kiosk
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField(index=True)
    used_at = peewee.DateTimeField(null=True)
    attempts = peewee.IntegerField(default=0)  # wrong codes typed while it was live


class Ranking(BaseModel):
    """One worker's place in a job's ranking, with every reason that put them there."""

    job = peewee.ForeignKeyField(Job, backref="rankings", on_delete="CASCADE")
    worker = peewee.ForeignKeyField(Worker, on_delete="CASCADE")
    rank = peewee.IntegerField()
    score = peewee.IntegerField()
    eligible = peewee.BooleanField(default=True)
    reasons = JSONField(default=list)  # [{"code":..., "points":..., "detail":...}]
    ranked_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("job", "worker"), True),)


class Offer(BaseModel):
    """An offer of a job to one worker in the cascade, with its deadline."""

    id = peewee.CharField(primary_key=True, max_length=32, default=new_id)
    job = peewee.ForeignKeyField(Job, backref="offers", on_delete="CASCADE")
    worker = peewee.ForeignKeyField(Worker, backref="offers", on_delete="CASCADE")
    rank = peewee.IntegerField()
    status = peewee.CharField(max_length=16, default=OfferStatus.PENDING, index=True)
    sent_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField(index=True)
    answered_at = peewee.DateTimeField(null=True)


class SmsMessage(BaseModel):
    """One SMS in the station's outbox or inbox (local; the gateway's modem sends and reads)."""

    direction = peewee.CharField(max_length=4)  # SmsDirection
    mobile = peewee.CharField(max_length=32, index=True)  # as the network gave it, for inbound
    text = peewee.TextField()
    priority = peewee.IntegerField(default=SmsPriority.NOTICE)  # SmsPriority, lower first
    purpose = peewee.CharField(max_length=8)  # SmsPurpose
    worker = peewee.ForeignKeyField(Worker, null=True, on_delete="SET NULL")
    offer = peewee.ForeignKeyField(Offer, null=True, on_delete="SET NULL")
    status = peewee.CharField(max_length=16)  # SmsStatus
    attempts = peewee.IntegerField(default=0)
    error = peewee.CharField(max_length=200, null=True)  # why the last send failed
    outcome = peewee.CharField(max_length=16, null=True)  # SmsOutcome, inbound only
    references = JSONField(default=list)  # the network's message references, one a part
    created_at = peewee.DateTimeField(default=utcnow)
    not_before = peewee.DateTimeField(null=True)  # a retry waits until then
    claimed_at = peewee.DateTimeField(null=True)  # handed to the gateway
    sent_at = peewee.DateTimeField(null=True)  # outbound: sent; inbound: received by the modem

    class Meta:
        indexes = ((("direction", "status", "priority"), False),)


class Assignment(BaseModel):
    """A worker confirmed on a job, followed to completion and pay."""

    id = peewee.CharField(primary_key=True, max_length=32)  # derived from job + worker
    job = peewee.ForeignKeyField(Job, backref="assignments", on_delete="CASCADE")
    worker = peewee.ForeignKeyField(Worker, backref="assignments", on_delete="CASCADE")
    via = peewee.CharField(max_length=8)  # grab | offer | manual
    status = peewee.CharField(max_length=16, default=AssignmentStatus.CONFIRMED, index=True)
    starts_at = peewee.DateTimeField(null=True)  # copied from the job for overlap checks
    ends_at = peewee.DateTimeField(null=True)
    confirmed_at = peewee.DateTimeField(default=utcnow)
    checked_in_at = peewee.DateTimeField(null=True)
    completed_at = peewee.DateTimeField(null=True)
    quantity = peewee.IntegerField(null=True)  # hours×10, pieces, days… per job.pay_unit
    pay_fen = peewee.IntegerField(null=True)
    pay_method = peewee.CharField(max_length=16, null=True)  # cash | transfer
    paid_at = peewee.DateTimeField(null=True)
    worker_confirmed_pay_at = peewee.DateTimeField(null=True)
    cancelled_by = peewee.CharField(max_length=16, null=True)  # worker | employer | staff
    cancel_late = peewee.BooleanField(default=False)
    cancel_reason = peewee.CharField(max_length=200, null=True)
    rating_of_worker = peewee.IntegerField(null=True)  # 1..5, by the employer
    rating_of_employer = peewee.IntegerField(null=True)  # 1..5, by the worker
    insurance_ref = peewee.CharField(max_length=64, null=True)
    assigned_by = peewee.ForeignKeyField(Staff, null=True)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("job", "worker"), True), (("worker", "status"), False))


class PrintJob(BaseModel):
    """A job slip for the receipt printer (local to the station, not synced).

    Written in the same transaction as the confirmation it belongs to, so a slip is never lost
    to a crash; the printer's device process claims queued slips and reports each outcome.
    """

    assignment = peewee.ForeignKeyField(Assignment, on_delete="CASCADE")
    slip = JSONField()  # the JobSlip fields as final text (local time, masked ID number)
    reason = peewee.CharField(max_length=16)  # confirmed | on_demand
    status = peewee.CharField(max_length=8, default="queued", index=True)  # PRINT_STATES
    error = peewee.CharField(max_length=200, null=True)  # why the last attempt failed
    attempts = peewee.IntegerField(default=0)  # claims by the printer process
    created_at = peewee.DateTimeField(default=utcnow)
    claimed_at = peewee.DateTimeField(null=True)
    finished_at = peewee.DateTimeField(null=True)


class Complaint(BaseModel):
    """A complaint taken at the station (by a worker or an employer)."""

    id = peewee.CharField(primary_key=True, max_length=32, default=new_id)
    job = peewee.ForeignKeyField(Job, null=True, on_delete="SET NULL")
    worker = peewee.ForeignKeyField(Worker, null=True, on_delete="SET NULL")
    employer = peewee.ForeignKeyField(Employer, null=True, on_delete="SET NULL")
    by = peewee.CharField(max_length=16)  # worker | employer | resident
    kind = peewee.CharField(max_length=32)  # unpaid_wages | no_show | fee_demanded | other …
    text = peewee.TextField()
    status = peewee.CharField(max_length=16, default=ComplaintStatus.OPEN)
    resolution = peewee.TextField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    resolved_at = peewee.DateTimeField(null=True)
    taken_by = peewee.CharField(max_length=64, null=True)  # staff username; None: the kiosk
    resolved_by = peewee.CharField(max_length=64, null=True)  # staff username


class IdAccess(BaseModel):
    """Who looked at an unmasked ID number, when and why (privacy law: log who looked)."""

    staff = peewee.ForeignKeyField(Staff)
    entity = peewee.CharField(max_length=16)
    entity_id = peewee.CharField(max_length=32)
    purpose = peewee.CharField(max_length=200)
    at = peewee.DateTimeField(default=utcnow)


class ChangeEntry(BaseModel):
    """The station's change log: one row per change, gap-free seq, written with the change."""

    seq = peewee.IntegerField(primary_key=True)
    epoch = peewee.IntegerField(default=1)
    hlc_wall = peewee.BigIntegerField()  # milliseconds since the Unix epoch
    hlc_counter = peewee.IntegerField()
    entity = peewee.CharField(max_length=32)
    entity_id = peewee.CharField(max_length=64)
    op = peewee.CharField(max_length=16)  # create | update | delete
    fields = JSONField()  # the changed fields with their new values
    origin = peewee.CharField(max_length=64)  # station id (or hub for applied hub decisions)
    prev_hash = peewee.CharField(max_length=64, null=True)
    entry_hash = peewee.CharField(max_length=64, null=True)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("entity", "entity_id"), False),)


class StationState(BaseModel):
    """Single-valued station facts: HLC high-water mark, epoch, enrolment, keys' locations."""

    key = peewee.CharField(primary_key=True, max_length=64)
    value = JSONField()


class ScreeningPhrase(BaseModel):
    """A phrase a station admin added to screening's vocabulary (stored normalised, one per
    kind)."""

    id = peewee.CharField(primary_key=True, max_length=32, default=new_id)
    kind = peewee.CharField(max_length=32)  # screening.PHRASE_KINDS
    phrase = peewee.CharField(max_length=64)  # normalised as screening matches it
    typed = peewee.CharField(max_length=64)  # as the admin typed it
    added_by = peewee.CharField(max_length=64)  # staff username
    added_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("kind", "phrase"), True),)


class SigninThrottle(BaseModel):
    """Failed sign-ins counted per account (username, keyed ID hash) and per client address."""

    kind = peewee.CharField(max_length=16)  # console | kiosk
    scope = peewee.CharField(max_length=16)  # account | address
    key = peewee.CharField(max_length=64)  # username, keyed ID hash, or client address
    label = peewee.CharField(max_length=64)  # what staff see: username, masked ID, address
    failures = peewee.IntegerField(default=0)
    last_failure_at = peewee.DateTimeField(null=True)
    blocked_until = peewee.DateTimeField(null=True)
    locked = peewee.BooleanField(default=False)  # the block is the long lock, not a short delay

    class Meta:
        indexes = ((("kind", "scope", "key"), True),)


class Device(BaseModel):
    """A kiosk, board or runner the station has paired; local to the station (not synced).

    Only the SHA-256 of its token is kept: the token itself is shown to the device once.
    """

    id = peewee.CharField(primary_key=True, max_length=32, default=new_id)
    kind = peewee.CharField(max_length=16)  # devices.kinds.DeviceKind
    name = peewee.CharField(max_length=64)
    token_hash = peewee.CharField(max_length=64, unique=True)
    paired_at = peewee.DateTimeField(default=utcnow)
    paired_by = peewee.CharField(max_length=64)  # username of the staff member who showed the code
    last_seen_at = peewee.DateTimeField(null=True)
    revoked_at = peewee.DateTimeField(null=True)
    revoked_by = peewee.CharField(max_length=64, null=True)


class PairingCode(BaseModel):
    """The six-digit code staff show to pair one device (hashed; at most one live at a time)."""

    code_hash = peewee.CharField(max_length=64)
    created_by = peewee.CharField(max_length=64)  # staff username
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField()
    used_at = peewee.DateTimeField(null=True)
    device_id = peewee.CharField(max_length=32, null=True)  # the device it paired


class ScreenLink(BaseModel):
    """A one-time link a paired kiosk or board asks for with its token: opening it in the
    screen's browser leaves the cookie that lets the kiosk or board pages show (hashed; lives two
    minutes, works once)."""

    device_id = peewee.CharField(max_length=32, index=True)
    link_hash = peewee.CharField(max_length=64, unique=True)
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField()
    used_at = peewee.DateTimeField(null=True)


ALL_MODELS: list[type[BaseModel]] = [
    Staff,
    Worker,
    PriorityConsent,
    Employer,
    Job,
    Presence,
    PhoneCode,
    Ranking,
    Offer,
    SmsMessage,
    Assignment,
    PrintJob,
    Complaint,
    IdAccess,
    ChangeEntry,
    StationState,
    ScreeningPhrase,
    SigninThrottle,
    Device,
    PairingCode,
    ScreenLink,
]
