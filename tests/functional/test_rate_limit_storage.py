"""The database storage for ``limits``: exact counts under concurrency, windows that close."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from limits import parse, strategies
from sqlalchemy import Engine, func, select

from api.ratelimits.models import RateLimitCounter
from api.ratelimits.storage import DatabaseStorage


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_concurrent_hits_each_see_their_own_exact_count(engine: Engine) -> None:
    storage = DatabaseStorage(engine)
    threads, hits = 8, 25

    def hit_many(_: int) -> list[int]:
        return [storage.incr("login/ip:10.0.0.1", 60) for _ in range(hits)]

    with ThreadPoolExecutor(threads) as pool:
        seen = [count for counts in pool.map(hit_many, range(threads)) for count in counts]
    # No hit was lost and no two hits saw the same count: a limit of N lets exactly N in.
    assert sorted(seen) == list(range(1, threads * hits + 1))
    assert storage.get("login/ip:10.0.0.1") == threads * hits


def test_a_limit_lets_exactly_its_amount_through_across_storages(engine: Engine) -> None:
    # Two storages on one database: two workers' views of the same counts.
    limit = parse("10/minute")
    first, second = (strategies.FixedWindowRateLimiter(DatabaseStorage(engine)) for _ in range(2))
    admitted = [(first if n % 2 else second).hit(limit, "login", "ip:x") for n in range(1, 16)]
    assert admitted == [True] * 10 + [False] * 5


def test_a_window_closes_after_its_expiry_and_the_next_hit_opens_a_new_one(
    engine: Engine,
) -> None:
    clock = Clock()
    storage = DatabaseStorage(engine, clock=clock)
    opened = clock.now
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    clock.now += 59
    assert storage.incr("k", 60) == 4  # a later hit does not move the window's end
    assert storage.get_expiry("k") == opened + 60
    clock.now = opened + 60
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1
    assert storage.get_expiry("k") == clock.now + 60


def test_rows_of_closed_windows_are_swept_while_counting(engine: Engine) -> None:
    clock = Clock()
    storage = DatabaseStorage(engine, clock=clock, sweep_seconds=60)
    storage.incr("short", 10)
    storage.incr("long", 3600)
    clock.now += 61  # "short" has closed; the next hit is due to sweep
    storage.incr("fresh", 60)
    with engine.connect() as connection:
        rows = connection.execute(select(func.count()).select_from(RateLimitCounter)).scalar_one()
    assert rows == 2  # "long" and "fresh"
    assert storage.get("long") == 1


def test_clearing_a_key_forgets_only_that_key(engine: Engine) -> None:
    storage = DatabaseStorage(engine)
    storage.incr("a", 60)
    storage.incr("b", 60)
    storage.clear("a")
    assert (storage.get("a"), storage.get("b")) == (0, 1)
    assert storage.check()
