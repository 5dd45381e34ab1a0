"""marshmallow's nested messages become flat, coded field problems."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from api.errors.fields import FIELD_CODES, code_for_message, field_problems_from_messages


def test_nested_messages_flatten_to_dotted_fields_with_codes() -> None:
    messages = {
        "json": {
            "name": ["Missing data for required field."],
            "site": {
                "position": {
                    "lat": ["Must be greater than or equal to -90 and less than or equal to 90."]
                }
            },
            "skills": {"0": {"level": ["Not a valid integer."]}},
            "colour": ["Unknown field."],
        }
    }
    problems = {(p.field, p.code) for p in field_problems_from_messages(messages)}
    assert problems == {
        ("name", "required"),
        ("site.position.lat", "out_of_range"),
        ("skills.0.level", "invalid_type"),
        ("colour", "unknown_field"),
    }


@given(st.text(max_size=80))
def test_every_message_maps_to_a_documented_code(message: str) -> None:
    assert code_for_message(message) in FIELD_CODES
