"""The numbers of the credit results, computed in the engine; only aggregates reach Python.

Per period (start, end] of :func:`period_ends`, with B(x) = Σ outstanding principal of loans
with status ``active`` at the end:

    balance, balance_30_plus, balance_90_plus, loans      the open book at the end
    write_offs            B at the end of loans written off in the period
    write_offs_12m        B at the end of loans written off in the 12 months to the end
                          (their balance when written off is not kept; the state at the end
                          is used, net of recoveries since)
    reserves              Σ reserve of ``compute_provisions`` at the end
    imor, imora, icor     :func:`cobranza.portfolio.imor` / ``imora`` / ``icor`` of the above
    roll_forward_rate     open loans at the start in a worse bucket (or written off) at the
                          end ÷ open loans at the start
    cure_rate             delinquent loans at the start that are current or paid off at the
                          end ÷ delinquent loans at the start
    collected             settled payments with a Mexico City paid date in the period, in
                          total, by channel and by the loan's bucket at the start (``new``
                          for loans opened during the period)
    promises_kept / promises_broken / promise_kept_rate
                          promises resolved in the period (``cobranza.ledger.promise_status``
                          at as-of: kept ÷ (kept + broken))
    contact_cost, cost_to_collect
                          Σ contacts.cost of contacts in the period (null when no contact
                          has a cost) ÷ collected

Also the roll-rate matrix of the last period, the vintages of the last 12 month-ends, the
provisions by stage at as-of and the allowance walk over the last period.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from cobranza.engine import Engine
from cobranza.ledger import (
    CURRENT,
    DEFAULT_BUCKETS,
    PAID_OFF,
    WRITTEN_OFF,
    Buckets,
    materialize_states,
    promise_status,
)
from cobranza.portfolio import icor, imor, imora, month_ends, roll_rates, vintages
from cobranza.portfolio._measures import ACTIVE, money_sum, rows
from cobranza.provisions import (
    ParameterFile,
    allowance_movements,
    allowance_walk,
    compute_provisions,
    provision_summary,
    resolve_params,
    stage_transfers,
)
from cobranza.reports.credit_results._periods import period_ends

Rows = list[dict[str, Any]]
VINTAGE_MONTHS = 12
ZERO = Decimal("0.00")


@dataclass
class CreditResultsData:
    """Everything the WCR / MCR / QCR shows, as small Python rows."""

    period: str
    as_of: dt.date
    ends: list[dt.date]
    method: str
    params: ParameterFile
    kpis: Rows
    roll_matrix: Rows
    vintages: Rows
    stages: Rows
    walk: Rows
    transfers: Rows
    collections_by_channel: Rows
    collections_by_bucket: Rows
    buckets: Buckets = field(default_factory=lambda: DEFAULT_BUCKETS)


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _lookup(column: ir.Value, mapping: Mapping[dt.date, dt.date]) -> ir.DateValue:
    """The date ``mapping[column]`` for a date column taking the mapping's keys."""
    return ibis.cases(*[(column == ibis.date(k), ibis.date(v)) for k, v in mapping.items()])


def _period_of(day: ir.DateValue, ends: Sequence[dt.date]) -> ir.DateValue:
    """The end of the period (end_{k−1}, end_k] holding ``day``; null outside them."""
    return ibis.cases(
        *[
            ((day > ibis.date(start)) & (day <= ibis.date(end)), ibis.date(end))
            for start, end in itertools.pairwise(ends)
        ],
        else_=ibis.null("date"),
    )


def _fetch(eng: Engine, expr: ir.Table) -> Rows:
    return eng.fetch(expr).to_pylist()


def _states(eng: Engine, tables: Mapping[str, ir.Table], dates: list[dt.date]) -> ir.Table:
    return materialize_states(eng, tables, dates, "credit_results_states")


def _book(states: ir.Table, loans: ir.Table, ends: list[dt.date]) -> ir.Table:
    s = states.filter(states.as_of.isin(ends))
    joined = s.join(loans.select("loan_id", "written_off_on"), "loan_id")
    active = joined.status == ACTIVE
    balance = joined.outstanding_principal
    gone = (joined.status == WRITTEN_OFF) & (joined.written_off_on <= joined.as_of)
    year_ago = _lookup(joined.as_of, {d: _year_before(d) for d in ends})
    previous = _lookup(joined.as_of, dict(zip(ends[1:], ends, strict=False)))
    out = joined.group_by("as_of").aggregate(
        loans=rows(joined, where=active),
        balance=money_sum(balance, where=active),
        balance_30_plus=money_sum(balance, where=active & (joined.dpd >= 30)),
        balance_90_plus=money_sum(balance, where=active & (joined.dpd >= 90)),
        write_offs=money_sum(balance, where=gone & (joined.written_off_on > previous)),
        write_offs_12m=money_sum(balance, where=gone & (joined.written_off_on > year_ago)),
    )
    return out.order_by("as_of")


