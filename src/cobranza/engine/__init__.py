"""Execution engines: the only place that knows DuckDB or Spark.

>>> with connect("duckdb") as engine:
...     engine.register_file("loans", Path("book/loans.parquet"))
"""

from __future__ import annotations

from pathlib import Path

from cobranza._errors import EngineError
from cobranza.engine._base import ROW_COLUMN, Engine
from cobranza.engine._dialects import UNSUPPORTED, require, supports
from cobranza.engine._duckdb import DuckDBEngine

__all__ = [
    "ENGINES",
    "ROW_COLUMN",
    "UNSUPPORTED",
    "DuckDBEngine",
    "Engine",
    "SparkEngine",
    "connect",
    "require",
    "supports",
]

ENGINES = ("duckdb", "spark")


def connect(engine: str | Engine = "duckdb", database: str | Path | None = None) -> Engine:
    """An engine by name (``"duckdb"`` or ``"spark"``); an ``Engine`` instance passes through."""
    if isinstance(engine, Engine):
        return engine
    if engine == "duckdb":
        return DuckDBEngine(database if database is not None else ":memory:")
    if engine == "spark":
        if database is not None:
            require("spark", "database_file")
        from cobranza.engine._spark import SparkEngine

        return SparkEngine()
    raise EngineError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def __getattr__(name: str) -> object:
    # PySpark is optional: import the Spark engine only when asked for.
    if name == "SparkEngine":
        from cobranza.engine._spark import SparkEngine

        return SparkEngine
    raise AttributeError(name)
