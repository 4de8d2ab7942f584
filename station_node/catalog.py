"""The station's standard lists: skills, sectors, pay units, sources, priority groups, going rates.

Every list maps a stable code (stored, synced, sent over the API) to its Chinese and English
labels. Staff pick from these lists; anything else is refused with a field error.
"""

from __future__ import annotations

from flask import current_app, has_app_context

from kuaigong import words

Labels = dict[str, tuple[str, str]]  # code -> (zh, en)

SKILLS: Labels = {
    "cleaning": ("保洁", "Cleaning"),
    "housekeeping": ("家政服务", "Housekeeping"),
    "elderly_care": ("养老护理", "Elderly care"),
    "childcare": ("育儿看护", "Childcare"),
    "cooking": ("烹饪", "Cooking"),
    "kitchen_help": ("厨房帮工", "Kitchen help"),
    "waiting": ("餐厅服务", "Waiting tables"),
    "moving": ("搬运", "Moving and carrying"),
    "loading": ("装卸", "Loading and unloading"),
    "sorting": ("分拣打包", "Sorting and packing"),
    "delivery": ("快递配送", "Delivery"),
    "driving": ("驾驶", "Driving"),
    "construction_labour": ("建筑小工", "Construction labour"),
    "masonry": ("泥瓦工", "Masonry and tiling"),
    "carpentry": ("木工", "Carpentry"),
    "painting": ("油漆工", "Painting"),
    "electrician": ("电工", "Electrician"),
    "plumbing": ("水暖工", "Plumbing"),
    "repair": ("维修", "Repairs"),
    "security": ("保安", "Security guard"),
    "gardening": ("园林绿化", "Gardening"),
    "farming": ("农业种植", "Farm work"),
    "flyering": ("派发传单", "Flyer distribution"),
    "promotion": ("促销导购", "Promotion and sales"),
    "event_staff": ("活动服务", "Event staff"),
    "tutoring": ("课业辅导", "Tutoring"),
    "data_entry": ("文字录入", "Data entry"),
    "sewing": ("缝纫", "Sewing"),
}

# Sectors a job comes from (DOMAIN.md: job sources by sector).
CATEGORIES: Labels = words.SECTORS

PAY_UNITS: Labels = {
    "hour": ("元/小时", "yuan per hour"),
    "day": ("元/天", "yuan per day"),
    "piece": ("元/件", "yuan per piece"),
    "job": ("元/单（整项）", "yuan for the whole job"),
}

# Above this a posting is not plausible at all (a typing error): refused, not just held.
MAX_PAY_FEN: dict[str, int] = {
    "hour": 1_000_000,
    "day": 5_000_000,
    "piece": 1_000_000,
    "job": 20_000_000,
}

# The going rate in fen per category and pay unit, for spotting bait pay (screening holds a job
# offering more than BAIT_PAY_FACTOR times this). Units missing here are not compared.
GOING_RATES_FEN: dict[str, dict[str, int]] = {
    "major_project": {"hour": 3500, "day": 30000},
    "education": {"hour": 6000, "day": 40000, "job": 60000},
    "elderly_care": {"hour": 3000, "day": 22000},
    "construction": {"hour": 3500, "day": 30000, "job": 200000},
    "property": {"hour": 2500, "day": 18000},
    "agriculture": {"hour": 2000, "day": 15000, "piece": 50},
    "household": {"hour": 4000, "day": 25000, "job": 15000},
    "catering": {"hour": 2500, "day": 18000},
    "advertising": {"hour": 2500, "day": 18000, "piece": 10},
    "logistics": {"hour": 2800, "day": 22000, "piece": 150},
}
BAIT_PAY_FACTOR = 3

SOURCES: Labels = {
    "walk_in": ("现场登记", "Walk-in"),
    "phone": ("电话登记", "Phone"),
    "kiosk": ("自助一体机", "Kiosk"),
    "department": ("部门清单", "Government department list"),
}

DISPATCH_MODES: Labels = {
    "offer": ("派单", "Offer to ranked workers"),
    "grab": ("抢单", "Open for grabbing"),
}

TERMS: Labels = {"short": ("短期", "Short term"), "long": ("长期", "Long term")}
URGENCIES: Labels = {"normal": ("普通", "Normal"), "urgent": ("急招", "Urgent")}
PAY_METHODS: Labels = {"cash": ("现金", "Cash"), "transfer": ("转账", "Bank or app transfer")}
EMPLOYER_KINDS: Labels = {"person": ("个人", "Person"), "organisation": ("单位", "Organisation")}

# Sensitive flags (PIPL): stored only with a PriorityConsent record naming the purpose.
PRIORITY_GROUPS: Labels = {
    "veteran": ("退役军人", "Veteran"),
    "disability": ("残疾人", "Person with disability"),
    "unemployed": ("失业人员", "Unemployed"),
    "migrant_worker": ("农民工", "Migrant worker"),
    "older_worker": ("大龄劳动者", "Older worker"),
    "low_income": ("低收入家庭", "Low-income household"),
    "new_employment_form": ("新就业形态劳动者", "New form of employment"),
}

# The communities a station serves by default (a street office in Chaoyang, Beijing).
# A station lists its own in the instance config as COMMUNITIES = [...].
AREAS: list[str] = [
    "团结湖社区",
    "麦子店社区",
    "六里屯社区",
    "八里庄社区",
    "三里屯社区",
    "呼家楼社区",
    "双井社区",
    "劲松社区",
]


def areas() -> list[str]:
    """The communities this station serves (instance config COMMUNITIES, else the defaults)."""
    if has_app_context():
        configured = current_app.config.get("COMMUNITIES")
        if configured:
            return list(configured)
    return list(AREAS)


def label(table: Labels, code: str, lang: str = "zh") -> str:
    """The label of `code` in the user's language (the code itself when unknown)."""
    pair = table.get(code)
    if pair is None:
        return code
    return pair[0] if lang.startswith("zh") else pair[1]


def choices(table: Labels, lang: str = "zh") -> list[tuple[str, str]]:
    """(code, label) pairs for a select box, in the list's order."""
    return [(code, label(table, code, lang)) for code in table]


def going_rate_fen(category: str, pay_unit: str) -> int | None:
    """The usual pay in fen for this sector and unit, or None when not known."""
    return GOING_RATES_FEN.get(category, {}).get(pay_unit)
