"""Account state at any as-of date: payment allocation → dpd, bucket, balances.

Counted payments are allocated in ``paid_at`` order to installments in ``seq`` order, fees then
interest then principal. Because that waterfall only ever fills the oldest gap first, what an
installment received depends only on the total paid P up to the as-of date D:

    allocated_i = clamp(P − cum_due_{i−1}, 0, due_i)        due_i = fees + interest + principal

so the state at any D is a pure function of the data and D, computed with cumulative sums and
one aggregation, in SQL, for one date or many at once.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cobranza.contract import MONEY
from cobranza.ledger._buckets import DEFAULT_BUCKETS, PAID_OFF, WRITTEN_OFF, Buckets

#: Columns of ``account_state`` (and of ``snapshots``), in order.
ACCOUNT_STATE_COLUMNS = (
    "as_of",
    "loan_id",
    "customer_id",
    "product",
    "status",
    "dpd",
    "bucket",
    "past_due_amount",
    "outstanding_principal",
    "installments_past_due",
    "last_payment_date",
    "next_due_date",
    "next_due_amount",
)

ACCOUNT_STATE_SCHEMA = ibis.schema(
    {
        "as_of": "date",
        "loan_id": "string",
        "customer_id": "string",
        "product": "string",
        "status": "string",
        "dpd": "int32",
        "bucket": "string",
        "past_due_amount": MONEY,
        "outstanding_principal": MONEY,
        "installments_past_due": "int32",
        "last_payment_date": "date",
        "next_due_date": "date",
        "next_due_amount": MONEY,
    }
)


def _clamp(value: ir.NumericValue, low: ir.NumericValue, high: ir.NumericValue) -> ir.NumericValue:
    return ibis.greatest(low, ibis.least(value, high))


def counted_payments(payments: ir.Table) -> ir.Table:
    """Settled payments with their Mexico City calendar date ``paid_on``.

    Engines run with the America/Mexico_City session zone, so casting the instant to a date
    gives the local date: 2026-04-01T05:30:00Z is paid on 2026-03-31.
    """
    settled = payments.filter(payments.status == "settled")
    return settled.select("loan_id", "amount", paid_on=settled.paid_at.cast("date"))


def paid_to_date(payments: ir.Table, as_of: ir.Table) -> ir.Table:
    """Total counted payments P and last payment date per (as_of, loan_id).

    Daily totals are accumulated per loan; each as-of date then picks the one day whose
    running total is current on it (``paid_on ≤ as_of < next paid_on``), a range join that
    avoids re-aggregating every payment for every date.
    """
    counted = counted_payments(payments)
    daily = counted.group_by("loan_id", "paid_on").aggregate(amount=counted.amount.sum())
    by_loan = ibis.window(group_by="loan_id", order_by="paid_on")
    running_total = ibis.window(group_by="loan_id", order_by="paid_on", rows=(None, 0))
    running = daily.select(
        "loan_id",
        "paid_on",
        paid_total=daily.amount.sum().over(running_total),
        next_paid_on=daily.paid_on.lead().over(by_loan),
    )
    joined = running.join(
        as_of,
        [
            running.paid_on <= as_of.as_of,
            running.next_paid_on.isnull() | (running.next_paid_on > as_of.as_of),
        ],
    )
    return joined.select(
        "as_of",
        "loan_id",
        paid_to_date=joined.paid_total,
        last_payment_date=joined.paid_on,
    )


def schedule_positions(installments: ir.Table) -> ir.Table:
    """Each installment with its total due and the cumulative due before it.

    ``cum_due_before`` is where the installment starts in the stream of payments: a payment
    total P covers it fully once P ≥ cum_due_before + due.
    """
    due = installments.fees_due + installments.interest_due + installments.principal_due
    by_loan = ibis.window(group_by="loan_id", order_by="seq", rows=(None, 0))
    with_due = installments.mutate(due=due)
    return with_due.mutate(cum_due_before=with_due.due.sum().over(by_loan) - with_due.due)


def account_states(
    loans: ir.Table,
    installments: ir.Table,
    payments: ir.Table,
    as_of: ir.Table,
    buckets: Buckets = DEFAULT_BUCKETS,
) -> ir.Table:
    """Account state of every loan opened on or before each date of ``as_of`` (column ``as_of``).

    Per loan and date D, with P the counted payments up to D and i its installments:

        allocated_i          = clamp(P − cum_due_before_i, 0, due_i)
        unpaid_i             = allocated_i < due_i
        dpd                  = D − min(due_date_i | unpaid_i, due_date_i < D), 0 if none
        past_due_amount      = Σ_{due_date_i < D} (due_i − allocated_i)
        principal_paid_i     = clamp(allocated_i − fees_i − interest_i, 0, principal_i)
        outstanding_principal= Σ (principal_i − principal_paid_i); revolving: the statement
                               balance of the latest statement due on or before D
        installments_past_due= #{i | unpaid_i, due_date_i < D}
        next_due_date        = min(due_date_i | unpaid_i, due_date_i ≥ D)
        next_due_amount      = due_i − allocated_i of that installment
        status               = written_off if written_off_on ≤ D; paid_off if closed_on ≤ D or
                               (installment loan and no unpaid_i); else active
    """
    opened = loans.join(as_of, loans.opened_on <= as_of.as_of).select(
        "as_of",
        "loan_id",
        "customer_id",
        "product",
        "written_off_on",
        "closed_on",
    )
    paid = paid_to_date(payments, as_of)
    with_paid = opened.left_join(paid, ["as_of", "loan_id"]).select(
        opened,
        paid_to_date=paid.paid_to_date.fill_null(ibis.literal(0).cast(MONEY)),
        last_payment_date=paid.last_payment_date,
    )
    schedule = schedule_positions(installments)
    rows = with_paid.left_join(schedule, "loan_id")
    d = rows.as_of
    zero = ibis.literal(0).cast(MONEY)
    allocated = _clamp(rows.paid_to_date - rows.cum_due_before, zero, rows.due)
    owed = rows.due - allocated
    unpaid = allocated < rows.due
    before = rows.due_date < d
    principal_paid = _clamp(allocated - rows.fees_due - rows.interest_due, zero, rows.principal_due)
    upcoming = unpaid & (rows.due_date >= d)
    per_loan = rows.group_by(
        "as_of", "loan_id", "customer_id", "product", "written_off_on", "closed_on",
        "last_payment_date",
    ).aggregate(
        oldest_unpaid_due=rows.due_date.min(where=unpaid & before),
        past_due_amount=owed.sum(where=before),
        principal_outstanding=(rows.principal_due - principal_paid).sum(),
        statement_balance=rows.statement_balance.argmax(rows.due_date, where=rows.due_date <= d),
        installments_past_due=(unpaid & before).sum(),
        unpaid_installments=unpaid.sum(),
        next_due_date=rows.due_date.min(where=upcoming),
        next_due_amount=owed.argmin(rows.due_date, where=upcoming),
    )  # fmt: skip
    return _finish(per_loan, buckets)


def _finish(per_loan: ir.Table, buckets: Buckets) -> ir.Table:
    d = per_loan.as_of
    zero = ibis.literal(0).cast(MONEY)
    written_off = per_loan.written_off_on.notnull() & (per_loan.written_off_on <= d)
    closed = per_loan.closed_on.notnull() & (per_loan.closed_on <= d)
    all_paid = (per_loan.product == "installment") & (
        per_loan.unpaid_installments.fill_null(0) == 0
    )
    status = ibis.cases((written_off, WRITTEN_OFF), (closed | all_paid, PAID_OFF), else_="active")
    dpd = ibis.ifelse(
        per_loan.oldest_unpaid_due.isnull() | (status == PAID_OFF),
        0,
        d.delta(per_loan.oldest_unpaid_due, unit="day"),
    ).cast("int32")
    revolving = per_loan.product == "revolving"
    outstanding = ibis.ifelse(
        revolving,
        per_loan.statement_balance.fill_null(zero),
        per_loan.principal_outstanding.fill_null(zero),
    )
    bucket = ibis.cases(
        (status == WRITTEN_OFF, WRITTEN_OFF),
        (status == PAID_OFF, PAID_OFF),
        else_=buckets.expr(dpd),
    )
    return per_loan.select(
        as_of=d,
        loan_id=per_loan.loan_id,
        customer_id=per_loan.customer_id,
        product=per_loan.product,
        status=status,
        dpd=dpd,
        bucket=bucket,
        past_due_amount=per_loan.past_due_amount.fill_null(zero).cast(MONEY),
        outstanding_principal=outstanding.cast(MONEY),
        installments_past_due=per_loan.installments_past_due.fill_null(0).cast("int32"),
        last_payment_date=per_loan.last_payment_date,
        next_due_date=per_loan.next_due_date,
        next_due_amount=per_loan.next_due_amount.cast(MONEY),
    )
