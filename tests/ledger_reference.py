"""A deliberately naive pure-Python account state, written from the specification (§3).

It takes the same dict rows the tests register on an engine and walks the payments one by
one, in ``paid_at`` order, pouring each into the installments in ``seq`` order — fees, then
interest, then principal — and only then derives the state. No closed forms, no cumulative
sums: slow and obvious, so that the engine's SQL can be checked against it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from cobranza.ledger import Buckets

MEXICO_CITY = ZoneInfo("America/Mexico_City")
PARTS = ("fees_due", "interest_due", "principal_due")
ZERO = Decimal("0.00")

Row = Mapping[str, Any]


def local_date(paid_at: dt.datetime) -> dt.date:
    """Mexico City calendar date of an instant (a naive stamp is already Mexico City time)."""
    if paid_at.tzinfo is None:
        return paid_at.date()
    return paid_at.astimezone(MEXICO_CITY).date()


def counts(payment: Row, as_of: dt.date) -> bool:
    """A payment counts at ``as_of`` when settled and paid on or before it in Mexico City."""
    return payment["status"] == "settled" and local_date(payment["paid_at"]) <= as_of


@dataclass
class Slot:
    """One installment and what the waterfall has put into each of its parts so far."""

    row: Row
    paid: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(PARTS, ZERO))

    def due(self, part: str) -> Decimal:
        return Decimal(self.row.get(part) or 0)

    @property
    def total_due(self) -> Decimal:
        return sum((self.due(p) for p in PARTS), ZERO)

    @property
    def allocated(self) -> Decimal:
        return sum(self.paid.values(), ZERO)

    @property
    def owed(self) -> Decimal:
        return self.total_due - self.allocated

    @property
    def unpaid(self) -> bool:
        return self.allocated < self.total_due

    @property
    def due_date(self) -> dt.date:
        return self.row["due_date"]


def allocate(schedule: Iterable[Row], payments: Iterable[Row]) -> list[Slot]:
    """Pour each payment (in ``paid_at`` order) into the installments in ``seq`` order.

    Within an installment fees fill first, then interest, then principal; what is left over
    runs on to the next installment (prepayment). Money beyond the whole schedule is kept by
    nobody: it does not appear in the state.
    """
    slots = [Slot(row) for row in sorted(schedule, key=lambda r: r["seq"])]
    for payment in sorted(payments, key=lambda p: p["paid_at"]):
        left = Decimal(payment["amount"])
        for slot in slots:
            for part in PARTS:
                take = min(left, slot.due(part) - slot.paid[part])
                if take > 0:
                    slot.paid[part] += take
                    left -= take
    return slots


def loan_state(
    loan: Row,
    installments: Iterable[Row],
    payments: Iterable[Row],
    as_of: dt.date,
    buckets: Buckets,
) -> dict[str, Any]:
    """The account state of one loan at ``as_of`` (the loan must be open by then)."""
    loan_id = loan["loan_id"]
    schedule = [i for i in installments if i["loan_id"] == loan_id]
    counted = [p for p in payments if p["loan_id"] == loan_id and counts(p, as_of)]
    slots = allocate(schedule, counted)

    past_due = [s for s in slots if s.due_date < as_of]
    late = [s for s in past_due if s.unpaid]
    upcoming = sorted((s for s in slots if s.unpaid and s.due_date >= as_of),
                      key=lambda s: s.due_date)  # fmt: skip
    revolving = loan["product"] == "revolving"

    written_off_on, closed_on = loan.get("written_off_on"), loan.get("closed_on")
    if written_off_on is not None and written_off_on <= as_of:
        status = "written_off"
    elif (closed_on is not None and closed_on <= as_of) or (
        not revolving and not any(s.unpaid for s in slots)
    ):
        status = "paid_off"
    else:
        status = "active"

    dpd = (as_of - min(s.due_date for s in late)).days if late else 0
    bucket = status if status in ("written_off", "paid_off") else buckets.label(dpd)

    if revolving:
        statements = sorted((s for s in slots if s.due_date <= as_of), key=lambda s: s.due_date)
        outstanding = Decimal(statements[-1].row["statement_balance"]) if statements else ZERO
    else:
        outstanding = sum((s.due("principal_due") - s.paid["principal_due"] for s in slots), ZERO)

    return {
        "as_of": as_of,
        "loan_id": loan_id,
        "customer_id": loan["customer_id"],
        "product": loan["product"],
        "status": status,
        "dpd": dpd,
        "bucket": bucket,
        "past_due_amount": sum((s.owed for s in past_due), ZERO),
        "outstanding_principal": outstanding,
        "installments_past_due": len(late),
        "last_payment_date": max((local_date(p["paid_at"]) for p in counted), default=None),
        "next_due_date": upcoming[0].due_date if upcoming else None,
        "next_due_amount": upcoming[0].owed if upcoming else None,
    }


def account_states(
    loans: Iterable[Row],
    installments: Iterable[Row],
    payments: Iterable[Row],
    as_of: Iterable[dt.date],
    buckets: Buckets | None = None,
) -> list[dict[str, Any]]:
    """Account states of every loan opened on or before each as-of date, sorted by
    (as_of, loan_id)."""
    buckets = buckets or Buckets()
    installments, payments = list(installments), list(payments)
    rows = [
        loan_state(loan, installments, payments, day, buckets)
        for day in as_of
        for loan in loans
        if loan["opened_on"] <= day
    ]
    return sorted(rows, key=lambda r: (r["as_of"], r["loan_id"]))
