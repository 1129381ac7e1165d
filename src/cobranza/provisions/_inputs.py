"""What the provision methods need besides the account state, computed from the data at as-of.

One row per loan open (``active``) at ``as_of``: the account-state columns plus

    annual_rate, frequency         from the loan
    segment                        cnbv_type, else P (installment) or R (revolving)
    remaining_days                 last installment's due date − as_of (null for revolving)
    interest                       unpaid interest of the installments due before as_of
                                   (the waterfall of the ledger: fees, interest, principal);
                                   0 for revolving lines, whose statement balance includes it
    maxatr                         ATR of the largest dpd at as_of and at the month-end
                                   snapshots given within the last 4 periods
    pct_pago                       100 × settled payments with local date in the last 4
                                   periods ÷ amount due in those periods (100 when nothing
                                   was due); 4 decimals
    act                            ATR at as_of (consecutive periods in arrears)
    hist                           month-end snapshots of the last 6 months (as_of excluded)
                                   with dpd > 0
    ant                            months since the loan was opened
    pct_uso                        100 × balance ÷ principal (the credit limit); 4 decimals
    indatr                         1 when ATR at as_of > 0, else 0
    veces                          installments (statements) due in the last 4 periods, as_of
                                   included, not paid in full by the end of their due date
    pct_pr                         100 × installments due before as_of paid in full by the end
                                   of their due date ÷ installments due before as_of, over the
                                   loan's life (100 when none was due); 4 decimals
    pct_sdoimp                     100 × outstanding principal ÷ principal (amount financed);
                                   4 decimals; 0 for revolving lines (their measure is %USO)
    tipo_b, tipo_a, tipo_n,        1 when the segment is B, A, N, P or O, else 0; all 0 for
    tipo_p, tipo_o                 revolving lines (the dummies are the non-revolving model's)

"Paid in full by the end of its due date": the settled payments made before the due date ends
in Mexico City (the ledger's rule for as_of: 2026-04-01T05:30:00Z counts for 2026-03-31), summed
for the loan, cover that installment and every earlier one (the ledger's waterfall in ``seq``
order). Payments after the end of as_of never count. Revolving lines use their statements'
minimum payments the same way.

These are the regulation's variables (MAXATR, %PAGO, ACT, HIST, ANT, %USO, INDATR, VECES, %PR,
%SDOIMP and the product dummies TIPO_B, TIPO_A, TIPO_N, TIPO_P, TIPO_O) as cobranza's data
contract can give them; :data:`CNBV_VARIABLES` maps each name to its column. The definitions
follow the variables' descriptions in issue #5 (those of INDATR, VECES, %PR, %SDOIMP and the
dummies are cobranza's reading of the names) and have not been checked against the official
text (see docs/provisions.md). Every column is an integer or a DECIMAL (never a float), which
the Spark compiler needs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from cobranza.contract import MONEY
from cobranza.ledger import schedule_positions
from cobranza.ledger._calendar import end_of_local_day
from cobranza.portfolio._calendar import month_index
from cobranza.portfolio._measures import ACTIVE, ratio, rows
from cobranza.provisions._cnbv import REVOLVING
from cobranza.provisions._formulas import DAYS_PER_PERIOD
from cobranza.provisions._money import float_literal, recast

#: The non-revolving CNBV product types (``loans.cnbv_type``), one 0/1 dummy variable each.
PRODUCT_TYPES = ("B", "A", "N", "P", "O")
#: The CNBV variables computed here, by the regulation's name.
CNBV_VARIABLES = {
    "MAXATR": "maxatr",
    "%PAGO": "pct_pago",
    "ACT": "act",
    "HIST": "hist",
    "ANT": "ant",
    "%USO": "pct_uso",
    "INDATR": "indatr",
    "VECES": "veces",
    "%PR": "pct_pr",
    "%SDOIMP": "pct_sdoimp",
    **{f"TIPO_{t}": f"tipo_{t.lower()}" for t in PRODUCT_TYPES},
}
#: Billing periods looked back for MAXATR and %PAGO, months for HIST.
PERIODS_BACK = 4
HIST_MONTHS = 6
PERCENT = ibis.expr.datatypes.Decimal(12, 4)


def _atr(dpd: ir.IntegerValue, frequency: ir.StringValue) -> ir.IntegerValue:
    """ceil(dpd ÷ days per period) in integers: ⌊(dpd·q + p − 1) ÷ p⌋ with days = p/q."""
    ratios = {f: days.as_integer_ratio() for f, days in DAYS_PER_PERIOD.items()}
    return ibis.cases(
        *[(frequency == f, (dpd * q + (p - 1)) // p) for f, (p, q) in ratios.items()]
    ).cast("int32")


def _window_days(frequency: ir.StringValue) -> ir.IntegerValue:
    """Whole days of PERIODS_BACK billing periods: ceil(4 × 30.4) = 122, 61, 28."""
    days = {f: -(-(PERIODS_BACK * d) // 1) for f, d in DAYS_PER_PERIOD.items()}
    return ibis.cases(*[(frequency == f, int(n)) for f, n in days.items()]).cast("int32")


def _percent(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.DecimalValue:
    """100 × numerator ÷ denominator to 4 decimals, identically on both engines: the float
    division is correctly rounded everywhere, then rounded once to an integer of 10⁻⁴ %."""
    scaled = (ratio(numerator, denominator) * float_literal(1e6)).round().cast("int64")
    step = ibis.literal(Decimal("0.0001"), type=PERCENT)
    return recast(step * scaled, PERCENT)


def _paid_in_full_by_due_date(schedule: ir.Table, payments: ir.Table, as_of: dt.date) -> ir.Table:
    """Per loan, from ``schedule`` (installments due by as_of with ``due``, ``cum_due_before``
    and ``window_days``):

        veces          = #{i | due in the last 4 periods, not paid in full by its due date}
        due_before     = #{i | due_date < as_of}
        on_time_before = #{i | due_date < as_of, paid in full by its due date}

    where i is paid in full by its due date when P_i ≥ cum_due_before_i + due_i, P_i the
    settled payments with paid_at before the due date ends in Mexico City.
    """
    # Each installment needs the payments up to its own due date: a running sum over the
    # payments and the due dates of a loan, ordered by instant, gives every P_i in one sort.
    # Joining each installment with its loan's payments would make installments × payments
    # rows per loan (hundreds), and a join on payments ≤ due date is a range join besides.
    # Settled payments made before as_of ends in Mexico City (paid_to_date's cut-off): a run
    # never uses data after its as-of date.
    counted = payments.filter(
        (payments.status == "settled") & (payments.paid_at < ibis.literal(end_of_local_day(as_of)))
    )
    instant = payments.paid_at.type()
    zero = ibis.literal(0).cast(MONEY)
    before = schedule.due_date < ibis.date(as_of)
    recent = schedule.due_date > ibis.date(as_of) - schedule.window_days.as_interval("D")
    # The engines' session time zone is Mexico City (Engine.TIME_ZONE), so the day after the
    # due date cast to a timestamp is the instant the due date ends there: the ledger's
    # end_of_local_day, daylight saving included, computed per installment and not per payment.
    dues = schedule.select(
        "loan_id",
        at=(schedule.due_date + ibis.interval(days=1)).cast(instant),
        # A payment at the very instant the day ends is the next day's: dues sort first.
        kind=ibis.literal(0, type="int32"),
        amount=zero,
        owed=(schedule.cum_due_before + schedule.due).cast(MONEY),
        before=before,
        recent=recent,
    )
    paid = counted.select(
        "loan_id",
        at=counted.paid_at,
        kind=ibis.literal(1, type="int32"),
        amount=counted.amount.cast(MONEY),
        owed=ibis.null(MONEY),
        before=ibis.null("boolean"),
        recent=ibis.null("boolean"),
    )
    timeline = ibis.union(dues, paid)
    so_far = ibis.window(group_by="loan_id", order_by=["at", "kind"], rows=(None, 0))
    running = timeline.mutate(paid_by=timeline.amount.sum().over(so_far))
    due = running.filter(running.kind == 0)
    late = due.paid_by < due.owed
    return due.group_by("loan_id").aggregate(
        veces=rows(due, where=due.recent & late).cast("int32"),
        due_before=rows(due, where=due.before),
        on_time_before=rows(due, where=due.before & ~late),
    )


def _unpaid_interest(installments: ir.Table, at: ir.Table, as_of: dt.date) -> ir.Table:
    """``interest``: unpaid interest of the installments due before as_of, per loan in arrears.

    From the state alone, without a running sum: in arrears (dpd > 0) the installments due in
    [as_of − dpd, as_of) are the unpaid ones, the first (due on as_of − dpd) partly paid:

        allocated_first = Σ due of those − past_due_amount
        interest        = Σ interest of those
                          − clamp(allocated_first − fees_first, 0, interest_first)

    (the ledger's waterfall: fees, then interest, then principal).
    """
    day = ibis.date(as_of)
    arrears = at.filter(at.dpd > 0).select(
        "loan_id", "past_due_amount", oldest_unpaid=day - at.dpd.as_interval("D")
    )
    rows = installments.join(arrears, "loan_id")
    rows = rows.filter((rows.due_date >= rows.oldest_unpaid) & (rows.due_date < day))
    first = rows.due_date == rows.oldest_unpaid
    span = rows.group_by("loan_id").aggregate(
        due=(rows.fees_due + rows.interest_due + rows.principal_due).sum(),
        interest=rows.interest_due.sum(),
        past_due=rows.past_due_amount.max(),
        first_fees=rows.fees_due.max(where=first),
        first_interest=rows.interest_due.max(where=first),
    )
    zero = ibis.literal(0).cast(MONEY)
    allocated_first = span.due - span.past_due
    interest_paid = ibis.greatest(
        zero, ibis.least(allocated_first - span.first_fees, span.first_interest)
    )
    return span.select("loan_id", interest=(span.interest - interest_paid).cast(MONEY))


def provision_inputs(
    tables: dict[str, ir.Table],
    states: ir.Table,
    as_of: dt.date,
    history: ir.Table | None = None,
    *,
    cnbv_variables: bool = True,
) -> ir.Table:
    """The open accounts of ``states`` at ``as_of`` with the columns the methods use.

    ``history`` holds earlier account states of the same loans (month-end snapshots) for
    MAXATR and HIST; without it MAXATR is the ATR at as_of and HIST is 0. Without
    ``cnbv_variables`` only the columns every method reads are computed (up to ``interest``):
    the CNBV variables need a pass over every payment and due date of the book.
    """
    loans, installments, payments = tables["loans"], tables["installments"], tables["payments"]
    day = ibis.date(as_of)
    at = states.filter((states.as_of == day) & (states.status == ACTIVE))
    loan = loans.select(
        "loan_id", "annual_rate", "frequency", "opened_on", "principal",
        segment=ibis.coalesce(
            loans.cnbv_type, ibis.ifelse(loans.product == REVOLVING, "R", "P")
        ),
    )  # fmt: skip
    window = loans.select("loan_id", window_days=_window_days(loans.frequency))

    maturities = installments.group_by("loan_id").aggregate(maturity=installments.due_date.max())
    zero = ibis.literal(0).cast(MONEY)
    joined = (
        at.join(loan, "loan_id")
        .left_join(_unpaid_interest(installments, at, as_of), "loan_id")
        .left_join(maturities, "loan_id")
        .select(
            *[at[c] for c in states.columns],
            annual_rate=loan.annual_rate,
            frequency=loan.frequency,
            segment=loan.segment,
            opened_on=loan.opened_on,
            principal=loan.principal,
            maturity=maturities.maturity,
            interest=lambda t: t.interest.fill_null(zero),
        )
    )
    if cnbv_variables:
        # The dues the punctuality needs are those of installments due by as-of, whose
        # allocation depends only on earlier installments: the running sum stops there.
        due_by = installments.filter(installments.due_date <= day)
        schedule = schedule_positions(due_by).join(window, "loan_id")
        recent = (schedule.due_date <= day) & (
            schedule.due_date > day - schedule.window_days.as_interval("D")
        )
        due_recent = schedule.group_by("loan_id").aggregate(
            due_recent=schedule.due.sum(where=recent).cast(MONEY)
        )
        settled = payments.filter(payments.status == "settled").join(window, "loan_id")
        local_day = settled.paid_at.cast("date")
        in_window = (local_day <= day) & (local_day > day - settled.window_days.as_interval("D"))
        paid_recent = (
            settled.filter(in_window)
            .group_by("loan_id")
            .aggregate(paid_recent=settled.amount.sum().cast(MONEY))
        )
        punctuality = _paid_in_full_by_due_date(schedule, payments, as_of)
        joined = (
            joined.left_join(due_recent, "loan_id")
            .left_join(paid_recent, "loan_id")
            .left_join(punctuality, "loan_id")
            .select(
                joined,
                due_recent=due_recent.due_recent.fill_null(zero),
                paid_recent=paid_recent.paid_recent.fill_null(zero),
                veces=punctuality.veces.fill_null(0).cast("int32"),
                due_before=punctuality.due_before.fill_null(0),
                on_time_before=punctuality.on_time_before.fill_null(0),
            )
        )
    atr = _atr(joined.dpd, joined.frequency)
    revolving = joined.product == REVOLVING
    hundred = ibis.literal(Decimal("100"), type=PERCENT)
    common = {
        "remaining_days": ibis.ifelse(
            revolving, ibis.null("int32"), joined.maturity.delta(day, unit="day").cast("int32")
        ),
        "interest": ibis.ifelse(revolving, zero, joined.interest),
    }
    if not cnbv_variables:
        return joined.select(*states.columns, "annual_rate", "frequency", "segment", **common)
    base = joined.select(
        *states.columns,
        "annual_rate", "frequency", "segment",
        **common,
        atr=atr,
        act=atr,
        ant=(month_index(day) - month_index(joined.opened_on)).cast("int32"),
        pct_pago=ibis.ifelse(
            joined.due_recent == 0, hundred, _percent(joined.paid_recent, joined.due_recent)
        ),
        pct_uso=_percent(joined.outstanding_principal, joined.principal),
        indatr=(atr > 0).cast("int32"),
        veces=joined.veces,
        pct_pr=ibis.ifelse(
            joined.due_before == 0, hundred, _percent(joined.on_time_before, joined.due_before)
        ),
        # %SDOIMP is the non-revolving counterpart of %USO: a revolving line has no amount
        # financed to pay down, so 0, as its product dummies are.
        pct_sdoimp=ibis.ifelse(
            revolving,
            ibis.literal(Decimal("0"), type=PERCENT),
            _percent(joined.outstanding_principal, joined.principal),
        ),
        **{
            f"tipo_{t.lower()}": ((joined.segment == t) & ~revolving).cast("int32")
            for t in PRODUCT_TYPES
        },
    )  # fmt: skip
    if history is None:
        return base.mutate(maxatr=base.atr, hist=ibis.literal(0).cast("int32")).drop("atr")
    past = history.filter(history.as_of < day).join(window, "loan_id")
    back = past.as_of > day - past.window_days.as_interval("D")
    last_6 = month_index(past.as_of) > month_index(day) - HIST_MONTHS
    earlier = past.group_by("loan_id").aggregate(
        max_dpd=past.dpd.max(where=back),
        hist=(last_6 & (past.dpd > 0)).cast("int32").sum().cast("int32"),
    )
    full = base.left_join(earlier, "loan_id")
    max_dpd = ibis.greatest(full.dpd, full.max_dpd.fill_null(0))
    return full.select(
        *[c for c in base.columns if c != "atr"],
        maxatr=_atr(max_dpd, full.frequency),
        hist=full.hist.fill_null(0).cast("int32"),
    )
