"""GSM modem driver: send SMS, receive replies, survive unplugging. See devices/README.md."""

from devices.modem.driver import GsmModem, ModemStatus
from devices.modem.errors import (
    InvalidMessage,
    MalformedPdu,
    ModemCommandError,
    ModemDisconnected,
    ModemError,
    ModemNotReady,
    ModemTimeout,
)
from devices.modem.pdu import IncomingSms

__all__ = [
    "GsmModem",
    "IncomingSms",
    "InvalidMessage",
    "MalformedPdu",
    "ModemCommandError",
    "ModemDisconnected",
    "ModemError",
    "ModemNotReady",
    "ModemStatus",
    "ModemTimeout",
]
