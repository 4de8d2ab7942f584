"""What each sync_protocol refusal means to the station's staff, in Chinese and English."""

from __future__ import annotations

import sync_protocol as sp
from central_hub.states import Verdict
from kuaigong.errors import KuaigongError

_TEXT: dict[sp.Reason, tuple[int, str, str]] = {
    sp.Reason.BAD_SIGNATURE: (403, "批次签名无效", "The batch signature is not valid"),
    sp.Reason.UNKNOWN_KEY: (
        403,
        "签名密钥未在中心登记（或属于其他驿站）",
        "The signing key is not registered for this station",
    ),
    sp.Reason.REVOKED_KEY: (403, "签名密钥已被吊销", "The signing key was revoked"),
    sp.Reason.RETIRED_KEY: (
        403,
        "签名密钥已更换，请用新密钥",
        "The signing key was rotated away; use the new key",
    ),
    sp.Reason.WRONG_STATION: (403, "批次不属于该驿站", "The batch belongs to another station"),
    sp.Reason.WRONG_EPOCH: (
        409,
        "批次的纪元与中心不一致",
        "The batch's epoch is not the one the hub accepts",
    ),
    sp.Reason.MALFORMED: (422, "批次格式不正确或不完整", "The batch is malformed or cut short"),
    sp.Reason.OVERSIZED: (
        413,
        "批次太大，请分批上传",
        "The batch is too large; send smaller chunks",
    ),
    sp.Reason.CLOCK_DRIFT: (
        422,
        "驿站时钟与中心相差太大，请校准时间",
        "The station's clock is too far from the hub's; set the time",
    ),
    sp.Reason.BROKEN_CHAIN: (
        422,
        "日志哈希链断裂：条目在记录后被改动",
        "The hash chain is broken: an entry changed after it was logged",
    ),
    sp.Reason.FORK: (
        409,
        "日志分叉：同一序号出现了不同内容，驿站已冻结",
        "Forked log: one seq with two contents; the station is frozen",
    ),
    sp.Reason.FROZEN: (
        423,
        "驿站已冻结，待市级管理员处理",
        "The station is frozen until a hub admin resolves it",
    ),
    sp.Reason.TRUNCATED: (422, "数据包不完整", "The bundle is cut short"),
    sp.Reason.ALTERED: (422, "数据包已被改动", "The bundle was altered"),
    sp.Reason.NOT_ALLOWED: (409, "当前状态不允许该操作", "Not allowed in the current state"),
}


def refusal_error(reason: sp.Reason, detail: str) -> KuaigongError:
    """The KuaigongError (status, zh, en) for a sync_protocol refusal; `code` is the reason."""
    status, zh, en = _TEXT.get(reason, (422, "批次被拒收", "The batch was refused"))
    verdict = Verdict.FORK if reason is sp.Reason.FORK else Verdict.REJECTED
    return KuaigongError(
        reason.value, zh, en, details={"detail": detail[:300], "verdict": verdict}, status=status
    )
