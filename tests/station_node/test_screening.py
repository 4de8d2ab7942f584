"""Screening holds postings that ask for money, keep ID cards, hide training traps, use scam
wording, bait with pay, or come from a blocked employer — however the words are disguised — and
lets ordinary postings through, even those that name a fee only to say there is none."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from web_helpers import Api, job_body

from station_node.screening.normalise import normalise
from station_node.services.screening import PHRASE_KINDS, normalise_text, screen_job

CORPUS = Path(__file__).resolve().parent.parent / "data" / "screening_corpus.jsonl"

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


def _codes(data, extra=(), employer=OK_EMPLOYER):
    return [r["code"] for r in screen_job(data, employer, extra)]


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
    [
        "入职需扣押身份证",
        "押身份证一个月",
        "报到时上交身份证原件",
        "公司统一保管身份证原件",
        "We keep your ID card until the end",
    ],
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
    reasons = screen_job(
        _job(title="高薪日结", description="交押金，扣押身份证", pay_fen=20000), blocked
    )
    assert [r["code"] for r in reasons] == [
        "asks_for_money",
        "withholds_id_card",
        "pay_far_above_going_rate",
        "employer_blocked",
    ]
    assert "拖欠工资" in reasons[-1]["message_zh"]
    assert _codes(_job(), employer={"blocked": True}) == ["employer_blocked"]
    assert _codes(_job(), employer=None) == []


# --- the three postings that went straight to dispatch -------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "quote"),
    [
        ("无需经验押金200元", "asks_for_money", "押金200元"),
        ("需交押 金300元", "asks_for_money", "押 金300元"),
        ("入职后身份证交由公司统一保管", "withholds_id_card", "身份证交由公司统一保管"),
    ],
)
def test_the_postings_that_slipped_through_are_held_and_quoted(text, code, quote):
    reasons = screen_job(_job(description=text), OK_EMPLOYER)
    assert [r["code"] for r in reasons] == [code]
    assert [e["quote"] for e in reasons[0]["evidence"]] == [quote]
    assert quote in reasons[0]["message_zh"] and quote in reasons[0]["message_en"]


# --- disguises, one class at a time ---------------------------------------------------------


@pytest.mark.parametrize(
    ("disguise", "text"),
    [
        ("full width", "押金：３００元"),
        ("full width latin", "Ｄｅｐｏｓｉｔ ３００ ｙｕａｎ"),
        ("traditional", "入職需交保證金伍佰元"),
        ("traditional fee", "先繳介紹費"),
        ("ideographic space", "押\u3000金200元"),
        ("no-break space", "押\u00a0金200元"),
        ("spaces everywhere", "押 金 二 百 元"),
        ("punctuation inside", "押·金200元"),
        ("zero-width space", "押\u200b金300元"),
        ("zero-width joiner", "押\u200d金300元"),
        ("word joiner and BOM", "押\u2060\ufeff金300元"),
        ("bidi override", "押\u202e金\u202c300元"),
        ("homophone 压金", "需交压金200元"),
        ("homophone 鸭金", "交鸭金200元领工具"),
        ("homophone 押今", "入职需交押今500元"),
        ("homophone 保正金", "保正金300元，月底退"),
        ("pinyin typed", "需交 ya jin 200元"),
        ("pinyin run together", "YAJIN 300元"),
        ("pinyin with tone marks", "需交 yā jīn 200元"),
        ("every character a homophone, beside an amount", "需交鸭今200元"),
        ("fee collected on the employer's behalf", "体检统一安排，费用150元由我们代收"),
        ("uniform paid by the worker", "工作服自费150元，干满三个月退一半"),
        ("worker buys the uniform", "上岗前需购买公司工服两套共260元"),
        (
            "uniform bought from the employer, after a clause naming it",
            "需自备碗筷和工服，工服可向公司购买，每套90元",
        ),
        ("English bond", "A refundable bond of 300 yuan is payable on the first day"),
        ("amount after a paying verb", "入职需缴纳一千元"),
        ("any fee after a paying verb", "需交健康证办理费120元给公司统一办理"),
        ("Hangul filler inside", "押\u3164金300元"),
    ],
)
def test_disguised_money_words_are_still_found(disguise, text):
    assert "asks_for_money" in _codes(_job(description=text)), disguise


@pytest.mark.parametrize(
    "text",
    [
        "身份證交由老闆統一保管",
        "身 份 证交由店长保管",
        "身\u200b份\u200b证原件押在公司",
        "入职扣押身分证",
        "证件暂扣，满三个月归还",
        "入职后需将身份证原件暂存公司，年底返还",
        "工地统一管理身份证",
        "建筑工地，身份证统一放在项目部，完工后发还",
        "报到时交身份证原件，由人事代为保管",
    ],
)
def test_disguised_id_card_keeping_is_found(text):
    assert "withholds_id_card" in _codes(_job(description=text))


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("刷单返利，一单一结", True),
        ("在家兼职打字，日结高薪无门槛", True),
        ("動動手指，月入過萬輕鬆", True),
        ("躺 赚", True),
        ("兼职打字员", True),
        ("手机点赞，一单5元，日结不拖欠", True),
        ("急招打字员，在家兼职，每天2小时", True),
        ("网络兼职，手机就能做", True),
        ("日结，多劳多得，工作轻松", False),
        ("高薪诚聘厨师，月薪8000", False),
        ("家门口就业，离家近", False),
        ("警惕刷单诈骗，本站岗位均经审核", False),
    ],
)
def test_scam_wording(text, held):
    assert ("bait_wording" in _codes(_job(description=text))) is held


@pytest.mark.parametrize(
    "text",
    [
        "招-转-培，学完推荐工作",
        "先培训後上崗，培訓費分期付款",
        "零基础包教包会，学费先付后就业，可贷款",
        "入职前需参加付费培训，学费2980元",
        "先到培训中心学习一个月，费用5800元，学完安排工作",
        "包教包会，可办理贷款",
        "零基础学美甲，学完包工作，学费支持分期",
    ],
)
def test_training_traps_in_disguise(text):
    assert "training_trap" in _codes(_job(description=text))


@pytest.mark.parametrize(
    "text",
    [
        "外卖骑手，岗前培训半天，电动车可分期购买也可租用",
        "岗前培训，工资合计5000元",
        "培训期间，交通费用每天20元补贴",
        "带薪培训，奖金分期发放",
        "培训费用全部由公司承担，考证费公司报销",
    ],
)
def test_training_with_money_about_something_else_passes(text):
    assert _codes(_job(description=text)) == []


# --- what a negation reaches ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "不收押金",
        "无任何费用",
        "免押金",
        "押金全免",
        "不需要交任何押金",
        "不收车辆押金",
        "不收任何中介费、押金、服装费",
        "本公司不收取任何中介费、押金、服装费、体检费、培训费、管理费、报名费、资料费、信息费、手续费",
        "押金：无，服装：免费",
        "押金0元，工服免费",
        "押金？不需要！当天上岗",
        "不以任何名义向劳动者收取押金",
        "体检费公司报销",
        "培训费用全部由公司承担",
        "凡是要求交押金的都是骗子，本公司绝不收取",
        "无需保证金，不扣证件，免费培训",
        "押运员，需持押运证",
        "停车场收费员",
        "No deposit, no agency fee",
        "Bond Street store, no deposit",
        "员工可向公司购买内部优惠产品",
        "Deposit not required",
        "押金：—",
        "是否收取押金：否",
        "公司为员工购买工服",
        "体检费用由学校承担",
        "公司配电动车，免车辆押金，五险一金",
        "押金？不存在的，干一天结一天",
        "上门提醒业主缴纳物业费",
        "负责收取停车费",
        "驿站代收快递，每件1元",
        "提醒：凡收取押金、报名费的招聘均属违法，请拨打12333举报",
    ],
)
def test_a_negation_that_reaches_the_fee_clears_it(text):
    assert _codes(_job(description=text)) == []


@pytest.mark.parametrize(
    "text",
    [
        "无需经验押金200元",
        "不用加班，押金300",
        "不包住宿需交押金",
        "免押金，但需交保证金",
        "不收押金，只收工本费20元",
        "押金，无需经验",
        "需交押金，不交不安排",
        "体检费、服装费由员工承担，入职先交",
        "There is no overtime. Deposit 200 yuan",
        "押金200元，谨防诈骗",
        "押金：\n300元",
        "体检费由求职者自理",
        "不收押金（仅收工服费100）",
    ],
)
def test_a_negation_about_something_else_leaves_the_fee_standing(text):
    assert "asks_for_money" in _codes(_job(description=text))


@pytest.mark.parametrize(
    "text",
    [
        "不扣押身份证",
        "需携带身份证原件，核验后当场归还",
        "身份证复印件一份",
        "请妥善保管好个人身份证件",
        "请勿将身份证交给他人",
    ],
)
def test_ordinary_mentions_of_id_cards_pass(text):
    assert _codes(_job(description=text)) == []


def test_homophones_need_the_usual_reading_and_one_clause():
    # 大 is usually da, so 培训大约 is not 培训贷; 保证进度 has no money beside it
    assert _codes(_job(description="岗前培训大约三天")) == []
    assert _codes(_job(description="保证进度，完工结算")) == []
    assert _codes(_job(title="岗前培训", description="大专以上")) == []


# --- normalisation and the interface others build on -----------------------------------------


def test_normalise_text_is_the_form_phrases_are_stored_in():
    assert (
        normalise_text("押 金")
        == normalise_text("押\u200b金")
        == normalise_text("押，金")
        == "押金"
    )
    assert normalise_text("保證金") == "保证金"
    assert normalise_text("ＡＢＣ　１２３") == "abc123"
    assert normalise_text("Hand  Over") == "hand over"
    assert normalise_text("\u202e押金\u202c") == "押金"
    for text in ("需交押 金300元", "Ｎｏ ＦＥＥ", "入職後身份證"):
        assert normalise_text(normalise_text(text)) == normalise_text(text)


def test_the_normalised_text_maps_back_to_the_original_words():
    norm = normalise("需交押 金３００元")
    start = norm.text.index("押金")
    assert norm.quote(start, start + 2) == "押 金"
    assert norm.quote(start, len(norm.text)) == "押 金３００元"


def test_extra_phrases_from_staff_and_city_rules():
    assert PHRASE_KINDS == ("asks_for_money", "withholds_id_card", "training_trap", "bait_wording")
    extra = [
        {"kind": "asks_for_money", "phrase": "茶水费"},
        {"kind": "bait_wording", "phrase": "拉人头"},
        {"kind": "withholds_id_card", "phrase": "扣户口本"},
        {"kind": "no_such_kind", "phrase": "保洁"},
        {"kind": "training_trap", "phrase": ""},
    ]
    assert _codes(_job(description="入职交茶水费50元"), extra) == ["asks_for_money"]
    assert (
        _codes(_job(description="不收茶水费"), extra) == []
    )  # a negation reaches extra phrases too
    assert _codes(_job(description="拉 人 頭有提成"), extra) == ["bait_wording"]
    assert _codes(_job(description="入职扣户口本"), extra) == ["withholds_id_card"]
    assert _codes(_job(), extra) == []
    reasons = screen_job(_job(description="拉人头"), OK_EMPLOYER, extra)
    assert reasons[0]["matched"] == ["拉人头"]


def test_the_vocabulary_is_shipped_data():
    from importlib import resources

    raw = json.loads(
        resources.files("station_node.screening").joinpath("vocabulary.json").read_text("utf-8")
    )
    assert {"asks_for_money", "withholds_id_card", "training_trap", "bait_wording"} <= set(raw)
    assert "押金" in raw["asks_for_money"]["phrases"]
    assert "刷单" in raw["bait_wording"]["always"]


# --- classes the blind batches found (each a class, several wordings) ------------------------


@pytest.mark.parametrize(
    "text",
    [
        "工资押半个月，次月底发",
        "押一个月工资，干满半年返还",
        "每月压工资",
        "工资每月扣300押着，年底一次性给",
        "前两个月工资各扣留一千，满半年返还",
        "干满三个月才能全部结清，中途离职不结算",
        "首月工资押一半，第二个月起全额发放",
        "入职先扣半个月工资当押金",
        "工作服费用200元，在第一个月工资中扣除",
        "入职需缴纳一个月工资作为风险保证",
        "新员工试用期工资只发一半，剩余部分转正后发",
        "入职第一个月扣留500元，年底返还",
    ],
)
def test_wages_held_back_are_held(text):
    assert _codes(_job(description=text)) == ["asks_for_money"]


@pytest.mark.parametrize(
    "text",
    [
        "工资押一发一，每月15号发上月工资",
        "工资押一个月发，每月25日发上月工资",
        "工资不押不拖，月底准时发",
        "日结280，不押工资，当天干完当天结",
        "底薪压低了但是提成高",
        "社保个人部分从工资中扣除",
    ],
)
def test_payroll_in_arrears_and_wages_not_held_pass(text):
    # policy: a month in arrears on a fixed payday is lawful payroll, not a deposit
    assert _codes(_job(description=text)) == []


@pytest.mark.parametrize(
    "text",
    [
        "材料费需自己出",
        "需先拍摄形象照（拍摄费自理）",
        "家政派单，签约需交入会费68元",
        "入职收安全金800，年底返",
        "需交履约金500元，干满合同期全额退",
        "质保金每人1000，工程验收后退",
        "入职先交押j三百",
        "入职需交yj 300",
        "上岗先交三千八",
        "入职交两百",
        "上岗证、健康证公司统一代办，每人收120",
        "首月工资的30%作为推荐服务费",
        "进厂要先办健康证，费用个人出",
        "Requirements: own e-bike, need to pay 200 yuan for the uniform",
        "入职需办理健康证和保安证，费用合计350元，员工自付",
        "阿姨需办理公司会员卡（一年600元），享受优先派单",
        "招聘店长：以加盟形式合作，加盟费2万",
        "文员：档案费、建卡费共计150元，入职当天交",
        "保洁：人头费200，介绍人收取",
        "快消品销售代表，入职需先提货3000元作为铺货",
        "工地小工：工资年底一次性结清，平时只给生活费",
        "外卖员：装备自己买，站点统一订购，398一套",
        "厨师学徒：学厨期间不发工资，每月交生活费800",
        "Waiter wanted, must leave RMB500 as guarantee money",
        "农场工人：工资年终统一发放，平时预支生活费",
        "不包住宿需交押金，日结工资",
        "写字楼保洁员：工资的10%每月交给介绍人",
        "工地：工人工资由包工头统一领取，年底再分",
        "保洁：入职第一个月工资公司先存着，第二个月一起发",
        "家政公司：阿姨首次上户需付一个月工资的四分之一给公司",
        "普工：前三个月每月留500元工资在公司，满一年一起发",
        "家政：阿姨每月工资中公司抽取15%",
    ],
)
def test_fees_under_any_name_or_amount_are_held(text):
    # paying during an apprenticeship (学厨期间…每月交生活费) is also a training trap
    assert _codes(_job(description=text))[0] == "asks_for_money"


@pytest.mark.parametrize(
    "text",
    [
        "全勤金300元每月，年终奖金2000元",
        "向客户收取水桶押金并开收据",
        "负责入住登记、收取房费押金、核对客人身份证",
        "押金退还专员，处理用户押金退款申请",
        "负责业主报修，收取维修材料费并开票",
        "自带工具者每天另加20元工具费",
        "学校承担教师资格证考试培训费用",
        "Front desk: check-in, collect room deposits from guests",
        "负责收银，每天收100多单",
        "家政服务员，公司统一派单，不收会员费，按单结算",
        "家政：服务费由客户支付给公司，阿姨工资全额到手",
        "入职需办理门禁卡和工资卡",
        "加班费每小时30元，高温费300元，课时费200元每次",
        "维修工：上门费50元归师傅所有",
        "审核客户预付款单据，双休",
        "快递员：无罚款押金，按件计酬",
    ],
)
def test_payouts_and_fees_handled_for_customers_pass(text):
    assert _codes(_job(description=text)) == []


@pytest.mark.parametrize(
    "text",
    [
        "管吃住，身份证，进场交给班组长",
        "工资卡入职时统一办理，卡由线长统一保管",
        "入职后手机和银行卡一律上交主管",
        "毕业证扣着，干满两年还",
        "车队统一保管大家的驾驶证和从业资格证",
        "人员进场后证件一律由班组统一管理，不得私自带走",
        "护照签证由公司统一办理，到达后统一收回保管",
        "入职时把身份证给主管，统一存放在办公室",
        "保姆：雇主保管保姆身份证和手机",
        "外卖员：健康证办好后交站长统一保管",
        "入职当天办银行卡一张，卡和密码交给公司财务",
    ],
)
def test_documents_cards_and_phones_kept_in_any_wording(text):
    assert "withholds_id_card" in _codes(_job(description=text))


@pytest.mark.parametrize(
    "text",
    [
        "面试请带身份证原件及复印件，现场核验后当场归还",
        "入职当天办理工资卡，卡由本人自行保管",
        "进车间手机统一放在储物柜",
        "证件原件面试时查验",
        "工资卡统一由公司代为办理，每月打卡",
        "外劳：机票公司报销，护照个人保管",
        "司机：车辆行驶证统一保存在车上",
    ],
)
def test_documents_shown_or_kept_by_the_worker_pass(text):
    assert _codes(_job(description=text)) == []


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("轻松学会直播带货，先上课后就业，课程费分期0首付", True),
        ("先参加教练认证课程（费用5000），考核通过后上岗", True),
        ("跟师傅学装修，头三个月没工资，还要交拜师费2000", True),
        ("入职先到总部进修两个月，进修费自付，结业分配门店", True),
        ("零基础转行做程序员！先学后付，学完包推荐工作", True),
        ("护工：上岗前自费参加护理培训（1500元），培训合格分配医院", True),
        ("茶艺师：入职前需上一个月茶艺课，课时费每节80元自付", True),
        ("公司每年安排免费进修学习", False),
        ("负责学员培训，收取培训费由财务统一管理", False),
    ],
)
def test_training_traps_under_other_names(text, held):
    assert ("training_trap" in _codes(_job(description=text))) is held


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("帮商家拍单提升销量，本金当天返还", True),
        ("招短视频关注员，关注一个账号2元", True),
        ("抖音小说推文兼职，有手机就行，一天稳赚两三百", True),
        ("招聘打字员，在家工作，每天录入一些文字资料", True),
        ("听歌也能赚钱！每天听歌评论，一首歌1元", True),
        ("高薪诚聘 无需经验 月薪3-5万 包吃住", True),
        ("电话客服，在公司上班，不是在家兼职，底薪3500", False),
        ("手工编织：材料由厂家免费提供，可在家做，按件计酬，不收任何押金", False),
        ("保洁阿姨，每天3小时，时薪30，在家附近的小区", False),
        ("招聘线上客服，居家办公，日薪300-500，有手机即可", True),
        ("居家养老护理员，日薪220", False),
        ("轻松兼职，每天1-2小时，月入5000+，加微信详聊", True),
        ("零投资，在家创业，月入过万", True),
        ("招推广员：拉人头推荐一人奖励100元，发展下线越多赚越多", True),
        ("内部推荐：员工推荐新人入职满一月，奖励推荐人300元", False),
        ("兼职每天两小时，一个月轻松拿到一万", True),
        ("宝妈专属：在家做副业，每天抽空一小时，月收入3000-5000", True),
        ("兼职：在家观看直播间挂机，一小时30元", True),
        ("兼职：网络投票，一票两块，日结", True),
        ("社区工作人员：协助居民投票登记，日结200", False),
        ("兼职：看短视频领金币，金币换现金，一天几十块", True),
        ("兼职：帮商家写好评，一条好评2元，手机操作", True),
        ("兼职：不用上班，每天在家两小时，月入上万", True),
        ("电商客服：负责邀请买家写好评，底薪+提成，坐班", False),
        ("兼职招聘：微信朋友圈转发广告，一条10元，日结", True),
    ],
)
def test_scam_wording_in_new_words(text, held):
    assert ("bait_wording" in _codes(_job(description=text))) is held


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # the worker pays, whatever the charge is called
        ("保洁员：上岗前需缴纳工位占用款500元，干满三个月退还", "asks_for_money"),
        ("搬家师傅：首次接单前请先转账399元开通接单权限", "asks_for_money"),
        ("网约车司机：加入车队需要打3000块到队长个人账户", "asks_for_money"),
        ("外卖骑手：上线前要先认购站点电动车份额，每份2800元", "asks_for_money"),
        ("理发店学徒：进店先存一千元到店长那里，学满一年再拿回", "asks_for_money"),
        # wages cut by an amount or a share
        ("仓库理货：每月从工资里划走200元存入集体风险基金", "asks_for_money"),
        ("厨师：合同期内每月工资的一成留给饭店作为稳岗储备", "asks_for_money"),
        # a document in someone else's keeping
        ("建筑小工：进场后身份证暂放项目部，完工结账时领回", "withholds_id_card"),
        ("酒店保洁：外籍员工护照由酒店人事统一托管", "withholds_id_card"),
        ("电子厂：入职时社保卡和银行卡一并由中介代持，做满半年归还", "withholds_id_card"),
        # money advanced and paid back later
        ("兼职体验官：商品款先自己垫上，确认收货后连本带利退回", "bait_wording"),
        # money asked for beside training
        ("客服：入职前需参加两周岗前研修班，研修费用2980元可从工资分月抵扣", "training_trap"),
        # cash brought, a price two clauses on, a penalty for leaving, money handed to a boss
        ("理货员：报到时带上1500元现金，用于办理工牌门禁和宿舍", "asks_for_money"),
        ("客服：需自备公司指定型号耳机，统一从行政领取，费用299元", "asks_for_money"),
        ("家政：成为公司签约阿姨需先办理星级认证卡，一张880", "asks_for_money"),
        ("保安：入职即签违约协议，未满一年离职赔偿公司3000元", "asks_for_money"),
        ("保洁：每月给领班上150元份子钱，不给就不排班", "asks_for_money"),
        ("搬运工：每单接单需给调度抽成两成", "asks_for_money"),
        ("普工：中介服务男450女300，进厂当天结清", "asks_for_money"),
        # documents with the boss, said plainly
        ("工地：大家的身份证我先拿着，工程完了统一还", "withholds_id_card"),
        ("餐厅：员工银行卡办好后放老板娘那，每月她帮你取工资", "withholds_id_card"),
        # small sums per online action, a top-up before a reward
        ("兼职：用自己微信帮公司加好友，每加一个奖励3元，日结", "bait_wording"),
        ("兼职：转发抖音作品到三个群，截图回传即返现5元", "bait_wording"),
        ("招募试玩员：下载游戏App冲到指定等级奖励200元，需先充值648", "bait_wording"),
        # round three: a share in Chinese numerals, a minimum top-up, wages handed to a master
        ("保洁：每个月孝敬主管两百，活才派得多", "asks_for_money"),
        ("会所服务员：入职需要办一张本店储值卡，最低充2000", "asks_for_money"),
        ("安装工：跟师傅干，第一个月工钱归师傅", "asks_for_money"),
        ("网约车：租车跑单，日租金180，每天交给车行", "asks_for_money"),
        ("外卖：新骑手需先买站点头盔箱子一套，共计460", "asks_for_money"),
        ("装卸工：干满一个月才结账，中途离开工钱扣一半", "asks_for_money"),
        ("家政：阿姨的手机上户期间由雇主代收，每周还一次", "withholds_id_card"),
        ("电子厂：工卡和身份证办完入职手续后不再退还本人", "withholds_id_card"),
        ("主播：签约前需完成平台孵化课程，课程包1999", "training_trap"),
        ("兼职：帮忙在各大平台给商家写点评，每条给8块", "bait_wording"),
        ("兼职：用你的身份信息帮忙注册账号，一个账号给50", "bait_wording"),
        ("宝妈：每天在朋友圈发几条广告，月入3000+，不耽误带娃", "bait_wording"),
        # round four: English, a pledge by any name, a spending quota, wages drawn by a gang leader
        (
            "Cleaner wanted: new staff must transfer 500 yuan to the supervisor before starting",
            "asks_for_money",
        ),
        ("保洁：入职押款２００元，做满退", "asks_for_money"),
        ("KTV服务员：上班要完成店里的酒水任务，每月至少消费1500", "asks_for_money"),
        ("搬运：每天的工钱先由带班统一领，月底再分给大家", "asks_for_money"),
        ("油漆工：每做一个活，要给介绍你的人抽一成", "asks_for_money"),
        ("电商运营：带你入行，需先报名精品班，名额有限，3680一期", "training_trap"),
        ("月嫂：考高级月嫂证先交考务费和教材，共980", "training_trap"),
        # round five: a price alone in the next clause, costs 自理, earnings handed over,
        # rent cut from wages
        ("装卸工：报名须知：到岗先交床位管理1月，150元，满月退", "asks_for_money"),
        ("服务员：新人上岗前统一订做工装，每人自理260元", "asks_for_money"),
        ("家政保洁：注意：首单收入归公司作为入职手续", "asks_for_money"),
        ("外卖全职骑手：站点统一租车，车租每月400，从工资里直接扣", "asks_for_money"),
        ("家教老师：每单成交后老师需将首月课酬的30%转给平台", "asks_for_money"),
        ("化妆师助理：需先参加公司组织的三个月专业提升课，课时费按月从工资扣", "training_trap"),
        ("抖音推广员：每天刷视频30分钟，一天稳拿100", "bait_wording"),
        # round six: a red packet to the manager, wages or takings handed over, a course the
        # worker attends
        ("小时工：干活前先在群里发个888的红包给管理，才能接活", "asks_for_money"),
        ("钟点工：公司帮你介绍客户，每介绍一户你要返公司100", "asks_for_money"),
        ("保姆：首月工资给中介当服务费", "asks_for_money"),
        ("服务员：工作服需要自己出钱买，180一套", "asks_for_money"),
        ("家政：阿姨每单收入要上交公司三成", "asks_for_money"),
        ("厨工：入职后健康证原件存在店长抽屉，离职时拿", "withholds_id_card"),
        ("SPA技师：技师需先上店内手法课两周，课时费2000元，考核后上钟", "training_trap"),
        ("兼职：帮忙点外卖写好评，每单返20", "bait_wording"),
        # round seven: the worker bears a total, a sum handed to the gang head, a price in
        # Chinese numerals
        ("保洁：公司统一购买的清洁套装，员工按成本价承担，共420", "asks_for_money"),
        ("骑手：每月站点管理服务费200，直接从配送费里扣", "asks_for_money"),
        ("工地：每人先拿1000给班主做担保，完工退", "asks_for_money"),
        ("保安：先在公司交三个月的服装折旧，每月50", "asks_for_money"),
        ("装修：接活前跟工长签约交履约保证，三千", "asks_for_money"),
        ("物流：司机驾驶证和行驶证跑车期间放车队办公室", "withholds_id_card"),
        ("驾校合作：报名学车后推荐到物流公司上班，学车费用分期从工资扣", "training_trap"),
    ],
)
def test_the_worker_as_payer_is_held_whatever_the_name(text, code):
    assert code in _codes(_job(description=text))


@pytest.mark.parametrize(
    "text",
    [
        "保洁：每月工资8号准时打到个人银行卡，满勤另有300元奖励",
        "货车司机：油费、过路费由公司支付，司机无需垫付",
        "家政：面试请带身份证原件和健康证，当场核验后归还",
        "收银员：负责门店收银找零，每日营业款交财务",
        "加油员：负责为车主加油收款，交接班时把现金交给班长",
        "家教：课时费每小时120元，由家长直接支付给老师",
        "快递员：公司依法缴纳五险，个人部分按规定从工资代扣，其余无任何扣款",
        "后厨：试工一天照样给钱，当天结清，不压一分钱",
        "物流：公司先垫付油费2000元，月底凭票报销",
        "保姆：身份证本人自己保管，雇主只看一眼",
        "仓管：入职先交一份体检报告，体检费200元公司报销",
        "司机：先垫付的油费凭票当天报销，不拖欠",
        "厨师：先试菜，试菜合格当天付200元试工费",
        "家教：家长先付一个月学费，老师每节课收120元",
        "快递员：请自带电动车，公司每月给300元电车补贴",
        "商场导购：负责给顾客办理会员卡充值，每充1000送100",
        "地推：商场扫码拉新，一个新用户奖励5元，现场结",
        "快递员：派件每件1.2元，每天需把签收单交给站长",
        "保姆：每月4号前雇主把工资转到阿姨卡上，过年另给红包",
        "理发师：按剪发收入六成分给师傅，店里拿四成",
        "培训讲师：负责给新员工上岗前培训，课时费每节200元",
        "骑手：需先在App完成实名认证，认证免费，当天即可接单",
        "工地：工资由劳务公司直接打到个人卡上，身份证本人持有",
        "劳务派遣：请自行保管好证件，公司不代收任何证件",
        "搬运：带班负责点名和记工，工钱由公司直接发到每个人手上",
        "超市：需在收银台为顾客充值会员卡，每充一笔奖励1元",
        "Kitchen helper: meals provided, wages paid every Friday, no fees",
        "音乐老师：给学员上课，每节课时费150元，学费由家长交给学校",
        "宝妈兼职：社区团购站理货，每天上午3小时，时薪20元",
        "家教老师：平台派单，课酬家长直接付给老师，平台不抽成",
        "厨工：需持健康证上岗，原件自己留着，复印件交店长存档",
        "客服：居家办公，公司提供电脑，会打字，底薪3000加提成",
        "广告公司：负责户外广告牌巡查，每天看广告位是否完好",
        "快递员：派件每件1.2元，每天需把签收单交给站长\n18-45",
        "保洁：清洁套装公司统一购买，员工免费领用",
        "骑手：站点不收管理费，配送费每单全额给骑手",
        "驾校教练：带学员练车，学员学车费用交驾校，教练拿课时费",
        "服务员：完成月业绩奖励500，没完成不扣钱",
    ],
)
def test_money_flowing_to_the_worker_or_from_others_passes(text):
    assert _codes(_job(description=text)) == []


def test_blind_batches_are_recorded_as_first_scored():
    batches = json.loads(CORPUS.with_name("screening_blind_batches.json").read_text("utf-8"))[
        "batches"
    ]
    assert len(batches) >= 5
    for batch in batches:
        assert 0 <= batch["caught"] <= batch["holds"] and 0 <= batch["held"] <= batch["ordinary"]
    # each batch written for this work is in the corpus, so the engine keeps what it learnt
    rows = {(r["title"], r["description"]) for r in _corpus()}
    assert ("工地杂工", "管吃住，身份证，进场交给班组长，工程结束统一发放") in rows


# --- the labelled corpus: the figures the benchmark reports --------------------------------


def _corpus() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines() if line.strip()]


def test_the_corpus_is_large_and_labelled():
    rows = _corpus()
    holds = [r for r in rows if r["label"] == "hold"]
    ordinary = [r for r in rows if r["label"] == "ok"]
    assert len(rows) >= 320 and len(holds) >= 110 and len(ordinary) >= 180
    assert {r["reason"] for r in holds} == set(PHRASE_KINDS)
    assert all(r["label"] in ("hold", "ok") and r["title"] and r["category"] for r in rows)


def test_recall_and_false_holds_on_the_corpus():
    rows = _corpus()
    holds = [r for r in rows if r["label"] == "hold"]
    ordinary = [r for r in rows if r["label"] == "ok"]
    missed = [r["description"] for r in holds if r["reason"] not in _codes(r, employer=None)]
    wrongly = [r["description"] for r in ordinary if _codes(r, employer=None)]
    assert 1 - len(missed) / len(holds) >= 0.98, missed
    assert len(wrongly) / len(ordinary) <= 0.02, wrongly


def test_a_long_posting_dense_with_fee_words_is_read_whole():
    # how long such postings take is measured by bench/screening.py, not here
    dense = ("不收押金不收保证金无需体检费免服装费" * 120)[:2000]
    mixed = ("押金ya jin身份证shen fen zheng交由" * 80)[:2000]
    assert set(_codes(_job(description=mixed))) >= {"asks_for_money"}
    assert _codes(_job(description=dense)) == []
    assert _codes(_job(description=dense + "，押金200元")) == ["asks_for_money"]


# --- over HTTP: a disguised posting is held and never dispatched -----------------------------


@pytest.mark.parametrize(
    "description",
    [
        "无需经验押金200元",
        "需交押\u200b金３００元",
        "入職後身份證交由公司統一保管",
        "在家兼职打字，日结高薪无门槛",
    ],
)
def test_a_disguised_posting_through_the_api_is_held_not_dispatched(
    api: Api, employer_id, worker_ids, description
):
    response = api.post(
        "/jobs", job_body(employer_id, description=description, dispatch_mode="offer", headcount=2)
    )
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    job = answer["job"]
    assert job["status"] == "held" and job["screening"]["held"]
    # the quote is the posting's own words as stored (the API may strip invisible characters)
    assert job["screening"]["reasons"][0]["evidence"][0]["quote"] in job["description"]
    assert "dispatch_state" not in answer
    shown = api.get(f"/jobs/{job['id']}").get_json()
    assert not (shown.get("dispatch_state") or {}).get("offered")
    for worker_id in worker_ids:
        assert api.get(f"/workers/{worker_id}/offers").get_json()["offers"] == []
    grab = api.post(f"/jobs/{job['id']}/grab", {"worker_id": worker_ids[0]})
    assert grab.status_code == 409
    assert [j["id"] for j in api.get("/jobs?status=held").get_json()["jobs"]] == [job["id"]]


def test_an_ordinary_posting_that_says_no_deposit_is_dispatched(api: Api, employer_id, worker_ids):
    body = job_body(
        employer_id, description="不收押金，工服免费提供，无需保证金", dispatch_mode="offer"
    )
    answer = api.post("/jobs", body).get_json()
    assert answer["job"]["status"] == "open"
    assert answer["dispatch_state"]["offered"]
