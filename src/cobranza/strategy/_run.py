"""``cobranza decide``: a day's decisions for a portfolio folder, written atomically."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from cobranza._atomic import atomic_directory
from cobranza.contract import discover, load_valid
from cobranza.engine import Engine, connect
from cobranza.ledger import account_states
from cobranza.strategy._decide import decide
from cobranza.strategy._model import Strategy, load_strategy
from cobranza.strategy._report import decisions_summary

__all__ = ["DecideResult", "decide_portfolio"]

DECISIONS_FILE = "decisions.parquet"
SUMMARY_FILE = "decisions_summary.json"
HOLDS_FILE = "payment_holds.parquet"


@dataclass
class DecideResult:
    """Where the decisions went and what they hold."""

    out: Path
    decisions: Path
    summary: Path
    strategy_version: str
    accounts: int
    actions: int
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def decide_portfolio(
    data: str | Path,
    as_of: dt.date | str,
    strategy: str | Path | Strategy,
    out: str | Path,
    engine: str | Engine = "duckdb",
) -> DecideResult:
    """Validate the portfolio in ``data``, compute account states and decisions as of
    ``as_of`` with ``strategy``, and write ``decisions.parquet`` and
    ``decisions_summary.json`` into ``out`` (atomically: all or nothing). Payment holds are
    read from ``payment_holds.parquet`` in ``data`` when it exists."""
    as_of = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    plan = load_strategy(strategy)
    files = discover(data)
    eng = connect(engine)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    try:
        tables = load_valid(eng, files)
        eng.materialize(
            "decide_states",
            account_states(tables["loans"], tables["installments"], tables["payments"], as_of),
        )
        timings["states"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        holds = None
        holds_file = files.root / HOLDS_FILE
        if holds_file.exists():  # written by payment operations (INTERFACES.md §E)
            eng.register_file("payment_holds", holds_file)
            holds = eng.table("payment_holds")
        decisions = decide(eng, tables, eng.table("decide_states"), as_of, plan, holds=holds)
        eng.materialize("decide_decisions", decisions)
        decisions = eng.table("decide_decisions")
        timings["decide"] = round(time.perf_counter() - started, 3)
        summary = decisions_summary(eng, decisions, plan)
        counts = eng.fetch(
            decisions.aggregate(
                accounts=decisions.count(),
                actions=decisions.count(
                    where=decisions.channel.notnull() & decisions.suppressed_by.isnull()
                ),
            )
        ).to_pylist()[0]
        with atomic_directory(out, replace=True) as staging:
            eng.write_parquet(decisions.order_by("loan_id"), staging / DECISIONS_FILE)
            document = {
                "as_of": as_of.isoformat(),
                "strategy_version": plan.strategy_version,
                "strategy_source": plan.source,
                "engine": eng.name,
                "accounts": counts["accounts"],
                "actions": counts["actions"] or 0,
                "warnings": plan.warnings,
                "timings_seconds": timings,
                **{
                    name: [{k: _jsonable(v) for k, v in row.items()} for row in table.to_pylist()]
                    for name, table in summary.items()
                },
            }
            (staging / SUMMARY_FILE).write_text(json.dumps(document, indent=2) + "\n")
    finally:
        if not isinstance(engine, Engine):
            eng.close()
    out_path = Path(out).resolve()
    return DecideResult(
        out=out_path,
        decisions=out_path / DECISIONS_FILE,
        summary=out_path / SUMMARY_FILE,
        strategy_version=plan.strategy_version,
        accounts=counts["accounts"],
        actions=counts["actions"] or 0,
        warnings=plan.warnings,
        timings=timings,
    )
