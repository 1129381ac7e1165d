"""The ledger: payment allocation and the account state of every loan at any as-of date."""

from cobranza.ledger._buckets import CURRENT, DEFAULT_BUCKETS, PAID_OFF, WRITTEN_OFF, Buckets
from cobranza.ledger._materialize import materialize_states
from cobranza.ledger._promises import (
    PROMISE_STATUS_COLUMNS,
    PROMISE_STATUSES,
    promise_status,
    promise_status_rows,
)
from cobranza.ledger._state import (
    ACCOUNT_STATE_COLUMNS,
    ACCOUNT_STATE_SCHEMA,
    DATES_PER_QUERY,
    account_states,
    paid_to_date,
    schedule_positions,
)

__all__ = [
    "ACCOUNT_STATE_COLUMNS",
    "ACCOUNT_STATE_SCHEMA",
    "CURRENT",
    "DATES_PER_QUERY",
    "DEFAULT_BUCKETS",
    "PAID_OFF",
    "PROMISE_STATUS_COLUMNS",
    "PROMISE_STATUSES",
    "WRITTEN_OFF",
    "Buckets",
    "account_states",
    "materialize_states",
    "paid_to_date",
    "promise_status",
    "promise_status_rows",
    "schedule_positions",
]
