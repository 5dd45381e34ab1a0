"""A ``limits`` storage in the application's own database.

Each gunicorn worker, and each host, that counts in this storage counts in the
same rows, so a login limit of 10 a minute is 10 a minute for the whole
deployment without running another service. A hit is one statement in its own
short transaction (an ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, on
SQLite ≥ 3.35 and PostgreSQL alike): the database serialises concurrent hits on
a key, so the count each hit sees back is exact.

Only fixed windows are offered (the plain :class:`limits.storage.Storage`
interface): a window opens at a key's first hit and closes ``expiry`` seconds
later, as the library's Redis and memory storages do. Rows of closed windows are
deleted by whichever process next counts, at most once per ``sweep_seconds``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import cast

from limits.storage import Storage
from sqlalchemy import Engine, Row, Table, case, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from api.db.engine import shared_read_engine
from api.ratelimits.models import RateLimitCounter

_table = cast(Table, RateLimitCounter.__table__)
_count = _table.c["count"]  # not ``.c.count``: a name every tuple-like already has


class DatabaseStorage(Storage):
    """Counters in ``rate_limit_counters``; built with the app's engine, not from a URI."""

    STORAGE_SCHEME = None  # "database" is resolved by api.http.ratelimit, engine in hand

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.time,
        sweep_seconds: float = 60.0,
    ) -> None:
        super().__init__()
        self._engine = engine
        self._read_engine = shared_read_engine(engine)
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._clock = clock
        self._sweep_seconds = sweep_seconds
        self._next_sweep = 0.0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the key's open window (opening one if none is) and
        return the window's count after this hit."""
        now = self._clock()
        insert = self._insert(_table).values(
            key=_digest(key), count=amount, window_start=now, expires_at=now + expiry
        )
        closed = _table.c.expires_at <= now
        new = insert.excluded
        upsert = insert.on_conflict_do_update(
            index_elements=[_table.c.key],
            set_={
                "count": case((closed, new["count"]), else_=_count + new["count"]),
                "window_start": case((closed, new.window_start), else_=_table.c.window_start),
                "expires_at": case((closed, new.expires_at), else_=_table.c.expires_at),
            },
        ).returning(_count)
        with self._engine.begin() as connection:
            count = int(connection.execute(upsert).scalar_one())
        if now >= self._next_sweep:
            self._next_sweep = now + self._sweep_seconds
            self.sweep()
        return count

    def get(self, key: str) -> int:
        row = self._open_window(key)
        return int(row[0]) if row is not None else 0

    def get_expiry(self, key: str) -> float:
        row = self._open_window(key)
        return float(row[1]) if row is not None else self._clock()

    def check(self) -> bool:
        try:
            with self._read_engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._engine.begin() as connection:
            return connection.execute(delete(_table)).rowcount

    def clear(self, key: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(delete(_table).where(_table.c.key == _digest(key)))

    def sweep(self) -> int:
        """Delete the rows of closed windows; how many went."""
        with self._engine.begin() as connection:
            return connection.execute(
                delete(_table).where(_table.c.expires_at <= self._clock())
            ).rowcount

    def _open_window(self, key: str) -> Row[tuple[int, float]] | None:
        query = select(_count, _table.c.expires_at).where(
            _table.c.key == _digest(key), _table.c.expires_at > self._clock()
        )
        with self._read_engine.connect() as connection:
            return connection.execute(query).one_or_none()


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
