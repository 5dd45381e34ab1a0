"""Log lines are one JSON object each, carry the request id and never a secret."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator

import pytest

from api.observability import configure_logging, request_id_var


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("INFO")
    stream = io.StringIO()
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    yield stream
    root.handlers, _ = saved
    root.setLevel(saved[1])


def parsed(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_has_the_standard_fields_the_extras_and_the_request_id(
    lines: io.StringIO,
) -> None:
    token = request_id_var.set("req-42")
    try:
        order = uuid.uuid4()
        logging.getLogger("fieldline.access").info(
            "request %s", "GET", extra={"status": 200, "order": order, "标题": "空调"}
        )
    finally:
        request_id_var.reset(token)
    (line,) = parsed(lines)
    assert line["level"] == "INFO" and line["logger"] == "fieldline.access"
    assert line["message"] == "request GET" and line["request_id"] == "req-42"
    assert line["status"] == 200 and line["order"] == str(order) and line["标题"] == "空调"
    assert str(line["time"]).endswith("Z") and "T" in str(line["time"])


def test_secrets_are_redacted_from_messages_arguments_and_tracebacks(lines: io.StringIO) -> None:
    log = logging.getLogger("fieldline.test")
    log.warning("sent %s", "Bearer eyJhbGciOi.secret.part")
    try:
        raise ValueError('{"password": "hunter2"}')
    except ValueError:
        log.exception("login failed password=hunter2")
    text = lines.getvalue()
    assert "eyJhbGciOi" not in text and "hunter2" not in text
    warning, error = parsed(lines)
    assert warning["message"] == "sent Bearer [REDACTED]"
    assert error["level"] == "ERROR" and "ValueError" in str(error["exc_info"])
    assert warning["request_id"] is None  # outside a request
