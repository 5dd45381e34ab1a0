"""The tracking page's rules, pure: how long a link lives, what name a customer
sees, and the parcel-style timeline built from an order's status history.

The timeline follows the order's *current* life: a step counts as done when the
order's status is at or past it now (an order sent back to "new" after a decline
shows "technician assigned" as pending again), and its time is the latest time
the order reached it (``occurred_at``: the field time, PROTOCOL.md § 7.3).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from api.workorders.states import Status

LINK_LIFETIME = timedelta(days=30)
AFTER_END = timedelta(days=14)  # a finished (or cancelled) order's link lives this long
LANGUAGES = ("zh-CN", "en")


class Step(StrEnum):
    RECEIVED = "received"
    SCHEDULED = "scheduled"
    TECHNICIAN_ASSIGNED = "technician_assigned"
    ON_THE_WAY = "on_the_way"
    ARRIVED = "arrived"
    WORK_DONE = "work_done"
    REPORT_READY = "report_ready"
    RATED = "rated"


TITLES: Mapping[Step, Mapping[str, str]] = {
    Step.RECEIVED: {"en": "Order received", "zh-CN": "已受理"},
    Step.SCHEDULED: {"en": "Visit scheduled", "zh-CN": "已预约上门时间"},
    Step.TECHNICIAN_ASSIGNED: {"en": "Technician assigned", "zh-CN": "已安排师傅"},
    Step.ON_THE_WAY: {"en": "On the way", "zh-CN": "师傅正在路上"},
    Step.ARRIVED: {"en": "Arrived", "zh-CN": "师傅已到达"},
    Step.WORK_DONE: {"en": "Work done", "zh-CN": "服务已完成"},
    Step.REPORT_READY: {"en": "Service report ready", "zh-CN": "服务报告已出具"},
    Step.RATED: {"en": "Rated", "zh-CN": "已评价"},
}

# How far along the main line each status is, and the status whose latest
# history row dates each step.
_PROGRESS: Mapping[Status, int] = {
    Status.NEW: 0,
    Status.ASSIGNED: 2,
    Status.ACCEPTED: 2,
    Status.EN_ROUTE: 3,
    Status.ON_SITE: 4,
    Status.IN_PROGRESS: 4,
    Status.PAUSED: 4,
    Status.COMPLETED: 5,
    Status.CLOSED: 5,
}
_LINE = (
    (Step.RECEIVED, 0, None),
    (Step.TECHNICIAN_ASSIGNED, 2, Status.ASSIGNED),
    (Step.ON_THE_WAY, 3, Status.EN_ROUTE),
    (Step.ARRIVED, 4, Status.ON_SITE),
    (Step.WORK_DONE, 5, Status.COMPLETED),
)

# Two-character surnames (复姓): the given name starts after them.
_COMPOUND_SURNAMES = frozenset(
    (
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "钟离",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "百里",
        "呼延",
        "澹台",
        "公冶",
        "太史",
        "申屠",
        "万俟",
        "闻人",
        "赫连",
    )
)


@dataclass(frozen=True)
class TimelineStep:
    key: Step
    done: bool
    occurred_at: datetime | None


@dataclass(frozen=True)
class OrderFacts:
    """What the timeline is made of, read from the order and its neighbours."""

    status: Status
    created_at: datetime
    scheduled_start: datetime | None
    history: tuple[tuple[Status | None, Status, datetime], ...]  # (from, to, occurred_at)
    report_sealed_at: datetime | None
    rated_at: datetime | None


def expiry(
    expires_at: datetime,
    completed_at: datetime | None,
    closed_at: datetime | None,
    cancelled_at: datetime | None,
) -> datetime:
    """When a link stops working: its own limit, or :data:`AFTER_END` after the
    order was finished (a reopened order has no end stamp, so its link lives again)."""
    ends = [stamp for stamp in (completed_at, closed_at, cancelled_at) if stamp is not None]
    if not ends:
        return expires_at
    return min(expires_at, min(ends) + AFTER_END)


def progress(facts: OrderFacts) -> int:
    """How far along the order is; a cancelled order stays where it was cancelled."""
    if facts.status is Status.CANCELLED:
        cancels = [frm for frm, to, _ in facts.history if to is Status.CANCELLED]
        before = cancels[-1] if cancels else None
        return _PROGRESS.get(before, 0) if before is not None else 0
    return _PROGRESS.get(facts.status, 0)


def timeline(facts: OrderFacts) -> list[TimelineStep]:
    """The eight steps in order, each done or not, with when it happened."""
    reached = progress(facts)
    latest: dict[Status, datetime] = {}
    for _, to, when in facts.history:
        if to not in latest or when > latest[to]:
            latest[to] = when
    first = min((when for _, _, when in facts.history), default=facts.created_at)
    steps: dict[Step, TimelineStep] = {}
    for step, rank, status in _LINE:
        done = reached >= rank
        at: datetime | None = first if status is None else latest.get(status)
        steps[step] = TimelineStep(step, done, at if done else None)
    scheduled = facts.scheduled_start is not None
    steps[Step.SCHEDULED] = TimelineStep(Step.SCHEDULED, scheduled, None)
    work_done = steps[Step.WORK_DONE].done
    report = work_done and facts.report_sealed_at is not None
    steps[Step.REPORT_READY] = TimelineStep(
        Step.REPORT_READY, report, facts.report_sealed_at if report else None
    )
    steps[Step.RATED] = TimelineStep(Step.RATED, facts.rated_at is not None, facts.rated_at)
    return [steps[step] for step in Step]


def current_step(steps: Iterable[TimelineStep]) -> Step:
    """The furthest step done (the one the page highlights)."""
    done = [step.key for step in steps if step.done]
    return done[-1] if done else Step.RECEIVED


def addressed_as(name: str, name_en: str | None, language: str) -> str | None:
    """How the customer's page and texts name the technician: never the full name.

    In Chinese, a name in Chinese characters becomes the surname and 师傅 ("王师傅"
    of "王伟", "欧阳师傅" of "欧阳修文", and of "李师傅" as entered), the way
    customers in China address a technician; a surname is shared by millions, so
    it tells less than the given name would. Otherwise the given name only: "Wei"
    of "Wei Zhang", "伟" of "张伟" when the page is in English and no English name
    is kept (a name written with spaces is taken as given name first)."""
    if language == "en" and name_en and name_en.strip():
        name = name_en
    name = name.strip()
    if not name:
        return None
    if any(ch.isspace() for ch in name):
        return name.split()[0]
    if not all(_is_cjk(ch) for ch in name):
        return name
    surname = 2 if name[:2] in _COMPOUND_SURNAMES and len(name) > 2 else 1
    if language == "zh-CN":
        return name[:surname] + _MASTER
    given = name[surname:]
    return given if given and given != _MASTER else None


_MASTER = "师傅"


def _is_cjk(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("CJK ")


def language_of(asked: str | None, negotiated: str) -> str:
    """``?lang=`` wins over ``Accept-Language``; anything Chinese means zh-CN."""
    for candidate in (asked, negotiated):
        if candidate:
            lowered = candidate.lower()
            if lowered.startswith("zh"):
                return "zh-CN"
            if lowered.startswith("en"):
                return "en"
    return "en"
