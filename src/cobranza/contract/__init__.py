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
from cobranza.contract._report import ValidationReport, Violation
from cobranza.contract._schema import (
    CONTRACT_VERSION,
    DTYPES,
    MONEY,
    TABLES,
    Column,
    Reference,
    Table,
)
from cobranza.contract._validate import RULES, load_valid, validate

__all__ = [
    "CONTRACT_VERSION",
    "RULES",
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
    "load_valid",
    "raw_view",
    "register_raw",
    "typed_table",
    "validate",
    "ValidationReport",
    "Violation",
]
