"""SPEI deposit lists as the STP API returns them (``consOrdenesFech``, órdenes recibidas).

The file is the API's JSON answer: ``{"resultado": {"lst": [orden, ...]}}``. Every orden is a
deposit into one of our STP accounts, so amounts are positive (money in).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from cobranza.payments._schema import partner_transactions_table
from cobranza.payments.readers._common import (
    Located,
    LocatedList,
    clabe_check,
    fail,
    from_epoch,
    load_json,
    money,
    optional_text,
    read_text,
)

__all__ = ["STP_STATUSES", "read_stp"]

#: STP ``estado`` codes (stpmex ``Estado``) to normalised statuses.
STP_STATUSES: dict[str, str] = {
    # Liquidada, traspaso liquidado, confirmada: the deposit is in our account.
    "LQ": "settled", "TLQ": "settled", "CCO": "settled",
    # Devuelta / retornada: the deposit went back to the sender.
    "D": "returned", "RE": "returned",
    # Cancelled or rejected somewhere on the way.
    "CN": "rejected", "TCL": "rejected", "CL": "rejected", "CR": "rejected", "RL": "rejected",
    "CA": "rejected", "RA": "rejected", "RB": "rejected", "EL": "rejected", "CCR": "rejected",
    # Still moving: captured, released, authorised, sent, being returned or confirmed.
    "C": "pending", "PL": "pending", "L": "pending", "PA": "pending", "A": "pending",
    "E": "pending", "TL": "pending", "TC": "pending", "TA": "pending", "R": "pending",
    "XD": "pending", "XR": "pending", "XC": "pending", "CXO": "pending", "CCE": "pending",
    "EA": "pending", "EP": "pending", "EC": "pending",
}  # fmt: skip

#: ``tipoPago`` values that are devoluciones: the orden returns an earlier transfer of ours.
REFUND_PAYMENT_TYPES = frozenset({0, 16, 17, 18, 23, 24})
#: ``tipoPago`` values of CoDi collections (cobro presencial / no presencial), which ride on SPEI.
CODI_PAYMENT_TYPES = frozenset({19, 20, 21, 22})
#: ``tipoCuenta`` 40 declares a CLABE (3 is a card, 10 a phone number).
CLABE_ACCOUNT_TYPE = 40


def read_stp(path: Path, partner_id: str) -> pa.Table:
    """Read an STP deposit list into ``partner_transactions`` (PartnerFileError if malformed)."""
    data = load_json(path, read_text(path))
    result = data.get("resultado") if isinstance(data, dict) else None
    ordenes = result.get("lst") if isinstance(result, dict) else None
    if not isinstance(ordenes, LocatedList):
        fail(
            path,
            "not an STP answer: expected {'resultado': {'lst': [...]}}",
            line=getattr(data, "line", 1),
        )
    rows = [
        _row(path, partner_id, orden, line, f"resultado.lst[{i}]")
        for i, (orden, line) in enumerate(zip(ordenes, ordenes.item_lines, strict=True))
    ]
    return partner_transactions_table(rows)


def _row(path: Path, partner_id: str, orden: object, line: int, element: str) -> dict[str, object]:
    if not isinstance(orden, Located):
        fail(path, "an orden must be a JSON object", line=line, element=element)

    def required(key: str, kind: type | tuple[type, ...]) -> object:
        value = orden.get(key)
        if value is None or value == "" or not isinstance(value, kind) or isinstance(value, bool):
            fail(path, f"orden has no valid {key} ({value!r})", line=line, element=element)
        return value

    clave = str(required("claveRastreo", str)).strip()
    estado = str(required("estado", str))
    if estado not in STP_STATUSES:
        fail(path, f"unknown STP estado {estado!r}", line=line, element=element)
    status = STP_STATUSES[estado]
    tipo_pago = orden.get("tipoPago")
    if status == "settled" and (
        tipo_pago in REFUND_PAYMENT_TYPES or orden.get("causaDevolucion") is not None
    ):
        # A devolución arriving settled is an earlier transfer of ours coming back, not a payment.
        status = "returned"
    monto = money(path, required("monto", (int, Decimal)), "MXN", line=line, element=element)
    if monto < 0:
        fail(path, f"monto {monto} is negative", line=line, element=element)
    fecha = _fecha(path, required("fechaOperacion", (str, int)), line, element)
    booked_at: datetime | None = None
    if orden.get("tsLiquidacion") is not None:
        try:
            booked_at = from_epoch(orden["tsLiquidacion"], millis=True)
        except (TypeError, ValueError, OverflowError):
            fail(
                path,
                f"tsLiquidacion {orden['tsLiquidacion']!r} is not an epoch in ms",
                line=line,
                element=element,
            )
    cuenta = optional_text(orden.get("cuentaOrdenante"))
    referencia = orden.get("referenciaNumerica")
    return {
        "partner_id": partner_id,
        "rail": "codi" if tipo_pago in CODI_PAYMENT_TYPES else "spei",
        "external_id": clave,
        "value_date": fecha,
        "booking_date": fecha,
        "booked_at": booked_at,
        "amount": monto,
        "fee": None,
        "currency": "MXN",
        "reference": optional_text(referencia),
        "description": optional_text(orden.get("conceptoPago")),
        "account": optional_text(orden.get("cuentaBeneficiario")),
        "counterparty_account": cuenta,
        "counterparty_account_valid": clabe_check(
            cuenta, declared=orden.get("tipoCuentaOrdenante") == CLABE_ACCOUNT_TYPE
        ),
        "status": status,
        "statement_id": None,
        "source_file": path.name,
        "source_line": line,
        "source_element": element,
    }


def _fecha(path: Path, value: object, line: int, element: str) -> date:
    try:
        return datetime.strptime(str(value), "%Y%m%d").date()
    except ValueError:
        fail(path, f"fechaOperacion {value!r} is not a YYYYMMDD date", line=line, element=element)
