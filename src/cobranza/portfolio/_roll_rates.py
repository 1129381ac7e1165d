"""Roll rates, the average transition matrix and cure rates between consecutive month-ends."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cobranza.ledger import CURRENT, PAID_OFF
from cobranza.portfolio._calendar import snapshot_months
from cobranza.portfolio._measures import ACTIVE, int_sum, money_sum, ratio, rows

#: To-states counted as a cure of a delinquent account: back to current, or paid in full.
CURED_BUCKETS = (CURRENT, PAID_OFF)


def transitions(snapshots: ir.Table) -> ir.Table:
    """One row per open loan at a month-end and its state at the next month-end present.

    Columns ``from_month``, ``to_month``, ``loan_id``, ``from_bucket``, ``to_bucket`` and
    ``balance`` (outstanding principal at ``from_month``). The newest month-end has no next
    one and gives no rows. Loans never disappear from snapshots, so an inner join loses none.
    """
    months = snapshot_months(snapshots).select("as_of", "next_as_of")
    start = snapshots.filter(snapshots.status == ACTIVE)
    start = start.join(months, "as_of").select(
        from_month=start.as_of,
        to_month=months.next_as_of,
        loan_id=start.loan_id,
        from_bucket=start.bucket,
        balance=start.outstanding_principal,
    )
    end = snapshots.view()
    pairs = start.join(end, [start.loan_id == end.loan_id, start.to_month == end.as_of])
    return pairs.select(
        "from_month", "to_month", "loan_id", "from_bucket", to_bucket=end.bucket,
        balance=start.balance,
    )  # fmt: skip


def _with_shares(counts: ir.Table, *group: str) -> ir.Table:
    # Window sums of int64 and DECIMAL are exact; only the final division is in float64.
    by_from = ibis.window(group_by=list(group))
    return counts.mutate(
        loans_share=ratio(counts.loans, counts.loans.sum().over(by_from)),
        balance_share=ratio(counts.balance, counts.balance.sum().over(by_from)),
    )


def roll_rates(snapshots: ir.Table) -> ir.Table:
    """Month-to-month transitions of open accounts between delinquency buckets.

    ``snapshots`` has ``ACCOUNT_STATE_SCHEMA`` at several month-ends. A loan open (``active``)
    at month-end m−1 is paired with its state at m, the next ``as_of`` present. Per
    (from_month, to_month, from_bucket, to_bucket):

        loans         = #loans
        balance       = Σ outstanding_principal at from_month          DECIMAL(18,2)
        loans_share   = loans   ÷ Σ loans   of (from_month, from_bucket)
        balance_share = balance ÷ Σ balance of (from_month, from_bucket)  (null if that is 0)

    ``to_bucket`` includes ``paid_off`` and ``written_off``; each (from_month, from_bucket)'s
    shares add up to 1.
    """
    pairs = transitions(snapshots)
    counts = pairs.group_by("from_month", "to_month", "from_bucket", "to_bucket").aggregate(
        loans=rows(pairs), balance=money_sum(pairs.balance)
    )
    return _with_shares(counts, "from_month", "from_bucket")


def roll_rate_matrix(roll_rates: ir.Table) -> ir.Table:
    """The average transition matrix: the output of :func:`roll_rates` pooled over all months.

        loans         = Σ_months loans,  balance = Σ_months balance
        loans_share   = loans   ÷ Σ loans   of from_bucket
        balance_share = balance ÷ Σ balance of from_bucket

    Pooled, so each month weighs by its number of loans (or balance), not equally. Columns
    ``from_bucket``, ``to_bucket``, ``loans``, ``balance``, ``loans_share``, ``balance_share``.
    """
    counts = roll_rates.group_by("from_bucket", "to_bucket").aggregate(
        loans=int_sum(roll_rates.loans), balance=money_sum(roll_rates.balance)
    )
    return _with_shares(counts, "from_bucket")


def cure_rates(snapshots: ir.Table) -> ir.Table:
    """Share of delinquent accounts that cure by the next month-end.

    Per (from_month, to_month, from_bucket) over open accounts in a delinquent bucket (not
    ``current``) at from_month; cured = ``current`` or ``paid_off`` at to_month:

        loans             = #loans,               cured_loans   = #cured
        balance           = Σ outstanding_principal at from_month
        cured_balance     = Σ of it over the cured loans
        cure_rate         = cured_loans ÷ loans
        balance_cure_rate = cured_balance ÷ balance                   (null if balance is 0)
    """
    pairs = transitions(snapshots)
    late = pairs.filter(pairs.from_bucket != CURRENT)
    cured = late.to_bucket.isin(CURED_BUCKETS)
    out = late.group_by("from_month", "to_month", "from_bucket").aggregate(
        loans=rows(late),
        cured_loans=rows(late, where=cured),
        balance=money_sum(late.balance),
        cured_balance=money_sum(late.balance, where=cured),
    )
    return out.select(
        "from_month", "to_month", "from_bucket", "loans", "cured_loans",
        cure_rate=ratio(out.cured_loans, out.loans),
        balance=out.balance,
        cured_balance=out.cured_balance,
        balance_cure_rate=ratio(out.cured_balance, out.balance),
    )  # fmt: skip
