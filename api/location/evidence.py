"""The wire form of a geofence's evidence (:class:`dispatch.geofence.Evidence`), as
kept on the visit, sent with an arrival suggestion and read by the office."""

from __future__ import annotations

from typing import Any

from api.http.schemas import utc_text
from dispatch.fixes import Fix
from dispatch.geofence import Evidence


def evidence_json(evidence: Evidence | None) -> dict[str, Any] | None:
    if evidence is None:
        return None
    return {
        "first": sighting_json(evidence.first.fix, evidence.first.distance_m),
        "last": sighting_json(evidence.last.fix, evidence.last.distance_m),
        "fixes": evidence.fixes,
    }


def sighting_json(fix: Fix, distance_m: float) -> dict[str, Any]:
    """One fix as the office reads it: when, where, how precise, how far from the point."""
    return {
        "fixed_at": utc_text(fix.fixed_at),
        "lat": fix.lat,
        "lon": fix.lon,
        "accuracy_m": fix.accuracy_m,
        "distance_m": round(distance_m, 1),
    }
