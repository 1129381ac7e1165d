"""Payment exceptions, their automatic resolution and the holds they put on collection
(issue #6 §3 and §5). See ``docs/reconciliation.md``.
"""

from __future__ import annotations

from cobranza.payments.exceptions._detect import (
    ACTION_COLUMNS,
    AGEING_BUCKETS,
    APPLIED_PAYMENT_COLUMNS,
    EXCEPTION_COLUMNS,
    ROOT_CAUSES,
    Exceptions,
    payment_exceptions,
)
from cobranza.payments.exceptions._holds import HOLD_COLUMNS, payment_holds
from cobranza.payments.exceptions._run import RunSummary, reconcile_files
from cobranza.payments.exceptions._write import OUTPUT_TABLES, output_tables, write_outputs

__all__ = [
    "ACTION_COLUMNS",
    "AGEING_BUCKETS",
    "APPLIED_PAYMENT_COLUMNS",
    "EXCEPTION_COLUMNS",
    "HOLD_COLUMNS",
    "OUTPUT_TABLES",
    "ROOT_CAUSES",
    "Exceptions",
    "RunSummary",
    "output_tables",
    "payment_exceptions",
    "payment_holds",
    "reconcile_files",
    "write_outputs",
]
