"""DuckDB, the default engine: embedded, in memory or on a database file."""

from __future__ import annotations

import contextlib
import csv
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa

from cobranza._errors import EngineError
from cobranza.engine._base import ROW_COLUMN, Engine


def _quote(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _csv_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh), None)
    if not header:
        raise EngineError(f"{path}: empty CSV file, expected a header line")
    return header


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DuckDBEngine(Engine):
    """Runs compiled SQL on an embedded DuckDB connection.

    Parameters
    ----------
    database:
        ``":memory:"`` (default) or the path of a database file.
    threads:
        Worker threads; ``None`` lets DuckDB use every core.
    memory_limit:
        DuckDB's memory limit, e.g. ``"3GB"``; it spills to disk beyond it.
    """

    name = "duckdb"
    dialect = "duckdb"

    def __init__(
        self,
        database: str | Path = ":memory:",
        threads: int | None = None,
        memory_limit: str | None = "3GB",
    ) -> None:
        self.database = str(database)
        self.threads = threads
        self.memory_limit = memory_limit
        self.con = duckdb.connect(self.database)
        self.con.execute(f"SET TimeZone = '{self.TIME_ZONE}'")
        # cobranza draws its own progress bars; DuckDB's would interleave with them on stderr.
        self.con.execute("SET enable_progress_bar = false")
        if threads is not None:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")

    def _sql(self, sql: str) -> duckdb.DuckDBPyRelation | None:
        try:
            return self.con.sql(sql)
        except duckdb.Error as exc:
            raise EngineError(f"DuckDB failed: {exc}") from exc

    def register_file(self, name: str, path: Path) -> None:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            # Strings only: the contract layer casts and reports the values that do not cast.
            # The columns come from the header, so DuckDB's sniffer is not needed (without it
            # read_csv refuses to run; with it a ragged file can have a data line taken for
            # the header); a ragged line then fails the read instead.
            columns = ", ".join(f"{_quote(name)}: 'VARCHAR'" for name in _csv_header(path))
            source = (
                f"read_csv({_quote(path)}, header = true, columns = {{{columns}}}, "
                "auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
                "parallel = false, strict_mode = true)"
            )
            # A single-threaded scan keeps file order, so row_number() is the file's data row.
            select = f"SELECT row_number() OVER () AS {ROW_COLUMN}, * FROM {source}"
        elif suffix == ".parquet":
            # Parquet knows each row's position: the scan stays parallel.
            select = (
                f"SELECT file_row_number + 1 AS {ROW_COLUMN}, * EXCLUDE (file_row_number) "
                f"FROM read_parquet({_quote(path)}, file_row_number = true)"
            )
        else:
            raise EngineError(f"{path}: unsupported file type {suffix!r}")
        self._sql(f"CREATE OR REPLACE TEMP VIEW {_ident(name)} AS {select}")

    def register_arrow(self, name: str, table: pa.Table) -> None:
        self.con.register(f"__arrow_{name}", table)
        self._sql(f"CREATE OR REPLACE TEMP VIEW {_ident(name)} AS SELECT * FROM __arrow_{name}")

    def schema(self, name: str) -> ibis.Schema:
        rel = self._sql(f"SELECT * FROM {_ident(name)} LIMIT 0")
        assert rel is not None
        return ibis.Schema.from_pyarrow(rel.to_arrow_table().schema)

    def create_view(self, name: str, expr: ibis.Expr) -> None:
        self._sql(f"CREATE OR REPLACE TEMP VIEW {_ident(name)} AS {self.to_sql(expr)}")

    def materialize(self, name: str, expr: ibis.Expr) -> None:
        self._sql(f"CREATE OR REPLACE TEMP TABLE {_ident(name)} AS {self.to_sql(expr)}")

    def write_parquet(self, expr: ibis.Expr, path: Path) -> None:
        self._sql(
            f"COPY ({self.to_sql(expr)}) TO {_quote(path)} "
            "(FORMAT parquet, COMPRESSION zstd, PRESERVE_ORDER true)"
        )

    def fetch(self, expr: ibis.Expr, limit: int | None = None) -> pa.Table:
        sql = self.to_sql(expr)
        if limit is not None:
            sql = f"SELECT * FROM ({sql}) LIMIT {int(limit)}"
        rel = self._sql(sql)
        assert rel is not None
        try:
            return rel.to_arrow_table()
        except duckdb.Error as exc:  # relations are lazy: reading errors surface here
            raise EngineError(f"DuckDB failed: {exc}") from exc

    def drop(self, name: str) -> None:
        for kind in ("VIEW", "TABLE"):
            with contextlib.suppress(duckdb.CatalogException):
                self.con.execute(f"DROP {kind} IF EXISTS {_ident(name)}")

    def close(self) -> None:
        self.con.close()
