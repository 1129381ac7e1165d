"""Targets: what happened to each loan in the days after the as-of date.

All four are exact to the day, from the settle dates of the installments (see ``_history``):
"within N days" means on some Mexico City day D in (as_of, as_of + N], not only at its end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from cobranza.features._compute import accounts_at, compute_features
from cobranza.features._history import max_dpd_between, payments_between, settle_dates
from cobranza.ledger import DEFAULT_BUCKETS, Buckets

#: Days after as_of each target looks at.
PAY_DAYS = 30
ROLL_DAYS = 30
CURE_DAYS = (30, 60)

#: Columns of :func:`targets`, in order.
TARGET_COLUMNS = ("loan_id", "as_of", "pay", "cure_30", "cure_60", "roll")


def horizon(as_of: dt.date) -> dt.date:
    """The last day of data the targets at ``as_of`` read (as_of + 60 days)."""
    return as_of + dt.timedelta(days=max(PAY_DAYS, ROLL_DAYS, *CURE_DAYS))


def targets(
    tables: Mapping[str, ir.Table],
    as_of: dt.date,
    *,
    pay_share: float | str | Decimal = 0.5,
    buckets: Buckets = DEFAULT_BUCKETS,
    states: ir.Table | None = None,
) -> ir.Table:
    """Outcomes after ``as_of`` of every loan active at ``as_of`` (the rows of
    :func:`compute_features`): ``loan_id``, ``as_of`` and

    ``pay``      delinquent loans (dpd > 0): the settled payments with Mexico City paid date in
                 (as_of, as_of + 30] add up to at least ``pay_share`` × past due at as_of.
    ``cure_30``  delinquent loans: dpd is 0 on some day in (as_of, as_of + 30] before any
    ``cure_60``  write-off (every installment due before that day paid by then); 60 days.
    ``roll``     every loan: on some day in (as_of, as_of + 30] the dpd reaches the lower edge
                 of a bucket worse than the loan's bucket at as_of, or the loan is written off
                 in that window (a 180+ loan can only roll to write-off).

    ``pay`` and the cures are null for loans current at as_of (dpd 0). The data must reach
    :func:`horizon` (as_of + 60 days): a later outcome is not seen, so build targets only for
    as-of dates at least 60 days before the last payment date of the book.
    """
    share = Decimal(str(pay_share))
    if not 0 < share <= 1:
        raise ValueError(f"pay_share must be in (0, 1], got {pay_share}")
    loans, installments, payments = tables["loans"], tables["installments"], tables["payments"]
    accounts = accounts_at(tables, as_of, states)
    accounts = (
        accounts.inner_join(loans.select("loan_id", "written_off_on"), "loan_id")
        .select(accounts.loan_id, accounts.as_of, accounts.dpd, accounts.past_due_amount,
                loans.written_off_on)
        .view()
    )  # fmt: skip
    spells = settle_dates(installments, payments, horizon(as_of))
    start = ibis.date(as_of)

    after = payments_between(payments, as_of, as_of + dt.timedelta(days=PAY_DAYS))
    paid = after.group_by("loan_id").aggregate(paid_after=after.amount.sum())

    # Cure: for installment k, the days D with k the last installment due before D are
    # (due_k, next_due_k]; dpd(D) = 0 there iff k is settled by D (settle dates do not
    # decrease with seq, so the earlier ones are too). Day numbers are relative to as_of.
    written = loans.select("loan_id", "written_off_on")
    rows = spells.inner_join(written, "loan_id").select(spells, written.written_off_on)
    settle = rows.settled_on.delta(start, unit="day")
    first = ibis.greatest(rows.due_date.delta(start, unit="day") + 1, 1)
    written_off = rows.written_off_on.delta(start, unit="day") - 1
    cures = {}
    for days in CURE_DAYS:
        last = ibis.least(
            ibis.coalesce(rows.next_due_date.delta(start, unit="day"), days),
            ibis.coalesce(written_off, days),
            days,
        )
        cures[f"cure_{days}"] = (settle.notnull() & (ibis.greatest(first, settle) <= last)).any()
    cured = rows.group_by("loan_id").aggregate(**cures)

    worst = max_dpd_between(spells, as_of, as_of + dt.timedelta(days=ROLL_DAYS))
    next_edge = ibis.cases(
        *[(accounts.dpd < edge, edge) for edge in buckets.edges], else_=ibis.null("int32")
    )
    joined = (
        accounts.left_join(paid, "loan_id").left_join(cured, "loan_id").left_join(worst, "loan_id")
    )
    late = accounts.dpd > 0
    null = ibis.null("boolean")
    written_off_in = (
        accounts.written_off_on.notnull()
        & (accounts.written_off_on > start)
        & (accounts.written_off_on <= ibis.date(as_of + dt.timedelta(days=ROLL_DAYS)))
    )
    pay = paid.paid_after.fill_null(0) >= accounts.past_due_amount * ibis.literal(share)
    roll = (next_edge.notnull() & (worst.max_dpd.fill_null(0) >= next_edge)) | written_off_in
    return joined.select(
        loan_id=accounts.loan_id,
        as_of=accounts.as_of,
        pay=ibis.ifelse(late, pay, null),
        cure_30=ibis.ifelse(late, cured.cure_30.fill_null(False), null),
        cure_60=ibis.ifelse(late, cured.cure_60.fill_null(False), null),
        roll=roll,
    )


def labelled(
    tables: Mapping[str, ir.Table],
    as_of: dt.date,
    *,
    pay_share: float | str | Decimal = 0.5,
    buckets: Buckets = DEFAULT_BUCKETS,
    states: ir.Table | None = None,
    variables: Sequence[str] | None = None,
) -> ir.Table:
    """:func:`compute_features` with the :func:`targets` columns ``pay``, ``cure_30``,
    ``cure_60``, ``roll`` appended: one training row per active loan at ``as_of``."""
    table = compute_features(tables, as_of, states, variables)
    outcome = targets(tables, as_of, pay_share=pay_share, buckets=buckets, states=states)
    return table.left_join(outcome, "loan_id").select(
        table, *[outcome[c] for c in TARGET_COLUMNS[2:]]
    )
