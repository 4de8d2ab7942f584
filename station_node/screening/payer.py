"""Who pays whom: findings read from a posting's structure rather than from listed fee names.

A posting asks the worker for money when, in the ad's second-person voice (需, 要, 请, 先,
入职前 …), a paying verb (交, 付, 转, 打, 充值, 垫, 认购, 开通, 留 …) is followed by an amount,
whatever the charge is called (工位占用款500元, 打3000块到队长账户, 开通母婴服务包，价格1680元).
Wages are taken when a share or an amount is cut from them (从工资里划走200元, 工资的一成留给饭店).
A document is kept when, after it, a party other than the worker is named beside a keeping verb
(身份证暂放项目部, 护照由酒店人事统一托管). A task scam asks the worker to advance money that is
paid back later (商品款先自己垫上，确认收货后退回). Each rule stands aside when the money flows
to the worker, the employer or a customer pays, or a negation reaches the verb.
"""

from __future__ import annotations

import re

from station_node.screening.match import Text, nonzero
from station_node.screening.scope import Scope

# The worker as payer: an obligation or the ad's own voice before the verb.
_CUE = re.compile(
    r"(?:必须|需要|须|需|要|得|请|先|本人|自己|自行|每人|员工按|离职|自离|未满|不满|违约|至少|最低|最少"
    r"|(?:入职|上岗|到岗|报到|进厂|进场|接单|接活|干活|上工|上班|上线|开工|签约|上户)(?:前|时|当天))"
)
_PAY = re.compile(
    r"(?:缴纳|交纳|上交|上缴|缴|交|支付|付|转账|转|打|充值|充|垫付|垫|认购|开通|办理|办|购买|买|自备|自购|留|存|带上|拿出|提供|赔偿|赔付|赔|消费|出钱|掏钱|承担|自理|自付|自费|自负)"
)
# Verbs that only look like paying (交通, 打卡, 转正, 留意, 付出).
_NOT_PAY = (
    "交通",
    "交接",
    "交流",
    "交班",
    "交友",
    "交还",
    "交付使用",
    "打卡",
    "打扫",
    "打包",
    "打车",
    "打理",
    "打印",
    "打电话",
    "打字",
    "转正",
    "转岗",
    "转运",
    "留意",
    "留言",
    "留宿",
    "存在",
    "充电",
    "付出",
    "交社保",
    "交五险",
    "交保险",
    "缴社保",
    "缴纳社保",
    "缴纳五险",
    "交纳社保",
    "开通账号",
    "打工",
    "打下手",
    "办理入职",
    "办理手续",
    "办完",
    "办好",
    "买菜",
    "买单",
    "购买社保",
    "买社保",
    "买保险",
    "购买保险",
    "提供住宿",
    "提供食宿",
)
_NOT_PAY_WORDS = re.compile("|".join(sorted(map(re.escape, _NOT_PAY), key=len, reverse=True)))
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万]+)(元|块|万元|千元)")
_BARE_AFTER = ("款", "钱", "费", "金", "份额", "费用", "份子")
_PRICE = re.compile(
    r"^(?:每月|每年|价格|售价|每份|每人|每套|每个|一张|一套|一个|一份|每张|费用|共计|总计|共|合计|一共|收费|需|金额|(?:最低|最少|至少)[充交存付]?)[为是:：]?(\d+)"
)
_TO_WORKER = (
    "工资",
    "薪",
    "奖",
    "补贴",
    "补助",
    "提成",
    "报销",
    "给你",
    "给员工",
    "给工人",
    "给师傅",
    "给阿姨",
    "结算",
    "发放",
    "返给你",
)
_PAYERS = (
    "公司",
    "老板",
    "店里",
    "平台",
    "客户",
    "雇主",
    "家长",
    "业主",
    "顾客",
    "站点",
    "单位",
    "厂里",
    "我们",
    "我方",
)
_NOT_SUBJECT = "在向给到从和与为"
_INSTRUCTS = ("要求", "让", "叫", "规定", "安排", "通知", "收", "扣", "抽", "订")
_PAY_REACH = 14  # characters from a paying verb to its amount
_CUE_REACH = 8  # characters from the cue to the verb

