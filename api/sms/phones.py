"""Phone numbers as E.164 (``+8613800138000``), parsed by ``phonenumbers``.

Customers type numbers every way there is: ``138 0013 8000``, ``+86-138-0013-8000``,
``0086 13800138000``, ``(010) 6552 9988``. A number without a country code is read
in the deployment's default region (``FIELDLINE_SMS_DEFAULT_REGION``, CN). Only a
number that can receive a text is accepted: a mobile number, or one whose kind the
numbering plan cannot tell apart (North America's ``FIXED_LINE_OR_MOBILE``).
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

_TEXTABLE = {
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.PERSONAL_NUMBER,
}


class NotTextable(ValueError):
    """The text is not a valid number, or the number cannot receive a text."""


def to_e164(raw: str, region: str = "CN") -> str:
    """``raw`` as E.164; :class:`NotTextable` if it is not a valid mobile number."""
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]  # the international prefix of China and most of the world
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise NotTextable(str(exc)) from None
    if not phonenumbers.is_valid_number(number):
        raise NotTextable("not a valid number")
    if phonenumbers.number_type(number) not in _TEXTABLE:
        raise NotTextable("not a mobile number")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def textable(raw: str | None, region: str = "CN") -> str | None:
    """:func:`to_e164`, or None for a missing or untextable number."""
    if not raw:
        return None
    try:
        return to_e164(raw, region)
    except NotTextable:
        return None


def masked(e164: str) -> str:
    """For logs and lists read by many: ``+86138****8000``."""
    return e164[:-8] + "****" + e164[-4:] if len(e164) > 10 else e164
