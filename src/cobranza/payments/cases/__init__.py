"""Payment cases: exceptions someone has to work, with priority, SLA clock and lifecycle.

Cases live in an operational SQL store (:class:`CaseStore`: a SQLite file by default,
PostgreSQL in production), migrated with Alembic on open and written with optimistic locking
(:class:`StaleCase` instead of a lost update). See ``docs/payment-cases.md``.
"""

from __future__ import annotations

from cobranza.payments.cases._errors import CaseError, CaseNotFound, IllegalTransition, StaleCase
from cobranza.payments.cases._holds import PAYMENT_HOLDS, open_case_holds
from cobranza.payments.cases._lifecycle import (
    ACTIVE_STATUSES,
    CASE_STATUSES,
    TRANSITIONS,
)
from cobranza.payments.cases._rules import (
    ACLARACION_DAYS,
    DEFAULT_RULES,
    CaseRules,
    PriorityRule,
    load_case_rules,
)
from cobranza.payments.cases._store import (
    DEFAULT_URL,
    CaseStore,
    CaseView,
    NoteView,
    OpenedCases,
    store_url,
)

__all__ = [
    "ACLARACION_DAYS",
    "ACTIVE_STATUSES",
    "CASE_STATUSES",
    "DEFAULT_RULES",
    "DEFAULT_URL",
    "PAYMENT_HOLDS",
    "TRANSITIONS",
    "CaseError",
    "CaseNotFound",
    "CaseRules",
    "CaseStore",
    "CaseView",
    "IllegalTransition",
    "NoteView",
    "OpenedCases",
    "PriorityRule",
    "StaleCase",
    "load_case_rules",
    "open_case_holds",
    "store_url",
]
