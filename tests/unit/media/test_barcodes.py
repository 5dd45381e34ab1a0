"""media.barcodes: check digits, symbology charsets and GS1 element strings.

Property tests: a GTIN with its computed check digit is always accepted, any
single wrong digit in its place always refused; a GS1 message reads the same in
every form a scanner may hand over, and its stored form parses back to itself.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.barcodes import (
    GS,
    GS1Fields,
    InvalidBarcode,
    Reason,
    gs1_check_digit,
    parse_gs1,
    validate_code,
)

LENGTHS = {"ean_13": 13, "upc_a": 12, "ean_8": 8}
# Characters GS1 allows in AI 10 / 21 values (the "82-character set" less a few).
gs1_text = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-./_",
    min_size=1,
    max_size=20,
)


def gtins(symbology: str) -> st.SearchStrategy[str]:
    payload = st.text(
        alphabet="0123456789", min_size=LENGTHS[symbology] - 1, max_size=LENGTHS[symbology] - 1
    )
    return payload.map(lambda p: p + str(gs1_check_digit(p)))


@pytest.mark.parametrize(
    ("value", "symbology"),
    [("4006381333931", "ean_13"), ("036000291452", "upc_a"), ("96385074", "ean_8")],
)
def test_published_codes_pass_their_check_digit(value: str, symbology: str) -> None:
    assert validate_code(value, symbology).value == value


@given(st.sampled_from(sorted(LENGTHS)).flatmap(lambda s: st.tuples(st.just(s), gtins(s))))
def test_a_computed_check_digit_is_always_accepted(case: tuple[str, str]) -> None:
    symbology, value = case
    assert validate_code(value, symbology).value == value


@given(
    st.sampled_from(sorted(LENGTHS)).flatmap(lambda s: st.tuples(st.just(s), gtins(s))),
    st.integers(1, 9),
)
def test_any_other_last_digit_is_refused_as_a_check_digit_error(
    case: tuple[str, str], shift: int
) -> None:
    symbology, value = case
    wrong = value[:-1] + str((int(value[-1]) + shift) % 10)
    with pytest.raises(InvalidBarcode) as caught:
        validate_code(wrong, symbology)
    assert caught.value.reason is Reason.CHECK_DIGIT


@given(
    st.sampled_from(sorted(LENGTHS)).flatmap(lambda s: st.tuples(st.just(s), gtins(s))),
    st.integers(0, 11),
    st.integers(1, 9),
)
def test_a_single_mistyped_digit_anywhere_is_caught(
    case: tuple[str, str], position: int, shift: int
) -> None:
    symbology, value = case
    i = position % len(value)
    wrong = value[:i] + str((int(value[i]) + shift) % 10) + value[i + 1 :]
    with pytest.raises(InvalidBarcode) as caught:
        validate_code(wrong, symbology)
    assert caught.value.reason is Reason.CHECK_DIGIT


@pytest.mark.parametrize(
    ("value", "symbology"),
    [
        ("400638133393", "ean_13"),  # one digit short
        ("40063813339X", "upc_a"),
        ("４００６３８１３", "ean_8"),  # full-width digits are not barcode digits
        ("温度计", "code_128"),
        ("lower", "code_39"),
        ("a\x00b", "qr"),
    ],
)
def test_values_a_symbology_cannot_carry_are_malformed(value: str, symbology: str) -> None:
    with pytest.raises(InvalidBarcode) as caught:
        validate_code(value, symbology)
    assert caught.value.reason is Reason.MALFORMED


def test_gs1_fields_are_read_from_a_gs1_128_scan() -> None:
    scanned = validate_code("]C1010950110153000317260731" + "10LOT-7" + GS + "21SN0042", "code_128")
    assert scanned.gs1 == GS1Fields(
        gtin="09501101530003", serial="SN0042", lot="LOT-7", expiry=date(2026, 7, 31)
    )
    assert scanned.value == "(01)09501101530003(17)260731(10)LOT-7(21)SN0042"


def test_a_gs1_gtin_with_a_wrong_check_digit_is_a_check_digit_error() -> None:
    with pytest.raises(InvalidBarcode) as caught:
        validate_code("(01)09501101530004(21)X", "data_matrix")
    assert caught.value.reason is Reason.CHECK_DIGIT


@pytest.mark.parametrize("value", ["(17)261331", "(01)0950110153000", "(10)" + "A" * 21])
def test_broken_gs1_element_strings_are_refused(value: str) -> None:
    with pytest.raises(InvalidBarcode) as caught:
        validate_code(value, "qr")
    assert caught.value.reason is Reason.GS1


def test_linear_retail_symbologies_cannot_claim_gs1_element_strings() -> None:
    with pytest.raises(InvalidBarcode):
        validate_code("(01)09501101530003", "ean_13")


@given(
    st.text(alphabet="0123456789", min_size=13, max_size=13),
    gs1_text,
    gs1_text,
    st.dates(date(2000, 1, 1), date(2049, 12, 31)),
)
def test_every_scanner_form_of_a_gs1_message_reads_the_same(
    payload: str, lot: str, serial: str, expiry: date
) -> None:
    gtin = payload + str(gs1_check_digit(payload))
    yymmdd = expiry.strftime("%y%m%d")
    hri = f"(01){gtin}(17){yymmdd}(10){lot}(21){serial}"
    raw = f"01{gtin}17{yymmdd}10{lot}{GS}21{serial}"
    forms = [hri, "]C1" + raw, "]d2" + raw, "]Q3" + raw, GS + raw]
    expected = GS1Fields(gtin=gtin, serial=serial, lot=lot, expiry=expiry)
    for form in forms:
        scanned = validate_code(form, "data_matrix")
        assert scanned.gs1 == expected
        assert scanned.value == hri
        # The stored form is a fixed point: parsing it again changes nothing.
        assert validate_code(scanned.value, "qr").value == scanned.value
        assert parse_gs1(scanned.value) == expected


@given(st.text(min_size=1, max_size=40))
def test_validation_either_accepts_or_names_a_reason(value: str) -> None:
    for symbology in ("qr", "code_128", "ean_13", "code_39", None):
        try:
            validate_code(value, symbology)
        except InvalidBarcode as exc:
            assert exc.reason in set(Reason)
