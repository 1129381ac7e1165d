"""Reconciliation of partner transactions with the lender's payments (issue #6 §2).

See ``docs/reconciliation.md``. Everything runs in the engine as Ibis expressions.
"""

from __future__ import annotations

from cobranza.payments.reconcile._config import (
    BATCH_RAILS,
    DEFAULT_RULES,
    ReconcileConfig,
    Rule,
    load_reconcile_config,
)
from cobranza.payments.reconcile._match import MATCH_COLUMNS
from cobranza.payments.reconcile._prepare import reference_directory
from cobranza.payments.reconcile._reconcile import (
    UNMATCHED_PAYMENT_COLUMNS,
    UNMATCHED_TRANSACTION_COLUMNS,
    Reconciliation,
    reconcile,
)

__all__ = [
    "BATCH_RAILS",
    "DEFAULT_RULES",
    "MATCH_COLUMNS",
    "UNMATCHED_PAYMENT_COLUMNS",
    "UNMATCHED_TRANSACTION_COLUMNS",
    "ReconcileConfig",
    "Reconciliation",
    "Rule",
    "load_reconcile_config",
    "reconcile",
    "reference_directory",
]
