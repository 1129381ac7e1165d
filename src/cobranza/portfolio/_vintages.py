"""Vintage curves: cumulative delinquency of each origination cohort by months on book."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cobranza.ledger import WRITTEN_OFF
from cobranza.portfolio._calendar import first_of_month, month_index
from cobranza.portfolio._measures import ratio, rows


def vintages(snapshots: ir.Table, loans: ir.Table) -> ir.Table:
    """Ever-30 and ever-90 rates per origination month and months on book.

    For each loan of ``loans`` seen in ``snapshots`` (``ACCOUNT_STATE_SCHEMA`` at month-ends):

        origination_month = first day of the month of opened_on
        months_on_book k  = months from origination_month to as_of (0 = its own month-end)
        bad_N(loan, m)    = dpd ≥ N or status = written_off at month-end m
        ever_N(loan, m)   = bad_N at any observed month-end ≤ m          (N = 30, 90)

    and per (origination_month, k):

        loans        = #loans of the cohort in the snapshot at k (paid off and written off
                       included, so the denominator stays the cohort)
        ever_30      = #loans with ever_30,   ever_30_rate = ever_30 ÷ loans
        ever_90      = #loans with ever_90,   ever_90_rate = ever_90 ÷ loans

    A loan that cures and defaults again counts once, and stays counted once it has been bad.
    Only cohorts originated in or after the month of the first snapshot are kept: older ones
    have an unobserved start, which would understate their ever rates.
    """
    opened = loans.select("loan_id", origination_month=first_of_month(loans.opened_on))
    seen = snapshots.join(opened, "loan_id")
    written_off = seen.status == WRITTEN_OFF
    bad_30 = ((seen.dpd >= 30) | written_off).cast("int32")
    bad_90 = ((seen.dpd >= 90) | written_off).cast("int32")
    # Running max over the loan's month-ends so far: once bad, bad for the rest of the curve.
    so_far = ibis.window(group_by="loan_id", order_by="as_of", rows=(None, 0))
    history = seen.select(
        "origination_month",
        months_on_book=(month_index(seen.as_of) - month_index(seen.origination_month)).cast(
            "int32"
        ),
        ever_30=bad_30.max().over(so_far),
        ever_90=bad_90.max().over(so_far),
    )
    first_month = first_of_month(snapshots.as_of.min())
    complete = history.filter(history.origination_month >= first_month)
    out = complete.group_by("origination_month", "months_on_book").aggregate(
        loans=rows(complete),
        ever_30=rows(complete, where=complete.ever_30 == 1),
        ever_90=rows(complete, where=complete.ever_90 == 1),
    )
    return out.mutate(
        ever_30_rate=ratio(out.ever_30, out.loans),
        ever_90_rate=ratio(out.ever_90, out.loans),
    )
