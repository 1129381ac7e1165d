"""``payment_holds`` rows for accounts with an open payment case (INTERFACES §E)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from sqlalchemy import or_, select

from cobranza.payments.cases._model import Case
from cobranza.payments.cases._store import CaseStore

__all__ = ["PAYMENT_HOLDS", "open_case_holds"]

#: Every field nullable, like the Parquet the engines write, so these rows concatenate with the
#: ``unapplied_credit`` holds of reconciliation (``pa.concat_tables``) into one table.
PAYMENT_HOLDS = pa.schema(
    [
        pa.field("loan_id", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("source_id", pa.string()),
        pa.field("since", pa.date32()),
        pa.field("until", pa.date32()),
    ]
)


def open_case_holds(store: CaseStore, as_of: dt.date) -> pa.Table:
    """One hold per case of a loan that is open on ``as_of``, reason ``open_case``.

    A case is open on D when it was opened on or before D and not resolved by D (resolved on
    or before D). ``source_id`` is the case reference (``CASE-42``), ``since`` the day it was
    opened and ``until`` the day before its resolution when that is already dated after
    ``as_of`` (a later run date), else null: the hold lasts until someone answers. Cases
    without a loan (an unknown reference) hold no account.
    """
    query = (
        select(Case.case_id, Case.loan_id, Case.opened_on, Case.resolved_on)
        .where(
            Case.loan_id.is_not(None),
            Case.opened_on <= as_of,
            or_(Case.resolved_on.is_(None), Case.resolved_on > as_of),
        )
        .order_by(Case.loan_id, Case.case_id)
    )
    with store.session() as session:
        rows = session.execute(query).all()
    day = dt.timedelta(days=1)
    return pa.table(
        {
            "loan_id": [r.loan_id for r in rows],
            "reason": ["open_case"] * len(rows),
            "source_id": [f"CASE-{r.case_id}" for r in rows],
            "since": [r.opened_on for r in rows],
            "until": [r.resolved_on - day if r.resolved_on else None for r in rows],
        },
        schema=PAYMENT_HOLDS,
    )
