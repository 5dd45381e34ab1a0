"""How people type order numbers: the number on the sheet, or just its digits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from client_sdk.jobcard import same_number

numbers = st.integers(min_value=0, max_value=10**9)


@given(numbers, st.integers(min_value=0, max_value=9))
def test_the_digits_with_or_without_prefix_and_zeros_name_the_order(n: int, pad: int) -> None:
    number = f"WO-{n:06d}"
    for typed in (number, number.lower(), str(n), f"{n:0{pad}d}", f"WO-{n}", f"wo{n}"):
        assert same_number(number, typed), typed


@given(numbers, numbers)
def test_other_digits_or_another_prefix_never_match(n: int, m: int) -> None:
    number = f"WO-{n:06d}"
    assert same_number(number, f"XY-{n}") is False
    if m != n:
        assert same_number(number, str(m)) is False
        assert same_number(number, f"WO-{m:06d}") is False


def test_text_that_is_not_a_number_matches_only_itself() -> None:
    assert same_number("WO-000220", "") is False
    assert same_number("WO-000220", "b7d9e77") is False
    assert same_number("REPAIR-A", "repair-a") is True
    assert same_number(None, "220") is False
