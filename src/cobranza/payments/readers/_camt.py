"""ISO 20022 bank-to-customer cash management: camt.052 (intraday report), camt.053 (statement),
camt.054 (debit/credit notification), any version.

Parsed with lxml hardened against hostile XML: no DTD is loaded, entities are not resolved, the
network is never reached, and a document that declares a DOCTYPE is refused outright (there is
no legitimate use for one in camt, and it is how entity-expansion attacks arrive).

One row per ``Ntry`` (entry): amounts are the entry's booked total. Errors name the element by a
readable path (``Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/Amt``) and its source line.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
from lxml import etree

from cobranza.payments._schema import partner_transactions_table
from cobranza.payments.readers._common import (
    MEXICO_CITY,
    clabe_check,
    currency_code,
    fail,
    money,
    to_utc,
)

__all__ = ["CAMT_STATUSES", "read_camt"]

#: Entry status (``Sts``, or ``Sts/Cd`` from version 7 on) to normalised status.
CAMT_STATUSES = {"BOOK": "settled", "PDNG": "pending", "INFO": "pending", "FUTR": "pending"}

_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.\d{2}")
#: Message element and record element of each message type.
_MESSAGES = {
    "052": ("BkToCstmrAcctRpt", "Rpt"),
    "053": ("BkToCstmrStmt", "Stmt"),
    "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
    huge_tree=False, remove_comments=True, remove_pis=True,
)  # fmt: skip
_FRACTION = re.compile(r"(\.\d{6})\d+")


def read_camt(path: Path, partner_id: str, *, tz: ZoneInfo = MEXICO_CITY) -> pa.Table:
    """Read a camt.052/053/054 file into ``partner_transactions``.

    ``tz`` is the zone of date-times written without an offset. Raises PartnerFileError naming
    the element and line when the document is not well-formed camt or an entry is incomplete.
    """
    try:
        root = etree.fromstring(path.read_bytes(), _PARSER)
    except etree.XMLSyntaxError as exc:
        fail(path, f"not well-formed XML: {exc.msg}", line=exc.lineno)
    if root.getroottree().docinfo.doctype:
        fail(path, "a DOCTYPE declaration is refused in camt files", line=1)
    match = _NAMESPACE.fullmatch(etree.QName(root).namespace or "")
    if _local(root) != "Document" or match is None:
        fail(
            path,
            f"not an ISO 20022 camt.052/053/054 document (root {root.tag})",
            line=root.sourceline,
            element=_local(root),
        )
    message_name, record_name = _MESSAGES[match.group(1)]
    # Version 1 suffixed the message element with its version (BkToCstmrAcctRptV01).
    message = _child(root, message_name)
    if message is None:
        message = next(
            (
                c
                for c in root
                if isinstance(c.tag, str) and re.fullmatch(rf"{message_name}V\d\d", _local(c))
            ),
            None,
        )
    if message is None:
        fail(
            path,
            f"camt.{match.group(1)} document has no {message_name}",
            line=root.sourceline,
            element="Document",
        )
    if _child(message, "GrpHdr") is None or not _text(message, "GrpHdr", "MsgId"):
        fail(path, "message has no GrpHdr/MsgId", line=message.sourceline, element=_path(message))
    records = _children(message, record_name)
    if not records:
        fail(
            path,
            f"camt.{match.group(1)} message contains no {record_name}: nothing says the "
            "file is complete",
            line=message.sourceline,
            element=_path(message),
        )
    rows: list[dict[str, object]] = []
    for record in records:
        rows.extend(_record_rows(path, partner_id, record, tz))
    return partner_transactions_table(rows)


def _record_rows(
    path: Path, partner_id: str, record: etree._Element, tz: ZoneInfo
) -> list[dict[str, object]]:
    record_id = _text(record, "Id")
    if not record_id:
        fail(path, f"{_local(record)} has no Id", line=record.sourceline, element=_path(record))
    account = _account(_child(record, "Acct"))
    rows = []
    for index, entry in enumerate(_children(record, "Ntry"), 1):
        rows.append(_entry_row(path, partner_id, entry, record_id, account, index, tz))
    return rows


def _entry_row(
    path: Path,
    partner_id: str,
    entry: etree._Element,
    record_id: str,
    account: str | None,
    index: int,
    tz: ZoneInfo,
) -> dict[str, object]:
    where = _path(entry)

    def bad(reason: str, element: etree._Element | None = None) -> None:
        target = entry if element is None else element
        fail(path, reason, line=target.sourceline, element=_path(target))

    amount_el = _child(entry, "Amt")
    if amount_el is None:
        bad("entry has no Amt")
    currency = currency_code(
        path, amount_el.get("Ccy"), line=amount_el.sourceline, element=_path(amount_el)
    )
    amount = money(
        path, amount_el.text or "", currency, line=amount_el.sourceline, element=_path(amount_el)
    )
    if amount < 0:
        bad(f"Amt {amount} is negative: the direction belongs in CdtDbtInd", amount_el)
    direction = _text(entry, "CdtDbtInd")
    if direction not in ("CRDT", "DBIT"):
        bad(f"CdtDbtInd {direction!r} is neither CRDT nor DBIT")
    status_code = _text(entry, "Sts", "Cd") or _text(entry, "Sts", "Prtry") or _text(entry, "Sts")
    if status_code not in CAMT_STATUSES:
        bad(f"entry status {status_code!r} is not one of {sorted(CAMT_STATUSES)}")
    status = CAMT_STATUSES[status_code]
    details = _children(_child(entry, "NtryDtls"), "TxDtls")
    if _text(entry, "RvslInd") == "true":
        status = "reversed"
    elif any(_child(d, "RtrInf") is not None for d in details):
        status = "returned"
    booking_date, booked_at = _when(path, _child(entry, "BookgDt"), tz)
    value_date, _ = _when(path, _child(entry, "ValDt"), tz)
    counterparty = _counterparty(details, direction)
    return {
        "partner_id": partner_id,
        "rail": "camt",
        "external_id": _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
        or next((u for d in details if (u := _text(d, "Refs", "UETR"))), None)
        or f"{record_id}/{index}",
        "value_date": value_date,
        "booking_date": booking_date,
        "booked_at": booked_at,
        "amount": amount if direction == "CRDT" else -amount,
        "fee": _fee(path, entry, currency),
        "currency": currency,
        "reference": _reference(details),
        "description": _description(entry, details),
        "account": account,
        "counterparty_account": counterparty,
        "counterparty_account_valid": clabe_check(counterparty),
        "status": status,
        "statement_id": record_id,
        "source_file": path.name,
        "source_line": entry.sourceline,
        "source_element": where,
    }  # fmt: skip


def _when(
    path: Path, element: etree._Element | None, tz: ZoneInfo
) -> tuple[date | None, datetime | None]:
    """(date, UTC moment) of a ``Dt`` or ``DtTm`` choice; the moment only when a time is given."""
    if element is None:
        return None, None
    day = _child(element, "Dt")
    moment = _child(element, "DtTm")
    try:
        if day is not None:
            return date.fromisoformat((day.text or "").strip()), None
        if moment is not None:
            parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", (moment.text or "").strip()))
            local = parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
            return local.date(), to_utc(local)
    except ValueError:
        target = day if day is not None else moment
        fail(
            path,
            f"{_local(target)} {target.text!r} is not an ISO 8601 date",
            line=target.sourceline,
            element=_path(target),
        )
    fail(
        path,
        f"{_local(element)} has neither Dt nor DtTm",
        line=element.sourceline,
        element=_path(element),
    )


def _fee(path: Path, entry: etree._Element, currency: str) -> Decimal | None:
    """Sum of the entry's charges; None when it states none or some are in another currency."""
    # Version 2 lists Chrgs/Amt; later versions Chrgs/Rcrd/Amt.
    amounts: list[etree._Element] = []
    for charges in _children(entry, "Chrgs"):
        amounts += _children(charges, "Amt")
        amounts += [a for r in _children(charges, "Rcrd") if (a := _child(r, "Amt")) is not None]
    if not amounts:
        return None
    total = Decimal(0)
    for element in amounts:
        value = money(
            path, element.text or "", currency, line=element.sourceline, element=_path(element)
        )
        if element.get("Ccy") != currency and value != 0:
            return None
        total += value
    return total