def _collections(
    payments: ir.Table, states: ir.Table, ends: list[dt.date]
) -> tuple[ir.Table, ir.Table]:
    settled = payments.filter(payments.status == "settled")
    dated = settled.mutate(period_end=_period_of(settled.paid_at.cast("date"), ends))
    dated = dated.filter(dated.period_end.notnull())
    by_channel = dated.group_by("period_end", "channel").aggregate(
        payments=rows(dated), amount=money_sum(dated.amount)
    )
    starts = dict(zip(ends[1:], ends, strict=False))
    keyed = dated.mutate(period_start=_lookup(dated.period_end, starts))
    at_start = states.select("as_of", "loan_id", start_bucket="bucket")
    joined = keyed.left_join(
        at_start, [keyed.loan_id == at_start.loan_id, keyed.period_start == at_start.as_of]
    )
    with_bucket = joined.select("period_end", "amount", bucket=joined.start_bucket.fill_null("new"))
    by_bucket = with_bucket.group_by("period_end", "bucket").aggregate(
        payments=rows(with_bucket), amount=money_sum(with_bucket.amount)
    )
    return by_channel, by_bucket


def _promises(
    promises: ir.Table, payments: ir.Table, as_of: dt.date, ends: list[dt.date]
) -> ir.Table:
    status = promise_status(promises, payments, as_of)
    dated = status.mutate(period_end=_period_of(status.resolved_on, ends))
    dated = dated.filter(dated.period_end.notnull())
    return dated.group_by("period_end").aggregate(
        kept=rows(dated, where=dated.status == "kept"),
        broken=rows(dated, where=dated.status == "broken"),
    )


def _contact_cost(contacts: ir.Table, ends: list[dt.date]) -> ir.Table:
    dated = contacts.mutate(period_end=_period_of(contacts.attempted_at.cast("date"), ends))
    dated = dated.filter(dated.period_end.notnull())
    return dated.group_by("period_end").aggregate(
        contacts=rows(dated),
        costed=rows(dated, where=dated.cost.notnull()),
        cost=money_sum(dated.cost),
    )


def _flows(roll_rows: Rows, order: Sequence[str]) -> dict[dt.date, dict[str, Any]]:
    """Roll-forward and cure rates per to_month from the roll-rate counts."""
    rank = {b: i for i, b in enumerate(order)}
    rank[WRITTEN_OFF] = len(order)
    out: dict[dt.date, dict[str, int]] = {}
    for r in roll_rows:
        f = out.setdefault(r["to_month"], dict(open=0, rolled=0, delinquent=0, cured=0))
        f["open"] += r["loans"]
        to_rank = rank.get(r["to_bucket"], -1)  # paid_off ranks lowest
        if to_rank > rank[r["from_bucket"]]:
            f["rolled"] += r["loans"]
        if r["from_bucket"] != CURRENT:
            f["delinquent"] += r["loans"]
            if r["to_bucket"] in (CURRENT, PAID_OFF):
                f["cured"] += r["loans"]
    return {
        month: {
            "roll_forward_rate": f["rolled"] / f["open"] if f["open"] else None,
            "cure_rate": f["cured"] / f["delinquent"] if f["delinquent"] else None,
            "loans_open_at_start": f["open"],
            "loans_delinquent_at_start": f["delinquent"],
        }
        for month, f in out.items()
    }


