"""Generic CSV exports, read through a column mapping written in YAML.

The mapping (:class:`CsvMapping`) names the column of each ``partner_transactions`` field and how
to read dates, numbers and statuses. A mistake in the mapping is the user's configuration error
(:class:`~cobranza.ConfigError`, naming the YAML line); a bad row is the partner's
(:class:`PartnerFileError`, naming the CSV line).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal, get_args

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cobranza.payments._schema import RAILS, STATUSES, partner_transactions_table
from cobranza.payments.readers._common import (
    clabe_check,
    currency_code,
    fail,
    load_model,
    money,
    read_text,
    to_utc,
    zone,
)

__all__ = ["CsvColumns", "CsvMapping", "load_csv_mapping", "read_csv"]

Status = Literal["settled", "pending", "returned", "rejected", "reversed"]
Rail = Literal["spei", "oxxo", "card", "codi", "direct_debit", "cash", "swift_mt940", "camt",
               "other"]  # fmt: skip
if set(get_args(Status)) != set(STATUSES) or set(get_args(Rail)) != set(RAILS):
    raise ImportError("CsvMapping's literals drifted from the schema's STATUSES or RAILS")


class CsvColumns(BaseModel):
    """The CSV header of each field; only ``external_id`` and ``amount`` are required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    external_id: str
    amount: str
    value_date: str | None = None
    booking_date: str | None = None
    booked_at: str | None = None
    fee: str | None = None
    currency: str | None = None
    reference: str | None = None
    description: str | None = None
    account: str | None = None
    counterparty_account: str | None = None
    status: str | None = None
    #: A column saying credit or debit (``direction_map``), when amounts are unsigned.
    direction: str | None = None


