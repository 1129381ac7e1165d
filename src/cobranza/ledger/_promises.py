"""Promises to pay marked kept, broken or open from the payments, at any as-of date.

A promise made on day ``made_on`` (Mexico City) for ``amount`` by ``due_on`` is judged on the
settled payments of its loan paid from ``made_on`` up to its deadline, ``due_on + grace_days``
(both Mexico City days, inclusive), and never after the as-of date:

    deadline     = due_on + grace_days
    paid_toward  = Σ amount of settled payments with made_on ≤ local paid date ≤ min(deadline, D)
    status       = kept    if paid_toward ≥ amount
                   broken  if deadline < D and not kept
                   open    otherwise
    resolved_on  = kept: first local day on which the running sum reached amount;
                   broken: deadline + 1; open: null

Pending and reversed payments do not count. Every promise is judged on its own: one payment
counts toward every promise of the loan whose span covers it. The engine version
(:func:`promise_status`) and the plain Python one (:func:`promise_status_rows`, for one account
at a time) follow the same formulas and are tested to agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from cobranza.contract import DTYPES, MONEY
from cobranza.ledger._calendar import MEXICO_CITY, end_of_local_day

#: Columns of :func:`promise_status`, in order.
PROMISE_STATUS_COLUMNS = (
    "promise_id",
    "loan_id",
    "made_on",
    "due_on",
    "amount",
    "paid_toward",
    "status",
    "resolved_on",
)

PROMISE_STATUSES = ("open", "kept", "broken")

#: Contract timestamps (UTC instants); a date cast to one is its local midnight.
_INSTANT = DTYPES["timestamp"]


def add_days(date: ir.DateValue, days: int) -> ir.DateValue:
    """``date + days`` as a DATE on every engine.

    DuckDB types DATE + INTERVAL as a TIMESTAMP while Ibis believes it is a date (and so drops a
    cast back to date); the round trip through timestamp makes the cast real.
    """
    return (date + ibis.interval(days=days)).cast("timestamp").cast("date")


def promise_status(
    promises: ir.Table, payments: ir.Table, as_of: dt.date, grace_days: int = 2
) -> ir.Table:
    """Status of every promise made on or before ``as_of`` (see the module docstring).

    One row per promise: ``promise_id``, ``loan_id``, ``made_on``, ``due_on``, ``amount``,
    ``paid_toward``, ``status`` (open | kept | broken) and ``resolved_on``. Promises made and
    payments paid after ``as_of`` ends in Mexico City are not read.
    """
    if grace_days < 0:
        raise ValueError(f"grace_days must be 0 or more, got {grace_days}")
    day_end = ibis.literal(end_of_local_day(as_of))
    as_of_lit = ibis.date(as_of)
    made = promises.filter(promises.made_at < day_end)
    made = made.select(
        "promise_id",
        "loan_id",
        made_on=made.made_at.cast("date"),
        due_on="due_on",
        amount=made.amount.cast(MONEY),
    )
    made = made.mutate(
        deadline=add_days(made.due_on, grace_days),
    ).view()
    made = made.mutate(counted_until=ibis.least(made.deadline, as_of_lit)).view()

    settled = payments.filter((payments.status == "settled") & (payments.paid_at < day_end))
    settled = settled.select(
        pay_loan_id=settled.loan_id, paid_at=settled.paid_at, paid_amount=settled.amount
    )
    # Compare instants, not dates, in the join: the local midnights of made_on and of the day
    # after counted_until are computed per promise (the session time zone is Mexico City), so
    # only the payments that match pay for the conversion to a local date.
    spans = made.select(
        "promise_id",
        "loan_id",
        from_at=made.made_on.cast(_INSTANT),
        until_at=add_days(made.counted_until, 1).cast(_INSTANT),
    ).view()
    toward = spans.inner_join(
        settled,
        [
            spans.loan_id == settled.pay_loan_id,
            settled.paid_at >= spans.from_at,
            settled.paid_at < spans.until_at,
        ],
    )
    toward = toward.select("promise_id", "paid_amount", paid_on=toward.paid_at.cast("date"))
    # The running sum per day: all payments of one day enter together, so the day it reaches
    # the amount does not depend on how payments within a day are ordered.
    per_day = toward.group_by("promise_id", "paid_on").aggregate(
        day_amount=toward.paid_amount.sum()
    )
    so_far = ibis.window(group_by="promise_id", order_by="paid_on", rows=(None, 0))
    running = per_day.mutate(running=per_day.day_amount.sum().over(so_far)).view()
    amounts = made.select(a_promise_id="promise_id", target="amount")
    reached = running.inner_join(amounts, running.promise_id == amounts.a_promise_id)
    summary = reached.group_by("promise_id").aggregate(
        paid_toward=reached.day_amount.sum(),
        reached_on=reached.paid_on.min(where=reached.running >= reached.target),
    )
    joined = made.left_join(summary, made.promise_id == summary.promise_id).select(
        made,
        paid_toward=summary.paid_toward.fill_null(0).cast(MONEY),
        reached_on=summary.reached_on,
    )
    joined = joined.view()
    kept = joined.paid_toward >= joined.amount
    broken = ~kept & (joined.deadline < as_of_lit)
    status = ibis.cases((kept, "kept"), (broken, "broken"), else_="open")
    resolved = ibis.cases(
        (kept, joined.reached_on),
        (broken, add_days(joined.deadline, 1)),
        else_=ibis.null("date"),
    )
    return joined.select(
        "promise_id",
        "loan_id",
        "made_on",
        "due_on",
        "amount",
        "paid_toward",
        status=status,
        resolved_on=resolved,
    )


def local_date(instant: dt.datetime) -> dt.date:
    """The Mexico City calendar date of an instant; a naive time is Mexico City time already."""
    if instant.tzinfo is None:
        return instant.date()
    return instant.astimezone(MEXICO_CITY).date()


def promise_status_rows(
    promises: Iterable[Mapping[str, Any]],
    payments: Iterable[Mapping[str, Any]],
    as_of: dt.date,
    grace_days: int = 2,
) -> list[dict[str, Any]]:
    """:func:`promise_status` for a handful of rows in plain Python (one account at a time).

    ``promises`` and ``payments`` are contract rows as dicts (timestamps as datetimes);
    returns one dict per promise made on or before ``as_of``, sorted by ``promise_id``.
    """
    if grace_days < 0:
        raise ValueError(f"grace_days must be 0 or more, got {grace_days}")
    day_end = end_of_local_day(as_of)
    counted: dict[str, list[tuple[dt.date, Decimal]]] = {}
    for p in payments:
        if (p.get("status") or "settled") != "settled" or _aware(p["paid_at"]) >= day_end:
            continue
        counted.setdefault(p["loan_id"], []).append((local_date(p["paid_at"]), p["amount"]))
    out = []
    for promise in promises:
        if _aware(promise["made_at"]) >= day_end:
            continue
        made_on = local_date(promise["made_at"])
        due_on: dt.date = promise["due_on"]
        amount = Decimal(promise["amount"])
        deadline = due_on + dt.timedelta(days=grace_days)
        until = min(deadline, as_of)
        per_day: dict[dt.date, Decimal] = {}
        for paid_on, paid in counted.get(promise["loan_id"], ()):
            if made_on <= paid_on <= until:
                per_day[paid_on] = per_day.get(paid_on, Decimal(0)) + paid
        running, reached_on = Decimal(0), None
        for day in sorted(per_day):
            running += per_day[day]
            if reached_on is None and running >= amount:
                reached_on = day
        if running >= amount:
            status, resolved_on = "kept", reached_on
        elif deadline < as_of:
            status, resolved_on = "broken", deadline + dt.timedelta(days=1)
        else:
            status, resolved_on = "open", None
        out.append(
            dict(promise_id=promise["promise_id"], loan_id=promise["loan_id"], made_on=made_on,
                 due_on=due_on, amount=amount, paid_toward=running, status=status,
                 resolved_on=resolved_on)
        )  # fmt: skip
    return sorted(out, key=lambda r: r["promise_id"])


def _aware(instant: dt.datetime) -> dt.datetime:
    # The contract reads a time without an offset as Mexico City time.
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=MEXICO_CITY)
