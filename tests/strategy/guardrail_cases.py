"""Builders for guardrail tests: candidate actions (INTERFACES §C) and payment holds (§E)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import ibis
import pyarrow as pa

from builders import register
from cobranza.engine import Engine
from cobranza.strategy._guardrails import AccountContext

Row = dict[str, Any]

CANDIDATE_SCHEMA = ibis.schema(
    {
        "as_of": "date", "loan_id": "string", "customer_id": "string", "segment": "string",
        "step": "string", "channel": "string", "option_rank": "int32", "template": "string",
        "offer": "string", "experiment": "string", "arm": "string",
        "strategy_version": "string", "reason": "string", "expected_value": "float64",
    }
)  # fmt: skip
HOLD_SCHEMA = ibis.schema(
    {"loan_id": "string", "reason": "string", "source_id": "string", "since": "date",
     "until": "date"}
)  # fmt: skip


def candidate(loan: str, customer: str, channel: str, as_of: dt.date, rank: int = 1,
              ev: float | None = 100.0) -> Row:  # fmt: skip
    return dict(as_of=as_of, loan_id=loan, customer_id=customer, segment="s", step="early",
                channel=channel, option_rank=rank, template=f"t_{channel}", offer=None,
                experiment=None, arm=None, strategy_version="v1", reason="test",
                expected_value=ev)  # fmt: skip


def _arrow(schema: ibis.Schema, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    arrow = schema.to_pyarrow()
    rows = list(rows)
    return pa.table({f.name: [r.get(f.name) for r in rows] for f in arrow}, schema=arrow)


def register_case(engine: Engine, *, candidates: list[Row], holds: list[Row] | None = None,
                  **tables: list[Row]) -> dict[str, ibis.Table]:  # fmt: skip
    t = register(engine, **tables)
    engine.register_arrow("candidates", _arrow(CANDIDATE_SCHEMA, candidates))
    t["candidates"] = ibis.table(CANDIDATE_SCHEMA, name="candidates")
    if holds is not None:
        engine.register_arrow("payment_holds", _arrow(HOLD_SCHEMA, holds))
        t["payment_holds"] = ibis.table(HOLD_SCHEMA, name="payment_holds")
    return t


def context_for(customer_id: str, *, candidates: list[Row], customers: list[Row],
                loans: list[Row] | None, contacts: list[Row] = (), payments: list[Row] = (),
                promises: list[Row] = (), holds: list[Row] = ()) -> AccountContext:  # fmt: skip
    """The AccountContext of one customer, cut from whole-case rows the way a caller would."""
    if loans is not None:
        owned = {r["loan_id"] for r in loans if r["customer_id"] == customer_id}
        owners = {r["loan_id"]: r["customer_id"] for r in loans}
    else:
        owned = {c["loan_id"] for c in candidates if c["customer_id"] == customer_id}
        owners = None
    mine = {c["loan_id"] for c in candidates if c["customer_id"] == customer_id}
    customer = next((r for r in customers if r["customer_id"] == customer_id), None)
    return AccountContext(
        customer=customer,
        loan_owners=owners,
        contacts=[r for r in contacts if r["loan_id"] in owned],
        payments=[r for r in payments if r["loan_id"] in owned | mine],
        promises=[r for r in promises if r["loan_id"] in owned | mine],
        holds=[r for r in holds if r["loan_id"] in owned | mine],
        today=[c for c in candidates if c["customer_id"] == customer_id],
    )
