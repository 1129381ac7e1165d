"""Data contract v1: table schemas, loading a portfolio folder, validation."""

from cobranza.contract._load import (
    PortfolioFiles,
    contract_schema,
    discover,
    load,
    raw_view,
    register_raw,
    typed_table,
)
from cobranza.contract._schema import (
    CONTRACT_VERSION,
    DTYPES,
    MONEY,
    TABLES,
    Column,
    Reference,
    Table,
)

__all__ = [
    "CONTRACT_VERSION",
    "DTYPES",
    "MONEY",
    "TABLES",
    "Column",
    "PortfolioFiles",
    "Reference",
    "Table",
    "contract_schema",
    "discover",
    "load",
    "raw_view",
    "register_raw",
    "typed_table",
    "validate",
    "ValidationReport",
    "Violation",
]


def __getattr__(name: str) -> object:
    if name == "validate":
        from cobranza.contract._validate import validate

        return validate
    if name in ("ValidationReport", "Violation"):
        from cobranza.contract import _report

        return getattr(_report, name)
    raise AttributeError(name)
