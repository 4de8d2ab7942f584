"""The AT dialogue (3GPP TS 27.005 / 27.007) as pure functions: command strings and replies.

Nothing here touches the port; the driver writes these strings and hands the reply lines back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CTRL_Z = "\x1a"  # ends the PDU after the `>` prompt
ESC = "\x1b"  # abandons a half-typed PDU

# Set up once after (re)connecting: echo off, numeric errors, PDU mode, SIM storage, and
# "+CMTI: <mem>,<index>" for each new SMS (mode 2: buffered while a command runs).
SETUP = ("ATE0", "AT+CMEE=1", "AT+CMGF=0", 'AT+CPMS="SM","SM","SM"', "AT+CNMI=2,1,0,0,0")
CHECK_SIM = "AT+CPIN?"
CHECK_REGISTRATION = "AT+CREG?"
CHECK_SIGNAL = "AT+CSQ"
LIST_ALL = "AT+CMGL=4"  # PDU mode: every stored message, read or not

# Lines the modem sends on its own, never as part of a reply. "^" lines are Huawei status spam.
_UNSOLICITED = ("+CMTI:", "+CDSI:", "+CDS:", "RING", "+CRING:", "+CLIP:", "^")

_FINAL_ERROR = re.compile(r"^(?:\+(CMS|CME) ERROR:\s*(\d+)|ERROR|COMMAND NOT SUPPORT)$")
_CMTI = re.compile(r'^\+CMTI:\s*"?([A-Z]*)"?\s*,\s*(\d+)$')
_CMGR = re.compile(r"^\+CMGR:\s*(\d+)\s*,[^,]*,\s*(\d+)$")
_CMGL = re.compile(r"^\+CMGL:\s*(\d+)\s*,\s*(\d+)\s*,[^,]*,\s*(\d+)$")


@dataclass(frozen=True)
class StoredPdu:
    """One message as the modem keeps it in storage."""

    index: int
    status: int  # 0 received unread, 1 received read, 2 stored unsent, 3 stored sent
    pdu: str


def send_command(tpdu_length: int) -> str:
    """`AT+CMGS` for a PDU whose TPDU (the PDU without the SMSC part) has this many octets."""
    return f"AT+CMGS={tpdu_length}"


def read_command(index: int) -> str:
    return f"AT+CMGR={index}"


def delete_command(index: int) -> str:
    return f"AT+CMGD={index}"


def is_unsolicited(line: str) -> bool:
    """Whether the modem sent this line on its own rather than in reply to a command."""
    return line.startswith(_UNSOLICITED)


def is_final(line: str) -> bool:
    """Whether `line` ends a reply (OK or one of the error forms)."""
    return line == "OK" or _FINAL_ERROR.match(line) is not None


def error_code(line: str) -> tuple[bool, int | None]:
    """(is an error, +CMS/+CME code if there is one) for a final line."""
    match = _FINAL_ERROR.match(line)
    if match is None:
        return False, None
    return True, int(match.group(2)) if match.group(2) else None


def new_message_index(line: str) -> int | None:
    """The storage index in a `+CMTI: "SM",3` line, else None."""
    match = _CMTI.match(line)
    return int(match.group(2)) if match else None


def parse_read(lines: list[str]) -> StoredPdu | None:
    """The message in an `AT+CMGR` reply (None when the slot is empty)."""
    for i, line in enumerate(lines):
        match = _CMGR.match(line)
        if match and i + 1 < len(lines):
            return StoredPdu(-1, int(match.group(1)), lines[i + 1])
    return None


def parse_list(lines: list[str]) -> list[StoredPdu]:
    """The messages in an `AT+CMGL` reply, in storage order."""
    stored = []
    for i, line in enumerate(lines):
        match = _CMGL.match(line)
        if match and i + 1 < len(lines):
            stored.append(StoredPdu(int(match.group(1)), int(match.group(2)), lines[i + 1]))
    return stored


def number_field(lines: list[str], prefix: str, position: int = 0) -> int | None:
    """The `position`-th number after `prefix` (`+CMGS: 12` → 12, `+CREG: 0,1` pos 1 → 1)."""
    for line in lines:
        if line.startswith(prefix + ":"):
            values = line.split(":", 1)[1].split(",")
            if position < len(values) and values[position].strip().isdigit():
                return int(values[position].strip())
    return None


def text_field(lines: list[str], prefix: str) -> str | None:
    """The text after `prefix:` (`+CPIN: READY` → "READY")."""
    for line in lines:
        if line.startswith(prefix + ":"):
            return line.split(":", 1)[1].strip()
    return None