def credit_results_data(
    eng: Engine,
    tables: Mapping[str, ir.Table],
    period: str,
    as_of: dt.date,
    *,
    method: str = "ifrs9",
    params: str | Path | ParameterFile | None = None,
    periods: int | None = None,
    buckets: Buckets = DEFAULT_BUCKETS,
) -> CreditResultsData:
    """Compute the credit results of ``period`` ending at ``as_of`` (see the module docstring).

    ``tables`` are the contract tables of a validated portfolio; ``method`` and ``params``
    choose the provisioning method (``compute_provisions``).
    """
    loaded = resolve_params(method, params)
    ends = period_ends(period, as_of, periods)
    vintage_ends = month_ends(as_of, VINTAGE_MONTHS)
    # A union of the materialized batches, not materialized again: Spark's localCheckpoint
    # of a union of checkpointed tables fails (NoSuchElementException on a column id).
    states = _states(eng, tables, sorted({*ends, *vintage_ends}))
    loans = tables["loans"]

    book = _fetch(eng, _book(states, loans, ends))
    at_ends = states.filter(states.as_of.isin(ends))
    roll_rows = _fetch(eng, roll_rates(at_ends))
    flows = _flows(roll_rows, buckets.labels)
    by_channel, by_bucket = _collections(tables["payments"], states, ends)
    channel_rows = _fetch(eng, by_channel.order_by("period_end", "channel"))
    bucket_rows = _fetch(eng, by_bucket.order_by("period_end", "bucket"))
    promise_rows = {
        r["period_end"]: r
        for r in _fetch(eng, _promises(tables["promises"], tables["payments"], as_of, ends))
    }
    cost_rows = {r["period_end"]: r for r in _fetch(eng, _contact_cost(tables["contacts"], ends))}
    vintage_rows = _fetch(
        eng,
        vintages(states.filter(states.as_of.isin(vintage_ends)), loans).order_by(
            "origination_month", "months_on_book"
        ),
    )

    reserves: dict[dt.date, Decimal] = {}
    books: dict[dt.date, str] = {}
    for i, end in enumerate(ends[1:]):
        name = f"credit_results_provisions_{i}"
        known = states.filter(states.as_of <= ibis.date(end))
        eng.materialize(name, compute_provisions(eng, tables, known, end, method, loaded))
        books[end] = name
        total = eng.fetch(eng.table(name).aggregate(reserve=money_sum(eng.table(name).reserve)))
        reserves[end] = total.column("reserve")[0].as_py() or ZERO
    closing = eng.table(books[ends[-1]])
    stages = _fetch(
        eng,
        provision_summary(closing).filter(lambda t: t.dimension == "stage").order_by("value"),
    )
    walk_rows: Rows = []
    transfer_rows: Rows = []
    if len(ends) > 2:
        movements = allowance_movements(eng.table(books[ends[-2]]), closing, loans, as_of)
        eng.materialize("credit_results_movements", movements)
        movements = eng.table("credit_results_movements")
        walk_rows = _fetch(eng, allowance_walk(movements).order_by("stage"))
        transfer_rows = _fetch(eng, stage_transfers(movements).order_by("from_stage", "to_stage"))

    collected: dict[dt.date, Decimal] = {}
    for r in channel_rows:
        collected[r["period_end"]] = collected.get(r["period_end"], ZERO) + r["amount"]
    kpis: Rows = []
    by_end = {r["as_of"]: r for r in book}
    for start, end in itertools.pairwise(ends):
        b = by_end.get(end) or dict(
            loans=0, balance=ZERO, balance_30_plus=ZERO, balance_90_plus=ZERO,
            write_offs=ZERO, write_offs_12m=ZERO,
        )  # fmt: skip
        promises = promise_rows.get(end, {"kept": 0, "broken": 0})
        resolved = promises["kept"] + promises["broken"]
        cost = cost_rows.get(end)
        contact_cost = cost["cost"] if cost and cost["costed"] else None
        amount = collected.get(end, ZERO)
        kpis.append(
            {
                "start": start,
                "end": end,
                "loans": b["loans"],
                "balance": b["balance"],
                "balance_30_plus": b["balance_30_plus"],
                "balance_90_plus": b["balance_90_plus"],
                "write_offs": b["write_offs"],
                "write_offs_12m": b["write_offs_12m"],
                "reserves": reserves[end],
                "imor": imor(b["balance_90_plus"], b["balance"]),
                "imora": imora(b["balance_90_plus"], b["balance"], b["write_offs_12m"]),
                "icor": icor(reserves[end], b["balance_90_plus"]),
                **flows.get(
                    end,
                    {
                        "roll_forward_rate": None,
                        "cure_rate": None,
                        "loans_open_at_start": 0,
                        "loans_delinquent_at_start": 0,
                    },
                ),
                "collected": amount,
                "promises_kept": promises["kept"],
                "promises_broken": promises["broken"],
                "promise_kept_rate": promises["kept"] / resolved if resolved else None,
                "contact_cost": contact_cost,
                "cost_to_collect": (
                    contact_cost / amount if contact_cost is not None and amount else None
                ),
            }
        )
    last_start = ends[-2] if len(ends) > 1 else None
    matrix = [r for r in roll_rows if r["from_month"] == last_start]
    return CreditResultsData(
        period=period,
        as_of=as_of,
        ends=ends,
        method=method,
        params=loaded,
        kpis=kpis,
        roll_matrix=matrix,
        vintages=vintage_rows,
        stages=stages,
        walk=walk_rows,
        transfers=transfer_rows,
        collections_by_channel=channel_rows,
        collections_by_bucket=bucket_rows,
        buckets=buckets,
    )
