"""The hub's tables, split by concern (central_hub/migrations.py makes them)."""

from __future__ import annotations

from central_hub.models.accounts import ROLES, Admin, IdAccess, SigninEvent, SigninThrottle
from central_hub.models.base import BaseModel, utcnow
from central_hub.models.citycells import CityCell, CityCellBuild, CityFillTime
from central_hub.models.evaluation import EvaluationResult, EvaluationScheme, RectificationCase
from central_hub.models.hublog import HubLogEntry, HubState
from central_hub.models.reconcile import KINDS, Issue
from central_hub.models.records import (
    REPLICATED,
    Assignment,
    Complaint,
    Employer,
    FieldLoss,
    Ignored,
    Job,
    Person,
    Worker,
)
from central_hub.models.rules import RULE_KINDS, CityRule
from central_hub.models.stations import (
    AppliedEntry,
    ClockAllowance,
    EnrolmentCode,
    Evidence,
    HeldBatch,
    Receipt,
    Station,
    StationKey,
)
from kuaigong.db import JSONField

ALL_MODELS: list[type[BaseModel]] = [
    Admin,
    IdAccess,
    Station,
    EnrolmentCode,
    StationKey,
    AppliedEntry,
    Receipt,
    HeldBatch,
    Evidence,
    Person,
    Worker,
    Employer,
    Job,
    Assignment,
    Complaint,
    FieldLoss,
    Ignored,
    HubState,
    HubLogEntry,
    Issue,
    CityRule,
    ClockAllowance,
    SigninThrottle,
    SigninEvent,
    EvaluationScheme,
    EvaluationResult,
    RectificationCase,
    CityCellBuild,
    CityCell,
    CityFillTime,
]

__all__ = [
    "ALL_MODELS",
    "KINDS",
    "REPLICATED",
    "ROLES",
    "RULE_KINDS",
    "Admin",
    "AppliedEntry",
    "Assignment",
    "BaseModel",
    "CityCell",
    "CityCellBuild",
    "CityFillTime",
    "CityRule",
    "ClockAllowance",
    "Complaint",
    "Employer",
    "EnrolmentCode",
    "EvaluationResult",
    "EvaluationScheme",
    "Evidence",
    "FieldLoss",
    "HeldBatch",
    "HubLogEntry",
    "HubState",
    "IdAccess",
    "Ignored",
    "Issue",
    "JSONField",
    "Job",
    "Person",
    "Receipt",
    "RectificationCase",
    "SigninEvent",
    "SigninThrottle",
    "Station",
    "StationKey",
    "Worker",
    "utcnow",
]
