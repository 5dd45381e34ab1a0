"""Options shared by autogenerate and the schema-drift test, so both compare alike."""

from __future__ import annotations

from typing import Any


def compare_options() -> dict[str, Any]:
    return {"compare_type": False, "render_as_batch": True}
