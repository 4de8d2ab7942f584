"""What can go wrong with the GSM modem, in words a station's staff can act on.

Every error names the command or message it belongs to and carries a Chinese message with the
English one beside it. `retryable` tells the sending loop whether trying the same message
again later can help (a network hiccup) or not (a number that can never be dialled).
"""

from __future__ import annotations

# +CMS ERROR codes (3GPP TS 27.005 §3.2.5) that staff meet in practice, with what they mean.
_CMS_REASONS: dict[int, tuple[str, str]] = {
    300: ("模块故障", "modem failure"),
    304: ("短信数据格式不对", "invalid PDU mode parameter"),
    310: ("没有插 SIM 卡", "SIM not inserted"),
    311: ("SIM 卡需要 PIN 码", "SIM PIN required"),
    321: ("短信存储位置无效", "invalid memory index"),
    322: ("SIM 卡短信存储已满", "memory full"),
    330: ("短信中心号码未知", "SMSC address unknown"),
    331: ("没有网络信号", "no network service"),
    332: ("网络超时", "network timeout"),
    500: ("模块未知错误", "unknown error"),
}

# Errors that say this message itself can never go out: retrying it only wastes the queue.
_PERMANENT_CMS = {304}


class ModemError(Exception):
    """Base of every modem error; `message_zh`/`message_en` are for people."""

    code = "modem_error"
    retryable = True

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en

    def __str__(self) -> str:
        return f"{self.code}: {self.message_en}"


class ModemCommandError(ModemError):
    """The modem answered a command with ERROR, +CMS ERROR or +CME ERROR."""

    code = "modem_command_error"

    def __init__(self, command: str, reply: str, cms: int | None = None) -> None:
        self.command = command
        self.reply = reply
        self.cms = cms
        zh, en = _CMS_REASONS.get(cms or 0, ("模块拒绝了命令", "command rejected"))
        super().__init__(
            f"短信模块出错：{zh}（{command} → {reply}）", f"{en} ({command} -> {reply})"
        )
        self.retryable = cms not in _PERMANENT_CMS


class ModemTimeout(ModemError):
    """The modem did not answer in time; it may be busy or hung."""

    code = "modem_timeout"

    def __init__(self, command: str, seconds: float) -> None:
        self.command = command
        super().__init__(
            f"短信模块 {seconds:g} 秒内没有回应（{command}）",
            f"no reply from the modem within {seconds:g}s ({command})",
        )


class ModemDisconnected(ModemError):
    """The serial port is gone (modem unplugged) or not opened yet; it reconnects by itself."""

    code = "modem_disconnected"

    def __init__(self, port: str, detail: str = "") -> None:
        self.port = port
        suffix = f": {detail}" if detail else ""
        super().__init__(
            f"短信模块未连接（{port}），请检查 USB 线；插回后会自动重连",
            f"modem not connected on {port}{suffix}; it reconnects when plugged back",
        )


class ModemNotReady(ModemError):
    """The modem answers but cannot send: no SIM, PIN needed, or not on the network."""

    code = "modem_not_ready"


class InvalidMessage(ModemError):
    """This number or text can never be sent; no point retrying."""

    code = "invalid_message"
    retryable = False


class MalformedPdu(ModemError):
    """The modem handed over a PDU that does not decode; that one message is skipped."""

    code = "malformed_pdu"
    retryable = False

    def __init__(self, pdu_hex: str, detail: str) -> None:
        self.pdu_hex = pdu_hex
        super().__init__(f"收到一条无法解读的短信（{detail}）", f"undecodable PDU ({detail})")
