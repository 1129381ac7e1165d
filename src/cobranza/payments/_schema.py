"""The ``partner_transactions`` table: what every partner-file reader returns.

Documented for people in ``docs/payments-ingestion.md``; this module is the executable version.

Money is ``decimal128(20, 5)``, not the contract's ``decimal(18, 2)``: ISO 20022 amounts carry up to
five decimals (``ActiveOrHistoricCurrencyAndAmount`` is 18 digits, 5 of them decimals) and MT940
amounts up to fourteen integer digits, and some currencies have three or four minor digits (KWD,
CLF). A reader never rounds: an amount is kept exactly, and one with more significant decimals
than its currency has is rejected as malformed. Casting MXN amounts to the contract's
``decimal(18, 2)`` downstream is therefore always exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

__all__ = [
    "MONEY_TYPE",
    "PARTNER_TRANSACTIONS",
    "RAILS",
    "STATUSES",
    "partner_transactions_table",
]

#: Exact money: 15 integer digits and 5 decimals (see the module docstring for why not (18, 2)).
MONEY_TYPE = pa.decimal128(20, 5)

#: Normalised outcome of a transaction, whatever the partner calls it.
STATUSES = ("settled", "pending", "returned", "rejected", "reversed")

#: The rail a transaction came by. ``oxxo`` is over-the-counter cash at a store network (OXXO,
#: 7-Eleven, pharmacies, bank ATMs) collected by a cash processor; ``swift_mt940`` covers MT940 and
#: MT942 bank statements; ``camt`` ISO 20022 camt.052/053/054 reports.
RAILS = (
    "spei", "oxxo", "card", "codi", "direct_debit", "cash", "swift_mt940", "camt", "other",
)  # fmt: skip


def _field(name: str, type_: pa.DataType, description: str, *, nullable: bool) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"description": description})


PARTNER_TRANSACTIONS = pa.schema(
    [
        _field("partner_id", pa.string(), "Who sent the file (given by the caller).",
               nullable=False),
        _field("rail", pa.string(), "Payment rail, one of RAILS.", nullable=False),
        _field("external_id", pa.string(),
               "The partner's identifier of the transaction (clave de rastreo, charge id, "
               "AcctSvcrRef...); positional when the format has none.", nullable=False),
        _field("value_date", pa.date32(), "Date the funds are available (fecha de operación).",
               nullable=True),
        _field("booking_date", pa.date32(), "Date the partner booked the transaction.",
               nullable=True),
        _field("booked_at", pa.timestamp("us", tz="UTC"),
               "Moment the partner booked or settled it, when the source gives a time.",
               nullable=True),
        _field("amount", MONEY_TYPE, "Signed amount: credits (money in) positive, debits "
               "negative.", nullable=False),
        _field("fee", MONEY_TYPE, "Charges the partner took for it, positive; null when the "
               "source does not say.", nullable=True),
        _field("currency", pa.string(), "ISO 4217 code of amount and fee.", nullable=False),
        _field("reference", pa.string(), "Payment reference used to match a loan (referencia "
               "numérica, OXXO reference, creditor reference, :61: customer reference).",
               nullable=True),
        _field("description", pa.string(), "Free text of the payment (concepto, :86:, Ustrd).",
               nullable=True),
        _field("account", pa.string(), "Our account it was booked on: receiving CLABE (which "
               "often identifies the debtor), statement account.", nullable=True),
        _field("counterparty_account", pa.string(), "Account of the other party (CLABE, card, "
               "IBAN...).", nullable=True),
        _field("counterparty_account_valid", pa.bool_(), "CLABE check result when the account "
               "is a CLABE (18 digits, or declared one); null when it is not a CLABE.",
               nullable=True),
        _field("status", pa.string(), "Normalised status, one of STATUSES.", nullable=False),
        _field("statement_id", pa.string(), "Grouping in the source: statement or report id, "
               "Conekta order id.", nullable=True),
        _field("source_file", pa.string(), "Name of the file the row was read from.",
               nullable=False),
        _field("source_line", pa.int32(), "1-based line where the record starts.",
               nullable=True),
        _field("source_element", pa.string(), "Path of the record inside the file (XML element "
               "path, JSON/YAML key path).", nullable=True),
    ]
)  # fmt: skip


def partner_transactions_table(
    rows: Iterable[Mapping[str, Any]], *, metadata: Mapping[str, str] | None = None
) -> pa.Table:
    """Build a ``partner_transactions`` table from row dicts (missing keys are null).

    ``rail`` and ``status`` must be in :data:`RAILS` and :data:`STATUSES`: readers map partner
    codes before building the table, so a value outside them is a bug, not bad input.
    """
    rows = list(rows)
    for row in rows:
        if row["status"] not in STATUSES:
            raise ValueError(f"status {row['status']!r} is not one of {STATUSES}")
        if row["rail"] not in RAILS:
            raise ValueError(f"rail {row['rail']!r} is not one of {RAILS}")
    columns = {name: [row.get(name) for row in rows] for name in PARTNER_TRANSACTIONS.names}
    table = pa.Table.from_pydict(columns, schema=PARTNER_TRANSACTIONS)
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    return table
