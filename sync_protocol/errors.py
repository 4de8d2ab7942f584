"""The two kinds of failure (h11's split): we misused the protocol, or the peer sent bad bytes."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Machine-readable reason a message was refused; stable strings, used on the wire."""

    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    REVOKED_KEY = "revoked_key"
    RETIRED_KEY = "retired_key"  # signed by a key the station had already rotated away from
    WRONG_STATION = "wrong_station"
    WRONG_EPOCH = "wrong_epoch"
    MALFORMED = "malformed"  # not our canonical bytes, wrong types, wrong tag
    OVERSIZED = "oversized"
    CLOCK_DRIFT = "clock_drift"  # HLC beyond the allowed drift past the receiver's clock
    BROKEN_CHAIN = "broken_chain"  # an entry's hash does not match the next prev or the head
    FORK = "fork"
    FROZEN = "frozen"  # the sender is frozen after a fork until an admin resets it
    TRUNCATED = "truncated"  # a bundle ended early
    ALTERED = "altered"  # a bundle's digest does not match its bytes
    NOT_ALLOWED = "not_allowed"  # e.g. appending while restore-from-backup blocks it


class ProtocolError(Exception):
    """Base of every error this package raises."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class LocalProtocolError(ProtocolError):
    """The caller (our own side) asked for something the protocol forbids."""


class RemoteProtocolError(ProtocolError):
    """The peer's bytes are unacceptable; `reason` says why."""


class BundleError(RemoteProtocolError):
    """A bundle file is truncated, altered or not a bundle."""
