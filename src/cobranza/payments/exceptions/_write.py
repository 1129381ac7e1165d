"""Write a reconciliation run's tables as one folder that appears whole or not at all."""

from __future__ import annotations

from pathlib import Path

import ibis.expr.types as ir

from cobranza._atomic import atomic_directory
from cobranza.engine import Engine
from cobranza.payments.exceptions._detect import Exceptions
from cobranza.payments.exceptions._holds import payment_holds
from cobranza.payments.reconcile import Reconciliation

__all__ = ["OUTPUT_TABLES", "output_tables", "write_outputs"]

#: Files of an output folder (``<name>.parquet``).
OUTPUT_TABLES = (
    "reconciliation_matches", "unmatched_transactions", "unmatched_payments",
    "payment_exceptions", "exception_actions", "applied_payments", "payment_holds",
)  # fmt: skip


def output_tables(rec: Reconciliation, exc: Exceptions) -> dict[str, ir.Table]:
    """Every output table of a run, by file name (holds derived from the exceptions)."""
    return {
        "reconciliation_matches": rec.matches.order_by(["partner_id", "tx_key", "payment_id"]),
        "unmatched_transactions": rec.unmatched_transactions.order_by("tx_key"),
        "unmatched_payments": rec.unmatched_payments.order_by("payment_id"),
        "payment_exceptions": exc.exceptions.order_by("exception_id"),
        "exception_actions": exc.actions.order_by("action_id"),
        "applied_payments": exc.applied_payments.order_by("payment_id"),
        "payment_holds": payment_holds(exc.exceptions).order_by(["loan_id", "source_id"]),
    }


def write_outputs(
    engine: Engine, rec: Reconciliation, exc: Exceptions, out: Path, *, replace: bool = True
) -> Path:
    """Write :data:`OUTPUT_TABLES` into ``out`` atomically (a failure leaves ``out`` as it was)."""
    tables = output_tables(rec, exc)
    with atomic_directory(out, replace=replace) as tmp:
        for name, expr in tables.items():
            engine.write_parquet(expr, tmp / f"{name}.parquet")
    return Path(out)
