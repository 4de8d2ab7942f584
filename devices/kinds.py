"""The kinds of device a station pairs: shared by the station and the device programs."""

from __future__ import annotations

import enum


class DeviceKind(enum.StrEnum):
    """What a paired device is for; its token opens only that kind's endpoints."""

    KIOSK = "kiosk"  # the self-service kiosk's full-screen browser
    BOARD = "board"  # the display board's full-screen browser
    SMS = "sms"  # the GSM modem's gateway
    PRINTER = "printer"  # the receipt printer's runner
    IDREADER = "idreader"  # the ID card reader's runner


# What staff read on the console (Chinese, English).
KIND_LABELS: dict[str, tuple[str, str]] = {
    DeviceKind.KIOSK: ("自助服务一体机", "Self-service kiosk"),
    DeviceKind.BOARD: ("信息显示屏", "Display board"),
    DeviceKind.SMS: ("短信网关", "SMS gateway"),
    DeviceKind.PRINTER: ("小票打印机", "Receipt printer"),
    DeviceKind.IDREADER: ("身份证读卡器", "ID card reader"),
}
