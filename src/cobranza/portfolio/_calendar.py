"""Month-ends: the dates portfolio analytics look at, in Python and over a snapshots table."""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir


def _month_end(year: int, month: int) -> dt.date:
    first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - dt.timedelta(days=1)


def month_ends(as_of: dt.date, months: int = 12) -> list[dt.date]:
    """The last ``months`` calendar month-ends on or before ``as_of``, oldest first.

    ``as_of`` itself is the newest when it is a month-end; otherwise the newest is the end of
    the month before it. ``month_ends(date(2024, 3, 15), 2) == [2024-01-31, 2024-02-29]``.
    """
    if months < 0:
        raise ValueError(f"months must be 0 or more, got {months}")
    # Count months as year * 12 + (month - 1) so stepping back crosses years by arithmetic.
    newest = as_of.year * 12 + as_of.month - 1
    if _month_end(as_of.year, as_of.month) != as_of:
        newest -= 1
    return [_month_end(i // 12, i % 12 + 1) for i in range(newest - months + 1, newest + 1)]


def first_of_month(date: ir.DateValue) -> ir.DateValue:
    """The first day of the month of a date column.

    Built with MAKE_DATE because Spark's DATE_TRUNC returns a timestamp and Ibis drops the
    cast back to date as a no-op.
    """
    return ibis.date(date.year(), date.month(), 1)


def month_index(date: ir.DateValue) -> ir.IntegerValue:
    """Months since year 0 (year * 12 + month): differences are whole calendar months."""
    return date.year().cast("int32") * 12 + date.month().cast("int32")


def snapshot_months(snapshots: ir.Table) -> ir.Table:
    """The distinct ``as_of`` dates of ``snapshots`` with the previous and next one present.

    Columns ``as_of``, ``prev_as_of`` and ``next_as_of`` (null at the ends). Computed in the
    engine with a window so that "consecutive" means consecutive in the data, whatever the
    spacing of the snapshots.
    """
    dates = snapshots.select("as_of").distinct()
    in_order = ibis.window(order_by="as_of")
    return dates.mutate(
        prev_as_of=dates.as_of.lag().over(in_order),
        next_as_of=dates.as_of.lead().over(in_order),
    )