_WAGE = re.compile(r"(?:工资|薪水|薪资|工钱|报酬|月薪|配送费|派送费)")
_TAKE = re.compile(r"(?:划走|划扣|划|扣|抽|拿走|拿|留给|留|存入|存|截)")
_SHARE = re.compile(
    r"\d+(?:\.\d+)?%|[一二两三四五六七八九十]成|分之|一半|半个月|半月|全部|[一二两三四五六七八九]+[十百千万]|\d+(?:\.\d+)?(?:元|块)|[一二两三四五六七八九十百千万]+(?:元|块)"
)
_LAWFUL = ("社保", "个税", "五险", "公积金", "所得税", "医保", "养老")

_KEEP = re.compile(
    r"(?:放(?:在|到|进)?(?:公司|车队|办公室|项目部|人事|财务|宿管|店里|厂里)|存在|代收|没收|放(?:在|到)?.{1,5}(?:那里|那儿|那|手里|手上|处)|拿着|管着|代持|托管|代管|保管|收着|收存|收走|暂放|放在|放到|放进|锁进|锁在|锁入|押在|押给|扣在|扣着|存放|寄放|存到|存进|留在|留给|拿走|收回)"
)
_HOLDERS = (
    "公司",
    "单位",
    "项目部",
    "人事",
    "中介",
    "雇主",
    "主家",
    "老板",
    "酒店",
    "财务",
    "班组",
    "工头",
    "领班",
    "队长",
    "厂办",
    "厂里",
    "厂方",
    "店里",
    "站点",
    "经理",
    "主管",
    "组长",
    "班长",
    "保险柜",
    "办公室",
    "宿舍管理员",
    "老板娘",
    "我先",
    "我们先",
    "我这",
    "我们这",
    "店长",
    "站长",
    "领队",
    "船长",
    "工长",
    "带班",
    "调度",
    "前台",
)
_SELF = ("本人", "个人", "自己", "自行", "随身", "当场", "现场", "核验", "复印")
_DOC_REACH = 16

_ADVANCE = re.compile(
    r"(?:先充值|需充值|充值|垫上|垫付|垫资|垫钱|自己垫|先垫|先行支付|先付款|先下单|自己的账户下单|自己下单)"
)
_REPAY = re.compile(r"(?:退回|退还|返还|返回|返|连本带利|本金|加佣|奖励)")
_ADVANCE_REACH = 40

