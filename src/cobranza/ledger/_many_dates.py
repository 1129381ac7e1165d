"""The account states of many as-of dates in one pass over the schedule.

With dates D_0 < … < D_{m−1} and, per loan, the counted payments P_j up to each D_j (one wide
row per loan), every installment k with a positive amount due gets, from its cumulative dues

    cum_before_k = Σ due of the earlier installments        cum_incl_k = cum_before_k + due_k

and the first date index at which the payments reach each of them (P_j never decreases):

    a_k = min{ j | P_j ≥ cum_before_k }                     s_k = min{ j | P_j ≥ cum_incl_k }

Installment k is then the loan's *first unpaid* installment exactly on the dates j in
[a_k, s_k): the intervals [cum_before_k, cum_incl_k) partition what the schedule asks for, so
one and only one installment holds P_j in its interval while anything is owed. In the same way
k is the first installment due on or after D_j for j in [b_{k−1}, b_k), with
b_k = min{ j | D_j > due_date_k }. Both ranges are unnested into (loan, j) rows, at most one
per role, loan and date, so the work grows with loans × dates rather than installments × dates,
and one window over the schedule serves every date. Everything else follows from those rows:

    dpd                    D_j − due_date of the first unpaid, when it is due before D_j
    past_due_amount        C_j − P_j (C_j = cum_before of the first installment due from D_j,
                           or the schedule's total), when the first unpaid is due before D_j
    installments_past_due  position of the first installment due from D_j − position of the
                           first unpaid
    outstanding principal  Σ principal − principal of the installments before the first unpaid
                           − the principal the first unpaid received
    next_due               the first unpaid when it is not yet past due, else the first
                           installment due from D_j (untouched by payments)

Installments with nothing due never go unpaid and hold no principal: they take part only as
revolving statements, whose balance is the latest one due on or before D_j (the same unnesting
over a line's statements, by d_k = min{ j | D_j ≥ due_date_k }).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from cobranza.contract import MONEY
from cobranza.ledger._calendar import end_of_local_day


def _first_index(conditions: Sequence[ir.BooleanValue], none: int) -> ir.IntegerValue:
    """The index of the first true condition, ``none`` when none is (conditions are
    monotone in the index, so this is also how many are false)."""
    return ibis.cases(*[(c, j) for j, c in enumerate(conditions)], else_=none).cast("int32")


def _unnest_range(start: ir.IntegerValue, stop: ir.IntegerValue) -> ir.IntegerValue:
    # Spark refuses a generator inside another expression (a cast): j stays int64.
    return ibis.range(start.cast("int64"), stop.cast("int64")).unnest()


def _pick(index: ir.IntegerValue, values: Sequence[ir.Value]) -> ir.Value:
    """values[index] for a small literal range of indexes."""
    return ibis.cases(*[(index == j, v) for j, v in enumerate(values)])


#: The loan columns an account state carries through.
LOAN_COLUMNS = ("loan_id", "customer_id", "product", "written_off_on", "closed_on")


def open_loans(loans: ir.Table, as_of: dt.date) -> ir.Table:
    """The loans opened on or before ``as_of``, with ``as_of`` as a column."""
    return loans.filter(loans.opened_on <= ibis.date(as_of)).select(
        *LOAN_COLUMNS, as_of=ibis.date(as_of)
    )


def per_loan_many_dates(
    loans: ir.Table,
    installments: ir.Table,
    payments: ir.Table,
    dates: Sequence[dt.date],
) -> ir.Table:
    """Per (as_of, loan) the columns :func:`cobranza.ledger._state._state` turns into states,
    for the sorted, distinct ``dates``. Formulas in the module docstring."""
    m = len(dates)
    zero = ibis.literal(0).cast(MONEY)

    # P_j and the last payment instant per loan and date, one wide row per loan.
    settled = payments.filter(payments.status == "settled")
    period = _first_index([settled.paid_at < ibis.literal(end_of_local_day(d)) for d in dates], m)
    counted = settled.select("loan_id", "amount", "paid_at", period=period)
    counted = counted.filter(counted.period < m)
    wide = counted.group_by("loan_id").aggregate(
        **{f"p{j}": counted.amount.sum(where=counted.period <= j) for j in range(m)},
        **{f"l{j}": counted.paid_at.max(where=counted.period <= j) for j in range(m)},
    )
    paid = [wide[f"p{j}"].fill_null(zero) for j in range(m)]

    # One window over the schedule: cumulative dues, principal and positions.
    due = (installments.fees_due + installments.interest_due + installments.principal_due).cast(
        MONEY
    )
    owing = installments.filter(due > 0).select(
        "loan_id", "seq", "due_date", "principal_due",
        due=due,
        fees_interest=(installments.fees_due + installments.interest_due).cast(MONEY),
        b=_first_index([ibis.date(d) > installments.due_date for d in dates], m),
    )  # fmt: skip
    so_far = ibis.window(group_by="loan_id", order_by="seq", rows=(None, 0))
    by_seq = ibis.window(group_by="loan_id", order_by="seq")
    schedule = owing.select(
        "loan_id", "due_date", "due", "principal_due", "fees_interest", "b",
        cum_before=(owing.due.sum().over(so_far) - owing.due).cast(MONEY),
        principal_before=(owing.principal_due.sum().over(so_far) - owing.principal_due).cast(
            MONEY
        ),
        position=ibis.row_number().over(by_seq).cast("int32"),
        previous_b=owing.b.lag().over(by_seq).fill_null(0).cast("int32"),
    )  # fmt: skip

    # First unpaid installment per (loan, j): rows of [a_k, s_k).
    # A selection of the aggregate, not the aggregate: Ibis then shares it with the probes'
    # join as one CTE instead of compiling (and DuckDB computing) it twice.
    paid_by_loan = wide.select("loan_id", *[f"p{j}" for j in range(m)])
    rows = schedule.left_join(paid_by_loan, "loan_id")
    paid_rows = [rows[f"p{j}"].fill_null(zero) for j in range(m)]
    cum_incl = rows.cum_before + rows.due
    # Installments paid in full by D_0 or not reached by D_{m−1} are nobody's first unpaid.
    reachable = rows.filter((cum_incl > paid_rows[0]) & (rows.cum_before <= paid_rows[-1]))
    paid_reachable = [reachable[f"p{j}"].fill_null(zero) for j in range(m)]
    spans = reachable.select(
        "loan_id", "due_date", "due", "principal_due", "fees_interest", "cum_before",
        "principal_before", "position",
        a=_first_index([p >= reachable.cum_before for p in paid_reachable], m),
        s=_first_index([p >= reachable.cum_before + reachable.due for p in paid_reachable], m),
    )  # fmt: skip
    spans = spans.filter(spans.a < spans.s)
    first_unpaid = spans.select(
        "loan_id", "due_date", "due", "principal_due", "fees_interest", "cum_before",
        "principal_before", "position",
        j=_unnest_range(spans.a, spans.s),
    )  # fmt: skip

    # First installment due on or after D_j per (loan, j): rows of [b_{k−1}, b_k).
    starts = schedule.filter(schedule.previous_b < schedule.b)
    first_from = starts.select(
        "loan_id", "due_date", "due", "cum_before", "position",
        j=_unnest_range(starts.previous_b, starts.b),
    )  # fmt: skip
    totals = schedule.group_by("loan_id").aggregate(
        due_total=schedule.due.sum(),
        owing_total=schedule.count().cast("int32"),
        principal_total=schedule.principal_due.sum(),
    )

    # The latest statement due on or before D_j: rows of [d_k, d_{k+1}).
    # Every statement of a revolving line, a missing balance too (it reads as none then).
    revolving = loans.filter(loans.product == "revolving").select("loan_id")
    lines = installments.semi_join(revolving, "loan_id")
    statements = lines.select(
        "loan_id", "seq", "statement_balance",
        d=_first_index([ibis.date(d) >= lines.due_date for d in dates], m),
    )  # fmt: skip
    statements = statements.mutate(
        next_d=statements.d.lead()
        .over(ibis.window(group_by="loan_id", order_by="seq"))
        .fill_null(m)
        .cast("int32")
    )
    statements = statements.filter(statements.d < statements.next_d)
    latest_statement = statements.select(
        "loan_id", "statement_balance", j=_unnest_range(statements.d, statements.next_d)
    )

    per_date = [
        open_loans(loans, d).mutate(j=ibis.literal(j, "int64")) for j, d in enumerate(dates)
    ]
    probe = ibis.union(*per_date) if len(per_date) > 1 else per_date[0]
    with_paid = (
        probe.left_join(wide, "loan_id")
        .select(
            probe,
            paid_to_date=_pick(probe.j, paid).fill_null(zero),
            last_payment_date=_pick(probe.j, [wide[f"l{j}"] for j in range(m)]).cast("date"),
        )
        .view()
    )
    # .view(): these derive from one schedule, and Ibis needs them told apart in the joins.
    fu, ff, st, totals = (t.view() for t in (first_unpaid, first_from, latest_statement, totals))
    joined = (
        with_paid.left_join(fu, [with_paid.loan_id == fu.loan_id, with_paid.j == fu.j])
        .left_join(ff, [with_paid.loan_id == ff.loan_id, with_paid.j == ff.j])
        .left_join(totals, with_paid.loan_id == totals.loan_id)
        .left_join(st, [with_paid.loan_id == st.loan_id, with_paid.j == st.j])
        .select(
            with_paid,
            fu_due_date=fu.due_date,
            fu_due=fu.due,
            fu_principal=fu.principal_due,
            fu_fees_interest=fu.fees_interest,
            fu_cum_before=fu.cum_before,
            fu_principal_before=fu.principal_before,
            fu_position=fu.position,
            ff_due_date=ff.due_date,
            ff_due=ff.due,
            due_before=ibis.coalesce(ff.cum_before, totals.due_total, zero),
            owing_before=ibis.coalesce(ff.position, totals.owing_total, 0),
            principal_total=totals.principal_total,
            statement_balance=st.statement_balance,
        )
    )
    d = joined.as_of
    p = joined.paid_to_date
    any_unpaid = joined.fu_due.notnull()
    past_due = any_unpaid & (joined.fu_due_date < d)
    received = p - joined.fu_cum_before
    principal_received = ibis.greatest(
        zero, ibis.least(received - joined.fu_fees_interest, joined.fu_principal)
    )
    return joined.select(
        "as_of", "loan_id", "customer_id", "product", "written_off_on", "closed_on",
        "last_payment_date", "statement_balance",
        oldest_unpaid_due=ibis.ifelse(past_due, joined.fu_due_date, ibis.null("date")),
        past_due_amount=ibis.ifelse(past_due, joined.due_before - p, zero),
        principal_outstanding=ibis.ifelse(
            any_unpaid,
            joined.principal_total - joined.fu_principal_before - principal_received,
            zero,
        ),
        installments_past_due=ibis.ifelse(
            past_due, joined.owing_before - joined.fu_position, 0
        ),
        unpaid_installments=any_unpaid.cast("int32"),
        next_due_date=ibis.cases(
            (past_due, joined.ff_due_date), (any_unpaid, joined.fu_due_date),
            else_=ibis.null("date"),
        ),
        next_due_amount=ibis.cases(
            (past_due, joined.ff_due), (any_unpaid, joined.fu_due - received),
            else_=ibis.null(MONEY),
        ),
    )  # fmt: skip
