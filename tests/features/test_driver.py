"""The Hamilton-style driver: resolution by parameter names, errors, documentation rules."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest

from cobranza.engine import Engine
from cobranza.features import Driver, variable


def _nodes():  # type: ignore[no-untyped-def]
    @variable("int64", fill=0)
    def paid(payments: ir.Table) -> ir.Table:
        """Payments per loan.

        unit: count
        formula: number of rows of payments.
        """
        return payments.group_by("loan_id").aggregate(paid=payments.count())

    @variable("float64")
    def paid_per_limit(paid: ir.IntegerValue, limit: ir.IntegerValue) -> ir.FloatingValue:
        """Payments per unit of limit.

        unit: ratio
        formula: paid ÷ limit.
        """
        return paid.cast("float64") / limit.cast("float64")

    return [paid, paid_per_limit]


def test_driver_joins_tables_and_composes_formulas(duckdb_engine: Engine) -> None:
    duckdb_engine.register_arrow("frame", pa.table({"loan_id": ["A", "B"], "limit": [4, 5]}))
    duckdb_engine.register_arrow("payments", pa.table({"loan_id": ["A", "A", "A"]}))
    frame, payments = duckdb_engine.table("frame"), duckdb_engine.table("payments")
    driver = Driver(_nodes())
    # Only the requested output and what it needs, in dependency order.
    assert driver.order(["paid_per_limit"], {"payments", "limit"}) == ["paid", "paid_per_limit"]
    expr = driver.execute(["paid_per_limit", "paid"], {"payments": payments}, frame)
    rows = duckdb_engine.fetch(expr.order_by("loan_id")).to_pylist()
    # A: 3 payments / 4; B: none → filled with 0, 0 / 5.
    assert rows == [
        {"loan_id": "A", "paid_per_limit": 0.75, "paid": 3},
        {"loan_id": "B", "paid_per_limit": 0.0, "paid": 0},
    ]


def test_unknown_input_and_cycles_are_named() -> None:
    def a(b: ir.Value) -> ir.Value:
        return b

    def b(a: ir.Value) -> ir.Value:
        return a

    def c(nowhere: ir.Value) -> ir.Value:
        return nowhere

    driver = Driver([a, b, c])
    with pytest.raises(ValueError, match="cycle through a → b → a"):
        driver.order(["a"], set())
    with pytest.raises(KeyError, match="c: no input or node named 'nowhere'"):
        driver.order(["c"], set())
    frame = ibis.table({"loan_id": "string"}, name="frame")
    with pytest.raises(KeyError):
        driver.execute(["c"], {}, frame)


def test_a_variable_needs_description_unit_and_formula() -> None:
    def bare(payments: ir.Table) -> ir.Table:
        """Only a description."""
        return payments

    with pytest.raises(TypeError, match="bare: docstring needs"):
        variable("int64")(bare)
