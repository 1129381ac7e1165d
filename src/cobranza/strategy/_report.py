"""What the run report shows about a day's decisions, as small Arrow tables and an HTML section.

:func:`decisions_summary` aggregates ``decisions`` in the engine (nothing per-account comes
back to Python) into:

* ``by_channel_segment`` — per (segment, channel): actions to send, accounts suppressed,
  expected value of the actions, and their cost at the channel's cost per attempt;
* ``suppressed`` — accounts with nothing to send, by the rule that blocked them;
* ``capacity`` — per channel: daily capacity, demand (accounts whose first permitted option it
  was), actions sent, overflow (turned away to a later option or left unserved), use;
* ``arms`` — per experiment and arm: accounts, actions and expected value.

:func:`render_decisions_section` turns them into an HTML ``<section>`` using the classes of
``report.html`` (``panel``, ``caption``, ``scroll``, ``num``, ``rowhead``), for the run report.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

import ibis
import ibis.expr.types as ir
import jinja2
import pyarrow as pa

from cobranza.engine import Engine
from cobranza.strategy._model import Strategy, load_strategy

__all__ = ["SUMMARY_TABLES", "decisions_summary", "render_decisions_section"]

SUMMARY_TABLES = ("by_channel_segment", "suppressed", "capacity", "arms")


def decisions_summary(
    eng: Engine, decisions: ir.Table, strategy: Strategy | str
) -> dict[str, pa.Table]:
    """The report's aggregates of ``decisions`` (see the module docstring)."""
    strategy = load_strategy(strategy)
    d = decisions
    sent = d.channel.notnull() & d.suppressed_by.isnull()
    d = d.mutate(sent=sent)
    by = (
        d.filter(d.channel.notnull())
        .group_by("segment", "channel")
        .aggregate(
            actions=lambda t: t.count(where=t.sent),
            suppressed=lambda t: t.count(where=~t.sent),
            expected_value=lambda t: t.expected_value.sum(where=t.sent).fill_null(0.0),
        )
        .order_by("segment", "channel")
    )
    by_channel_segment = eng.fetch(by)
    costs = {c: spec.cost for c, spec in strategy.channels.items()}
    cost = [
        (costs.get(ch, Decimal(0)) * n).quantize(Decimal("0.01"))
        for ch, n in zip(
            by_channel_segment.column("channel").to_pylist(),
            by_channel_segment.column("actions").to_pylist(),
            strict=True,
        )
    ]
    by_channel_segment = by_channel_segment.append_column(
        "cost", pa.array(cost, type=pa.decimal128(18, 2))
    )
    suppressed = eng.fetch(
        d.filter(d.suppressed_by.notnull())
        .group_by("suppressed_by")
        .aggregate(accounts=lambda t: t.count())
        .order_by(ibis.desc("accounts"), "suppressed_by")
    )
    served = d.filter(d.sent).group_by("channel").aggregate(sent=lambda t: t.count())
    over = (
        d.filter(d.overflow_from.notnull())
        .group_by(channel=lambda t: t.overflow_from)
        .aggregate(overflow=lambda t: t.count())
    )
    first = (
        d.filter(d.sent & d.overflow_from.isnull())
        .group_by("channel")
        .aggregate(first_choice=lambda t: t.count())
    )
    usage = {r["channel"]: r for r in eng.fetch(served).to_pylist()}
    for name, table in (("overflow", over), ("first_choice", first)):
        for r in eng.fetch(table).to_pylist():
            usage.setdefault(r["channel"], {})[name] = r[name]
    rows = []
    for channel, spec in strategy.channels.items():
        u = usage.get(channel, {})
        n_sent, n_over = u.get("sent", 0) or 0, u.get("overflow", 0) or 0
        demand = (u.get("first_choice", 0) or 0) + n_over
        use = n_sent / spec.capacity if spec.capacity else None
        rows.append(
            dict(channel=channel, capacity=spec.capacity, demand=demand, sent=n_sent,
                 overflow=n_over, use=use)
        )  # fmt: skip
    capacity = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [("channel", pa.string()), ("capacity", pa.int64()), ("demand", pa.int64()),
             ("sent", pa.int64()), ("overflow", pa.int64()), ("use", pa.float64())]
        ),
    )  # fmt: skip
    arms = eng.fetch(
        d.filter(d.experiment.notnull())
        .group_by("experiment", "arm")
        .aggregate(
            accounts=lambda t: t.count(),
            actions=lambda t: t.count(where=t.sent),
            expected_value=lambda t: t.expected_value.sum(),
        )
        .order_by("experiment", "arm")
    )
    return {
        "by_channel_segment": by_channel_segment,
        "suppressed": suppressed,
        "capacity": capacity,
        "arms": arms,
    }


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _mxn(value: Decimal | float | None) -> str:
    if value is None:
        return "—"
    amount = Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"${amount:,.2f} MXN"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


_TEMPLATE = jinja2.Environment(
    loader=jinja2.PackageLoader("cobranza.strategy", "templates"), autoescape=True
).get_template("decisions_section.html.j2")


def render_decisions_section(summary: Mapping[str, pa.Table], strategy_version: str) -> str:
    """An HTML ``<section>`` of the decisions for ``report.html`` (autoescaped, no script)."""
    by = summary["by_channel_segment"].to_pylist()
    tables = [
        dict(
            title="Actions by segment and channel",
            head=["Segment", "Channel", "Actions", "Suppressed", "Expected value", "Cost"],
            numeric_from=2,
            rows=[
                [r["segment"], r["channel"], _count(r["actions"]), _count(r["suppressed"]),
                 _mxn(r["expected_value"]), _mxn(r["cost"])]
                for r in by
            ],
            empty="No delinquent account to act on.",
        ),
        dict(
            title="Suppressed by rule",
            head=["Rule", "Accounts"],
            numeric_from=1,
            rows=[[r["suppressed_by"], _count(r["accounts"])]
                  for r in summary["suppressed"].to_pylist()],
            empty="No action was suppressed.",
        ),
        dict(
            title="Channel capacity and overflow",
            head=["Channel", "Daily capacity", "Demand", "Sent", "Overflow", "Use"],
            numeric_from=1,
            rows=[
                [r["channel"], "unlimited" if r["capacity"] is None else _count(r["capacity"]),
                 _count(r["demand"]), _count(r["sent"]), _count(r["overflow"]), _pct(r["use"])]
                for r in summary["capacity"].to_pylist()
            ],
            empty="No channel.",
        ),
        dict(
            title="Experiment arms",
            head=["Experiment", "Arm", "Accounts", "Actions", "Expected value"],
            numeric_from=2,
            rows=[
                [r["experiment"], r["arm"], _count(r["accounts"]), _count(r["actions"]),
                 _mxn(r["expected_value"])]
                for r in summary["arms"].to_pylist()
            ],
            empty="No experiment is running.",
        ),
    ]  # fmt: skip
    return _TEMPLATE.render(tables=tables, version=strategy_version)
