"""Numbers however customers write them become one E.164 number; what cannot take a text
is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.sms.phones import NotTextable, masked, textable, to_e164


@pytest.mark.parametrize(
    "written",
    ["13800138000", "138 0013 8000", "+86 138-0013-8000", "0086 13800138000", "(+86)138.0013.8000"],
)
def test_a_chinese_mobile_written_any_way_is_one_number(written: str) -> None:
    assert to_e164(written) == "+8613800138000"


def test_a_number_is_read_in_the_configured_region_unless_it_names_its_own() -> None:
    assert to_e164("(415) 555-2671", region="US") == "+14155552671"
    assert to_e164("+44 7911 123456", region="US") == "+447911123456"


@pytest.mark.parametrize("written", ["021 6552 9988", "12345", "not a number", "", "+86 138"])
def test_landlines_and_nonsense_are_not_textable(written: str) -> None:
    with pytest.raises(NotTextable):
        to_e164(written)
    assert textable(written) is None


@given(
    prefix=st.sampled_from(["130", "135", "138", "150", "158", "186", "199"]),
    rest=st.integers(min_value=0, max_value=99_999_999),
    style=st.sampled_from(["{p}{r}", "+86 {p} {r}", "0086{p}-{r}", "+86({p}){r}"]),
)
def test_normalising_is_idempotent_and_ignores_the_writing(
    prefix: str, rest: int, style: str
) -> None:
    number = f"+86{prefix}{rest:08d}"
    written = style.format(p=prefix, r=f"{rest:08d}")
    assert to_e164(written) == number
    assert to_e164(to_e164(written)) == number


def test_a_masked_number_hides_its_middle() -> None:
    assert masked("+8613800138000") == "+86138****8000"
