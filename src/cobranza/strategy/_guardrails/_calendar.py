"""Business days: weekdays that are not public holidays (the ``holidays`` package, pinned)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

from cobranza.strategy._guardrails._pack import WEEKDAYS, BusinessDays


@lru_cache(maxsize=64)
def public_holidays(country: str, year: int) -> frozenset[dt.date]:
    """Statutory holidays of ``country`` in ``year`` (Mexico: the rest days of LFT art. 74)."""
    return frozenset(holidays.country_holidays(country, years=year))


def is_business_day(day: dt.date, config: BusinessDays) -> bool:
    """True when ``day`` is one of ``config.weekdays`` and no (public or extra) holiday."""
    if WEEKDAYS[day.weekday()] not in config.weekdays:
        return False
    if day in config.extra_holidays:
        return False
    return config.country is None or day not in public_holidays(config.country, day.year)


def closed_channels(day: dt.date, config: BusinessDays) -> tuple[str, ...]:
    """The channels the ``holiday`` rule blocks on ``day`` (empty on business days)."""
    if not config.enabled or is_business_day(day, config):
        return ()
    return tuple(config.channels)
