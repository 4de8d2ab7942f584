"""How each candidate for an offer can hear of it, and what the modem's queue allows.

A worker checked in today sees offers at the station; one with the phone page (or kiosk) open
sees them there; anyone else with a mobile is texted. SMS offers are planned against the
modem's pace only while a gateway is polling: without one, offers go out as before (shown to
whoever signs in) and their texts wait in the outbox for the gateway to come back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from station_node import events
from station_node.matching import CascadeSettings
from station_node.matching.cascade import PHONE, SMS, STATION, UNREACHABLE
from station_node.models import Worker
from station_node.services import sms
from station_node.services.dispatch.rows import config_value, present_ids

LOOK_AHEAD = 20  # candidates read beyond those wanted, for passing over SMS-only workers


@dataclasses.dataclass(frozen=True)
class Reach:
    """What the cascade plans with: each candidate's channel, and whether to pace SMS."""

    channels: Mapping[str, str]
    settings: CascadeSettings
    paced: bool  # a gateway is polling: plan SMS offers against its queue
    sms_queued: int = 0

    def planned_channels(self) -> Mapping[str, str] | None:
        return self.channels if self.paced else None

    def by_sms(self, worker_id: str) -> bool:
        return self.channels.get(worker_id) == SMS


def look_ahead(wanted: int, now: dt.datetime) -> int:
    """How many candidates to read for `wanted` offers."""
    if wanted <= 0:
        return 0
    return wanted + LOOK_AHEAD if sms.gateway_interval(now) is not None else wanted


def reach(worker_ids: list[str], cfg: CascadeSettings, now: dt.datetime) -> Reach:
    """The candidates' channels and the settings for this moment's plan."""
    found: dict[str, str] = {}
    if worker_ids:
        present = present_ids()
        connected = events.connected_workers()
        mobiles = dict(
            Worker.select(Worker.id, Worker.mobile).where(Worker.id.in_(worker_ids)).tuples()
        )
        for worker_id in worker_ids:
            if worker_id in present:
                found[worker_id] = STATION
            elif worker_id in connected:
                found[worker_id] = PHONE
            elif mobiles.get(worker_id):
                found[worker_id] = SMS
            else:
                found[worker_id] = UNREACHABLE
    interval = sms.gateway_interval(now)
    if interval is None:
        return Reach(found, cfg, paced=False)
    paced = dataclasses.replace(
        cfg,
        sms_send_interval_seconds=interval,
        sms_answer_seconds=int(config_value("SMS_ANSWER_SECONDS", cfg.sms_answer_seconds)),
        sms_max_queue_seconds=int(config_value("SMS_MAX_QUEUE_SECONDS", cfg.sms_max_queue_seconds)),
    )
    queued = sms.offers_waiting(now) if SMS in found.values() else 0
    return Reach(found, paced, paced=True, sms_queued=queued)
