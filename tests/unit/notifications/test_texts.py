"""Notification wording: every step has its own words in both languages, and a reason."""

from __future__ import annotations

import pytest

from api.notifications.texts import status_changed
from sync_protocol.workorder_status import RULES, Action


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_step_is_named_for_what_it_is(locale: str) -> None:
    titles = {action: status_changed(action.value, "WO-000220", None, locale) for action in RULES}
    assert len({text.title for text in titles.values()}) == len(RULES)  # no two steps alike
    assert all("WO-000220" in text.title for text in titles.values())
    assert all(text.locale == locale for text in titles.values())
    assert "新建" not in titles[Action.DECLINE].title and "new" not in titles[Action.DECLINE].title
    assert titles[Action.DECLINE].title_en == "Work order WO-000220 was declined"


def test_the_reason_is_carried_in_the_recipients_language() -> None:
    zh = status_changed("pause", "WO-000001", "等配件", "zh-CN")
    en = status_changed("pause", "WO-000001", "等配件", "en")
    assert (zh.title, zh.body) == ("工单 WO-000001 已暂停", "原因：等配件")
    assert (en.title, en.body) == ("Work order WO-000001 was paused", "Reason: 等配件")
    assert status_changed("accept", "WO-000001", None, "en").body is None


def test_an_unknown_locale_falls_back_to_chinese() -> None:
    assert status_changed("cancel", "WO-1", None, "fr").locale == "zh-CN"
