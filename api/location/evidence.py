"""The wire form of a geofence's evidence (:class:`dispatch.geofence.Evidence`), as
kept on the visit, sent with an arrival suggestion and read by the office.

A customer contact reads the same evidence without the fixes' coordinates: when,
how far from their site and how many fixes, but never where the technician was
(they see a position only while the technician is on the way)."""

from __future__ import annotations

from typing import Any

from api.auth.actor import Actor
from api.auth.permissions import Role
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


_POSITION = ("lat", "lon", "accuracy_m")


def evidence_for(actor: Actor, evidence: dict[str, Any] | None) -> dict[str, Any] | None:
    """The kept evidence as ``actor`` may read it: whole for staff, without the
    fixes' positions for a customer contact."""
    if evidence is None or actor.role is not Role.CUSTOMER_CONTACT:
        return evidence
    return {
        **evidence,
        **{
            end: {k: v for k, v in evidence[end].items() if k not in _POSITION}
            for end in ("first", "last")
        },
    }
