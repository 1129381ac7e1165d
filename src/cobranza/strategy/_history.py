"""Contact history the strategy reads, in SQL and in Python (twins).

* :func:`account_history` — per loan: attempts and right-party contacts in the last 7 / 30
  Mexico City days (inclusive of as-of), days since the last contact and its outcome: the
  columns of ``cobranza.portfolio.contact_history`` (INTERFACES.md §B). Used until the
  guardrails branch, which owns that function, is merged.
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

from cobranza.ledger._calendar import MEXICO_CITY, end_of_local_day

#: Outcomes that reached the debtor (right-party contacts).
RPC_OUTCOMES = ("right_party", "promise", "refused", "dispute")
HISTORY_COLUMNS = (
    "attempts_7d", "attempts_30d", "rpc_7d", "rpc_30d", "days_since_last_contact",
    "last_contact_outcome",
)  # fmt: skip


def _visible(contacts: ir.Table, as_of: dt.date) -> ir.Table:
    return contacts.filter(contacts.attempted_at < ibis.literal(end_of_local_day(as_of)))


def account_history(contacts: ir.Table, as_of: dt.date) -> ir.Table:
    """One row per loan with a contact on or before ``as_of`` (INTERFACES.md §B columns)."""
    seen = _visible(contacts, as_of)
    day = seen.attempted_at.cast("date")
    d7, d30 = ibis.date(as_of - dt.timedelta(days=6)), ibis.date(as_of - dt.timedelta(days=29))
    rpc = seen.outcome.isin(RPC_OUTCOMES)
    latest = ibis.window(
        group_by="loan_id", order_by=[ibis.desc("attempted_at"), ibis.desc("contact_id")]
    )
    ranked = seen.mutate(
        day=day,
        in7=day >= d7,
        in30=day >= d30,
        rpc=rpc,
        newest=ibis.row_number().over(latest) == 0,
    )
    # count(where=…), not a sum of 0/1: DuckDB sums BIGINT into HUGEINT.
    return ranked.group_by("loan_id").aggregate(
        attempts_7d=ranked.count(where=ranked.in7),
        attempts_30d=ranked.count(where=ranked.in30),
        rpc_7d=ranked.count(where=ranked.in7 & ranked.rpc),
        rpc_30d=ranked.count(where=ranked.in30 & ranked.rpc),
        days_since_last_contact=ibis.date(as_of).delta(ranked.day.max(), unit="day").cast("int32"),
        last_contact_outcome=ranked.outcome.max(where=ranked.newest),
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


def _visible_py(contacts: Iterable[Mapping[str, Any]], as_of: dt.date) -> list[Mapping[str, Any]]:
    return [c for c in contacts if local_day(c["attempted_at"]) <= as_of]


def account_history_py(contacts: Iterable[Mapping[str, Any]], as_of: dt.date) -> dict[str, Any]:
    """:func:`account_history` for one loan's contacts (zeros and nulls without contacts)."""
    seen = _visible_py(contacts, as_of)
    if not seen:
        return {
            "attempts_7d": 0, "attempts_30d": 0, "rpc_7d": 0, "rpc_30d": 0,
            "days_since_last_contact": None, "last_contact_outcome": None,
        }  # fmt: skip
    days = [(as_of - local_day(c["attempted_at"])).days for c in seen]
    rpc = [c.get("outcome") in RPC_OUTCOMES for c in seen]
    newest = max(seen, key=lambda c: (_instant(c["attempted_at"]), str(c.get("contact_id"))))
    return {
        "attempts_7d": sum(d <= 6 for d in days),
        "attempts_30d": sum(d <= 29 for d in days),
        "rpc_7d": sum(d <= 6 and r for d, r in zip(days, rpc, strict=True)),
        "rpc_30d": sum(d <= 29 and r for d, r in zip(days, rpc, strict=True)),
        "days_since_last_contact": min(days),
        "last_contact_outcome": newest.get("outcome"),
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
