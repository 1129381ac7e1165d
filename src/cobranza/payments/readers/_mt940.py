"""SWIFT MT940 statements and MT942 interim reports, parsed with the ``mt-940`` library.

``mt-940`` is lenient by design: it skips what it does not recognise, so a file that is not a
statement at all parses to nothing and a mistyped tag silently changes the account. This reader
therefore checks the structure first, tag by tag with line numbers, and hands the library only
statements whose every field it accepts:

* MT940: ``:20: [:21:] :25: :28C: [:13D:] :60F|M: {:61: [:86:]} :62F|M: [:64:] {:65:} [:86:]``
* MT942: ``:20: [:21:] :25: :28C: :34F: [:34F:] :13D: {:61: [:86:]} [:90D:] [:90C:] [:86:]``

(``:NS:`` non-SWIFT fields may appear anywhere; some banks split one ``:86:`` into several.) A
structured ``:86:`` (``166?00...``, the German GVC layout) must use ``?`` only to open its
two-digit subfields: one that does not cannot be split reliably, and the subfields carry the
payment reference used to match a loan.

A statement whose balances do not add up (opening + lines ≠ closing), or an MT942 whose
``:90D:``/``:90C:`` totals differ from its lines, is read but carries a warning in the table's
metadata: test files from banks are often edited, and the decision to refuse such a statement
belongs to the caller (``strict=True``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import mt940
import pyarrow as pa

from cobranza.payments._schema import partner_transactions_table
from cobranza.payments.readers._common import WARNINGS_KEY, clabe_check, fail, money

__all__ = ["read_mt940"]

#: Parse like the library's next major release: a reversal of a credit (RC) is negative, ``:86:``
#: details are never truncated, a byte-order mark is dropped.
OPTIONS = mt940.Options.all()

_TAG_LINE = re.compile(r"^:(?P<id>[0-9]{2}|NS)(?P<sub>[A-Z])?:(?P<value>.*)$")
_KNOWN = {13, 20, 21, 25, 28, 34, 60, 61, 62, 64, 65, 86, 90, "NS"}
#: The SWIFT envelope around block 4 (``{1:F01...}{2:O940...}{4:`` ... ``-}{5:...}``).
_ENVELOPE = re.compile(r"^(\{[1-5]:.*|-\}.*|-)$")
_STRUCTURED_86 = re.compile(r"^[0-9]{3}\?[0-9]{2}")
#: Transmission control characters some banks wrap a file in (SOH, ETX).
_CONTROL = "\x01\x02\x03\x04"

_MT940_NEXT: dict[str, set[str]] = {
    "start": {"20"}, "20": {"21", "25"}, "21": {"25"}, "25": {"28"}, "28": {"13", "60"},
    "13": {"60"}, "60": {"61", "62"}, "61": {"86", "61", "62"}, "61.86": {"86", "61", "62"},
    "62": {"64", "65", "86", "end"}, "64": {"65", "86", "end"}, "65": {"65", "86", "end"},
    "62.86": {"86", "end"},
}  # fmt: skip
_MT942_NEXT: dict[str, set[str]] = {
    "start": {"20"}, "20": {"21", "25"}, "21": {"25"}, "25": {"28"}, "28": {"34"},
    "34": {"34", "13"}, "13": {"61", "90", "86", "end"}, "61": {"86", "61", "90", "end"},
    "61.86": {"86", "61", "90", "end"}, "90": {"90", "86", "end"}, "62.86": {"86", "end"},
}  # fmt: skip


@dataclass
class _Tag:
    id: str  # "61", "NS"
    sub: str  # "F" of :60F:, "" when none
    line: int
    lines: list[str] = field(default_factory=list)
    #: Last physical line of the field (continuations may skip blank lines).
    end: int = 0

    @property
    def name(self) -> str:
        return f":{self.id}{self.sub}:"

    @property
    def value(self) -> str:
        return "\n".join(self.lines)


def read_mt940(path: Path, partner_id: str, *, strict: bool = False) -> pa.Table:
    """Read an MT940/MT942 file into ``partner_transactions``.

    Raises PartnerFileError, naming the line, when the file is not a complete statement, a field
    does not parse, or fields are out of order; with ``strict`` also when balances do not add up.
    """
    text = _decode(path.read_bytes())
    lines = text.split("\n")
    tags = _scan(path, lines)
    statements = _split(path, tags)
    overrides = _dialect(text)
    rows: list[dict[str, object]] = []
    warnings: list[tuple[int, str]] = []
    for number, statement in enumerate(statements, 1):
        kind = _check_order(path, statement)
        for tag in statement:
            _check_field(path, tag, overrides)
        first, last = statement[0].line, max(t.end for t in statement)
        parsed = mt940.parse("\n".join(lines[first - 1 : last]), tags=overrides, options=OPTIONS)
        lines61 = [t.line for t in statement if t.id == "61"]
        if len(parsed) != len(lines61):  # pragma: no cover - the library changed under us
            fail(path, f"mt-940 read {len(parsed)} lines for {len(lines61)} :61:", line=first)
        warnings.extend(_statement_rows(path, partner_id, parsed, statement, kind, number, rows))
    if strict and warnings:
        fail(path, warnings[0][1], line=warnings[0][0])
    notes = [f"{path.name}, line {line}: {message}" for line, message in warnings]
    metadata = {WARNINGS_KEY: json.dumps(notes)} if notes else None
    return partner_transactions_table(rows, metadata=metadata)


def _decode(data: bytes) -> str:
    # Banks write UTF-8 or a DOS code page; cp852 (mBank's) decodes any byte, as mt-940 does.
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp852")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _scan(path: Path, lines: list[str]) -> list[_Tag]:
    """Split the text into fields with the line each starts on.

    Text before the first field, or between a message's end (``-``) and the next ``:20:``, is a
    transmission header (``ABNANL2A``, ``:940:``, control characters) and is skipped; inside a
    statement, a line that opens no known field continues the previous one (a wrapped ``:86:``,
    or a wrapped time such as ``16:26:37`` that merely looks like a field).
    """
    tags: list[_Tag] = []
    outside = True
    closed_at: int | None = None
    for number, raw in enumerate(lines, 1):
        line = raw.strip(_CONTROL).rstrip()
        match = _TAG_LINE.match(line)
        if match and (match["id"] == "NS" or int(match["id"]) in _KNOWN):
            if closed_at is not None and outside and match["id"] != "20":
                fail(
                    path,
                    f":{match['id']}{match['sub'] or ''}: after the end of the message on "
                    f"line {closed_at}, outside any statement",
                    line=number,
                )
            tags.append(_Tag(match["id"], match["sub"] or "", number, [match["value"]], number))
            outside = False
        elif not line.strip():
            continue
        elif _ENVELOPE.match(line.strip()):
            outside = True
            closed_at = number if tags else None
        elif not outside:
            tags[-1].lines.append(line)
            tags[-1].end = number
    if not tags:
        fail(path, "no MT940 field in the file", line=1)
    return tags


def _split(path: Path, tags: list[_Tag]) -> list[list[_Tag]]:
    """Group fields into statements, each opened by :20:."""
    if tags[0].id != "20":
        first = next((t for t in tags if t.id != "NS"), tags[0])
        fail(
            path,
            f"{first.name} before any :20: transaction reference: not a complete statement",
            line=first.line,
        )
    statements: list[list[_Tag]] = []
    for tag in tags:
        if tag.id == "20":
            statements.append([])
        statements[-1].append(tag)
    return statements


def _check_order(path: Path, statement: list[_Tag]) -> str:
    """Check the order of fields; return "MT940" or "MT942"."""
    ids = {t.id for t in statement}
    kind = "MT942" if "34" in ids and "60" not in ids else "MT940"
    table = _MT942_NEXT if kind == "MT942" else _MT940_NEXT
    state = "start"
    count34 = 0
    for tag in statement:
        if tag.id == "NS":
            continue
        if tag.id not in table[state]:
            fail(
                path,
                f"{tag.name} is not allowed after {_label(state)} in an {kind} statement; "
                f"expected {_expected(table[state])}",
                line=tag.line,
            )
        count34 += tag.id == "34"
        if count34 > 2:
            fail(path, "more than two :34F: floor limits", line=tag.line)
        state = f"{'61' if state in ('61', '61.86') else '62'}.86" if tag.id == "86" else tag.id
    if "end" not in table[state]:
        fail(
            path,
            f"{kind} statement ends after {_label(state)}: incomplete (expected "
            f"{_expected(table[state])})",
            line=statement[0].line,
        )
    return kind


def _label(state: str) -> str:
    return {"start": "the start", "61.86": ":86:", "62.86": ":86:"}.get(state, f":{state}:")


def _expected(ids: set[str]) -> str:
    return ", ".join(sorted("the end" if i == "end" else f":{i}:" for i in ids))


def _check_field(path: Path, tag: _Tag, overrides: dict[int | str, Any]) -> None:
    """Let the library parse one field alone, so that a failure names its line."""
    if tag.id == "86":
        # Free text, except the structured layout: there '?' only opens a subfield ?NN.
        value = tag.value.replace("\n", "")
        if _STRUCTURED_86.match(value) and re.search(r"\?(?![0-9]{2})", value):
            fail(
                path, ":86: structured details have a '?' that opens no ?NN subfield", line=tag.line
            )
        return
    scratch = mt940.models.Transactions(tags=overrides, options=OPTIONS)
    try:
        scratch.parse(f"{tag.name}{tag.value}")
    except (RuntimeError, ValueError, ArithmeticError, KeyError, TypeError) as exc:
        reason = str(exc.args[0]) if exc.args else type(exc).__name__
        fail(path, f"{tag.name} does not parse: {reason[:160]}", line=tag.line)


def _dialect(text: str) -> dict[int | str, Any]:
    # ASN Bank writes the counterparty IBAN where the customer reference goes; mt-940 has a
    # variant of the :61: parser for it, chosen here by the bank's BIC or IBAN code.
    if re.search(r"\{1:F01ASNB|^:25:NL\d\dASNB", text, re.MULTILINE):
        return {61: mt940.tags.StatementASNB()}
    return {}


def _statement_rows(
    path: Path,
    partner_id: str,
    parsed: mt940.models.Transactions,
    statement: list[_Tag],
    kind: str,
    number: int,
    rows: list[dict[str, object]],
) -> list[tuple[int, str]]:
    """Append the rows of one statement; return the problems that are warnings, not errors."""
    data = parsed.data
    head = statement[0].line
    currency = _currency(path, parsed, statement)
    reference = str(data.get("transaction_reference") or "").strip()
    statement_no = str(data.get("statement_number") or "")
    if data.get("sequence_number"):
        statement_no += f"/{data['sequence_number']}"
    statement_id = f"{reference}/{statement_no}"
    account = str(data.get("account_identification") or "").strip() or None
    lines61 = [t for t in statement if t.id == "61"]
    total = Decimal(0)
    for index, (transaction, tag) in enumerate(zip(parsed, lines61, strict=True), 1):
        tx = transaction.data
        amount = money(path, tx["amount"].amount, currency, line=tag.line)
        if tx.get("currency") not in (None, currency):
            fail(
                path,
                f":61: currency {tx['currency']} differs from the statement's {currency}",
                line=tag.line,
            )
        total += amount
        counterparty = _text(tx.get("applicant_iban"))
        rows.append({
            "partner_id": partner_id,
            "rail": "swift_mt940",
            "external_id": f"{statement_id}/{index}",
            "value_date": tx["date"],
            "booking_date": tx.get("entry_date"),
            "booked_at": None,
            "amount": amount,
            "fee": None,
            "currency": currency,
            "reference": _reference(tx),
            "description": _text(tx.get("purpose")) or _text(tx.get("transaction_details")),
            "account": account,
            "counterparty_account": counterparty,
            "counterparty_account_valid": clabe_check(counterparty),
            "status": "reversed" if str(tx.get("status", "")).upper().startswith("R")
            else "settled",
            "statement_id": statement_id,
            "source_file": path.name,
            "source_line": tag.line,
            "source_element": None,
        })  # fmt: skip
    if kind == "MT942":
        return _sums_problems(parsed, statement)
    opening = _first(data, "final_opening_balance", "intermediate_opening_balance",
                     "opening_balance")  # fmt: skip
    closing = _first(data, "final_closing_balance", "intermediate_closing_balance",
                     "closing_balance")  # fmt: skip
    if opening.amount.amount + total != closing.amount.amount:
        return [
            (
                head,
                f"statement {number} does not balance: opening {opening.amount.amount} "
                f"+ lines {total} != closing {closing.amount.amount} {currency}",
            )
        ]
    return []


def _currency(path: Path, parsed: mt940.models.Transactions, statement: list[_Tag]) -> str:
    """The statement's currency; every balance and floor limit must agree on it."""
    found: dict[str, int] = {}
    for tag in statement:
        if tag.id in ("60", "62", "64", "65", "34", "90"):
            match = re.search(
                r"[A-Z]{3}", tag.value[7:] if tag.id in ("60", "62", "64", "65") else tag.value
            )
            if match:
                found.setdefault(match.group(), tag.line)
    if len(found) != 1:
        fail(
            path,
            f"statement mixes or lacks currencies: {sorted(found) or 'none'}",
            line=statement[0].line,
        )
    currency = next(iter(found))
    if parsed.currency not in (None, currency):  # pragma: no cover - library disagrees with us
        fail(path, f"currency {parsed.currency} != {currency}", line=statement[0].line)
    return currency


def _sums_problems(
    parsed: mt940.models.Transactions, statement: list[_Tag]
) -> list[tuple[int, str]]:
    problems = []
    amounts = [t.data["amount"].amount for t in parsed]
    for tag in statement:
        if tag.id != "90":
            continue
        side = [a for a in amounts if (a < 0) == (tag.sub == "D")]
        total = parsed.data.get("sum_debit_entries" if tag.sub == "D" else "sum_credit_entries")
        if total is None:
            continue
        if int(total.number) != len(side) or abs(total.amount) != abs(sum(side, Decimal(0))):
            problems.append(
                (
                    tag.line,
                    f"{tag.name} says {total.number} entries for "
                    f"{abs(total.amount)} but the :61: lines give {len(side)} for "
                    f"{abs(sum(side, Decimal(0)))}",
                )
            )
    return problems


def _first(data: dict[str, Any], *keys: str) -> Any:
    return next(data[k] for k in keys if data.get(k) is not None)


def _reference(tx: dict[str, Any]) -> str | None:
    customer = _text(tx.get("customer_reference"))
    if customer and customer.upper() != "NONREF":
        return customer
    return _text(tx.get("end_to_end_reference"))


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None
