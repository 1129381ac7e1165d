"""Contact history of every loan as of a date: attempts and right-party contacts, recency.

Windows are Mexico City calendar days and include the as-of day D:

    attempts_7d             = #contacts attempted on local days D−6 … D
    attempts_30d            = #contacts attempted on local days D−29 … D
    rpc_7d, rpc_30d         = the same, counting right-party contacts only (an outcome that
                              reached the debtor: RIGHT_PARTY_OUTCOMES)
    days_since_last_contact = D − local day of the latest contact on or before D
    last_contact_outcome    = outcome of that contact (ties on the instant: largest contact_id)

Contacts attempted after D ends are not read. Day boundaries are literal instants (see
``cobranza.ledger._calendar``), so no per-row time-zone conversion runs over the contacts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from cobranza.ledger._calendar import MEXICO_CITY, end_of_local_day

#: Outcomes that mean the debtor was reached (right-party contact). ``delivered`` only says a
#: message arrived, ``wrong_party`` reached someone else: neither is a right-party contact.
RIGHT_PARTY_OUTCOMES = ("right_party", "promise", "refused", "dispute")

#: Columns of :func:`contact_history`, in order.
CONTACT_HISTORY_COLUMNS = (
    "loan_id",
    "attempts_7d",
    "attempts_30d",
    "rpc_7d",
    "rpc_30d",
    "days_since_last_contact",
    "last_contact_outcome",
)


def _start_of_local_day(day: dt.date) -> dt.datetime:
    return end_of_local_day(day - dt.timedelta(days=1))


def contact_history(contacts: ir.Table, as_of: dt.date) -> ir.Table:
    """One row per loan with at least one contact on or before ``as_of`` (module docstring)."""
    day_end = ibis.literal(end_of_local_day(as_of))
    start_7d = ibis.literal(_start_of_local_day(as_of - dt.timedelta(days=6)))
    start_30d = ibis.literal(_start_of_local_day(as_of - dt.timedelta(days=29)))
    seen = contacts.filter(contacts.attempted_at < day_end)
    in_7d = seen.attempted_at >= start_7d
    in_30d = seen.attempted_at >= start_30d
    rpc = seen.outcome.isin(RIGHT_PARTY_OUTCOMES)
    per_loan = seen.group_by("loan_id").aggregate(
        attempts_7d=in_7d.sum().cast("int64"),
        attempts_30d=in_30d.sum().cast("int64"),
        rpc_7d=(in_7d & rpc).sum().cast("int64"),
        rpc_30d=(in_30d & rpc).sum().cast("int64"),
        last_at=seen.attempted_at.max(),
    )
    # The outcome of the latest contact: join back on the instant, then the largest contact_id
    # among contacts at the very same instant, so the result does not depend on the engine.
    latest = seen.select(l_loan_id="loan_id", l_at="attempted_at", l_id="contact_id",
                         l_outcome="outcome")  # fmt: skip
    at_last = per_loan.inner_join(
        latest, [per_loan.loan_id == latest.l_loan_id, per_loan.last_at == latest.l_at]
    )
    last = at_last.group_by("loan_id").aggregate(
        last_contact_outcome=at_last.l_outcome.argmax(at_last.l_id)
    )
    joined = per_loan.inner_join(last, "loan_id")
    days_since = ibis.date(as_of).delta(joined.last_at.cast("date"), unit="day")
    return joined.select(
        "loan_id",
        "attempts_7d",
        "attempts_30d",
        "rpc_7d",
        "rpc_30d",
        days_since_last_contact=days_since.cast("int32"),
        last_contact_outcome=joined.last_contact_outcome,
    )


def contact_history_row(
    contacts: Iterable[Mapping[str, Any]], as_of: dt.date
) -> dict[str, Any] | None:
    """:func:`contact_history` for the contacts of ONE loan in plain Python (``None`` when the
    loan has no contact on or before ``as_of``); timestamps as datetimes, naive = Mexico City."""
    day_end = end_of_local_day(as_of)
    start_7d = _start_of_local_day(as_of - dt.timedelta(days=6))
    start_30d = _start_of_local_day(as_of - dt.timedelta(days=29))
    seen = [(_aware(c["attempted_at"]), c) for c in contacts]
    seen = [(at, c) for at, c in seen if at < day_end]
    if not seen:
        return None
    loan_id = seen[0][1]["loan_id"]
    at_last, last = max(seen, key=lambda pair: (pair[0], pair[1]["contact_id"]))
    in_7d = [c for at, c in seen if at >= start_7d]
    in_30d = [c for at, c in seen if at >= start_30d]
    return dict(
        loan_id=loan_id,
        attempts_7d=len(in_7d),
        attempts_30d=len(in_30d),
        rpc_7d=sum(c["outcome"] in RIGHT_PARTY_OUTCOMES for c in in_7d),
        rpc_30d=sum(c["outcome"] in RIGHT_PARTY_OUTCOMES for c in in_30d),
        days_since_last_contact=(as_of - at_last.astimezone(MEXICO_CITY).date()).days,
        last_contact_outcome=last["outcome"],
    )


def _aware(instant: dt.datetime) -> dt.datetime:
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=MEXICO_CITY)