_ACTION = re.compile(
    r"(?:点评|写评价|发帖|发广告|加好友|加微信|加群|加粉|拉群|转发|点赞|关注|评论|收藏|加购|截图|投票|好评)"
)
_REWARD = re.compile(
    r"(?:奖励|返现|返|给|得|赚|佣金|结算)(\d+(?:\.\d+)?)(?:元|块)|(?:返现|返|佣金)(\d+(?:\.\d+)?)"
)
_ACTION_REACH = 24
_FEE_AMOUNT = re.compile(r"费(?:用)?(?:为|是|:|：)?(\d+)(?:元|块)")
_LEARN_REACH = 24
_MINUTES = re.compile(r"(?:\d+|几|十几|几十)分钟.{0,16}?(?:稳拿|稳赚|轻松拿|轻松赚|拿|赚|日入)\d+")
_PLEDGE = re.compile(r"(?:押|保证|担保|抵押)(?:款|钱)")
_BARE = re.compile(r"\d{2,}")
_ENGLISH = re.compile(
    r"(?:must|need to|needs to|required to|have to|has to|should) (?:first )?"
    r"(?:pay|transfer|deposit|send|hand over|leave|give)"
    r"[a-z ]{0,20}?(?:rmb|cny|¥|\$)?(\d+)"
)
_COLLECTED = re.compile(
    r"(?:工资|工钱|薪水|薪资)[^由]{0,4}由(?!本人|个人|自己|员工)[^领发]{1,6}(?:代领|领取|领)"
)
_TERM = re.compile(r"(\d{3,})(?:元|块)?(?:一期|每期|/期)|(?:每期|一期)(\d{3,})")
_PRICE_AFTER = re.compile(r"(?:包|套餐|班)?[:：为]?(\d{3,}|\d+(?=元|块))")
_COUNTED = tuple("天个小时期节次人周月课")
_LENT = re.compile(
    r"(?:用你的|借用你的|借你的|出借|租用你的|出租|出售|收购)(?:身份信息|身份证|实名|手机号|银行卡|电话卡|微信号|账号|支付宝)"
)
_SMALL = 20.0  # yuan: what a scam pays for one click
_AGENT = re.compile(r"(?:中介|介绍人|介绍费|中介费|服务费|代招)")
_HEAD_PRICE = re.compile(r"(?:男工?|女工?|每人|每位|一人)(\d+)")
_GIVE = re.compile(
    r"(?:给|交给|付给|转给|上交给|上交|上缴|孝敬|返|归)(?:管理|领班|工头|包工头|中介|介绍人|调度|队长|班长|主管|组长|站长|店长|经理|人事|财务|老板"
    r"|车行|车队|师傅|带班|班主|介绍[^给]{0,4}人|公司|平台|店里|站点)"
)
_HANDED = re.compile(r"(?:拿|出|掏|凑)\d+(?:元|块)?$")
_GIVE_LEAD = re.compile(r"^(?:每天|每日|每周|每月|每个月|按时|需|要|都|再|然后|统一|的)*$")
_PRICED = re.compile(r"(?:金|费|钱|款|租)(?:每月|每天|每周|每年)?(\d{2,})")
_EARNINGS = re.compile(r"(?:工资|工钱|薪水|薪资|收入|课酬|酬劳|报酬|提成)")
_UNIT_HEAD = re.compile(
    r"^([一二两三四五六七八九]+[十百千万]+)(?:元|块|整)?$|^(\d+)(?:元|块|(?:元|块)?(?:一套|一件|一个|一张|一份|一年|每套|每件))"
)
_PAID_BY = re.compile(
    r"[^由]{0,4}由(?:客户|顾客|家长|业主|学生|学员|患者|客人|住户|会员|用户)[^，]{0,3}?(?:交|付|支付|承担|出|缴)"
)
_NOT_RETURNED = re.compile(r"(?:不再|不予|不会|不)(?:退还|归还|发还|还给|退回)")
_GIVING = re.compile(r"(?:付|给|发|补|奖励|奖|多给|另给)$")
_REIMBURSED = ("报销", "实报实销", "凭票")
_WORKERS = ("老师", "师傅", "阿姨", "教练", "技师", "司机", "骑手", "保洁员", "员工自己")


def worker_pays(text: Text, scope: Scope) -> list[tuple[int, int]]:
    """Spans where the worker is asked to pay an amount, whatever the charge is called."""
    source, norm = text.text, text.norm
    out: list[tuple[int, int]] = []
    excluded = [(m.start(), m.end()) for m in _NOT_PAY_WORDS.finditer(source)]
    for verb in _PAY.finditer(source):
        start, end = verb.start(), verb.end()
        if any(s <= start < e for s, e in excluded):
            continue
        clause = norm.clause_start(start)
        before = source[max(clause, start - _CUE_REACH) : start]
        if not _CUE.search(before) or employer_subject(source[clause:start]):
            continue
        amount = _amount_after(text, end)
        if amount is None:
            continue
        gap = source[end : amount[0]]
        tail = source[amount[1] : amount[1] + 4]
        if any(w in gap or w in before for w in _TO_WORKER) or tail.startswith(_TO_WORKER):
            continue
        if (
            scope.negated_before(start)
            or scope.warns(start)
            or scope.employer_pays(start, amount[1])
        ):
            continue
        if scope.customers_pay(start, amount[1], end - start) or reimbursed(text, start):
            continue
        out.append((start, amount[1]))
    return out


def employer_subject(lead: str) -> bool:
    """Whether someone other than the worker is the one paying (公司先垫付, 客户需支付), not one
    who makes the worker pay (公司要求先交)."""
    for payer in _PAYERS:
        at = lead.find(payer)
        while at >= 0:
            if not (at and lead[at - 1] in _NOT_SUBJECT) and not any(
                w in lead[at:] for w in _INSTRUCTS
            ):
                return True
            at = lead.find(payer, at + 1)
    return False


