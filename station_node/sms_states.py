"""The states and kinds of the station's SMS outbox and inbox (local rows, never synced).

Values are what the `sms_message` columns store; a StrEnum member equals its plain string, so
templates and the API compare with either.
"""

from __future__ import annotations

import enum


class SmsDirection(enum.StrEnum):
    """Which way a message goes."""

    OUT = "out"
    """From the station to a phone, through the gateway's modem."""
    IN = "in"
    """From a phone to the station."""


class SmsPriority(enum.IntEnum):
    """Which queued message the modem sends first: lower goes first."""

    OFFER = 0
    """A job offer with a deadline: every second in the queue is a second less to answer."""
    CODE = 1
    """A sign-in code someone is waiting for."""
    NOTICE = 2
    """Everything else: answers to replies, reminders."""


class SmsPurpose(enum.StrEnum):
    """Why a message exists."""

    OFFER = "offer"
    CODE = "code"
    NOTICE = "notice"
    REPLY = "reply"
    """Inbound: what a phone sent. Outbound: the station's automatic answer to it."""


class SmsStatus(enum.StrEnum):
    """Where a message is. Outbound: queued → sending → sent | failed (a retryable failure goes
    back to queued), or cancelled when its offer closed before it went.
    Inbound: received → handled."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    """Not sent: the offer it carried closed before the modem got to it."""
    RECEIVED = "received"
    HANDLED = "handled"


class SmsOutcome(enum.StrEnum):
    """What an inbound message did."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    LATE = "late"
    """The offer it answered had expired or been filled: told the place is gone."""
    HELP = "help"
    """Not understood, or nothing to answer: sent a short help text."""
    UNKNOWN_NUMBER = "unknown_number"
    """No worker has this mobile: logged, not answered."""
    IGNORED = "ignored"
    """Not answered, to keep out of a loop with an automatic reply."""
