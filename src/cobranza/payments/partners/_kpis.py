"""Partner KPIs per month, and the defect Pareto with DPMO, as engine expressions.

All of it is Ibis over unbound tables, compiled per engine; the numbers are exact or correctly
rounded so DuckDB and Spark agree to the last digit: money is summed as DECIMAL, rates divide
two integers converted to DOUBLE, and percentiles are picked by rank, never interpolated.

Definitions (``docs/partner-scorecards.md`` has the long version):

* **month** of a partner transaction: the calendar month of its *settlement date*
  ``coalesce(value_date, booking_date, Mexico City date of booked_at)``; of an exception: the
  month of its ``value_date``.
* **success rate** = settled ÷ (settled + returned + rejected + reversed); pending rows are
  not final and count in neither.
* **settlement latency** of a matched (payment, partner transaction) pair = settlement date −
  Mexico City date of the payment's ``paid_at``, in calendar days; p50 and p95 are
  nearest-rank percentiles: the smallest latency L such that at least p % of the month's pairs
  have latency ≤ L (the value at rank ⌈p·n/100⌉).
* **SLA compliance** = pairs with latency ≤ the contract's ``settlement_days`` ÷ pairs.
* **opportunity** (for DPMO): one transaction the partner reported in the month, plus one
  payment of ours the partner should have settled and did not (an ``unsettled_payment``
  exception). A **defect** is a ``payment_exceptions`` row of any root cause and status: an
  exception resolved automatically was still a defect. DPMO = defects × 10⁶ ÷ opportunities;
  exception rate = defects ÷ opportunities.
* **unmatched amount** = Σ |amount| of exceptions still ``open`` whose root cause leaves money
  unmatched: ``unknown_reference``, ``unapplied_credit``, ``unsettled_payment``.
* **fees**: over settled transactions that report a fee, charged = Σ fee and expected =
  Σ round_half_up(fixed + |amount| × percent ÷ 100, 2) with the contract's terms for the rail
  (no term for a rail: the contract allows no fee there).
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

__all__ = [
    "MATCH_COLUMNS",
    "UNMATCHED_CAUSES",
    "defect_pareto",
    "partner_kpis",
    "settlement_latencies",
]

AMOUNT = dt.Decimal(20, 5)
FAILED = ("returned", "rejected", "reversed")
UNMATCHED_CAUSES = ("unknown_reference", "unapplied_credit", "unsettled_payment")
#: Columns a matches table needs: a payment and the partner transaction that settled it.
MATCH_COLUMNS = ("payment_id", "partner_id", "external_id")
KEYS = ("partner_id", "month")


def _month(date: ir.DateValue) -> ir.DateValue:
    # MAKE_DATE, not DATE_TRUNC: Spark's DATE_TRUNC returns a timestamp.
    return ibis.date(date.year(), date.month(), 1)


def _count(table: ir.Table, where: ir.BooleanValue | None = None) -> ir.IntegerScalar:
    # Spark compiles a filtered count to SUM(CAST(... AS BIGINT)): null over no row.
    return table.count(where=where).fill_null(0).cast("int64")


def _money(value: ir.NumericColumn, where: ir.BooleanValue | None = None) -> ir.DecimalScalar:
    return value.sum(where=where).fill_null(0).cast(AMOUNT)


def _ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    return numerator.cast("float64") / denominator.nullif(0).cast("float64")


def _settled_on(t: ir.Table) -> ir.DateValue:
    return ibis.coalesce(t.value_date, t.booking_date, t.booked_at.cast("date"))


def _dated(transactions: ir.Table) -> ir.Table:
    return transactions.mutate(month=_month(_settled_on(transactions)))


def settlement_latencies(transactions: ir.Table, matches: ir.Table, payments: ir.Table) -> ir.Table:
    """One row per matched pair of a settled transaction: ``partner_id``, ``month``,
    ``payment_id``, ``external_id``, ``latency_days`` (int)."""
    settled = transactions.filter(transactions.status == "settled")
    settled = settled.select("partner_id", "external_id", settled_on=_settled_on(settled))
    pairs = matches.select(*MATCH_COLUMNS).join(settled, ["partner_id", "external_id"])
    paid = payments.select("payment_id", paid_on=payments.paid_at.cast("date"))
    pairs = pairs.join(paid, "payment_id")
    return pairs.select(
        "partner_id", "payment_id", "external_id",
        month=_month(pairs.settled_on),
        latency_days=pairs.settled_on.delta(pairs.paid_on, unit="day").cast("int32"),
    )  # fmt: skip


def _latency_summary(latencies: ir.Table, terms: ir.Table) -> ir.Table:
    in_order = ibis.window(group_by=list(KEYS), order_by="latency_days")
    whole = ibis.window(group_by=list(KEYS))
    ranked = latencies.mutate(
        pos=(ibis.row_number().over(in_order) + 1).cast("int64"),  # Ibis numbers from 0
        n=latencies.latency_days.count().over(whole).cast("int64"),
    )
    ranked = ranked.left_join(terms.select("partner_id", "settlement_days"), "partner_id")
    latency = ranked.latency_days

    def nearest_rank(percent: int) -> ir.IntegerScalar:
        # rank ≥ ⌈p·n/100⌉  ⇔  100·rank ≥ p·n: integers only, no rounding anywhere.
        return latency.min(where=ranked.pos * 100 >= ranked.n * percent).cast("int32")

    return ranked.group_by(list(KEYS)).aggregate(
        matched=_count(ranked),
        latency_p50_days=nearest_rank(50),
        latency_p95_days=nearest_rank(95),
        on_time=_count(ranked, where=latency <= ranked.settlement_days),
    )


def partner_kpis(
    transactions: ir.Table,
    exceptions: ir.Table,
    terms: ir.Table,
    fees: ir.Table,
    matches: ir.Table | None = None,
    payments: ir.Table | None = None,
) -> ir.Table:
    """One row per (partner_id, month) with the partner's KPIs against its contract.

    ``transactions`` is ``partner_transactions``; ``exceptions`` is ``payment_exceptions``
    (INTERFACES §F); ``terms`` and ``fees`` are :func:`partner_terms_table` and
    :func:`fee_terms_table` registered on the engine. ``matches`` (columns
    :data:`MATCH_COLUMNS`) with the contract ``payments`` table gives the settlement latency;
    without them the latency columns are null. Months appear when the partner has a
    transaction or an exception in them. See the module docstring for every definition.

    Columns: ``month`` (first day), ``partner_id``, ``partner_name``, ``transactions``,
    ``settled``, ``failed``, ``pending``, ``settled_amount``, ``success_rate``,
    ``min_success_rate``, ``success_ok``, ``matched``, ``latency_p50_days``,
    ``latency_p95_days``, ``settlement_days``, ``on_time``, ``sla_compliance``,
    ``exceptions``, ``opportunities``, ``exception_rate``, ``max_exception_rate``,
    ``exception_ok``, ``dpmo``, ``unmatched_amount``, ``fees_charged``, ``fees_expected``,
    ``fee_difference`` (charged − expected), ``fees_unreported`` (settled rows without a fee).
    """
    t = _dated(transactions)
    t = t.left_join(fees, ["partner_id", "rail"])
    settled = t.status == "settled"
    with_fee = settled & t.fee.notnull()
    zero = ibis.literal(0).cast(AMOUNT)
    rate = ibis.coalesce(t.fee_rate, ibis.literal(0).cast(dt.Decimal(10, 5)))
    expected = (ibis.coalesce(t.fee_fixed, zero) + t.amount.abs() * rate).round(2)
    volume = t.group_by(list(KEYS)).aggregate(
        transactions=_count(t),
        settled=_count(t, where=settled),
        failed=_count(t, where=t.status.isin(FAILED)),
        pending=_count(t, where=t.status == "pending"),
        settled_amount=_money(t.amount, where=settled),
        fees_charged=_money(t.fee, where=with_fee),
        fees_expected=_money(expected, where=with_fee),
        fees_unreported=_count(t, where=settled & t.fee.isnull()),
    )

    e = exceptions.mutate(month=_month(exceptions.value_date))
    unmatched = (e.status == "open") & e.root_cause.isin(UNMATCHED_CAUSES)
    defects = e.group_by(list(KEYS)).aggregate(
        exceptions=_count(e),
        unsettled=_count(e, where=e.root_cause == "unsettled_payment"),
        unmatched_amount=_money(e.amount.abs(), where=unmatched),
    )

    keys = volume.select(*KEYS).union(defects.select(*KEYS), distinct=True)
    out = keys.left_join(volume, list(KEYS)).select(
        keys.partner_id, keys.month, *[volume[c] for c in volume.columns if c not in KEYS]
    )
    out = out.left_join(defects, list(KEYS)).select(
        out, *[defects[c] for c in defects.columns if c not in KEYS]
    )
    if matches is not None and payments is not None:
        latency = _latency_summary(settlement_latencies(transactions, matches, payments), terms)
        out = out.left_join(latency, list(KEYS)).select(
            out, *[latency[c] for c in latency.columns if c not in KEYS]
        )
    else:
        out = out.mutate(
            matched=ibis.literal(0, "int64"),
            latency_p50_days=ibis.null("int32"),
            latency_p95_days=ibis.null("int32"),
            on_time=ibis.literal(0, "int64"),
        )
    out = out.left_join(terms, "partner_id").select(out, *[terms[c] for c in terms.columns
                                                             if c != "partner_id"])  # fmt: skip
    zero = ibis.literal(0, "int64")
    counts = {c: out[c].fill_null(zero) for c in (
        "transactions", "settled", "failed", "pending", "fees_unreported", "exceptions",
        "unsettled", "matched", "on_time")}  # fmt: skip
    money_zero = ibis.literal(0).cast(AMOUNT)
    out = out.mutate(
        **counts,
        settled_amount=out.settled_amount.fill_null(money_zero),
        fees_charged=out.fees_charged.fill_null(money_zero),
        fees_expected=out.fees_expected.fill_null(money_zero),
        unmatched_amount=out.unmatched_amount.fill_null(money_zero),
    )
    opportunities = out.transactions + out.unsettled
    has_contract = out.settlement_days.notnull()
    success_rate = _ratio(out.settled, out.settled + out.failed)
    exception_rate = _ratio(out.exceptions, opportunities)
    return out.select(
        "month", "partner_id", "partner_name", "transactions", "settled", "failed", "pending",
        "settled_amount",
        success_rate=success_rate,
        min_success_rate=out.min_success_rate,
        success_ok=success_rate >= out.min_success_rate,
        matched=out.matched,
        latency_p50_days=out.latency_p50_days,
        latency_p95_days=out.latency_p95_days,
        settlement_days=out.settlement_days,
        on_time=out.on_time,
        sla_compliance=_ratio(out.on_time, out.matched),
        exceptions=out.exceptions,
        opportunities=opportunities,
        exception_rate=exception_rate,
        max_exception_rate=out.max_exception_rate,
        exception_ok=exception_rate <= out.max_exception_rate,
        dpmo=_ratio(out.exceptions * 1_000_000, opportunities),
        unmatched_amount=out.unmatched_amount,
        fees_charged=out.fees_charged,
        fees_expected=ibis.ifelse(has_contract, out.fees_expected, ibis.null(AMOUNT)),
        fee_difference=ibis.ifelse(
            has_contract, (out.fees_charged - out.fees_expected).cast(AMOUNT), ibis.null(AMOUNT)
        ),
        fees_unreported=out.fees_unreported,
    ).order_by("month", "partner_id")  # fmt: skip


def defect_pareto(
    transactions: ir.Table, exceptions: ir.Table, *, by_partner: bool = False
) -> ir.Table:
    """Defects by root cause per month (and partner), largest first, with shares and DPMO.

    Columns: ``month``, [``partner_id``,] ``root_cause``, ``defects``, ``opportunities``
    (of the month, as in :func:`partner_kpis`), ``dpmo`` (this cause's defects × 10⁶ ÷
    opportunities), ``share`` (of the month's defects), ``cumulative_share`` (this cause and
    every larger one; ties broken by root cause name), ``rank`` (1 = largest).
    """
    group = ["partner_id", "month"] if by_partner else ["month"]
    t = _dated(transactions)
    volume = t.group_by(group).aggregate(transactions=_count(t))
    e = exceptions.mutate(month=_month(exceptions.value_date))
    causes = e.group_by([*group, "root_cause"]).aggregate(defects=_count(e))
    unsettled = e.group_by(group).aggregate(
        unsettled=_count(e, where=e.root_cause == "unsettled_payment"),
        total=_count(e),
    )
    joined = causes.join(unsettled, group).left_join(volume, group)
    joined = joined.select(
        *[causes[c] for c in group], causes.root_cause, causes.defects, unsettled.total,
        opportunities=joined.transactions.fill_null(ibis.literal(0, "int64")) + joined.unsettled,
    )  # fmt: skip
    order = [ibis.desc(joined.defects), joined.root_cause]
    running = ibis.window(group_by=group, order_by=order, rows=(None, 0))
    ranked = joined.mutate(
        running=joined.defects.sum().over(running).cast("int64"),
        pos=(ibis.row_number().over(ibis.window(group_by=group, order_by=order)) + 1).cast("int64"),
    )
    return ranked.select(
        *group, "root_cause", "defects", "opportunities",
        dpmo=_ratio(ranked.defects * 1_000_000, ranked.opportunities),
        share=_ratio(ranked.defects, ranked.total),
        cumulative_share=_ratio(ranked.running, ranked.total),
        rank=ranked.pos,
    ).order_by(*group, "rank")  # fmt: skip