def _amount_after(text: Text, end: int) -> tuple[int, int] | None:
    """A nonzero amount the verb at `end` pays: in its clause, or priced at the next one's head."""
    source, norm = text.text, text.norm
    stop = min(norm.clause_end(end - 1), end + _PAY_REACH)
    window = source[end:stop]
    for match in _AMOUNT.finditer(window):
        if nonzero(match.group(1)):
            return end + match.start(), end + match.end()
    bare = _BARE.match(window)  # 消费1500: a bare sum right after the verb
    if (
        bare
        and len(bare.group(0)) >= 3
        and nonzero(bare.group(0))
        and not window.startswith(_COUNTED, bare.end())
    ):
        return end, end + bare.end()
    for word in _BARE_AFTER:
        at = window.find(word)
        digits = re.match(r"\d+", window[at + len(word) :]) if at >= 0 else None
        if digits and nonzero(digits.group(0)):
            return end + at, end + at + len(word) + digits.end()
    for _ in range(
        2
    ):  # priced at the head of one of the next two clauses (…耳机，统一领取，费用299元)
        if stop != norm.clause_end(stop - 1) or stop >= len(source):
            break
        head = source[stop : min(norm.clause_end(stop), stop + 12)]
        price = _PRICE.match(head) or _UNIT_HEAD.match(head)
        if price and nonzero(next((g for g in price.groups() if g), "0")):
            return stop, stop + price.end()
        stop = norm.clause_end(stop)
    return None


def wages_taken(text: Text, scope: Scope) -> list[tuple[int, int]]:
    """Spans where an amount or a share is cut from the worker's wages (工资里划走200元)."""
    source, norm = text.text, text.norm
    out: list[tuple[int, int]] = []
    for wage in _WAGE.finditer(source):
        stop = min(norm.clause_end(wage.start()), wage.end() + 8)
        take = _TAKE.search(source, wage.end(), stop)
        if (
            take is None
            or scope.negated_before(take.start())
            or source[take.start() - 1 : take.start()] in "不无没"
        ):
            continue
        clause = source[norm.clause_start(wage.start()) : norm.clause_end(wage.start())]
        if any(word in clause for word in _LAWFUL) or scope.warns(wage.start()):
            continue
        reach = source[wage.end() : min(norm.clause_end(wage.start()), take.end() + 10)]
        share = _SHARE.search(reach)
        start = norm.clause_start(wage.start())
        if share is None and start and source.startswith(("从", "直接从", "每月从"), start):
            price = _PRICED.search(source, norm.clause_start(start - 1), start)
            if price is not None and nonzero(price.group(1)):
                out.append((price.start(), take.end()))
                continue
        if share and any(
            c.isdigit() and c != "0" or c in "一二两三四五六七八九十百千万" for c in share.group(0)
        ):
            out.append((wage.start(), max(take.end(), wage.end() + share.end())))
    return out


