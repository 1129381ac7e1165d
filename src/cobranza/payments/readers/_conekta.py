"""Cash-processor payloads in Conekta's shape: orders and webhook events (OXXO and other stores).

A file holds one payload or a list of them, as JSON or YAML: an ``order`` object, a webhook event
(``{"type": "order.paid", "data": {"object": <order>}}``), or either wrapped in ``value:`` as the
processor's OpenAPI examples are. Each charge of an order is one row: a cash order offers one
charge per store network, so the pending charges of one order are alternatives, not a sum.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from cobranza.payments._schema import partner_transactions_table
from cobranza.payments.readers._common import (
    MEXICO_CITY,
    Located,
    LocatedList,
    currency_code,
    fail,
    from_epoch,
    load_json,
    load_yaml,
    money,
    optional_text,
    read_text,
)

__all__ = ["CONEKTA_STATUSES", "EVENT_TYPES", "read_conekta"]

#: Charge (and order payment) statuses to normalised statuses.
CONEKTA_STATUSES: dict[str, str] = {
    "paid": "settled",
    # Part of the money went back; the payment itself stands (amount_refunded says how much).
    "partially_refunded": "settled",
    "pending_payment": "pending",
    "pre_authorized": "pending",
    "expired": "rejected",
    "canceled": "rejected",
    "declined": "rejected",
    "voided": "rejected",
    "refunded": "reversed",
    "charged_back": "reversed",
}

#: Webhook event types a cash order can send, and the status each one implies for its charges.
EVENT_TYPES: dict[str, str | None] = {
    "webhook_ping": None,
    "order.paid": "settled",
    "order.expired": "rejected",
    "order.canceled": "rejected",
    "order.pending_payment": "pending",
}

_RAILS = {
    "cash": "oxxo", "cash_payment": "oxxo", "oxxo": "oxxo", "oxxo_cash": "oxxo",
    "card": "card", "card_payment": "card", "credit": "card", "debit": "card",
    "spei": "spei", "spei_payment": "spei", "bank_transfer": "spei",
    "bank_transfer_payment": "spei",
}  # fmt: skip


def read_conekta(path: Path, partner_id: str) -> pa.Table:
    """Read Conekta-style orders or webhook events into ``partner_transactions``."""
    text = read_text(path)
    data = load_json(path, text) if path.suffix.lower() == ".json" else load_yaml(path, text)
    payloads: list[tuple[object, int, str]]
    if isinstance(data, LocatedList):
        payloads = [
            (item, line, f"[{i}]")
            for i, (item, line) in enumerate(zip(data, data.item_lines, strict=True))
        ]
    else:
        payloads = [(data, getattr(data, "line", 1), "")]
    rows: list[dict[str, object]] = []
    for payload, line, element in payloads:
        rows.extend(_payload_rows(path, partner_id, payload, line, element))
    return partner_transactions_table(rows)


def _payload_rows(
    path: Path, partner_id: str, payload: object, line: int, element: str
) -> list[dict[str, object]]:
    if not isinstance(payload, Located):
        fail(path, "expected a Conekta order or event object", line=line, element=element or None)
    if set(payload) == {"value"} and isinstance(payload["value"], Located):
        # OpenAPI examples wrap the payload in ``value:``.
        payload, element = payload["value"], _join(element, "value")
    if ("type" in payload and "data" in payload) or payload.get("object") == "event":
        return _event_rows(path, partner_id, payload, element)
    if payload.get("object") == "order":
        return _order_rows(path, partner_id, payload, element, implied=None)
    if _is_schema(payload) or any(_is_schema(v) for v in payload.values()):
        reason = "an OpenAPI schema, not a Conekta order or event payload"
    else:
        reason = "not a Conekta order or event (no 'object: order' and no event 'type')"
    fail(path, reason, line=payload.line, element=element or None)


def _event_rows(
    path: Path, partner_id: str, event: Located, element: str
) -> list[dict[str, object]]:
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        fail(path, f"unknown event type {kind!r}", line=event.line, element=element or None)
    if kind == "webhook_ping":
        return []
    data = event.get("data")
    order = data.get("object") if isinstance(data, Located) else None
    if not isinstance(order, Located) or order.get("object") != "order":
        fail(
            path,
            f"{kind} event has no order in data.object",
            line=event.line,
            element=element or None,
        )
    rows = _order_rows(
        path, partner_id, order, _join(element, "data.object"), implied=EVENT_TYPES[kind]
    )
    if kind == "order.paid" and not any(row["status"] == "settled" for row in rows):
        fail(
            path,
            "order.paid event but no charge of the order is paid",
            line=order.line,
            element=_join(element, "data.object"),
        )
    return rows


def _order_rows(
    path: Path, partner_id: str, order: Located, element: str, implied: str | None
) -> list[dict[str, object]]:
    order_id = optional_text(order.get("id"))
    if order_id is None:
        fail(path, "order has no id", line=order.line, element=element or None)
    charges = order.get("charges")
    data = charges.get("data") if isinstance(charges, Located) else None
    if charges is None:
        return []
    if not isinstance(data, LocatedList):
        fail(
            path,
            "order charges have no data list",
            line=charges.line,
            element=_join(element, "charges"),
        )
    rows = []
    for i, (charge, line) in enumerate(zip(data, data.item_lines, strict=True)):
        where = _join(element, f"charges.data[{i}]")
        if not isinstance(charge, Located):
            fail(path, "a charge must be an object", line=line, element=where)
        rows.append(_charge_row(path, partner_id, order, order_id, charge, where, implied))
    return rows


def _charge_row(
    path: Path,
    partner_id: str,
    order: Located,
    order_id: str,
    charge: Located,
    where: str,
    implied: str | None,
) -> dict[str, object]:
    line = charge.line

    def bad(reason: str) -> None:
        fail(path, reason, line=line, element=where)

    charge_id = optional_text(charge.get("id"))
    if charge_id is None:
        bad("charge has no id")
    status_code = charge.get("status")
    if status_code not in CONEKTA_STATUSES:
        bad(f"unknown charge status {status_code!r}")
    status = CONEKTA_STATUSES[str(status_code)]
    if implied == "rejected" and status == "pending":
        # The event closes what the charge snapshot still shows as open.
        status = "rejected"
    currency = currency_code(
        path, charge.get("currency") or order.get("currency"), line=line, element=where
    )
    cents = charge.get("amount")
    if isinstance(cents, bool) or not isinstance(cents, int) or cents < 0:
        bad(f"charge amount {cents!r} is not a whole number of cents")
    fee_cents = charge.get("fee")
    if fee_cents is not None and (isinstance(fee_cents, bool) or not isinstance(fee_cents, int)):
        bad(f"charge fee {fee_cents!r} is not a whole number of cents")
    method = charge.get("payment_method")
    method = method if isinstance(method, Located) else Located()
    kind = str(method.get("type") or method.get("object") or "")
    paid_at: datetime | None = None
    if charge.get("paid_at") is not None:
        try:
            paid_at = from_epoch(charge["paid_at"], millis=False)
        except (TypeError, ValueError, OverflowError):
            bad(f"paid_at {charge['paid_at']!r} is not an epoch in seconds")
    if status == "settled" and paid_at is None:
        bad("charge is paid but has no paid_at")
    paid_on = paid_at.astimezone(MEXICO_CITY).date() if paid_at else None
    return {
        "partner_id": partner_id,
        "rail": _RAILS.get(kind, "other"),
        "external_id": charge_id,
        "value_date": paid_on,
        "booking_date": paid_on,
        "booked_at": paid_at,
        "amount": money(path, Decimal(cents) / 100, currency, line=line, element=where),
        "fee": None if fee_cents is None else Decimal(fee_cents) / 100,
        "currency": currency,
        "reference": optional_text(method.get("reference")),
        "description": optional_text(charge.get("description")),
        "account": None,
        "counterparty_account": None,
        "counterparty_account_valid": None,
        "status": status,
        "statement_id": order_id,
        "source_file": path.name,
        "source_line": line,
        "source_element": where,
    }


def _is_schema(value: object) -> bool:
    return isinstance(value, dict) and bool(
        {"allOf", "oneOf", "properties", "enum", "$ref", "x-discriminator-value"} & set(value)
    )


def _join(prefix: str, suffix: str) -> str:
    return f"{prefix}.{suffix}" if prefix else suffix
