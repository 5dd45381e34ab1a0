"""The rate limit counter table: one row per limited key and open window."""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base


class RateLimitCounter(Base):
    __tablename__ = "rate_limit_counters"

    # SHA-256 of the limiter's key (which holds e-mail and client addresses): fixed
    # width whatever was typed into the login form, and no personal data at rest.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int]
    # Epoch seconds, the clock the ``limits`` library counts in; the row counts
    # nothing from then on and the next hit opens a new window.
    window_start: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
