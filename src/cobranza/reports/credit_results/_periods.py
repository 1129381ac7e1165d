"""The periods of the weekly, monthly and quarterly credit results (WCR, MCR, QCR)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from cobranza.portfolio import month_ends

Period = Literal["weekly", "monthly", "quarterly"]
#: Report code, title and number of periods shown, per period.
PERIODS: dict[str, tuple[str, str, int]] = {
    "weekly": ("WCR", "Weekly credit results", 8),
    "monthly": ("MCR", "Monthly credit results", 6),
    "quarterly": ("QCR", "Quarterly credit results", 4),
}


def _quarter_end(year: int, quarter: int) -> dt.date:
    month = quarter * 3
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def period_ends(period: str, as_of: dt.date, periods: int | None = None) -> list[dt.date]:
    """The ends of the last ``periods`` periods and the start of the first, oldest first.

    The newest period ends at ``as_of``. Weekly: every 7 days back from ``as_of``. Monthly:
    the calendar month-ends before ``as_of`` (``as_of`` replaces its own month-end, so a
    report run mid-month shows the month to date). Quarterly: likewise with quarter-ends
    (31 Mar, 30 Jun, 30 Sep, 31 Dec). Period k covers (end_{k−1}, end_k]; the list has
    ``periods + 1`` dates.
    """
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}")
    n = PERIODS[period][2] if periods is None else periods
    if n < 1:
        raise ValueError(f"periods must be 1 or more, got {n}")
    if period == "weekly":
        return [as_of - dt.timedelta(days=7 * k) for k in range(n, -1, -1)]
    if period == "monthly":
        before = [d for d in month_ends(as_of, n + 1) if d < as_of]
        return [*before[-n:], as_of]
    quarter = (as_of.month - 1) // 3  # quarters before the one holding as_of
    ends = []
    year, q = as_of.year, quarter
    while len(ends) < n:
        if q == 0:
            year, q = year - 1, 4
        ends.append(_quarter_end(year, q))
        q -= 1
    return [*reversed(ends), as_of]


def period_label(period: str, start: dt.date, end: dt.date) -> str:
    """Short label of the period (start, end]: "W 2026-10-25", "Oct 2026", "Q3 2026"."""
    if period == "weekly":
        return f"wk to {end:%d %b}"
    if period == "monthly":
        return f"{end:%b %Y}"
    return f"Q{(end.month - 1) // 3 + 1} {end.year}"