class CsvMapping(BaseModel):
    """How to read one partner's CSV export."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rail: Rail
    columns: CsvColumns
    #: Currency of every row when there is no currency column.
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    date_format: str = "%Y-%m-%d"
    datetime_format: str = "%Y-%m-%d %H:%M:%S"
    #: Zone of date-times written without an offset.
    timezone: str = "America/Mexico_City"
    decimal_separator: Literal[".", ","] = "."
    thousands_separator: Literal["", ",", ".", " ", "'"] = ""
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"
    #: Partner status value -> normalised status; required with a status column.
    status_map: dict[str, Status] = Field(default_factory=dict)
    #: Status of every row when there is no status column.
    default_status: Status = "settled"
    #: Direction value -> credit (money in) or debit; required with a direction column.
    direction_map: dict[str, Literal["credit", "debit"]] = Field(default_factory=dict)

    @field_validator("status_map", "direction_map", mode="before")
    @classmethod
    def _text_keys(cls, value: object) -> object:
        # The values partners write (01, 2) are text in the CSV, whatever YAML made of them.
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            "".encode(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CsvMapping:
        if self.decimal_separator == self.thousands_separator:
            raise ValueError("decimal_separator and thousands_separator must differ")
        if self.columns.currency is None and self.currency is None:
            raise ValueError("give either columns.currency or a constant currency")
        if self.columns.status is not None and not self.status_map:
            raise ValueError("columns.status needs a status_map")
        if self.columns.direction is not None and not self.direction_map:
            raise ValueError("columns.direction needs a direction_map")
        return self


def load_csv_mapping(path: Path) -> CsvMapping:
    """Read and validate a mapping file; ConfigError names the YAML line of each problem."""
    return load_model(path, CsvMapping, what="mapping")


def read_csv(path: Path, partner_id: str, mapping: CsvMapping | Path) -> pa.Table:
    """Read a CSV export with ``mapping`` into ``partner_transactions``."""
    if isinstance(mapping, Path):
        mapping = load_csv_mapping(mapping)
    text = read_text(path, mapping.encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        fail(path, "empty file: no header line", line=1)
    except csv.Error as exc:
        fail(path, f"not valid CSV: {exc}", line=reader.line_num)
    index = {name.strip(): i for i, name in enumerate(header)}
    for field, column in mapping.columns.model_dump().items():
        if column is not None and column not in index:
            fail(path, f"column {column!r} (mapping columns.{field}) is not in the header", line=1)
    rows: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    start = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            fail(path, f"not valid CSV: {exc}", line=start)
        if any(cell.strip() for cell in record):
            if len(record) != len(header):
                fail(path, f"{len(record)} fields where the header has {len(header)}", line=start)
            row = _row(path, partner_id, mapping, index, record, start)
            external_id = str(row["external_id"])
            if external_id in seen:
                fail(
                    path,
                    f"external id {external_id!r} already on line {seen[external_id]}",
                    line=start,
                )
            seen[external_id] = start
            rows.append(row)
        start = reader.line_num + 1
    return partner_transactions_table(rows)


def _row(
    path: Path,
    partner_id: str,
    mapping: CsvMapping,
    index: dict[str, int],
    record: list[str],
    line: int,
) -> dict[str, object]:
    columns = mapping.columns

    def cell(field: str) -> str | None:
        column = getattr(columns, field)
        if column is None:
            return None
        return record[index[column]].strip() or None

    external_id = cell("external_id")
    if external_id is None:
        fail(path, f"empty {columns.external_id!r} (external_id)", line=line)
    currency = currency_code(path, cell("currency") or mapping.currency, line=line)
    amount = _amount(path, mapping, cell("amount"), currency, line, columns.amount)
    if columns.direction is not None:
        direction = mapping.direction_map.get(cell("direction") or "")
        if direction is None:
            fail(
                path,
                f"{columns.direction!r} value {cell('direction')!r} is not in direction_map",
                line=line,
            )
        if amount < 0:
            fail(path, "amount is signed although a direction column gives the sign", line=line)
        amount = amount if direction == "credit" else -amount
    fee_text = cell("fee")
    status = mapping.default_status
    if columns.status is not None:
        found = mapping.status_map.get(cell("status") or "")
        if found is None:
            fail(path, f"status {cell('status')!r} is not in status_map", line=line)
        status = found
    counterparty = cell("counterparty_account")
    return {
        "partner_id": partner_id,
        "rail": mapping.rail,
        "external_id": external_id,
        "value_date": _date(path, mapping, cell("value_date"), line, "value_date"),
        "booking_date": _date(path, mapping, cell("booking_date"), line, "booking_date"),
        "booked_at": _moment(path, mapping, cell("booked_at"), line),
        "amount": amount,
        "fee": None
        if fee_text is None
        else _amount(path, mapping, fee_text, currency, line, str(columns.fee)),
        "currency": currency,
        "reference": cell("reference"),
        "description": cell("description"),
        "account": cell("account"),
        "counterparty_account": counterparty,
        "counterparty_account_valid": clabe_check(counterparty),
        "status": status,
        "statement_id": None,
        "source_file": path.name,
        "source_line": line,
        "source_element": None,
    }


def _amount(
    path: Path, mapping: CsvMapping, text: str | None, currency: str, line: int, column: str
) -> Decimal:
    if text is None:
        fail(path, f"empty {column!r}", line=line)
    decimal_sep, thousands_sep = mapping.decimal_separator, mapping.thousands_separator
    # Thousands separators must group by three: '10.5' is not 105 when '.' groups thousands.
    whole = rf"\d{{1,3}}(?:{re.escape(thousands_sep)}\d{{3}})+|\d+" if thousands_sep else r"\d+"
    if not re.fullmatch(rf"[-+]?(?:{whole})(?:{re.escape(decimal_sep)}\d+)?", text):
        fail(
            path,
            f"{column!r} value {text!r} is not a number written with decimal separator "
            f"{decimal_sep!r} and thousands separator {thousands_sep!r}",
            line=line,
        )
    plain = text.replace(thousands_sep, "") if thousands_sep else text
    return money(path, plain.replace(decimal_sep, "."), currency, line=line)


def _date(path: Path, mapping: CsvMapping, text: str | None, line: int, field: str) -> date | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, mapping.date_format).date()
    except ValueError:
        fail(path, f"{field} {text!r} does not match {mapping.date_format!r}", line=line)


def _moment(path: Path, mapping: CsvMapping, text: str | None, line: int) -> datetime | None:
    if text is None:
        return None
    try:
        parsed = datetime.strptime(text, mapping.datetime_format)
    except ValueError:
        fail(path, f"booked_at {text!r} does not match {mapping.datetime_format!r}", line=line)
    return to_utc(parsed, zone(mapping.timezone))
