"""Data contract v1: the tables of a portfolio, their columns, types, keys and references.

Documented for people in ``docs/data-contract.md``; this module is the executable version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import ibis.expr.datatypes as dt

CONTRACT_VERSION = "1"

Kind = Literal["string", "integer", "money", "rate", "date", "timestamp", "boolean"]

#: Engine type of each kind of column. Money is exact: DECIMAL(18,2), never float.
DTYPES: dict[str, dt.DataType] = {
    "string": dt.string,
    "integer": dt.int32,
    "money": dt.Decimal(18, 2),
    "rate": dt.Decimal(12, 6),
    "date": dt.date,
    "timestamp": dt.Timestamp(timezone="UTC"),
    "boolean": dt.boolean,
}

MONEY = DTYPES["money"]

STATES = (
    "AGU", "BCN", "BCS", "CAM", "CHP", "CHH", "CMX", "COA", "COL", "DUR", "GUA", "GRO", "HID",
    "JAL", "MEX", "MIC", "MOR", "NAY", "NLE", "OAX", "PUE", "QUE", "ROO", "SLP", "SIN", "SON",
    "TAB", "TAM", "TLA", "VER", "YUC", "ZAC",
)  # fmt: skip
PRODUCTS = ("installment", "revolving")
FREQUENCIES = ("weekly", "biweekly", "monthly")
CNBV_TYPES = ("B", "A", "N", "P", "O", "R")
PAYMENT_CHANNELS = ("spei", "oxxo", "card", "direct_debit", "codi", "cash", "other")
PAYMENT_STATUSES = ("settled", "pending", "reversed")
CONTACT_CHANNELS = ("sms", "email", "whatsapp", "push", "ivr", "call", "field", "letter", "agency")
CONTACT_OUTCOMES = (
    "delivered", "failed", "no_answer", "right_party", "wrong_party", "promise", "refused",
    "dispute",
)  # fmt: skip


@dataclass(frozen=True)
class Column:
    """One column of a contract table.

    ``minimum`` with ``exclusive`` states the range of a number; ``pattern`` is a regular
    expression a string must match in full; ``personal`` marks personal data, never printed.
    """

    name: str
    kind: Kind
    description: str
    required: bool = True
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    minimum: int | None = None
    exclusive: bool = False
    pattern: str | None = None
    default: object = None
    personal: bool = False
    #: Values hold several items joined by this separator (each item checked against allowed).
    separator: str | None = None

    @property
    def dtype(self) -> dt.DataType:
        return DTYPES[self.kind]


@dataclass(frozen=True)
class Reference:
    """``columns`` of this table must exist as ``target_columns`` of ``target``."""

    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = True
    references: tuple[Reference, ...] = field(default=())

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _money(name: str, description: str, *, positive: bool = False, **kw: object) -> Column:
    return Column(name, "money", description, minimum=0, exclusive=positive, **kw)  # type: ignore[arg-type]


CUSTOMERS = Table(
    "customers",
    "One row per debtor.",
    (
        Column("customer_id", "string", "Unique customer identifier."),
        Column("state", "string", "ISO 3166-2:MX subdivision code without the MX- prefix.",
               allowed=STATES),
        Column("postal_code", "string", "Código postal, 5 digits.", required=False,
               nullable=True, pattern=r"[0-9]{5}"),
        Column("birth_date", "date", "Date of birth.", required=False, nullable=True),
        Column("monthly_income", "money", "Declared monthly income, MXN.", required=False,
               nullable=True, minimum=0),
        Column("phone", "string", "Phone number (personal data).", required=False,
               nullable=True, personal=True),
        Column("email", "string", "E-mail address (personal data).", required=False,
               nullable=True, personal=True),
        Column("opt_out_channels", "string", "Comma-separated contact channels refused.",
               required=False, nullable=True, allowed=CONTACT_CHANNELS, separator=","),
        Column("do_not_contact", "boolean", "The debtor must not be contacted.",
               required=False, default=False),
    ),
    key=("customer_id",),
)  # fmt: skip

LOANS = Table(
    "loans",
    "One row per loan or credit line.",
    (
        Column("loan_id", "string", "Unique loan identifier."),
        Column("customer_id", "string", "The debtor (customers.customer_id)."),
        Column("product", "string", "installment or revolving.", allowed=PRODUCTS),
        Column("opened_on", "date", "Disbursement or account-opening date."),
        _money("principal", "Amount financed; for revolving, the credit limit.", positive=True),
        Column("annual_rate", "rate", "Annual interest rate, 0.45 = 45 %.", minimum=0),
        Column("frequency", "string", "Billing periodicity.", allowed=FREQUENCIES),
        Column("term", "integer", "Number of installments; required for installment loans.",
               required=False, nullable=True, minimum=1),
        Column("cnbv_type", "string", "CNBV consumer type; default P (installment), R (revolving).",
               required=False, nullable=True, allowed=CNBV_TYPES),
        Column("written_off_on", "date", "Write-off date.", required=False, nullable=True),
        Column("closed_on", "date", "Closing date.", required=False, nullable=True),
    ),
    key=("loan_id",),
    references=(Reference(("customer_id",), "customers", ("customer_id",)),),
)  # fmt: skip

INSTALLMENTS = Table(
    "installments",
    "The payment schedule; for revolving accounts one row per statement (minimum payment).",
    (
        Column("loan_id", "string", "The loan (loans.loan_id)."),
        Column("seq", "integer", "Installment number, from 1, unique per loan.", minimum=1),
        Column("due_date", "date", "Due date, increasing with seq."),
        _money("principal_due", "Principal due."),
        _money("interest_due", "Interest due."),
        _money("fees_due", "Fees due.", required=False, default=0),
        _money("statement_balance", "Revolving statement balance.", required=False,
               nullable=True),
    ),
    key=("loan_id", "seq"),
    references=(Reference(("loan_id",), "loans", ("loan_id",)),),
)  # fmt: skip

PAYMENTS = Table(
    "payments",
    "Money received from debtors.",
    (
        Column("payment_id", "string", "Unique payment identifier."),
        Column("loan_id", "string", "The loan paid (loans.loan_id)."),
        Column("paid_at", "timestamp", "When paid; without an offset, America/Mexico_City time."),
        _money("amount", "Amount paid.", positive=True),
        Column("channel", "string", "Payment channel.", allowed=PAYMENT_CHANNELS),
        Column("partner_id", "string", "Payment partner.", required=False, nullable=True),
        Column("reference", "string", "Payment reference.", required=False, nullable=True),
        Column("status", "string", "settled, pending or reversed.", required=False,
               allowed=PAYMENT_STATUSES, default="settled"),
    ),
    key=("payment_id",),
    references=(Reference(("loan_id",), "loans", ("loan_id",)),),
)  # fmt: skip

CONTACTS = Table(
    "contacts",
    "Collection contact attempts.",
    (
        Column("contact_id", "string", "Unique contact identifier."),
        Column("loan_id", "string", "The loan (loans.loan_id)."),
        Column("channel", "string", "Contact channel.", allowed=CONTACT_CHANNELS),
        Column("attempted_at", "timestamp", "When attempted."),
        Column("outcome", "string", "Result of the attempt.", allowed=CONTACT_OUTCOMES),
        Column("agent_id", "string", "Agent who made it.", required=False, nullable=True),
        _money("cost", "Cost of the attempt.", required=False, nullable=True),
    ),
    key=("contact_id",),
    required=False,
    references=(Reference(("loan_id",), "loans", ("loan_id",)),),
)  # fmt: skip

PROMISES = Table(
    "promises",
    "Promises to pay.",
    (
        Column("promise_id", "string", "Unique promise identifier."),
        Column("loan_id", "string", "The loan (loans.loan_id)."),
        Column("made_at", "timestamp", "When the promise was made."),
        Column("due_on", "date", "Date by which the debtor promised to pay."),
        _money("amount", "Amount promised.", positive=True),
    ),
    key=("promise_id",),
    required=False,
    references=(Reference(("loan_id",), "loans", ("loan_id",)),),
)  # fmt: skip

#: Every table of the contract, in dependency order (a table only references earlier ones).
TABLES: dict[str, Table] = {
    t.name: t for t in (CUSTOMERS, LOANS, INSTALLMENTS, PAYMENTS, CONTACTS, PROMISES)
}
