"""Month-end portfolio KPIs and the bucket distribution of the open book."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cobranza.ledger import PAID_OFF
from cobranza.portfolio._calendar import first_of_month, snapshot_months
from cobranza.portfolio._measures import ACTIVE, money_sum, ratio, rows


def kpis(snapshots: ir.Table, loans: ir.Table) -> ir.Table:
    """One row per month-end of ``snapshots`` with the headline numbers of the book.

    With A = loans with status ``active`` at month-end m, B(x) = Σ outstanding_principal:

        month               = m
        loans               = #A,   balance = B(A)
        balance_30_plus     = B(A with dpd ≥ 30),   balance_90_plus = B(A with dpd ≥ 90)
        imor                = balance_90_plus ÷ balance        (índice de morosidad; null if 0)
        written_off_loans   = #loans with written_off_on in (previous month-end, m]
        written_off_balance = B(those loans) in the snapshot at m
        paid_off_loans      = #loans paid_off at m and not paid_off at the previous month-end
                              (also when opened since then)

    The previous month-end is the previous ``as_of`` present. The first month has none, so the
    calendar month of m is used: write-offs dated in it, and pay-offs whose date — the closing
    date, or the last payment for a schedule paid in full — falls in it.
    """
    months = snapshot_months(snapshots).select("as_of", "prev_as_of")
    # Within a loan, the previous row is the previous month-end: loans never disappear.
    by_loan = ibis.window(group_by="loan_id", order_by="as_of")
    states = snapshots.mutate(prev_status=snapshots.status.lag().over(by_loan))
    dated = loans.select("loan_id", "written_off_on", "closed_on")
    book = states.join(months, "as_of").left_join(dated, "loan_id")
    first_day = first_of_month(book.as_of)
    window_start = ibis.coalesce(book.prev_as_of, first_day - ibis.interval(days=1))
    written_off = (book.written_off_on > window_start) & (book.written_off_on <= book.as_of)
    paid_off_on = ibis.coalesce(
        ibis.least(book.closed_on, book.last_payment_date),
        book.closed_on,
        book.last_payment_date,
    )
    became_paid_off = (book.status == PAID_OFF) & ibis.ifelse(
        book.prev_as_of.isnull(),
        paid_off_on >= first_day,
        book.prev_status.isnull() | (book.prev_status != PAID_OFF),
    )
    active = book.status == ACTIVE
    balance = book.outstanding_principal
    out = book.group_by(month=book.as_of).aggregate(
        loans=rows(book, where=active),
        balance=money_sum(balance, where=active),
        balance_30_plus=money_sum(balance, where=active & (book.dpd >= 30)),
        balance_90_plus=money_sum(balance, where=active & (book.dpd >= 90)),
        written_off_loans=rows(book, where=written_off),
        written_off_balance=money_sum(balance, where=written_off),
        paid_off_loans=rows(book, where=became_paid_off),
    )
    return out.select(
        "month", "loans", "balance", "balance_30_plus", "balance_90_plus",
        imor=ratio(out.balance_90_plus, out.balance),
        written_off_loans=out.written_off_loans,
        written_off_balance=out.written_off_balance,
        paid_off_loans=out.paid_off_loans,
    )  # fmt: skip


def bucket_distribution(snapshots: ir.Table) -> ir.Table:
    """How the open book spreads over delinquency buckets at each month-end.

    Over loans with status ``active`` at month-end m, per (month, bucket):

        loans         = #loans,   balance = Σ outstanding_principal
        loans_share   = loans   ÷ Σ loans   of the month
        balance_share = balance ÷ Σ balance of the month           (null if that is 0)

    Only buckets holding at least one open loan appear; paid-off and written-off loans are
    out of the open book and left out.
    """
    open_book = snapshots.filter(snapshots.status == ACTIVE)
    counts = open_book.group_by(month=open_book.as_of, bucket=open_book.bucket).aggregate(
        loans=rows(open_book), balance=money_sum(open_book.outstanding_principal)
    )
    in_month = ibis.window(group_by="month")
    return counts.mutate(
        loans_share=ratio(counts.loans, counts.loans.sum().over(in_month)),
        balance_share=ratio(counts.balance, counts.balance.sum().over(in_month)),
    )
