"""Build small contract tables by hand for tests (rows as dicts, contract types)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa

from cobranza.contract import TABLES, contract_schema
from cobranza.engine import Engine

MX = dt.timezone(dt.timedelta(hours=-6))  # Mexico City since Oct 2022 (no DST)


def arrow_table(name: str, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """An Arrow table of contract table ``name`` from dict rows; missing keys are null."""
    schema = contract_schema(TABLES[name]).to_pyarrow()
    rows = list(rows)
    return pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema)


def register(engine: Engine, **tables: Iterable[Mapping[str, Any]]) -> dict[str, ibis.Table]:
    """Register contract tables (empty when not given) and return unbound Ibis tables."""
    out = {}
    for name in TABLES:
        engine.register_arrow(name, arrow_table(name, tables.get(name, [])))
        out[name] = ibis.table(contract_schema(TABLES[name]), name=name)
    return out


def money(value: str | int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def monthly_loan(
    loan_id: str = "L1",
    *,
    opened_on: dt.date = dt.date(2026, 1, 1),
    n: int = 3,
    principal: str = "100",
    interest: str = "10",
    fees: str = "0",
    product: str = "installment",
    **loan: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A loan with ``n`` equal monthly installments due on the 1st, starting a month after
    ``opened_on``; returns (loan row, installment rows)."""
    rows = []
    for seq in range(1, n + 1):
        month = opened_on.month - 1 + seq
        due = dt.date(opened_on.year + month // 12, month % 12 + 1, 1)
        rows.append(
            dict(loan_id=loan_id, seq=seq, due_date=due, principal_due=money(principal),
                 interest_due=money(interest), fees_due=money(fees))
        )  # fmt: skip
    row = dict(
        loan_id=loan_id, customer_id="C1", product=product, opened_on=opened_on,
        principal=money(principal) * n, annual_rate=Decimal("0.45"), frequency="monthly",
        term=n if product == "installment" else None,
    )  # fmt: skip
    row.update(loan)
    return row, rows