def documents_kept(
    text: Text, scope: Scope, documents: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Spans where a document is put in someone else's keeping (身份证暂放项目部)."""
    source, norm = text.text, text.norm
    out: list[tuple[int, int]] = []
    for start, end in documents:
        stop = min(norm.clause_end(start), end + _DOC_REACH)
        rest = source[end:stop]
        kept = _NOT_RETURNED.search(rest)
        if kept is not None and not scope.warns(start):
            out.append((start, end + kept.end()))  # 不再退还本人: kept for good
            continue
        keep = _KEEP.search(rest)
        if keep is None or any(w in rest for w in (*_SELF, *scope.vocab.only_checked)):
            continue
        if not any(h in rest for h in _HOLDERS) and not any(
            h in source[start - 4 : end + keep.end()] for h in _HOLDERS
        ):
            continue
        if (
            scope.negated_before(end + keep.start(), floor=end)
            or scope.negated_before(start)
            or scope.warns(start)
        ):
            continue
        out.append((start, end + keep.end()))
    return out


def advances_repaid(text: Text, scope: Scope) -> list[tuple[int, int]]:
    """Spans where the worker advances money that is paid back later: the task scam's shape."""
    source = text.text
    for advance in _ADVANCE.finditer(source):
        if scope.negated_before(advance.start()) or scope.warns(advance.start()):
            continue
        if scope.customers_pay(advance.start(), advance.end()):
            continue
        repay = _REPAY.search(source, advance.end(), advance.end() + _ADVANCE_REACH)
        if repay is None:  # the reward named first (冲到等级奖励200元，需先充值648)
            repay = _REPAY.search(source, max(0, advance.start() - _ADVANCE_REACH), advance.start())
        if repay is not None:
            return [(min(advance.start(), repay.start()), max(advance.end(), repay.end()))]
    return []


def paid_per_action(text: Text, scope: Scope) -> list[tuple[int, int]]:
    """Small sums for each online action (每加一个好友奖励3元, 转发到群截图返现5元): a task scam."""
    source = text.text
    for action in _ACTION.finditer(source):
        reward = _REWARD.search(source, action.end(), action.end() + _ACTION_REACH)
        if (
            reward is None
            or text.crosses_break(action.start(), reward.start())
            and reward.start() - action.end() > 12
        ):
            continue
        if (
            float(reward.group(1) or reward.group(2)) <= _SMALL
            and not scope.negated_before(action.start())
            and not scope.warns(action.start())
        ):
            return [(action.start(), reward.end())]
    return []


def agent_price_list(text: Text) -> list[tuple[int, int]]:
    """An agent's price per head (中介服务男450女300, 介绍费每人200): the worker pays the agent."""
    source = text.text
    for agent in _AGENT.finditer(source):
        price = _HEAD_PRICE.search(source, agent.end(), agent.end() + 12)
        if (
            price is not None
            and not text.crosses_break(agent.start(), price.start())
            and nonzero(price.group(1))
        ):
            return [(agent.start(), price.end())]
    return []


def given_to_party(text: Text, scope: Scope) -> list[tuple[int, int]]:
    """Money or a share handed to a boss or an agent (给领班上150元, 需给调度抽成两成)."""
    source, norm = text.text, text.norm
    out: list[tuple[int, int]] = []
    for give in _GIVE.finditer(source):
        clause = norm.clause_start(give.start())
        if employer_subject(source[clause : give.start()]) or scope.negated_before(give.start()):
            continue
        stop = min(norm.clause_end(give.start()), give.end() + 12)
        share = _SHARE.search(source, give.end(), stop) or _BARE.match(source, give.end(), stop)
        lead = source[clause : give.start()]
        if share is None and ("红包" in lead or "钱" in lead or _HANDED.search(lead)):
            before = _BARE.search(lead)  # 发个888的红包给管理: money named before, handed over
            if before is not None and nonzero(before.group(0)):
                out.append((clause + before.start(), give.end()))
                continue
        if share is None and _EARNINGS.search(lead):
            before = _SHARE.search(lead)  # 首月课酬的30%转给平台: the share named before
            if before is not None and not give.group(0).endswith(
                "师傅"
            ):  # 收入六成分给师傅: the worker's share
                out.append((clause + before.start(), give.end()))
                continue
        if (
            share is None
            and _EARNINGS.search(lead)
            and (give.group(0).startswith("归") or _EARNINGS.search(lead[-3:]))
        ):
            out.append((clause, give.end()))  # 第一个月工钱归师傅: the wage itself handed over
            continue
        if share is None and clause and _GIVE_LEAD.match(lead):
            # 日租金180，每天交给车行: the amount priced just before, handed over in this clause
            price = _PRICED.search(source, norm.clause_start(clause - 1), clause)
            if price is not None and nonzero(price.group(1)):
                out.append((price.start(), give.end()))
            continue
        if share is None or any(w in source[give.end() : share.start()] for w in _TO_WORKER):
            continue
        if scope.warns(give.start()) or scope.employer_pays(give.start(), share.end()):
            continue
        out.append((give.start(), share.end()))
    return out


def given_to_worker(text: Text, at: int) -> bool:
    """Whether the amount at text[at] is given to the worker (当天付200元试工费): a giving verb
    right before it with no cue of the worker paying."""
    source = text.text
    lead = source[text.norm.clause_start(at) : at]
    verb = _GIVING.search(lead)
    return verb is not None and not _CUE.search(lead[max(0, verb.start() - 3) : verb.start()])


def reimbursed(text: Text, start: int) -> bool:
    """Whether the cost at text[start] is paid back by the employer (凭票报销) in its clause or
    the next."""
    norm = text.norm
    end = norm.clause_end(start)
    if end < len(text.text):
        end = norm.clause_end(end)
    return any(word in text.text[start:end] for word in _REIMBURSED)


def worker_collects(text: Text, start: int) -> bool:
    """Whether the worker is the one collecting at text[start] (老师每节课收120元)."""
    lead = text.text[text.norm.clause_start(start) : start]
    return any(word in lead for word in _WORKERS)


def identity_lent(text: Text) -> list[tuple[int, int]]:
    """The worker's identity or accounts lent out for pay (用你的身份信息注册账号): a scam."""
    source = text.text
    for lent in _LENT.finditer(source):
        after = source[lent.end() : lent.end() + 10]
        if not any(word in after for word in ("工资", "薪", "接收", "发放")):
            return [(lent.start(), lent.end())]
    return []


def priced(text: Text, end: int) -> bool:
    """Whether a price follows the word ending at `end` (课程包1999, 技术班：3800元)."""
    match = _PRICE_AFTER.match(text.text, end)
    return (
        match is not None
        and nonzero(match.group(1))
        and not text.text.startswith(_COUNTED, match.end())
    )


def deposit_named(text: Text, scope: Scope) -> list[tuple[int, int]]:
    """Money named as a pledge (押款, 担保钱, 保证款) with an amount beside it: a deposit by any
    name."""
    out: list[tuple[int, int]] = []
    for pledge in _PLEDGE.finditer(text.text):
        amount = _AMOUNT.match(text.text, pledge.end()) or _BARE.match(text.text, pledge.end())
        if amount is None or not nonzero(amount.group(0)):
            continue
        start, end = pledge.start(), amount.end()
        if scope.negated_before(start) or scope.warns(start) or scope.employer_pays(start, end):
            continue
        out.append((start, end))
    return out


def english_demand(text: Text) -> list[tuple[int, int]]:
    """An English demand that the worker pay or hand over an amount (must transfer 500 yuan)."""
    match = _ENGLISH.search(text.text)
    return [(match.start(), match.end())] if match and nonzero(match.group(1)) else []


def wages_collected(text: Text) -> list[tuple[int, int]]:
    """Wages drawn by someone else on the workers' behalf (工钱先由带班统一领): they may never
    arrive."""
    match = _COLLECTED.search(text.text)
    return [(match.start(), match.end())] if match else []


def term_prices(text: Text) -> list[tuple[int, int]]:
    """Prices per term or class (3680一期, 每期398): what a course costs."""
    return [
        (m.start(), m.end()) for m in _TERM.finditer(text.text) if nonzero(m.group(1) or m.group(2))
    ]


def paid_by_customer(text: Text, end: int) -> bool:
    """Whether the fee ending at `end` is said to be paid by a customer (学费由家长交给学校)."""
    return _PAID_BY.match(text.text, end) is not None


def minutes_for_money(text: Text, scope: Scope) -> list[tuple[int, int]]:
    """A few minutes of trivial effort for sure money (每天刷视频30分钟，一天稳拿100): a scam's
    promise."""
    match = _MINUTES.search(text.text)
    if match is None or scope.negated_before(match.start()) or scope.warns(match.start()):
        return []
    return [(match.start(), match.end())]


def learner_pays(text: Text, start: int, end: int) -> tuple[int, int] | None:
    """A course the worker is told to attend (需先上…课) with a fee and an amount after it."""
    source, norm = text.text, text.norm
    lead = source[max(norm.clause_start(start), start - 6) : start]
    if not _CUE.search(lead) or source.startswith(
        "费", end
    ):  # 先交培训费: the fee itself, asked for
        return None
    fee = _FEE_AMOUNT.search(source, end, min(len(source), end + _LEARN_REACH))
    return (start, fee.end()) if fee is not None and nonzero(fee.group(1)) else None
