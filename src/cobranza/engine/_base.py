"""The contract every execution engine fulfils.

Pipelines are Ibis expressions over unbound tables whose names are engine views. An engine
compiles them with ``ibis.to_sql`` for its dialect and runs the SQL with its own client; it is
the only code that knows DuckDB or Spark.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import ClassVar

import ibis
import pyarrow as pa

#: Name of the column every raw view carries: the 1-based data row of the source file.
ROW_COLUMN = "_row"


class Engine(abc.ABC):
    """An execution engine: registers files as views, runs Ibis expressions, writes Parquet."""

    #: Short name used on the command line (``--engine``).
    name: ClassVar[str]
    #: Ibis/SQLGlot dialect the expressions compile to.
    dialect: ClassVar[str]

    #: Time zone of the session: naive timestamps are read in it and casting a timestamp to a
    #: date gives the Mexico City calendar date, as the data contract requires.
    TIME_ZONE: ClassVar[str] = "America/Mexico_City"

    def to_sql(self, expr: ibis.Expr) -> str:
        """Compile an Ibis expression to this engine's SQL."""
        return ibis.to_sql(expr, dialect=self.dialect)

    @abc.abstractmethod
    def register_file(self, name: str, path: Path) -> None:
        """Expose a ``.csv`` (all columns as strings) or ``.parquet`` file as view ``name``.

        The view gains a ``_row`` column with the 1-based data row of the file, so that errors
        can name the row a person finds in the file.
        """

    @abc.abstractmethod
    def register_arrow(self, name: str, table: pa.Table) -> None:
        """Expose a small in-memory Arrow table as view ``name`` (parameters, test fixtures)."""

    @abc.abstractmethod
    def schema(self, name: str) -> ibis.Schema:
        """The Ibis schema of a registered view or table."""

    @abc.abstractmethod
    def create_view(self, name: str, expr: ibis.Expr) -> None:
        """Create or replace a temporary view from an expression."""

    @abc.abstractmethod
    def materialize(self, name: str, expr: ibis.Expr) -> None:
        """Compute an expression once and keep it as a temporary table for reuse."""

    @abc.abstractmethod
    def write_parquet(self, expr: ibis.Expr, path: Path) -> None:
        """Write the rows of an expression to a single Parquet file at ``path``."""

    @abc.abstractmethod
    def fetch(self, expr: ibis.Expr, limit: int | None = None) -> pa.Table:
        """Bring a *small* result into Python (aggregates, examples of violations).

        Never call this on a per-loan table without a limit: results are written by the engine.
        """

    def table(self, name: str) -> ibis.Table:
        """An unbound Ibis table bound by name to a registered view."""
        return ibis.table(self.schema(name), name=name)

    @abc.abstractmethod
    def drop(self, name: str) -> None:
        """Drop a temporary view or table if it exists."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the engine's resources."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
