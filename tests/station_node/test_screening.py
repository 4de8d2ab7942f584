"""Screening holds postings that ask for money, keep ID cards, hide training traps, bait with
pay, or come from a blocked employer — and lets ordinary postings through."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from station_node.services.screening import screen_job

OK_EMPLOYER = SimpleNamespace(blocked=False, block_reason=None)


def _job(**over):
    data = {
        "title": "小区保洁",
        "description": "楼道清扫，工具由物业提供，当天结算",
        "category": "property",
        "pay_fen": 2500,
        "pay_unit": "hour",
        "address": "团结湖北里3号楼",
    }
    data.update(over)
    return data


def _codes(data, employer=OK_EMPLOYER):
    return [r["code"] for r in screen_job(data, employer)]


@pytest.mark.parametrize(
    "text",
    [
        "上岗前需交押金200元",
        "收取保证金500元，干满一个月退还",
        "报名费50元",
        "先交培训费800元",
        "工作服自备或交服装费100元",
        "体检费自理，入职前交",
        "介绍费100元",
        "中介费当天交清",
        "A deposit of 300 yuan is required",
        "Registration fee: 50 yuan",
        "small fee for the uniform",
    ],
)
def test_asking_workers_for_money_holds_the_job(text):
    reasons = screen_job(_job(description=text), OK_EMPLOYER)
    assert [r["code"] for r in reasons] == ["asks_for_money"]
    assert reasons[0]["message_zh"] and reasons[0]["message_en"]


@pytest.mark.parametrize(
    "text",
    [
        "不收押金，当天结算",
        "免押金，包午饭",
        "无需任何押金",
        "不收取任何费用，免费提供工作服",
        "No deposit, no fee, coffee provided",
        "免费体检，工资日结",
        "",
    ],
)
def test_ordinary_postings_pass(text):
    assert _codes(_job(description=text)) == []


@pytest.mark.parametrize(
    "text",
    ["入职需扣押身份证", "押身份证一个月", "报到时上交身份证原件", "公司统一保管身份证原件", "We keep your ID card until the end"],
)
def test_keeping_id_cards_holds_the_job(text):
    assert "withholds_id_card" in _codes(_job(description=text))


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("可办理培训贷，先上岗后还款", True),
        ("招转培，包分配", True),
        ("先培训后上岗，培训期间分期付款", True),
        ("先培训后上岗，培训免费且带薪", False),
    ],
)
def test_training_traps(text, held):
    assert ("training_trap" in _codes(_job(description=text))) is held


def test_pay_far_above_the_going_rate_is_bait():
    # property management goes for 25 yuan an hour; three times that is the limit
    assert _codes(_job(pay_fen=7500)) == []
    reasons = screen_job(_job(pay_fen=7501), OK_EMPLOYER)
    assert [r["code"] for r in reasons] == ["pay_far_above_going_rate"]
    assert reasons[0]["going_rate_fen"] == 2500
    assert "75.01" in reasons[0]["message_zh"]
    assert _codes(_job(pay_fen="90000", pay_unit="day")) == ["pay_far_above_going_rate"]
    # a unit without a known going rate is not compared
    assert _codes(_job(pay_fen=10_000_000, pay_unit="piece")) == []


def test_blocked_employer_and_several_reasons_at_once():
    blocked = SimpleNamespace(blocked=True, block_reason="拖欠工资")
    reasons = screen_job(_job(title="高薪日结", description="交押金，扣押身份证", pay_fen=20000), blocked)
    assert [r["code"] for r in reasons] == [
        "asks_for_money",
        "withholds_id_card",
        "pay_far_above_going_rate",
        "employer_blocked",
    ]
    assert "拖欠工资" in reasons[-1]["message_zh"]
    assert _codes(_job(), {"blocked": True}) == ["employer_blocked"]
    assert _codes(_job(), None) == []
