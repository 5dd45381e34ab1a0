"""The demo's on-call rota: at any moment of the week someone stays on shift for the next
hour, so the nearest-technician query has someone for a window about to end too."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from api.demo.staff import ROTA, WEEKDAYS
from dispatch.shifts import longest_on_shift

SHANGHAI = "Asia/Shanghai"
DAY_SHIFT = {day: [["08:30", "17:30"]] for day in WEEKDAYS}


def test_every_quarter_hour_of_the_week_someone_works_the_next_hour() -> None:
    team = [DAY_SHIFT, *ROTA.values()]
    monday = datetime(2026, 11, 30, tzinfo=ZoneInfo(SHANGHAI))
    for quarter in range(7 * 24 * 4):
        at = monday + timedelta(minutes=15 * quarter)
        longest = max(
            longest_on_shift(hours, SHANGHAI, at, at + timedelta(hours=1)) for hours in team
        )
        assert longest == timedelta(hours=1), at
