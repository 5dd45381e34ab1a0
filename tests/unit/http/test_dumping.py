"""A compiled dump writes exactly what marshmallow's own dump writes, for any values."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
from types import SimpleNamespace
from typing import Any

import marshmallow as ma
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import fields

from api.http.dumping import FastDumpSchema, converter
from api.http.json import encode
from api.http.schemas import UTCDateTime
from api.workorders.queries import CategoryPath, CategoryRef, WorkOrderView
from api.workorders.schemas import WorkOrderSchema
from api.workorders.states import Priority, Status


class Colour(enum.Enum):
    RED = "red"
    GREEN = "绿"


class Shouty(fields.String):
    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(value).upper()


class LeafSchema(FastDumpSchema):
    id = fields.UUID()
    label = fields.String(allow_none=True)


class EveryKindSchema(FastDumpSchema):
    text = fields.String(allow_none=True)
    uid = fields.UUID(allow_none=True)
    count = fields.Integer(allow_none=True)
    count_text = fields.Integer(as_string=True, allow_none=True)
    ratio = fields.Float(allow_none=True)
    money = fields.Decimal(allow_none=True)
    flag = fields.Boolean(allow_none=True)
    colour_value = fields.Enum(Colour, by_value=True, allow_none=True)
    colour_name = fields.Enum(Colour, allow_none=True)
    moment = UTCDateTime(allow_none=True)
    tags = fields.List(fields.String(), allow_none=True)
    leaf = fields.Nested(LeafSchema, allow_none=True)
    leaves = fields.List(fields.Nested(LeafSchema), allow_none=True)
    many_leaves = fields.Nested(LeafSchema, many=True, allow_none=True)
    shout = Shouty(allow_none=True)
    anything = fields.Raw(allow_none=True)
    renamed = fields.String(data_key="renamedKey", attribute="original", allow_none=True)
    with_default = fields.String(dump_default="默认")


def stock_dump(schema: ma.Schema, obj: Any) -> Any:
    """marshmallow's own dump, nested schemas included."""
    return ma.Schema.dump(schema, obj)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


moments = st.datetimes(timezones=st.timezones(), allow_imaginary=False)
leaves = st.builds(SimpleNamespace, id=st.uuids(), label=maybe(st.text(max_size=5)))
everything = st.fixed_dictionaries(
    {
        "text": maybe(st.text() | st.integers() | st.binary(max_size=0)),
        "uid": maybe(st.uuids()),
        "count": maybe(
            st.integers()
            | st.floats(allow_nan=False, allow_infinity=False, max_value=1e15, min_value=-1e15)
        ),
        "count_text": maybe(st.integers()),
        "ratio": maybe(st.floats(allow_nan=False) | st.integers()),
        "money": maybe(st.decimals(allow_nan=False, allow_infinity=False)),
        "flag": maybe(st.booleans() | st.sampled_from(["t", "no", 1, 0])),
        "colour_value": maybe(st.sampled_from(Colour)),
        "colour_name": maybe(st.sampled_from(Colour)),
        "moment": maybe(moments),
        "tags": maybe(st.lists(st.text(max_size=5), max_size=3)),
        "leaf": maybe(leaves),
        "leaves": maybe(st.lists(leaves, max_size=3)),
        "many_leaves": maybe(st.lists(leaves, max_size=3)),
        "shout": maybe(st.text(max_size=5)),
        "anything": maybe(st.integers() | st.text(max_size=5)),
        "original": maybe(st.text(max_size=5)),
    },
    optional={"with_default": st.text(max_size=5)},
)


@given(everything)
def test_every_kind_of_field_dumps_as_marshmallow_dumps_it(values: dict[str, Any]) -> None:
    schema = EveryKindSchema()
    obj = SimpleNamespace(**values)
    assert schema.dump(obj) == stock_dump(schema, obj)
    assert schema.dump([obj, obj], many=True) == [stock_dump(schema, obj)] * 2


def test_a_field_that_serialises_itself_keeps_its_own_serialisation() -> None:
    assert converter(Shouty()) is None
    assert converter(fields.Decimal()) is None
    assert converter(fields.Integer(as_string=True)) is None
    schema = EveryKindSchema()
    assert schema.dump(SimpleNamespace(shout="ok"))["shout"] == "OK"


def test_an_absent_attribute_takes_the_default_and_a_mapping_is_indexed() -> None:
    schema = EveryKindSchema()
    assert schema.dump(SimpleNamespace())["with_default"] == "默认"
    assert "text" not in schema.dump(SimpleNamespace())
    assert schema.dump({"text": "从字典"})["text"] == "从字典"


refs = st.builds(
    CategoryRef, st.uuids(), st.text(max_size=5), st.text(max_size=5), maybe(st.text())
)


@st.composite
def work_order_views(draw: st.DrawFn) -> WorkOrderView:
    path = draw(st.lists(refs, min_size=1, max_size=3))
    category = draw(maybe(st.just(CategoryPath(**vars(path[-1]), path=path))))
    moment_fields = (
        "requested_start",
        "requested_end",
        "scheduled_start",
        "scheduled_end",
        "sla_due_at",
        "completed_at",
        "closed_at",
        "cancelled_at",
    )
    order = SimpleNamespace(
        **{name: draw(maybe(moments)) for name in moment_fields},
        id=draw(st.uuids()),
        number=draw(st.text(max_size=10)),
        title=draw(st.text(max_size=10)),
        description=draw(maybe(st.text(max_size=10))),
        customer_id=draw(st.uuids()),
        site_id=draw(st.uuids()),
        category_id=category.id if category else None,
        priority=draw(st.sampled_from(Priority)),
        status=draw(st.sampled_from(Status)),
        assignee_id=draw(maybe(st.uuids())),
        resolution=draw(maybe(st.text(max_size=10))),
        source=draw(st.sampled_from(["api", "web", "sync"])),
        created_by=draw(maybe(st.uuids())),
        version=draw(st.integers(min_value=1)),
        created_at=draw(moments),
        updated_at=draw(moments),
    )
    return WorkOrderView(
        **vars(order),
        asset_ids=draw(st.lists(st.uuids(), max_size=3)),
        category=category,
        allowed_actions=draw(st.lists(st.sampled_from(["accept", "decline", "cancel"]))),
    )


@given(work_order_views())
def test_a_work_order_dumps_and_encodes_as_marshmallow_and_the_stdlib_would(
    view: WorkOrderView,
) -> None:
    schema = WorkOrderSchema()
    dumped = schema.dump(view)
    assert dumped == stock_dump(schema, view)
    assert json.loads(encode(dumped)) == json.loads(json.dumps(dumped))
    assert encode(dumped).endswith(b"\n")


def test_the_encoder_writes_dates_decimals_and_non_ascii_as_flask_did() -> None:
    moment = dt.datetime(2026, 11, 26, 8, 30, tzinfo=dt.UTC)
    body = json.loads(encode({"at": moment, "d": dt.date(2026, 1, 2), "n": decimal.Decimal("1.5")}))
    assert body == {
        "at": "Thu, 26 Nov 2026 08:30:00 GMT",
        "d": "Fri, 02 Jan 2026 00:00:00 GMT",
        "n": "1.5",
    }
    assert "上海".encode() in encode({"city": "上海"})
    assert json.loads(encode({"n": 2**70})) == {"n": 2**70}  # beyond orjson's 64 bits
