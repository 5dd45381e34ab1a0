"""The figures of :mod:`api.servicedesk.kpi_queries` over its per-order facts: the
aggregate columns (counts, sums, nearest-rank percentiles from window functions, the
same on both databases) and the answer's shape (rates, averages, the CSAT
distribution)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select

SCORES = (1, 2, 3, 4, 5)
PERCENTILES = {"median": 50, "p90": 90}
TARGETS = ("first_response", "arrival", "resolution")


def totals(facts: Any) -> list[Any]:
    c = facts.c
    resolved = c.completed_s.is_not(None)
    return [
        func.count().label("orders"),
        func.coalesce(func.sum(case((resolved, 1), else_=0)), 0).label("resolved"),
        func.coalesce(
            func.sum(case((and_(resolved, c.reopens == 0, c.arrivals <= 1), 1), else_=0)), 0
        ).label("first_contact"),
        *(
            func.coalesce(func.sum(getattr(c, name)), 0).label(name)
            for name in (
                "escalated",
                "fr_eligible",
                "fr_met",
                "arr_eligible",
                "arr_met",
                "res_eligible",
                "res_met",
            )
        ),
        func.count(c.score).label("ratings"),
        func.coalesce(func.sum(c.score), 0).label("score_sum"),
        *(
            func.coalesce(func.sum(case((c.score == k, 1), else_=0)), 0).label(f"score_{k}")
            for k in SCORES
        ),
    ]


def _durations(facts: Any, paused: Any) -> dict[str, Any]:
    """Per figure, a selectable of its durations ``d`` (nulls included): the orders' own,
    and for business time also the paused orders' figures from the SLA clocks."""
    c = facts.c
    found: dict[str, Any] = {
        "first_response": select((c.first_response_s - c.created_s).label("d")),
        "resolution": select((c.completed_s - c.created_s).label("d")),
    }
    business = ("first_response_business", "resolution_business")
    for name in business if business[0] in c else ():
        found[name] = select(c[name].label("d"))
        if paused is not None:
            found[name] = found[name].union_all(select(paused.c[name].label("d")))
    return found


def times(facts: Any, paused: Any) -> list[Any]:
    """Per duration: how many orders have one, its median and p90 (nearest rank)."""
    columns = []
    for name, durations in _durations(facts, paused).items():
        d = durations.subquery().c.d
        ranked = (
            select(
                d.label("d"),
                func.row_number().over(order_by=d).label("rn"),
                func.count().over().label("n"),
            )
            .where(d.is_not(None))
            .subquery()
        )
        columns.append(
            select(func.count()).select_from(ranked).scalar_subquery().label(f"{name}.count")
        )
        columns += [
            select(func.max(case((ranked.c.rn == (ranked.c.n * p + 99) // 100, ranked.c.d))))
            .scalar_subquery()
            .label(f"{name}.{key}")
            for key, p in PERCENTILES.items()
        ]
    return columns


def shape(start: datetime, end: datetime, t: Any, cancelled: int) -> dict[str, Any]:
    def rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    def timing(name: str) -> dict[str, Any]:
        def of(key: str) -> dict[str, Any]:
            return {
                "count": t.get(f"{key}.count", 0),
                "median_seconds": _int(t.get(f"{key}.median")),
                "p90_seconds": _int(t.get(f"{key}.p90")),
            }

        return of(name) | {"business": of(f"{name}_business")}

    prefixes = {"first_response": "fr", "arrival": "arr", "resolution": "res"}
    return {
        "start": start,
        "end": end,
        "orders": t["orders"],
        "cancelled": cancelled,
        "first_contact_resolution": {
            "resolved": t["resolved"],
            "first_contact": t["first_contact"],
            "rate": rate(t["first_contact"], t["resolved"]),
        },
        "first_response": timing("first_response"),
        "resolution": timing("resolution"),
        "escalation": {
            "orders": t["orders"],
            "escalated": t["escalated"],
            "rate": rate(t["escalated"], t["orders"]),
        },
        "sla": [
            {
                "target": target,
                "eligible": t[f"{prefixes[target]}_eligible"],
                "met": t[f"{prefixes[target]}_met"],
                "rate": rate(t[f"{prefixes[target]}_met"], t[f"{prefixes[target]}_eligible"]),
            }
            for target in TARGETS
        ],
        "csat": {
            "count": t["ratings"],
            "average": round(t["score_sum"] / t["ratings"], 2) if t["ratings"] else None,
            "distribution": {str(k): t[f"score_{k}"] for k in SCORES},
        },
    }


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
