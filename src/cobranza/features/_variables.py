"""The variable catalog: one function per variable; its name is the column, its parameters are
its inputs (base tables, ``as_of``, columns of the per-loan frame, or other nodes).

``accounts`` is the account state at ``as_of`` of every active loan
(:data:`cobranza.ledger.ACCOUNT_STATE_COLUMNS`) with ``opened_on``, ``principal`` and
``frequency`` from ``loans`` and ``monthly_income`` from ``customers``; the output has one row
per loan of it. Windows of days are Mexico City local days ending on ``as_of`` inclusive:
"30 days" is as_of − 29 … as_of. Windows of months are the days after the same calendar day
N months earlier (clipped to month end) up to as_of. Ratios divide exact decimals converted to
float64.
"""

from __future__ import annotations

import calendar
import datetime as dt

import ibis
import ibis.expr.types as ir

from cobranza.contract import MONEY
from cobranza.features._driver import per_loan, variable
from cobranza.features._history import (
    counted_payments,
    late_days,
    payments_between,
    settle_dates,
)
from cobranza.ledger import promise_status
from cobranza.ledger._calendar import end_of_local_day
from cobranza.portfolio import contact_history


def months_before(day: dt.date, months: int) -> dt.date:
    """The same calendar day ``months`` earlier, clipped to that month's last day."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """numerator ÷ denominator as float64; null where the denominator is null or zero."""
    return ibis.ifelse(
        denominator == 0,
        ibis.null("float64"),
        numerator.cast("float64") / denominator.cast("float64"),
    )


# --- helper nodes (not variables): intermediate tables several variables share -------------


def dpd_spells(installments: ir.Table, payments: ir.Table, as_of: dt.date) -> ir.Table:
    """Each installment due before as_of with the day the payments up to as_of covered it."""
    return settle_dates(installments, payments, as_of)


@per_loan
def dpd_history(dpd_spells: ir.Table, as_of: dt.date) -> ir.Table:
    """Per loan, in one pass over its installments: the highest daily dpd in the last 3, 6
    and 12 months and the runs of days at 30+ dpd in the last 12 months."""
    windows = {f"max_dpd_{m}m": months_before(as_of, m) for m in (3, 6, 12)}
    # Days at 30+: one interval [first, last] per installment (day numbers relative to as_of);
    # a run starts where it begins more than a day after every earlier installment's ends.
    at_30 = late_days(dpd_spells, months_before(as_of, 12), as_of, 30)
    kept = ibis.ifelse(at_30.first <= at_30.last, at_30.last, ibis.null("int64"))
    spans = dpd_spells.mutate(
        **{f"top_{name}": late_days(dpd_spells, start, as_of, 1).top
           for name, start in windows.items()},
        first_30=at_30.first,
        kept_30=kept,
    )  # fmt: skip
    before = ibis.window(group_by="loan_id", order_by="seq", rows=(None, -1))
    spans = spans.mutate(reach_30=spans.kept_30.max().over(before))
    new_run = spans.kept_30.notnull() & (
        spans.reach_30.isnull() | (spans.first_30 > spans.reach_30 + 1)
    )
    return spans.group_by("loan_id").aggregate(
        **{name: spans[f"top_{name}"].max() for name in windows},
        # COUNT is BIGINT on both engines; DuckDB's SUM of BIGINT is a HUGEINT.
        times_30dpd_12m=spans.count(where=new_run),
    )


@per_loan
def recent_payments(payments: ir.Table, as_of: dt.date) -> ir.Table:
    """Per loan: count and amount of settled payments in the last 30 and 90 local days."""
    recent = payments_between(payments, as_of - dt.timedelta(days=90), as_of)
    last_30 = recent.paid_at >= ibis.literal(end_of_local_day(as_of - dt.timedelta(days=30)))
    return recent.group_by("loan_id").aggregate(
        payments_30d=recent.count(where=last_30),
        payments_90d=recent.count(),
        paid_amount_30d=recent.amount.sum(where=last_30).cast(MONEY),
        paid_amount_90d=recent.amount.sum().cast(MONEY),
    )


@per_loan
def current_installment(installments: ir.Table, as_of: dt.date) -> ir.Table:
    """Per loan: the due of the latest installment due on or before as_of and of the first."""
    schedule = installments.mutate(
        due=installments.fees_due + installments.interest_due + installments.principal_due
    )
    return schedule.group_by("loan_id").aggregate(
        latest_due=schedule.due.argmax(
            schedule.due_date, where=schedule.due_date <= ibis.date(as_of)
        ),
        first_due=schedule.due.argmin(schedule.seq),
    )


@per_loan
def contact_activity(contacts: ir.Table, as_of: dt.date) -> ir.Table:
    """Per loan: attempts and right-party contacts (``cobranza.portfolio.contact_history``)."""
    return contact_history(contacts, as_of)


# --- account ---------------------------------------------------------------------------------


@variable("int32")
def dpd(accounts: ir.Table) -> ir.IntegerValue:
    """Days past due at as_of: how late the oldest unpaid installment is.

    unit: days
    formula: as_of − due date of the oldest installment due before as_of and not fully paid
             by the payments counted up to as_of; 0 if none (the ledger's account state).
    """
    return accounts.dpd


@variable(MONEY)
def past_due(accounts: ir.Table) -> ir.DecimalValue:
    """Amount past due at as_of.

    unit: MXN
    formula: Σ over installments due before as_of of (due − allocated), payments allocated
             oldest installment first, fees then interest then principal.
    """
    return accounts.past_due_amount


@variable(MONEY)
def balance(accounts: ir.Table) -> ir.DecimalValue:
    """Balance owed at as_of.

    unit: MXN
    formula: installment loans: Σ principal_due − principal allocated, over the whole schedule;
             revolving: statement_balance of the latest statement due on or before as_of.
    """
    return accounts.outstanding_principal


@variable("int32")
def months_on_book(accounts: ir.Table, as_of: dt.date) -> ir.IntegerValue:
    """Whole calendar months since the loan was opened.

    unit: months
    formula: (year(as_of) − year(opened_on)) × 12 + month(as_of) − month(opened_on),
             minus 1 when day(as_of) < day(opened_on).
    """
    opened = accounts.opened_on
    return (
        (as_of.year * 12 + as_of.month)
        - (opened.year().cast("int32") * 12 + opened.month().cast("int32"))
        - ibis.ifelse(opened.day() > as_of.day, 1, 0)
    )


@variable("int32")
def days_since_last_payment(accounts: ir.Table, as_of: dt.date) -> ir.IntegerValue:
    """Days since the last counted payment; null if the loan never paid.

    unit: days
    formula: as_of − Mexico City date of the latest settled payment paid on or before as_of.
    """
    return ibis.date(as_of).delta(accounts.last_payment_date, unit="day")


@variable(MONEY)
def monthly_income(accounts: ir.Table) -> ir.DecimalValue:
    """The debtor's declared monthly income; null if not declared.

    unit: MXN per month
    formula: customers.monthly_income of the loan's customer.
    """
    return accounts.monthly_income


@variable(MONEY)
def credit_limit(accounts: ir.Table) -> ir.DecimalValue:
    """Credit limit of a revolving line; null for installment loans.

    unit: MXN
    formula: loans.principal when product = revolving.
    """
    return ibis.ifelse(accounts.product == "revolving", accounts.principal, ibis.null(MONEY))


@variable("float64")
def utilisation(balance: ir.DecimalValue, credit_limit: ir.DecimalValue) -> ir.FloatingValue:
    """Share of a revolving line in use; null for installment loans.

    unit: ratio
    formula: balance ÷ credit_limit (null when the limit is null or 0).
    """
    return _ratio(balance, credit_limit)


@variable(MONEY)
def installment_amount(current_installment: ir.Table) -> ir.DecimalValue:
    """Scheduled amount of the current period (revolving: the minimum payment).

    unit: MXN per period
    formula: fees_due + interest_due + principal_due of the latest installment due on or
             before as_of; before the first due date, of the first installment (installment
             loans; null for revolving lines, whose first statement is not issued yet).
    """
    frame = current_installment
    first = ibis.ifelse(frame.product == "installment", frame.first_due, ibis.null(MONEY))
    return ibis.coalesce(frame.latest_due, first)


@variable("float64")
def installment_to_income(
    installment_amount: ir.DecimalValue, monthly_income: ir.DecimalValue, accounts: ir.Table
) -> ir.FloatingValue:
    """Payment burden: the monthly equivalent of the installment over the monthly income.

    unit: ratio
    formula: installment_amount × periods per year (weekly 52, biweekly 26, monthly 12)
             ÷ (12 × monthly_income); null when income is null or 0.
    """
    per_year = ibis.cases(
        (accounts.frequency == "weekly", 52), (accounts.frequency == "biweekly", 26), else_=12
    )
    return _ratio(installment_amount * per_year, monthly_income * 12)


# --- delinquency history ---------------------------------------------------------------------


@variable("int32", fill=0)
def max_dpd_3m(dpd_history: ir.Table) -> ir.IntegerValue:
    """Highest dpd of any day in the last 3 months.

    unit: days
    formula: max over days D in (as_of − 3 months, as_of] of dpd(D), exact for every day:
             installment i is late on the days after its due date and before the day the
             cumulative payments covered its cumulative due; 0 if never late.
    """
    return dpd_history.max_dpd_3m


@variable("int32", fill=0)
def max_dpd_6m(dpd_history: ir.Table) -> ir.IntegerValue:
    """Highest dpd of any day in the last 6 months.

    unit: days
    formula: max over days D in (as_of − 6 months, as_of] of dpd(D); 0 if never late.
    """
    return dpd_history.max_dpd_6m


@variable("int32", fill=0)
def max_dpd_12m(dpd_history: ir.Table) -> ir.IntegerValue:
    """Highest dpd of any day in the last 12 months.

    unit: days
    formula: max over days D in (as_of − 12 months, as_of] of dpd(D); 0 if never late.
    """
    return dpd_history.max_dpd_12m


@variable("int64", fill=0)
def times_30dpd_12m(dpd_history: ir.Table) -> ir.IntegerValue:
    """Times the loan was 30 or more days past due in the last 12 months.

    unit: count
    formula: number of separate runs of consecutive days D in (as_of − 12 months, as_of] with
             dpd(D) ≥ 30; a run already going on 12 months ago counts once.
    """
    return dpd_history.times_30dpd_12m


# --- payments --------------------------------------------------------------------------------


@variable("int64", fill=0)
def payments_30d(recent_payments: ir.Table) -> ir.IntegerValue:
    """Payments received in the last 30 days.

    unit: count
    formula: number of settled payments with Mexico City paid date in [as_of − 29, as_of].
    """
    return recent_payments.payments_30d


@variable("int64", fill=0)
def payments_90d(recent_payments: ir.Table) -> ir.IntegerValue:
    """Payments received in the last 90 days.

    unit: count
    formula: number of settled payments with Mexico City paid date in [as_of − 89, as_of].
    """
    return recent_payments.payments_90d


@variable(MONEY, fill=0)
def paid_amount_30d(recent_payments: ir.Table) -> ir.DecimalValue:
    """Amount paid in the last 30 days.

    unit: MXN
    formula: Σ amount of settled payments with Mexico City paid date in [as_of − 29, as_of].
    """
    return recent_payments.paid_amount_30d


@variable(MONEY, fill=0)
def paid_amount_90d(recent_payments: ir.Table) -> ir.DecimalValue:
    """Amount paid in the last 90 days.

    unit: MXN
    formula: Σ amount of settled payments with Mexico City paid date in [as_of − 89, as_of].
    """
    return recent_payments.paid_amount_90d


@variable("float64")
def paid_to_due_3p(
    installments: ir.Table, payments: ir.Table, loans: ir.Table, as_of: dt.date
) -> ir.Table:
    """Share of what fell due in the last 3 periods that was paid within those periods.

    unit: ratio
    formula: with k the last installment due before as_of, the 3 periods run from due_{k−3}
             (exclusive; from the opening day when k ≤ 3) to due_k (inclusive):
             Σ settled payments with Mexico City paid date in them ÷ Σ due of installments
             k−2 … k (fewer when fewer are due). Null before the first due date or when
             nothing was due.
    """
    due = installments.filter(installments.due_date < ibis.date(as_of))
    newest_first = ibis.window(group_by="loan_id", order_by=ibis.desc("seq"))
    # row_number counts from 0: ranks 0-2 are the 3 periods, rank 3 the one before them.
    due = due.mutate(
        rank=ibis.row_number().over(newest_first),
        due=due.fees_due + due.interest_due + due.principal_due,
    )
    due = due.filter(due.rank <= 3)
    periods = due.group_by("loan_id").aggregate(
        amount_due=due.due.sum(where=due.rank <= 2),
        opener=due.due_date.max(where=due.rank == 3),
        closer=due.due_date.max(where=due.rank == 0),
    )
    opened = loans.select("loan_id", "opened_on")
    periods = periods.inner_join(opened, "loan_id").select(periods, opened.opened_on).view()
    counted = counted_payments(payments, as_of)
    counted = counted.select("loan_id", "amount", day=counted.paid_at.cast("date"))
    inside = periods.inner_join(
        counted,
        [
            periods.loan_id == counted.loan_id,
            counted.day <= periods.closer,
            ibis.ifelse(
                periods.opener.isnull(),
                counted.day >= periods.opened_on,
                counted.day > periods.opener,
            ),
        ],
    ).select(loan_id=periods.loan_id, amount=counted.amount)
    paid = inside.group_by("loan_id").aggregate(paid=inside.amount.sum())
    rows = periods.left_join(paid, "loan_id")
    ratio = _ratio(rows.paid.fill_null(0), rows.amount_due)
    return rows.select(loan_id=periods.loan_id, paid_to_due_3p=ratio)


# --- promises and contacts -------------------------------------------------------------------


@variable("int64", fill=0)
def broken_promises_90d(promises: ir.Table, payments: ir.Table, as_of: dt.date) -> ir.Table:
    """Promises to pay broken in the last 90 days.

    unit: count
    formula: number of promises with status broken at as_of (cobranza.ledger.promise_status,
             2 days of grace) whose resolved_on (deadline + 1) is in [as_of − 89, as_of].
    """
    status = promise_status(promises, payments, as_of)
    broken = status.filter(
        (status.status == "broken")
        & (status.resolved_on >= ibis.date(as_of - dt.timedelta(days=89)))
        & (status.resolved_on <= ibis.date(as_of))
    )
    return broken.group_by("loan_id").aggregate(broken_promises_90d=broken.count())


@variable("int64", fill=0)
def contacts_30d(contact_activity: ir.Table) -> ir.IntegerValue:
    """Contact attempts in the last 30 days.

    unit: count
    formula: number of contacts with Mexico City attempt date in [as_of − 29, as_of], any
             outcome (cobranza.portfolio.contact_history attempts_30d).
    """
    return contact_activity.attempts_30d


@variable("int64", fill=0)
def rpc_30d(contact_activity: ir.Table) -> ir.IntegerValue:
    """Right-party contacts in the last 30 days.

    unit: count
    formula: contacts in [as_of − 29, as_of] whose outcome reached the debtor (right_party,
             promise, refused, dispute; cobranza.portfolio.contact_history rpc_30d).
    """
    return contact_activity.rpc_30d


@variable("int32")
def days_since_last_contact(contact_activity: ir.Table) -> ir.IntegerValue:
    """Days since the last contact attempt; null if never contacted.

    unit: days
    formula: as_of − Mexico City date of the latest contact attempted on or before as_of.
    """
    return contact_activity.days_since_last_contact
