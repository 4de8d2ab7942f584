"""Staff console: the SMS queue — what waits for the modem (most urgent first), what is being
sent, what went, what failed and why, and the replies workers sent."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_babel import gettext as _

from station_node import auth
from station_node.services import sms

bp = Blueprint("console_sms", __name__, url_prefix="/console")


def _labels() -> dict[str, dict[Any, str]]:
    return {
        "priority": {
            sms.SmsPriority.OFFER: _("派单"),
            sms.SmsPriority.CODE: _("验证码短信"),
            sms.SmsPriority.NOTICE: _("通知"),
        },
        "purpose": {
            sms.SmsPurpose.OFFER: _("派单"),
            sms.SmsPurpose.CODE: _("验证码短信"),
            sms.SmsPurpose.NOTICE: _("通知"),
            sms.SmsPurpose.REPLY: _("自动回复"),
        },
        "status": {
            sms.SmsStatus.QUEUED: _("排队中"),
            sms.SmsStatus.SENDING: _("发送中"),
            sms.SmsStatus.SENT: _("已发送"),
            sms.SmsStatus.FAILED: _("发送失败"),
            sms.SmsStatus.CANCELLED: _("已取消"),
            sms.SmsStatus.RECEIVED: _("待处理"),
            sms.SmsStatus.HANDLED: _("已处理"),
        },
        "outcome": {
            sms.SmsOutcome.ACCEPTED: _("已接单"),
            sms.SmsOutcome.DECLINED: _("已放弃"),
            sms.SmsOutcome.LATE: _("已过期，已告知"),
            sms.SmsOutcome.HELP: _("未识别，已回复说明"),
            sms.SmsOutcome.UNKNOWN_NUMBER: _("陌生号码，未回复"),
            sms.SmsOutcome.IGNORED: _("无需回复"),
        },
    }


def masked(mobile: str) -> str:
    """A mobile number with its middle four digits hidden: 138****8000."""
    return mobile[:3] + "****" + mobile[-4:] if len(mobile) >= 11 else mobile


@bp.get("/sms")
@auth.console_login
def sms_page() -> Any:
    """The SMS queue and the replies received."""
    interval = sms.gateway_interval()
    return render_template(
        "console/sms.html",
        queue=sms.queue_overview(),
        counts=sms.counts(),
        gateway_interval=interval,
        labels=_labels(),
        masked=masked,
    )
