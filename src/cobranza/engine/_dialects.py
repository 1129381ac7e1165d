"""What each engine does not support, in one place (after Ibis's compiler tables).

Pipelines consult :func:`require` before using an operation that an engine lacks, so the error
names the operation and the engine instead of surfacing as an SQL error deep in a run.
"""

from __future__ import annotations

from cobranza._errors import UnsupportedOperation

#: operation -> engines that cannot run it, with the reason shown to the user.
UNSUPPORTED: dict[str, dict[str, str]] = {
    "database_file": {
        "spark": "Spark keeps no database file; pass a DuckDB path or use --engine duckdb",
    },
}


def supports(engine: str, operation: str) -> bool:
    """True when ``engine`` can run ``operation``."""
    return engine not in UNSUPPORTED.get(operation, {})


def require(engine: str, operation: str) -> None:
    """Raise :class:`UnsupportedOperation` when ``engine`` cannot run ``operation``."""
    reason = UNSUPPORTED.get(operation, {}).get(engine)
    if reason is not None:
        raise UnsupportedOperation(f"{operation} is not supported on {engine}: {reason}")