def _reference(details: list[etree._Element]) -> str | None:
    for detail in details:
        for strd in _children(_child(detail, "RmtInf"), "Strd"):
            ref = _text(strd, "CdtrRefInf", "Ref")
            if ref:
                return ref
    for detail in details:
        end_to_end = _text(detail, "Refs", "EndToEndId")
        if end_to_end and end_to_end != "NOTPROVIDED":
            return end_to_end
    return None


def _description(entry: etree._Element, details: list[etree._Element]) -> str | None:
    parts = [(u.text or "").strip() for d in details
             for u in _children(_child(d, "RmtInf"), "Ustrd")]  # fmt: skip
    parts = [p for p in parts if p] or [_text(entry, "AddtlNtryInf") or ""]
    text = " ".join(" ".join(parts).split())
    return text or None


def _counterparty(details: list[etree._Element], direction: str) -> str | None:
    # Money in comes from the debtor; money out goes to the creditor.
    party = "DbtrAcct" if direction == "CRDT" else "CdtrAcct"
    for detail in details:
        found = _account(_child(_child(detail, "RltdPties"), party))
        if found:
            return found
    return None


def _account(acct: etree._Element | None) -> str | None:
    return _text(acct, "Id", "IBAN") or _text(acct, "Id", "Othr", "Id") or None


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _child(element: etree._Element | None, name: str) -> etree._Element | None:
    if element is None:
        return None
    return next((c for c in element if isinstance(c.tag, str) and _local(c) == name), None)


def _children(element: etree._Element | None, name: str) -> list[etree._Element]:
    if element is None:
        return []
    return [c for c in element if isinstance(c.tag, str) and _local(c) == name]


def _text(element: etree._Element | None, *names: str) -> str | None:
    for name in names:
        element = _child(element, name)
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _path(element: etree._Element) -> str:
    """Readable path: local names, with a 1-based index where siblings share the name."""
    parts = []
    while element is not None:
        name = _local(element)
        parent = element.getparent()
        if parent is not None and len(_children(parent, name)) > 1:
            name += f"[{_children(parent, name).index(element) + 1}]"
        parts.append(name)
        element = parent
    return "/".join(reversed(parts))
