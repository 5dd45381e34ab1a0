"""Business calendar schemas. Hours travel as ``"HH:MM"`` (``"24:00"`` ends a day)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from api.http.pagination import PageArgs
from api.http.schemas import Schema, UTCDateTime, text

_CLOCK = validate.Regexp(r"^\d{2}:\d{2}$", error="Use HH:MM")


class IntervalSchema(Schema):
    start = fields.String(required=True, validate=_CLOCK, metadata={"example": "09:00"})
    end = fields.String(required=True, validate=_CLOCK, metadata={"example": "18:00"})


def _day_hours(**kw: Any) -> fields.List[Any]:
    return fields.List(fields.Nested(IntervalSchema), validate=validate.Length(max=12), **kw)


class WeeklyHoursSchema(Schema):
    mon = _day_hours()
    tue = _day_hours()
    wed = _day_hours()
    thu = _day_hours()
    fri = _day_hours()
    sat = _day_hours()
    sun = _day_hours()


class CalendarSchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.String()
    team_id = fields.UUID(allow_none=True)
    time_zone = fields.String()
    weekly_hours = fields.Nested(WeeklyHoursSchema, attribute="shown_weekly_hours")
    holiday_country = fields.String(allow_none=True)
    makeup_hours = _day_hours(allow_none=True, attribute="shown_makeup_hours")
    version = fields.Integer(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


class CalendarUpdateSchema(Schema):
    name = text(120, allow_none=False)
    time_zone = fields.String(
        validate=validate.Length(min=1, max=64), metadata={"example": "Asia/Shanghai"}
    )
    weekly_hours = fields.Nested(WeeklyHoursSchema, metadata={"description": "Missing days: off"})
    holiday_country = fields.String(
        allow_none=True,
        validate=validate.Length(min=2, max=8),
        metadata={
            "description": "Public holidays: CN (with make-up workdays, chinese-calendar) "
            "or another ISO 3166 code (holidays); null for none"
        },
    )
    makeup_hours = _day_hours(
        allow_none=True,
        metadata={"description": "Hours of a make-up workday; null: the first weekday's"},
    )


class CalendarCreateSchema(CalendarUpdateSchema):
    id = fields.UUID(metadata={"description": "Client-generated UUIDv7 (optional)"})
    name = text(120, required=True)
    team_id = fields.UUID(
        allow_none=True, metadata={"description": "The team it serves; null: the tenant default"}
    )
    time_zone = fields.String(required=True, validate=validate.Length(min=1, max=64))
    weekly_hours = fields.Nested(WeeklyHoursSchema, required=True)


class DaySetSchema(Schema):
    hours = _day_hours(required=True, metadata={"description": "[] makes the date a day off"})
    note = text(200)


class DaySchema(Schema):
    date = fields.Date()
    working = fields.Boolean()
    hours = _day_hours()
    source = fields.String(
        metadata={"description": "override, holiday, makeup or weekly: why the day has its hours"}
    )
    holiday = fields.String(allow_none=True, metadata={"description": "The public holiday's name"})
    note = fields.String(allow_none=True)


class DayRangeArgs(Schema):
    start = fields.Date(data_key="from", metadata={"description": "Default: today (UTC)"})
    end = fields.Date(
        data_key="to", metadata={"description": "Default: 30 days after `from`; at most 366 days"}
    )


class DayListSchema(Schema):
    items = fields.List(fields.Nested(DaySchema))
    covered = fields.Boolean(
        metadata={"description": "False when the holiday data does not cover every year asked"}
    )


class CalendarListArgs(PageArgs):
    pass
