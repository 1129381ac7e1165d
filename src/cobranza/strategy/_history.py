"""What the strategy reads about an account's history, in SQL and in Python (twins).

* the contact history of ``cobranza.portfolio.contact_history`` (INTERFACES.md §B): attempts
  and right-party contacts in the last 7 / 30 Mexico City days, days since the last contact
  and its outcome;
* a promise summary from ``cobranza.ledger.promise_status`` (INTERFACES.md §A):
  ``open_promise`` (a promise is open), ``broken_promises_90d`` and ``kept_promises_90d``
  (promises resolved as broken / kept on local days as_of − 89 … as_of);
* :func:`channel_history` — per (loan, channel) of a candidate action: the local date of the
  last attempt on that channel and the attempts since the account entered its current step,
  for the path's cadence and maximum-attempt checks.

A contact counts for day D when ``attempted_at`` is before D ends in Mexico City; its local
day is the engine's cast to date (the session time zone is America/Mexico_City).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from cobranza.ledger import promise_status
from cobranza.ledger._calendar import MEXICO_CITY, end_of_local_day
from cobranza.ledger._promises import promise_status_rows
from cobranza.portfolio import contact_history
from cobranza.portfolio._contact_history import contact_history_row

HISTORY_COLUMNS = (
    "attempts_7d", "attempts_30d", "rpc_7d", "rpc_30d", "days_since_last_contact",
    "last_contact_outcome",
)  # fmt: skip
PROMISE_COLUMNS = ("open_promise", "broken_promises_90d", "kept_promises_90d")
_PROMISE_DAYS = 90


def _visible(contacts: ir.Table, as_of: dt.date) -> ir.Table:
    return contacts.filter(contacts.attempted_at < ibis.literal(end_of_local_day(as_of)))


def account_history(contacts: ir.Table, as_of: dt.date) -> ir.Table:
    """One row per loan with a contact on or before ``as_of`` (INTERFACES.md §B columns)."""
    return contact_history(contacts, as_of)


def promise_summary(
    promises: ir.Table, payments: ir.Table, as_of: dt.date, grace_days: int
) -> ir.Table:
    """Per loan with a promise made on or before ``as_of``: the :data:`PROMISE_COLUMNS`."""
    status = promise_status(promises, payments, as_of, grace_days)
    since = ibis.date(as_of - dt.timedelta(days=_PROMISE_DAYS - 1))
    recent = status.resolved_on.notnull() & (status.resolved_on >= since)
    return status.group_by("loan_id").aggregate(
        open_promise=(status.status == "open").any(),
        broken_promises_90d=status.count(where=recent & (status.status == "broken")),
        kept_promises_90d=status.count(where=recent & (status.status == "kept")),
    )


def channel_history(contacts: ir.Table, options: ir.Table, as_of: dt.date) -> ir.Table:
    """Per (loan_id, channel) of ``options`` (which carries ``step_start``): ``last_attempt_on``
    (local date of the last attempt on that channel) and ``attempts_in_step`` (attempts on
    that channel on local days step_start … as_of)."""
    seen = _visible(contacts, as_of)
    keys = options.select("loan_id", "channel", "step_start")
    joined = seen.join(keys, ["loan_id", "channel"]).mutate(day=seen.attempted_at.cast("date"))
    return joined.group_by("loan_id", "channel").aggregate(
        last_attempt_on=joined.day.max(),
        attempts_in_step=joined.count(where=joined.day >= joined.step_start),
    )


# -- Python twins ------------------------------------------------------------------------------


def local_day(value: dt.datetime | dt.date) -> dt.date:
    """Mexico City local date of a contact time (naive times are Mexico City wall time)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.date()
        return value.astimezone(MEXICO_CITY).date()
    return value


def account_history_py(contacts: Iterable[Mapping[str, Any]], as_of: dt.date) -> dict[str, Any]:
    """:func:`account_history` for one loan's contacts (zeros and nulls without contacts)."""
    row = contact_history_row(list(contacts), as_of)
    if row is None:
        return {
            "attempts_7d": 0, "attempts_30d": 0, "rpc_7d": 0, "rpc_30d": 0,
            "days_since_last_contact": None, "last_contact_outcome": None,
        }  # fmt: skip
    return {c: row[c] for c in HISTORY_COLUMNS}


def promise_summary_py(
    promises: Iterable[Mapping[str, Any]],
    payments: Iterable[Mapping[str, Any]],
    as_of: dt.date,
    grace_days: int,
) -> dict[str, Any]:
    """:func:`promise_summary` for one loan's promises and payments (false and zeros without)."""
    rows = promise_status_rows(list(promises), list(payments), as_of, grace_days)
    since = as_of - dt.timedelta(days=_PROMISE_DAYS - 1)
    recent = [r for r in rows if r["resolved_on"] is not None and r["resolved_on"] >= since]
    return {
        "open_promise": any(r["status"] == "open" for r in rows),
        "broken_promises_90d": sum(r["status"] == "broken" for r in recent),
        "kept_promises_90d": sum(r["status"] == "kept" for r in recent),
    }


def _instant(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=MEXICO_CITY)
    return dt.datetime.combine(value, dt.time(), tzinfo=MEXICO_CITY)


def channel_history_py(
    contacts: Iterable[Mapping[str, Any]], channel: str, step_start: dt.date, as_of: dt.date
) -> tuple[dt.date | None, int]:
    """(last_attempt_on, attempts_in_step) of one loan on one channel."""
    days = [local_day(c["attempted_at"]) for c in contacts if c["channel"] == channel]
    days = [d for d in days if d <= as_of]
    return (max(days) if days else None), sum(d >= step_start for d in days)
