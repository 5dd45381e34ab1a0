"""Field-level validation problems: stable codes and localised messages.

marshmallow reports errors as nested dicts of English sentences. Clients need
codes they can branch on, so each known sentence maps to a code, and each code
has a message in both languages. Unknown sentences keep their text under the
generic ``invalid`` code.
"""

from __future__ import annotations

from typing import Any

from api.errors.base import FieldProblem

FIELD_CODES: dict[str, dict[str, str]] = {
    "required": {"en": "This field is required.", "zh-CN": "此字段为必填项。"},
    "unknown_field": {"en": "Unknown field.", "zh-CN": "未知字段。"},
    "null": {"en": "This field may not be null.", "zh-CN": "此字段不能为空值。"},
    "invalid_type": {"en": "Wrong type for this field.", "zh-CN": "字段类型错误。"},
    "too_long": {"en": "The value is too long.", "zh-CN": "值过长。"},
    "too_short": {"en": "The value is too short.", "zh-CN": "值过短。"},
    "out_of_range": {"en": "The value is out of range.", "zh-CN": "值超出允许范围。"},
    "not_allowed": {
        "en": "The value is not one of the allowed choices.",
        "zh-CN": "值不在允许的选项中。",
    },
    "invalid_format": {
        "en": "The value is not in the expected format.",
        "zh-CN": "值的格式不正确。",
    },
    "invalid_length": {"en": "The value has the wrong length.", "zh-CN": "值的长度不正确。"},
    "not_found": {"en": "No such object.", "zh-CN": "引用的对象不存在。"},
    "inactive": {"en": "The referenced object is deactivated.", "zh-CN": "引用的对象已停用。"},
    "wrong_customer": {"en": "It belongs to another customer.", "zh-CN": "它属于其他客户。"},
    "not_at_site": {"en": "It is not at this site.", "zh-CN": "它不在该站点。"},
    "not_leaf": {"en": "Choose a third-level category.", "zh-CN": "请选择第三级分类。"},
    "too_weak": {"en": "The password is too weak.", "zh-CN": "密码强度不足。"},
    "duplicate": {"en": "This value appears twice.", "zh-CN": "该值重复出现。"},
    "taken": {"en": "Another record already has this value.", "zh-CN": "该值已被其他记录使用。"},
    "end_not_after_start": {
        "en": "The end must be after the start.",
        "zh-CN": "结束时间须晚于开始时间。",
    },
    "window_too_long": {
        "en": "The time window is too long.",
        "zh-CN": "时间范围过长。",
    },
    "unsorted": {"en": "List the intervals in order.", "zh-CN": "请按时间顺序排列时段。"},
    "overlapping": {"en": "The intervals overlap.", "zh-CN": "时段相互重叠。"},
    "too_many_intervals": {"en": "Too many intervals in one day.", "zh-CN": "单日时段过多。"},
    "before_issued_on": {"en": "Expires before it was issued.", "zh-CN": "到期日早于签发日。"},
    "contains_nul": {
        "en": "Text may not contain the NUL character (U+0000).",
        "zh-CN": "文本不能包含 NUL 字符（U+0000）。",
    },
    "invalid_unicode": {
        "en": "Text is not valid Unicode (a lone surrogate or bytes that are not UTF-8).",
        "zh-CN": "文本不是有效的 Unicode（孤立代理项或非 UTF-8 字节）。",
    },
    "signature_empty": {"en": "Draw a signature.", "zh-CN": "请签名。"},
    "signature_too_many_strokes": {
        "en": "The signature has too many strokes.",
        "zh-CN": "签名笔画过多。",
    },
    "signature_too_many_points": {
        "en": "The signature has too many points.",
        "zh-CN": "签名的点过多。",
    },
    "signature_invalid_point": {
        "en": "A point of the signature is not a finite [x, y, t, pressure] on the canvas.",
        "zh-CN": "签名中有点不是画布内有限的 [x, y, t, 压力] 值。",
    },
    "signature_invalid_canvas": {
        "en": "The signature canvas needs a width and height from 1 to 4096.",
        "zh-CN": "签名画布的宽和高须为 1 到 4096。",
    },
    "signature_degenerate": {
        "en": "Too small to be a signature.",
        "zh-CN": "笔迹过小，不能作为签名。",
    },
    "invalid": {"en": "The value is not valid.", "zh-CN": "值无效。"},
}

_PREFIXES: list[tuple[str, str]] = [
    ("Missing data for required field", "required"),
    ("Unknown field", "unknown_field"),
    ("Field may not be null", "null"),
    ("Longer than maximum length", "too_long"),
    ("Shorter than minimum length", "too_short"),
    ("Length must be", "invalid_length"),
    ("String does not match expected pattern", "invalid_format"),
    ("Must be greater than", "out_of_range"),
    ("Must be less than", "out_of_range"),
    ("Special numeric values", "out_of_range"),  # NaN and infinity lie in no range
    ("Must be one of", "not_allowed"),
    ("Must be equal to", "not_allowed"),
    ("Not a valid datetime", "invalid_format"),
    ("Not a valid aware datetime", "invalid_format"),
    ("Not a valid naive datetime", "invalid_format"),
    ("Not a valid date", "invalid_format"),
    ("Not a valid time", "invalid_format"),
    ("Not a valid UUID", "invalid_format"),
    ("Not a valid email", "invalid_format"),
    ("Not a valid URL", "invalid_format"),
    ("Timezone", "invalid_format"),
    ("The end must be after the start", "end_not_after_start"),
    ("The time window is longer than", "window_too_long"),
    ("Not a valid", "invalid_type"),
    ("Invalid input type", "invalid_type"),
    ("Invalid type", "invalid_type"),
]


def code_for_message(message: str) -> str:
    for prefix, code in _PREFIXES:
        if message.startswith(prefix):
            return code
    return "invalid"


def field_problems_from_messages(messages: Any, prefix: str = "") -> list[FieldProblem]:
    """Flatten webargs/marshmallow ``{"json": {"site": {"lat": [...]}}}`` into problems."""
    problems: list[FieldProblem] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if not prefix and key in ("json", "query", "headers", "form", "files", "path"):
                problems.extend(field_problems_from_messages(value, ""))
                continue
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix or "_schema"
            problems.extend(field_problems_from_messages(value, name))
    elif isinstance(messages, list):
        for item in messages:
            if isinstance(item, str):
                problems.append(FieldProblem(prefix or "_schema", code_for_message(item), item))
            else:
                problems.extend(field_problems_from_messages(item, prefix))
    elif isinstance(messages, str):
        problems.append(FieldProblem(prefix or "_schema", code_for_message(messages), messages))
    return problems


def localised_field_message(problem: FieldProblem, lang: str) -> str:
    if lang == "en" and problem.message:
        return problem.message
    texts = FIELD_CODES.get(problem.code)
    if texts is None:
        return problem.message
    return texts.get(lang, texts["en"])
