"""SLA due times: the engine beside the minute-by-minute oracle, on one busy calendar.

A China-style calendar (Asia/Shanghai, 09:00-12:00 and 13:00-18:00 on weekdays,
the 2026 public holidays and make-up workdays from ``chinese-calendar``) and
orders created at random minutes over two months, each with a 4-hour response
target, a 16-business-hour resolution target and, for one in three, a pause of
a few hours. The engine computes both due times and the elapsed time at a
later moment for every order; the baseline is ``tests.support.sla_bruteforce``
on a sample of the same orders (it is far too slow for all of them).
Target: >= 20,000 orders/s. Prints one JSON line. Run: ``python -m benchmarks.bench_sla``.
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, date, datetime

from api.servicedesk.calendar import Calendar
from api.servicedesk.holidays import public_days
from api.servicedesk.sla import Clock
from tests.support.sla_bruteforce import brute_due, brute_elapsed

ORDERS = 20_000
ORACLE_SAMPLE = 40
WORKDAY = ((540, 720), (780, 1080))


def _calendar() -> Calendar:
    days_off, makeup = public_days("CN", [2026])
    return Calendar(
        "Asia/Shanghai", {wd: WORKDAY for wd in range(5)}, frozenset(days_off), frozenset(makeup)
    )


def _orders(rng: random.Random) -> list[tuple[int, list[tuple[int, int | None]], int]]:
    base = int(datetime(2026, 9, 1, tzinfo=UTC).timestamp())
    orders = []
    for _ in range(ORDERS):
        start = base + 60 * rng.randrange(60 * 1440)
        pauses: list[tuple[int, int | None]] = []
        if rng.random() < 1 / 3:
            begin = start + 60 * rng.randrange(2 * 1440)
            pauses.append((begin, begin + 60 * rng.randrange(30, 600)))
        orders.append((start, pauses, start + 60 * rng.randrange(5 * 1440)))
    return orders


def main() -> None:
    calendar = _calendar()
    orders = _orders(random.Random(14))
    clock = Clock(calendar, origin=date(2026, 8, 30))
    began = time.perf_counter()
    for start, pauses, moment in orders:
        clock.due(start, 4 * 3600, pauses)
        clock.due(start, 16 * 3600, pauses)
        clock.elapsed(start, moment, pauses)
    engine_s = time.perf_counter() - began
    began = time.perf_counter()
    mismatches = 0
    for start, pauses, moment in orders[:ORACLE_SAMPLE]:
        fast = (clock.due(start, 4 * 3600, pauses), clock.due(start, 16 * 3600, pauses))
        slow = (brute_due(calendar, start, 240, pauses), brute_due(calendar, start, 960, pauses))
        brute = brute_elapsed(calendar, start, moment, pauses)
        mismatches += fast != slow or clock.elapsed(start, moment, pauses) != brute
    oracle_s = time.perf_counter() - began
    engine_rate = ORDERS / engine_s
    oracle_rate = ORACLE_SAMPLE / oracle_s
    print(
        json.dumps(
            {
                "benchmark": "sla",
                "orders": ORDERS,
                "engine_orders_per_s": round(engine_rate),
                "bruteforce_orders_per_s": round(oracle_rate, 1),
                "ratio_engine_to_bruteforce": round(engine_rate / oracle_rate, 1),
                "target_orders_per_s": 20_000,
                "meets_target": engine_rate >= 20_000,
                "oracle_mismatches": mismatches,
            }
        )
    )


if __name__ == "__main__":
    main()
