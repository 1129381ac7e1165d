"""Exact aggregates shared by the analytics, so both engines give identical numbers.

Money is summed as DECIMAL (exact on both engines) and brought back to DECIMAL(18,2). A share
divides two exact values converted to DOUBLE: each conversion and the division are correctly
rounded on both engines, whereas a sum of doubles depends on the order rows arrive in and
Spark's decimal division rounds differently from DuckDB's.
"""

from __future__ import annotations

import ibis.expr.types as ir

from cobranza.contract import MONEY

#: ``status`` of an open account (the others are ``paid_off`` and ``written_off``).
ACTIVE = "active"


def money_sum(value: ir.NumericColumn, where: ir.BooleanValue | None = None) -> ir.DecimalScalar:
    """Exact sum of a money column as DECIMAL(18,2); 0, not null, when no row counts."""
    return value.sum(where=where).fill_null(0).cast(MONEY)


def int_sum(value: ir.IntegerColumn) -> ir.IntegerScalar:
    """Exact sum of an integer column as int64 on both engines.

    DuckDB's SUM(BIGINT) is a HUGEINT, but Ibis types it int64 and drops a cast to int64 as a
    no-op; casting through DECIMAL(38,0) keeps the cast in the SQL.
    """
    return value.sum().cast("decimal(38,0)").cast("int64")


def rows(table: ir.Table, where: ir.BooleanValue | None = None) -> ir.IntegerScalar:
    """Number of rows of ``table`` (matching ``where``) as int64 on both engines.

    Spark compiles a filtered count to SUM(CAST(where AS BIGINT)), which is null when
    ``where`` is null on every row; the fill makes that 0, as DuckDB's COUNT FILTER gives.
    """
    return table.count(where=where).fill_null(0).cast("int64")


def ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """numerator ÷ denominator in float64; null when the denominator is 0 or null."""
    # No float literal: Ibis's PySpark compiler reads ibis.options.pyspark to print one, and
    # that is unset unless Ibis's PySpark backend has been loaded.
    return numerator.cast("float64") / denominator.nullif(0).cast("float64")
