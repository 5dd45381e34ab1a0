"""Public holidays and make-up workdays by country, from maintained packages.

China (``CN``) comes from ``chinese-calendar``, which publishes the State
Council's yearly schedule including make-up workdays (调休); any other ISO
country code comes from ``holidays`` (days off only: it has no make-up days).
A year a package does not know yet (``chinese-calendar`` is updated when the
State Council announces the next year, usually in November) yields nothing,
and :func:`covered` says so, so a tenant can see it and enter the days by hand.
Pure: no Flask, no SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import chinese_calendar  # type: ignore[import-untyped]
import holidays as holidays_package


class UnknownCountry(ValueError):
    """No holiday data for this country code."""


def public_days(country: str, years: Iterable[int]) -> tuple[set[date], set[date]]:
    """``(days off, make-up workdays)`` of ``country`` in ``years``."""
    years = sorted(set(years))
    if country == "CN":
        return _china(years)
    if country not in holidays_package.list_supported_countries():
        raise UnknownCountry(country)
    found = holidays_package.country_holidays(country, years=years)
    return set(found.keys()), set()


def holiday_names(country: str, years: Iterable[int]) -> dict[date, str]:
    """Names of the public holidays (English), for showing a resolved calendar."""
    if country == "CN":
        names: dict[date, str] = {}
        for day in _china(sorted(set(years)))[0]:
            _, name = chinese_calendar.get_holiday_detail(day)
            if name:
                names[day] = str(name)
        return names
    return dict(holidays_package.country_holidays(country, years=list(years)).items())


def covered(country: str, year: int) -> bool:
    """Whether the package has this country's schedule for ``year``."""
    if country == "CN":
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
        except NotImplementedError:
            return False
        return True
    return country in holidays_package.list_supported_countries()


def is_known_country(country: str) -> bool:
    return country == "CN" or country in holidays_package.list_supported_countries()


def _china(years: list[int]) -> tuple[set[date], set[date]]:
    days_off: set[date] = set()
    makeup: set[date] = set()
    for year in years:
        if not covered("CN", year):
            continue
        day = date(year, 1, 1)
        while day.year == year:
            # Statutory holidays include their weekend days, so a six-day team rests too.
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
            if not on_holiday and day.weekday() >= 5:
                makeup.add(day)
            elif on_holiday and name is not None:
                days_off.add(day)
            day += timedelta(days=1)
    return days_off, makeup
