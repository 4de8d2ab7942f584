"""The city figures' summary: every station's counts per kind of record, sector and local month,
kept by the ingest that changes the records (services.citystats.refresh_stations)."""

from __future__ import annotations

import peewee

from central_hub.models.base import BaseModel, utcnow


class CityCellBuild(BaseModel):
    """A station whose cells are current, and the settings they were counted with: cells counted
    with other settings (zone offset, dispatch target, complaint deadline) are counted again."""

    station = peewee.CharField(primary_key=True, max_length=32)
    utc_offset_hours = peewee.IntegerField()
    target_seconds = peewee.IntegerField()
    resolve_hours = peewee.IntegerField()
    live_workers = peewee.IntegerField()  # not deleted, for the districts page
    live_jobs = peewee.IntegerField()
    built_at = peewee.DateTimeField(default=utcnow)


class CityCell(BaseModel):
    """One cell of the city's cube: the counts of one kind of record (job, assignment, complaint,
    worker) of a station, sector ("" for kinds without one) and local month, in n0, n1, … in the
    order that kind's cube query lists them (wages in fen: 64-bit)."""

    station = peewee.CharField(max_length=32, index=True)
    kind = peewee.CharField(max_length=16)
    sector = peewee.CharField(max_length=64)
    month = peewee.CharField(max_length=7)
    n0 = peewee.BigIntegerField(default=0)
    n1 = peewee.BigIntegerField(default=0)
    n2 = peewee.BigIntegerField(default=0)
    n3 = peewee.BigIntegerField(default=0)
    n4 = peewee.BigIntegerField(default=0)
    n5 = peewee.BigIntegerField(default=0)
    n6 = peewee.BigIntegerField(default=0)
    n7 = peewee.BigIntegerField(default=0)
    n8 = peewee.BigIntegerField(default=0)
    n9 = peewee.BigIntegerField(default=0)
    n10 = peewee.BigIntegerField(default=0)
    n11 = peewee.BigIntegerField(default=0)
    n12 = peewee.BigIntegerField(default=0)


class CityFillTime(BaseModel):
    """How many of a station's filled dispatchable jobs of a sector (null: none given) and local
    month took so many seconds to fill: the median and p90 are picked from these."""

    station = peewee.CharField(max_length=32, index=True)
    sector = peewee.CharField(max_length=64, null=True)
    month = peewee.CharField(max_length=7)
    seconds = peewee.IntegerField()
    jobs = peewee.IntegerField()
