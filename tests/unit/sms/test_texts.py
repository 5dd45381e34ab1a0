"""Every text a customer can get exists in both languages and carries the tracking link."""

from __future__ import annotations

import pytest

from api.sms import texts

PARAMS = {
    "sender": "菲尔德",
    "number": "WO-000042",
    "technician": "张师傅",
    "eta": "12",
    "link": "https://t.example.cn/t/abc",
    "title": "x",
}


@pytest.mark.parametrize("locale", texts.LOCALES)
@pytest.mark.parametrize("kind", [*texts.KINDS.values(), texts.EN_ROUTE_ETA])
def test_each_step_reads_in_each_language_with_the_link(kind: str, locale: str) -> None:
    text = texts.render(kind, locale, PARAMS)
    assert PARAMS["link"] in text and "{" not in text
    assert text.startswith("【菲尔德】") == (locale == "zh-CN")


def test_the_arrival_estimate_is_in_its_text_and_an_unknown_language_reads_chinese() -> None:
    assert "12" in texts.render(texts.EN_ROUTE_ETA, "en", PARAMS)
    assert texts.render("completed", "fr", PARAMS) == texts.render("completed", "zh-CN", PARAMS)
    assert texts.locale_of("en-US") == "en" and texts.locale_of("zh-CN") == "zh-CN"
