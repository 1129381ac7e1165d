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

import ibis
import ibis.expr.datatypes as dt_
import ibis.expr.types as ir

from cobranza.ledger import schedule_positions
from cobranza.ledger._calendar import end_of_local_day

#: Wide enough for any running sum of money in both engines, so union branches share a type.
RUNNING = dt_.Decimal(38, 2)


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

    How: the installments' cumulative dues and the payment days' running totals are put in one
    stream per loan ordered by amount (an installment before a payment day of the same total);
    an installment is settled on the earliest payment day at or after it in that order — one
    window, no join of installments to payments.
    """
    schedule = schedule_positions(installments)
    owing = schedule.filter(schedule.due > 0)
    by_seq = ibis.window(group_by="loan_id", order_by="seq")
    owing = owing.mutate(next_due_date=owing.due_date.lead().over(by_seq))
    owing = owing.filter(owing.due_date < ibis.date(until))
    counted = counted_payments(payments, until)
    days = counted.group_by("loan_id", day=counted.paid_at.cast("date")).aggregate(
        amount=counted.amount.sum()
    )
    so_far = ibis.window(group_by="loan_id", order_by="day", rows=(None, 0))
    stream = ibis.union(
        owing.select(
            "loan_id",
            total=(owing.cum_due_before + owing.due).cast(RUNNING),
            kind=ibis.literal(0, "int8"),
            seq=owing.seq.cast("int32"),
            due_date=owing.due_date,
            next_due_date=owing.next_due_date,
            day=ibis.null("date"),
        ),
        days.select(
            "loan_id",
            total=days.amount.sum().over(so_far).cast(RUNNING),
            kind=ibis.literal(1, "int8"),
            seq=ibis.null("int32"),
            due_date=ibis.null("date"),
            next_due_date=ibis.null("date"),
            day=days.day,
        ),
    )
    ahead = ibis.window(group_by="loan_id", order_by=["total", "kind"], rows=(0, None))
    settled = stream.mutate(settled_on=stream.day.min().over(ahead))
    return settled.filter(settled.kind == 0).select(
        "loan_id", "seq", "due_date", "next_due_date", "settled_on"
    )


def max_dpd_between(spells: ir.Table, start: dt.date, end: dt.date) -> ir.Table:
    """Per loan with a late day in (start, end]: ``max_dpd``, the highest daily dpd there.

    With k = D − due_date_i, installment i makes the loan k days late for k in
    [1, S_i − due_date_i − 1] (up to end − due_date_i while unsettled); within the window
    k ∈ [start − due_date_i + 1, end − due_date_i]; the loan's maximum is the largest top k
    of a non-empty range. ``spells`` must come from :func:`settle_dates` with ``until ≥ end``.
    """
    to_end = ibis.date(end).delta(spells.due_date, unit="day")
    to_start = ibis.date(start).delta(spells.due_date, unit="day")
    to_settle = spells.settled_on.delta(spells.due_date, unit="day")
    top = ibis.least(ibis.coalesce(to_settle - 1, to_end), to_end)
    bottom = ibis.greatest(to_start + 1, 1)
    late = spells.filter(spells.due_date < ibis.date(end)).mutate(top=top, bottom=bottom)
    late = late.filter(late.bottom <= late.top)
    return late.group_by("loan_id").aggregate(max_dpd=late.top.max())


def late_episodes(spells: ir.Table, start: dt.date, end: dt.date, threshold: int) -> ir.Table:
    """Per loan: ``episodes``, the separate runs of days in (start, end] at ``threshold``+ dpd
    (a run already going on at ``start`` counts).

    dpd(D) ≥ threshold ⇔ some installment has due_date_i + threshold ≤ D < S_i, so the days at
    threshold+ are the union of those intervals; in day numbers relative to ``end`` each is
    [lo_i, hi_i] clipped to the window, and a new run starts where lo_i is more than one day
    after every earlier hi.
    """
    due = spells.due_date.delta(ibis.date(end), unit="day")
    settle = spells.settled_on.delta(ibis.date(end), unit="day")
    lo = ibis.greatest(due + threshold, ibis.date(start).delta(ibis.date(end), unit="day") + 1)
    hi = ibis.least(ibis.coalesce(settle - 1, 0), 0)
    spans = spells.select("loan_id", "seq", lo=lo, hi=hi)
    spans = spans.filter(spans.lo <= spans.hi)
    before = ibis.window(group_by="loan_id", order_by="seq", rows=(None, -1))
    spans = spans.mutate(reach=spans.hi.max().over(before))
    new = spans.reach.isnull() | (spans.lo > spans.reach + 1)
    return spans.group_by("loan_id").aggregate(episodes=new.cast("int64").sum())
