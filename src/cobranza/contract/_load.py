"""Finding a portfolio's files and exposing them to an engine as typed tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from cobranza._errors import ContractError
from cobranza.contract._schema import TABLES, Column, Table
from cobranza.engine import ROW_COLUMN, Engine

SUFFIXES = (".parquet", ".csv")


def raw_view(table: str) -> str:
    """Name of the engine view holding a table's file as read (CSV columns as strings)."""
    return f"raw_{table}"


@dataclass(frozen=True)
class PortfolioFiles:
    """The file of each contract table found in a portfolio folder."""

    root: Path
    files: dict[str, Path]

    def __contains__(self, table: str) -> bool:
        return table in self.files


def discover(data: str | Path) -> PortfolioFiles:
    """Find ``<table>.parquet`` or ``<table>.csv`` for every contract table in ``data``.

    Raises :class:`ContractError` for a missing folder, a missing required table, or a table
    given twice (both CSV and Parquet).
    """
    root = Path(data)
    if not root.is_dir():
        raise ContractError(f"{root}: portfolio folder not found")
    files: dict[str, Path] = {}
    for name, table in TABLES.items():
        found = [
            root / f"{name}{suffix}" for suffix in SUFFIXES if (root / f"{name}{suffix}").exists()
        ]
        if len(found) > 1:
            raise ContractError(
                f"{root}: table {name} is given twice ({', '.join(p.name for p in found)}); "
                "keep one file per table"
            )
        if found:
            files[name] = found[0]
        elif table.required:
            raise ContractError(
                f"{root}: required table {name} is missing (expected {name}.parquet or {name}.csv)"
            )
    return PortfolioFiles(root, files)


def register_raw(engine: Engine, files: PortfolioFiles) -> dict[str, ibis.Schema]:
    """Register every file as its raw view; returns the raw schemas by table."""
    schemas: dict[str, ibis.Schema] = {}
    for name, path in files.files.items():
        try:
            engine.register_file(raw_view(name), path)
            schemas[name] = engine.schema(raw_view(name))
        except Exception as exc:
            raise ContractError(f"{path}: cannot be read as a {name} table: {exc}") from exc
    return schemas


def cast_column(raw: ir.Table, column: Column) -> ir.Value:
    """The typed value of a contract column (NULL where the raw value does not convert)."""
    value = raw[column.name]
    # Compare without nullability: a NOT NULL Parquet string must be read like a CSV one.
    if value.type().copy(nullable=True) == column.dtype:
        return value
    if value.type().is_string():
        value = value.strip()
        value = ibis.ifelse(value == "", ibis.null(value.type()), value)
    return value.try_cast(column.dtype)


def typed_table(table: Table, raw: ir.Table) -> ir.Table:
    """Project a raw table onto the contract: every column typed, defaults filled."""
    values: dict[str, ir.Value] = {}
    for column in table.columns:
        value = cast_column(raw, column) if column.name in raw.columns else ibis.null(column.dtype)
        if column.default is not None:
            value = value.fill_null(ibis.literal(column.default).cast(column.dtype))
        values[column.name] = value
    if table.name == "loans":
        default_type = ibis.ifelse(values["product"] == "revolving", "R", "P")
        values["cnbv_type"] = values["cnbv_type"].fill_null(default_type)
    return raw.select(**values)


def empty_arrow(table: Table) -> pa.Table:
    """An empty Arrow table with the contract types, for absent optional tables."""
    schema = ibis.schema({c.name: c.dtype for c in table.columns}).to_pyarrow()
    return schema.empty_table()


def load(engine: Engine, data: str | Path | PortfolioFiles) -> dict[str, ir.Table]:
    """Expose a portfolio to ``engine`` as typed views named after the contract tables.

    Returns unbound Ibis tables, one per contract table (absent optional tables are empty).
    The data is not validated here: call :func:`cobranza.contract.validate` first.
    """
    files = data if isinstance(data, PortfolioFiles) else discover(data)
    schemas = register_raw(engine, files)
    tables: dict[str, ir.Table] = {}
    for name, table in TABLES.items():
        if name in files:
            raw = ibis.table(schemas[name], name=raw_view(name))
            engine.create_view(name, typed_table(table, raw))
        else:
            engine.register_arrow(name, empty_arrow(table))
        tables[name] = ibis.table(contract_schema(table), name=name)
    return tables


def contract_schema(table: Table) -> ibis.Schema:
    """The typed schema of a contract table as the engine views expose it."""
    return ibis.schema({c.name: c.dtype for c in table.columns})


__all__ = [
    "ROW_COLUMN",
    "PortfolioFiles",
    "cast_column",
    "contract_schema",
    "discover",
    "empty_arrow",
    "load",
    "raw_view",
    "register_raw",
    "typed_table",
]
