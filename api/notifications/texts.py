"""What a work order notification says, per action, in zh-CN and en.

A notification names the step that happened (a decline is not "new"), in the
recipient's language, and carries the reason given with it. Customers read the
reason of a cancellation only: other reasons (decline, pause, unassign, reopen)
are internal remarks, as in the history they see.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"

# action -> (zh-CN, en); {number} is the order's number.
_TITLES = MappingProxyType(
    {
        "assign": ("工单 {number} 已派工", "Work order {number} was assigned"),
        "unassign": ("工单 {number} 已撤销派工", "Work order {number} was unassigned"),
        "accept": ("工单 {number} 已接单", "Work order {number} was accepted"),
        "decline": ("工单 {number} 被拒绝接单", "Work order {number} was declined"),
        "start_travel": (
            "工单 {number}：技师已出发",
            "Work order {number}: the technician is on the way",
        ),
        "arrive": (
            "工单 {number}：技师已到达现场",
            "Work order {number}: the technician has arrived",
        ),
        "start_work": ("工单 {number} 已开始施工", "Work order {number}: work has started"),
        "pause": ("工单 {number} 已暂停", "Work order {number} was paused"),
        "resume": ("工单 {number} 已恢复施工", "Work order {number}: work has resumed"),
        "complete": ("工单 {number} 已完成", "Work order {number} was completed"),
        "close": ("工单 {number} 已关闭", "Work order {number} was closed"),
        "cancel": ("工单 {number} 已取消", "Work order {number} was cancelled"),
        "reopen": ("工单 {number} 已重新打开", "Work order {number} was reopened"),
    }
)
_FALLBACK = ("工单 {number} 状态已变更", "Work order {number} changed status")
_REASON = ("原因：{reason}", "Reason: {reason}")
# Reasons a customer contact may read (as in their history: only a cancellation's).
CUSTOMER_REASONS = frozenset({"cancel"})


@dataclass(frozen=True)
class Text:
    """One notification's words: ``title`` and ``body`` in ``locale``, ``title_en`` in English."""

    locale: str
    title: str
    title_en: str
    body: str | None


def status_changed(action: str, number: str, reason: str | None, locale: str) -> Text:
    """The words for ``action`` on order ``number`` in ``locale`` (zh-CN if unknown)."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    index = LOCALES.index(locale)
    titles = _TITLES.get(action, _FALLBACK)
    body = _REASON[index].format(reason=reason) if reason else None
    return Text(
        locale,
        titles[index].format(number=number),
        titles[1].format(number=number),
        body,
    )
