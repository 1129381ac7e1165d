"""Exact dpd history from the schedule and the payments, without a state per day.

The ledger allocates payments oldest installment first, so installment i is paid in full on
day D exactly when the counted payments up to D reach its cumulative due:

    paid_i(D)  ⇔  P(D) ≥ cum_due_i          cum_due_i = Σ_{j ≤ i} due_j

P only grows with D, so each installment has a *settle date* S_i — the Mexico City local day
its cumulative due was first covered (null while it is not) — and it is unpaid on every day
before S_i. S is non-decreasing in seq. The dpd on any day D is then

    dpd(D) = D − min{ due_date_i | due_date_i < D < S_i }        (0 if none)

which is what :func:`cobranza.ledger.account_states` gives at D, for every D at once:
installment i makes the loan late on the days (due_date_i, S_i), by D − due_date_i days. So the
maximum dpd over a window of days, the days at 30+ dpd, or the first day back to current are
interval arithmetic over one row per installment — exact to the day, where month-end states
would miss a spell that starts and ends between two month-ends.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import ibis
import ibis.expr.types as ir

from cobranza.ledger import schedule_positions
from cobranza.ledger._calendar import end_of_local_day


def counted_payments(payments: ir.Table, until: dt.date) -> ir.Table:
    """Settled payments paid before ``until`` ends in Mexico City (what the ledger counts)."""
    return payments.filter(
        (payments.status == "settled") & (payments.paid_at < ibis.literal(end_of_local_day(until)))
    )


def payments_between(payments: ir.Table, start: dt.date, end: dt.date) -> ir.Table:
    """Settled payments whose Mexico City local day is in (start, end]."""
    return payments.filter(
        (payments.status == "settled")
        & (payments.paid_at >= ibis.literal(end_of_local_day(start)))
        & (payments.paid_at < ibis.literal(end_of_local_day(end)))
    )


def settle_dates(installments: ir.Table, payments: ir.Table, until: dt.date) -> ir.Table:
    """One row per installment with a positive due falling before ``until``, with its
    ``settled_on`` date (null when not covered by ``until``) and the loan's next positive-due
    ``next_due_date`` (null for the last).

    How: the counted payments are summed per local day into a running total; installment i is
    settled on the one payment day whose running total first reaches its cumulative due,
    previous total < cum_due_i ≤ total (a join on the loan with that range; each installment
    matches at most one day).
    """
    schedule = schedule_positions(installments)
    owing = schedule.filter(schedule.due > 0)
    by_seq = ibis.window(group_by="loan_id", order_by="seq")
    owing = owing.mutate(next_due_date=owing.due_date.lead().over(by_seq))
    owing = owing.filter(owing.due_date < ibis.date(until))
    owing = owing.select(
        "loan_id", "seq", "due_date", "next_due_date", cum_due=owing.cum_due_before + owing.due
    )
    counted = counted_payments(payments, until)
    days = counted.group_by("loan_id", day=counted.paid_at.cast("date")).aggregate(
        amount=counted.amount.sum()
    )
    so_far = ibis.window(group_by="loan_id", order_by="day", rows=(None, 0))
    days = days.mutate(total=days.amount.sum().over(so_far))
    days = days.select("loan_id", "day", "total", before=days.total - days.amount)
    settled = owing.left_join(
        days,
        [
            owing.loan_id == days.loan_id,
            days.before < owing.cum_due,
            owing.cum_due <= days.total,
        ],
    )
    return settled.select(
        owing.loan_id, owing.seq, owing.due_date, owing.next_due_date, settled_on=days.day
    )


class LateDays(NamedTuple):
    """Per installment row: the days it makes the loan ``threshold``+ days late in a window."""

    #: Highest dpd it causes in the window (null when none).
    top: ir.IntegerValue
    #: First and last such day, as day numbers relative to the window's end (first > last
    #: when there is none).
    first: ir.IntegerValue
    last: ir.IntegerValue


def late_days(spells: ir.Table, start: dt.date, end: dt.date, threshold: int) -> LateDays:
    """The days D in (start, end] on which installment i makes dpd(D) ≥ threshold.

    With k = D − due_date_i, installment i makes the loan k days late for k in
    [1, S_i − due_date_i − 1] (up to end − due_date_i while unsettled); the window and the
    threshold cut that to k ∈ [max(start − due_date_i + 1, threshold), …]. ``spells`` must
    come from :func:`settle_dates` with ``until ≥ end``.
    """
    to_end = ibis.date(end).delta(spells.due_date, unit="day")
    to_settle = spells.settled_on.delta(spells.due_date, unit="day")
    top = ibis.least(ibis.coalesce(to_settle - 1, to_end), to_end)
    bottom = ibis.greatest(ibis.date(start).delta(spells.due_date, unit="day") + 1, threshold)
    return LateDays(
        top=ibis.ifelse(bottom <= top, top, ibis.null("int64")),
        first=bottom - to_end,
        last=top - to_end,
    )


def max_dpd_between(spells: ir.Table, start: dt.date, end: dt.date) -> ir.Table:
    """Per loan with a late day in (start, end]: ``max_dpd``, the highest daily dpd there."""
    rows = spells.mutate(top=late_days(spells, start, end, 1).top)
    return rows.group_by("loan_id").aggregate(max_dpd=rows.top.max())
