"""The annual station evaluation: the scheme an admin sets per year, the stored results and the
rectification cases of failed stations."""

from __future__ import annotations

import peewee

from central_hub.models.base import BaseModel, utcnow
from central_hub.states import CaseStatus
from kuaigong.db import JSONField


class EvaluationScheme(BaseModel):
    """One year's weights and thresholds. `indicators` maps an indicator code (the catalogue in
    services.evaluation) to {"weight", "full", "partial"}; a year without a row uses the
    defaults."""

    year = peewee.IntegerField(primary_key=True)
    indicators = JSONField(default=dict)
    excellent_at = peewee.DoubleField()  # total score from which a station is 优秀
    pass_at = peewee.DoubleField()  # … 合格
    subsidy_full = peewee.IntegerField()  # yuan a year for 优秀
    subsidy_standard = peewee.IntegerField()  # yuan a year for 合格
    updated_by = peewee.CharField(max_length=64, null=True)
    updated_at = peewee.DateTimeField(default=utcnow)


class EvaluationResult(BaseModel):
    """A station's evaluation for a year as last computed: each indicator's value and score."""

    year = peewee.IntegerField()
    station = peewee.CharField(max_length=32)
    measured = JSONField(default=dict)  # code -> measured value (null: nothing to measure)
    scores = JSONField(default=dict)  # code -> points earned
    total = peewee.DoubleField()
    grade = peewee.CharField(max_length=16)  # states.Grade
    band = peewee.CharField(max_length=16)  # states.SubsidyBand
    subsidy = peewee.IntegerField()  # yuan
    computed_at = peewee.DateTimeField(default=utcnow)
    published_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = ((("year", "station"), True),)


class RectificationCase(BaseModel):
    """A failed station ordered to fix things by a deadline, then evaluated again."""

    station = peewee.CharField(max_length=32)
    year = peewee.IntegerField()
    reasons = JSONField(default=list)  # indicator codes that pulled the score down
    total = peewee.DoubleField()  # the failing score
    deadline = peewee.DateTimeField()
    status = peewee.CharField(max_length=16, default=CaseStatus.OPEN)
    opened_at = peewee.DateTimeField(default=utcnow)
    opened_by = peewee.CharField(max_length=64, null=True)
    reevaluated_at = peewee.DateTimeField(null=True)
    re_total = peewee.DoubleField(null=True)
    re_grade = peewee.CharField(max_length=16, null=True)
    note = peewee.CharField(max_length=500, default="")

    class Meta:
        indexes = ((("station", "year"), True),)
