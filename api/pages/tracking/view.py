"""What the tracking page's template is given, shaped from the tracking API's answer:
which step is current, the ETA in minutes, and how often (if at all) to refresh."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from api.config import Config

# Refresh intervals (milliseconds): while the technician is on the way, and while the
# order is otherwise open. Finished or cancelled: nothing live at all.
EN_ROUTE_REFRESH_MS = 15_000
OPEN_REFRESH_MS = 60_000
_ENDED = ("completed", "closed", "cancelled")


def page_context(
    tracked: Mapping[str, Any], token: str, config: Config, form: Mapping[str, Any]
) -> dict[str, Any]:
    steps = [{**step, "state": _state(step, tracked["current_step"])} for step in tracked["steps"]]
    eta = tracked["eta"]
    return {
        "t": tracked,
        "token": token,
        "steps": steps,
        "eta_minutes": max(1, math.ceil(eta["seconds"] / 60)) if eta else None,
        "refresh_ms": _refresh(tracked["status"]),
        "map": tracked["position"] is not None,
        "tiles_url": config.map_tiles_url,
        "tiles_attribution": config.map_tiles_attribution,
        "form": form,
        # The opt-out from texts, offered only where texts are sent.
        "texts": bool(config.sms_provider),
    }


def _state(step: Mapping[str, Any], current: str) -> str:
    if step["key"] == current:
        return "current"
    return "done" if step["done"] else "pending"


def _refresh(status: str) -> int | None:
    if status in _ENDED:
        return None
    return EN_ROUTE_REFRESH_MS if status == "en_route" else OPEN_REFRESH_MS
