"""The dispatch engine's pure core: who may take a job, in which order, and what the offer
cascade does next at a given moment.

Nothing here touches the database, Flask, sockets or the clock: the service layer
(`station_node.services.dispatch`) reads rows into the plain dataclasses of `facts`, passes the
current time in, and writes the decisions back in one transaction.
"""

from __future__ import annotations

from station_node.matching.cascade import CascadeJob, CascadePlan, CascadeSettings, OfferView, plan
from station_node.matching.facts import Booking, JobFacts, Ranked, RankedPool, Reason, WorkerFacts
from station_node.matching.ranking import check_eligibility, points, rank, rank_best, score

__all__ = [
    "Booking",
    "CascadeJob",
    "CascadePlan",
    "CascadeSettings",
    "JobFacts",
    "OfferView",
    "Ranked",
    "RankedPool",
    "Reason",
    "WorkerFacts",
    "check_eligibility",
    "plan",
    "points",
    "rank",
    "rank_best",
    "score",
]
