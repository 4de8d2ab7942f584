"""What a shared code means to a person, in Chinese and English: the states of the records the
station keeps and the hub copies, and the sectors jobs come from (DOMAIN.md: job sources by
sector). Both apps' pages use these words; codes stay in the API, the tables and the logs."""

from __future__ import annotations

Words = dict[str, tuple[str, str]]

# kuaigong.states: JobStatus, then the assignment and offer states pages show.
RECORD_STATES: Words = {
    "held": ("待审核", "Held for review"),
    "open": ("派工中", "Dispatching"),
    "escalated": ("超时待人工派工", "Escalated to staff"),
    "filled": ("已满员", "Filled"),
    "closed": ("已结束", "Closed"),
    "cancelled": ("已取消", "Cancelled"),
    "rejected": ("已驳回", "Rejected"),
    "confirmed": ("已确认", "Confirmed"),
    "checked_in": ("已到岗", "Checked in"),
    "completed": ("已完工", "Completed"),
    "settled": ("已结算", "Paid"),
    "no_show": ("未到岗", "No-show"),
    "accepted": ("已接受", "Accepted"),
    "declined": ("已拒绝", "Declined"),
    "expired": ("已超时", "Timed out"),
    "withdrawn": ("已撤回", "Withdrawn"),
    "active": ("正常", "Active"),
    "blocked": ("已停用", "Blocked"),
}

SECTORS: Words = {
    "major_project": ("重大项目", "Major projects"),
    "education": ("教育培训", "Education and training"),
    "elderly_care": ("养老服务", "Elderly care"),
    "construction": ("建筑装修", "Construction and decoration"),
    "property": ("物业管理", "Property management"),
    "agriculture": ("农业", "Agriculture"),
    "household": ("家政服务", "Household services"),
    "catering": ("餐饮", "Catering"),
    "advertising": ("广告宣传", "Advertising"),
    "logistics": ("快递物流", "Courier and logistics"),
}
