"""``payment_holds`` (INTERFACES.md §E): accounts not to contact while a credit is unapplied."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

__all__ = ["HOLD_COLUMNS", "payment_holds"]

HOLD_COLUMNS = ("loan_id", "reason", "source_id", "since", "until")


def payment_holds(exceptions: ir.Table) -> ir.Table:
    """One hold per open ``unapplied_credit`` exception of a known loan.

    The customer paid (``since`` = the credit's value date) and the lender has not applied it:
    a collection contact now would chase money already received. Open-ended (``until`` null):
    the hold ends when the exception is resolved and the next run no longer emits it.
    """
    e = exceptions.filter(
        exceptions.root_cause == "unapplied_credit",
        exceptions.status == "open",
        exceptions.loan_id.notnull(),
    )
    return e.select(
        loan_id=e.loan_id,
        reason=ibis.literal("unapplied_credit"),
        source_id=e.exception_id,
        since=e.value_date,
        until=ibis.null("date"),
    )
