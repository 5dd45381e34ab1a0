"""Response schemas that dump with a plan compiled once per schema.

marshmallow reaches each value through four layers of accessors (and
``hasattr(obj, "__getitem__")``, which on a view object runs its
``__getattr__``), then dispatches on the field for every value: most of the CPU
of dumping a work order. :class:`FastDumpSchema` reads attributes directly and
converts each value with a function chosen once per field, for the fields whose
``_serialize`` it knows (strings, UUIDs, numbers, booleans, enums, lists,
nested fast schemas and :class:`~api.http.schemas.UTCDateTime`). Any other
field, a subclass that overrides ``_serialize``, a mapping (marshmallow indexes
those) and an absent attribute (defaults) take marshmallow's own path, so the
output is marshmallow's by construction; a property test compares the two.
Subclasses must not declare ``pre_dump``/``post_dump`` hooks (this skips them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import fields, missing, utils

from api.http.schemas import Schema, UTCDateTime, utc_text

Convert = Callable[[Any], Any]
# (output key, field name, attribute read, converter or None for the field's own path, field)
Step = tuple[str, str, str, Convert | None, fields.Field[Any]]


class FastDumpSchema(Schema):
    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        many = self.many if many is None else bool(many)
        if many and obj is not None:
            return [self._dump_one(item) for item in obj]
        return self._dump_one(obj)

    def _dump_one(self, obj: Any) -> Any:
        if obj is None or hasattr(type(obj), "__getitem__"):
            return super().dump(obj, many=False)
        result: dict[str, Any] = {}
        for key, name, attribute, convert, field in self._dump_plan():
            value = getattr(obj, attribute, missing)
            if value is missing:
                value = field.serialize(name, obj, accessor=self.get_attribute)
                if value is missing:
                    continue
            elif convert is not None:
                value = convert(value)
            else:
                value = field._serialize(value, name, obj)
            result[key] = value
        return result

    def _dump_plan(self) -> list[Step]:
        plan: list[Step] | None = self.__dict__.get("_plan")
        if plan is None:
            plan = [
                (
                    name if field.data_key is None else field.data_key,
                    name,
                    name if field.attribute is None else field.attribute,
                    converter(field),
                    field,
                )
                for name, field in self.dump_fields.items()
            ]
            if any("." in attribute for _, _, attribute, _, _ in plan):
                raise TypeError(f"{type(self).__name__}: dotted attributes are not supported")
            self._plan = plan
        return plan


def converter(field: fields.Field[Any]) -> Convert | None:
    """A function equal to ``field._serialize(value, ...)`` for any value, or None.

    Only fields whose ``_serialize`` is exactly one of those below get one (a
    subclass with its own keeps it), and none reads the attribute name or the
    object, so leaving them out changes nothing.
    """
    serialize: Any = type(field)._serialize
    if serialize is fields.String._serialize:
        return _text
    if serialize is fields.UUID._serialize:
        return _uuid_text
    if serialize is UTCDateTime._serialize:
        return utc_text
    if serialize is fields.Number._serialize and isinstance(field, fields.Number):
        if field.as_string or type(field)._format_num is not fields.Number._format_num:
            return None
        return _number(field.num_type)
    if serialize is fields.Enum._serialize and isinstance(field, fields.Enum):
        inner = converter(field.field)
        if inner is None:
            return None
        return _enum(inner, by_value=bool(field.by_value))
    if serialize is fields.List._serialize and isinstance(field, fields.List):
        each = converter(field.inner)
        return None if each is None else _list(each)
    if serialize is fields.Nested._serialize and isinstance(field, fields.Nested):
        schema = field.schema
        if not isinstance(schema, FastDumpSchema):
            return None
        return _nested(schema, many=bool(schema.many or field.many))
    if serialize is fields.Raw._serialize:  # Field's own: the value as it is
        return _same
    return None


def _same(value: Any) -> Any:
    return value


def _text(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    return utils.ensure_text_type(value)


def _uuid_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(num_type: Callable[[Any], Any]) -> Convert:
    def convert(value: Any) -> Any:
        return None if value is None else num_type(value)

    return convert


def _enum(inner: Convert, *, by_value: bool) -> Convert:
    def convert(value: Any) -> Any:
        if value is None:
            return None
        return inner(value.value if by_value else value.name)

    return convert


def _list(each: Convert) -> Convert:
    def convert(value: Any) -> Any:
        return None if value is None else [each(item) for item in value]

    return convert


def _nested(schema: FastDumpSchema, *, many: bool) -> Convert:
    def convert(value: Any) -> Any:
        if value is None:
            return None
        return schema.dump(value, many=many)

    return convert
