"""The shape every check shares, and a contract table's file prepared once for all checks.

A value passes only when it has a strict, engine-neutral syntax *and* the engine's
``try_cast`` reads it. The engines' casts disagree on loose input (DuckDB reads ``12.5`` as
the integer 13, Spark reads ``2026`` as a date), so both engines give the same report, and a
valid portfolio loads the same on both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir

from cobranza.contract._load import cast_column
from cobranza.contract._report import CheckId
from cobranza.contract._schema import Column, Table
from cobranza.engine import ROW_COLUMN

# '2026-04' as a date, 24:00, a +23:59 offset, an offset after minutes without seconds) is
# rejected. Backslash-free, because Spark SQL string literals treat backslashes as escapes.
_NUMBER = "[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)"
_DATE = "[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}"
_TIME = "([01][0-9]|2[0-3]):[0-5][0-9]"
_OFFSET = "(Z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)"
SYNTAX: dict[str, str] = {
    "integer": "^[+-]?[0-9]+$",
    "money": f"^{_NUMBER}$",
    "rate": f"^{_NUMBER}$",
    "date": f"^{_DATE}$",
    "timestamp": f"^{_DATE}([T ]{_TIME}(:[0-5][0-9]([.][0-9]{{1,9}})?{_OFFSET}?)?)?$",
    "boolean": "^(true|false|t|f|yes|no|y|n|1|0)$",  # matched in lower case
}

#: A third decimal that is not zero: 12.500 is exact money, 12.505 is not.
_SUB_CENT = "[.][0-9]{2}[0-9]*[1-9]"

_TYPE_MESSAGES: dict[str, str] = {
    "integer": "is not a whole number",
    "money": "is not a decimal number",
    "rate": "is not a decimal number",
    "date": "is not a valid date (YYYY-MM-DD)",
    "timestamp": "is not a valid timestamp (ISO 8601, like 2026-04-01T05:30:00-06:00)",
    "boolean": "is not true or false",
}

#: Longest value quoted in a message; longer ones are cut.
_SHOWN_CHARS = 60

#: Words a violation's message from the fetched ``value`` and ``extra``.
Message = Callable[[str | None, str | None], str]


# --- the checks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Check:
    """One check: where it applies, how to word a violation, and the rows that break it."""

    table: str
    column: str | None
    rule: str
    message: Message

    @property
    def id(self) -> CheckId:
        return (self.table, self.column, self.rule)

    def rows(self) -> ir.Table:
        """The violating rows with the columns row, key, value and extra."""
        raise NotImplementedError


@dataclass(frozen=True)
class _RowCheck(_Check):
    """A check on single rows, counted by summing ``flag`` in the table's aggregate."""

    src: _Source
    flag: ir.BooleanValue
    value: ir.Value | None = None
    extra: ir.Value | None = None

    def rows(self) -> ir.Table:
        # Built only for checks that failed: building Ibis expressions for dozens of checks
        # that pass would cost more than running them.
        rel = self.src.rel
        return _shape(
            rel.filter(self.flag), rel[ROW_COLUMN], self.src.key(), self.value, self.extra
        )


@dataclass(frozen=True)
class _SetCheck(_Check):
    """A check across rows or tables, counted by ``tally``, an aggregate over ``counted``.

    By default ``counted`` is ``violating`` and ``tally`` its number of rows. Checks given the
    same ``counted`` relation (a join or window several checks read) are tallied in one
    aggregate over it, so that join or window runs once.
    """

    violating: ir.Table
    counted: ir.Table | None = None
    tally: ir.IntegerScalar | None = None

    def rows(self) -> ir.Table:
        return self.violating

    def counting(self) -> tuple[ir.Table, ir.IntegerScalar]:
        """The relation tallied, and the tally over it."""
        if self.counted is None or self.tally is None:
            return self.violating, self.violating.count()
        return self.counted, self.tally


@dataclass(frozen=True)
class _Source:
    """A contract table's file, prepared once for all checks.

    ``rel`` projects the raw view to ``_row`` and, for each contract column in the file, the
    column as read plus ``<name>__text``, ``__present``, ``__syntax``, ``__cast`` and
    ``__value``: each value is trimmed, parsed and cast once per row however many checks
    read it, and the compiled SQL stays small.
    """

    table: Table
    raw: ir.Table
    path: Path
    rel: ir.Table

    @classmethod
    def prepare(cls, table: Table, raw: ir.Table, path: Path) -> _Source:
        """The file prepared for every contract column it has."""
        return cls(table, raw, path, raw).narrow(*table.names)

    def narrow(self, *names: str) -> _Source:
        """The same file prepared for the named columns (and the key) only."""
        wanted = dict.fromkeys([*self.table.key, *names])
        derived: dict[str, ir.Value] = {ROW_COLUMN: self.raw[ROW_COLUMN]}
        for column in self.table.columns:
            if column.name in wanted and column.name in self.raw.columns:
                derived.update(_derive(self.raw, column))
        return _Source(self.table, self.raw, self.path, self.raw.select(**derived))

    @property
    def name(self) -> str:
        return self.table.name

    def has(self, *names: str) -> bool:
        return all(name in self.raw.columns for name in names)

    def original(self, name: str) -> ir.Value:
        return self.rel[name]

    def text(self, name: str) -> ir.StringValue:
        """The value as written, for messages."""
        return self.rel[f"{name}__text"]

    def present(self, name: str) -> ir.BooleanValue:
        """The file has a value (not NULL, and for text not blank)."""
        return self.rel[f"{name}__present"] if self.has(name) else ibis.literal(False)

    def syntax(self, name: str) -> ir.BooleanValue | None:
        """Whether text has the syntax of its kind; None when there is nothing to parse."""
        column = f"{name}__syntax"
        return self.rel[column] if column in self.rel.columns else None

    def cast(self, name: str) -> ir.Value:
        """The typed value as the loader computes it."""
        return self.rel[f"{name}__cast"]

    def value(self, name: str) -> ir.Value:
        """The typed value where it is valid on every engine, else NULL (also when absent)."""
        if not self.has(name):
            return ibis.null(self.table.column(name).dtype)
        return self.rel[f"{name}__value"]

    def valid(self, name: str) -> ir.BooleanValue:
        """Whether the value is valid: ``value(name)`` is not NULL, and equals ``cast(name)``."""
        original = self.original(name).type()
        if original.is_string() and self.table.column(name).kind == "string":
            return self.present(name)  # text is valid wherever it is not blank
        return self.value(name).notnull()

    def key(self) -> ir.StringValue:
        """The row's key as text, parts joined by '/'; NULL when a part is missing."""
        if not self.table.key or not self.has(*self.table.key):
            return ibis.null("string")
        return _join(self.value(name) for name in self.table.key)

    def check(
        self,
        column: str | None,
        rule: str,
        flag: ir.BooleanValue,
        message: Message,
        *,
        value: ir.Value | None = None,
        extra: ir.Value | None = None,
    ) -> _RowCheck:
        """A check on single rows, counted in the table's aggregate."""
        flag = flag.fill_null(False)
        return _RowCheck(self.name, column, rule, message, self, flag, value, extra)


def _derive(raw: ir.Table, column: Column) -> dict[str, ir.Value]:
    """The prepared columns of one contract column (see :class:`_Source`)."""
    name = column.name
    value = raw[name]
    cast = cast_column(raw, column)
    derived: dict[str, ir.Value] = {name: value, f"{name}__cast": cast}
    if value.type().is_string():
        # As the loader reads text before casting it: trimmed, blank as NULL.
        stripped = value.strip()
        trimmed = ibis.ifelse(stripped == "", ibis.null("string"), stripped)
        present = _has_text(value)
    else:
        trimmed = value.cast("string")
        present = value.notnull()
    # String columns are shown as the loader keeps them (it does not trim them): that is
    # what allowed values, patterns and keys are compared with.
    derived[f"{name}__text"] = cast.cast("string") if column.kind == "string" else trimmed
    derived[f"{name}__present"] = present
    valid = present
    if column.kind != "string" and value.type().is_string():
        spelled = trimmed.lower() if column.kind == "boolean" else trimmed
        syntax = spelled.re_search(SYNTAX[column.kind])
        derived[f"{name}__syntax"] = syntax
        valid = valid & syntax
    if value.type().is_string():
        # Blank strings and text only one engine would read count as no value, so keys,
        # references and comparisons see the same rows on every engine.
        derived[f"{name}__value"] = ibis.ifelse(valid, cast, ibis.null(column.dtype))
    else:
        # A typed column is valid wherever it is present, and its cast is NULL where it is
        # not: the cast is the value, with no test per row.
        derived[f"{name}__value"] = cast
    return derived


def _has_text(value: ir.StringValue) -> ir.BooleanValue:
    """Not NULL and not blank: what ``strip()`` leaves is not empty.

    Stripping every value of a big text column costs seconds; a value whose first byte is
    not whitespace or a control character (every byte from '!' up, both engines compare
    bytes) cannot be blank, so only the rest are stripped.
    """
    return ibis.cases(
        (value >= "!", True),
        (value.isnull(), False),
        else_=value.strip() != "",
    )


def _join(parts: Iterable[ir.Value], separator: str = "/") -> ir.StringValue:
    # Concatenation is NULL when a part is NULL, on both engines: no partial keys.
    parts = list(parts)
    joined = parts[0].cast("string")
    for part in parts[1:]:
        joined = joined + separator + part.cast("string")
    return joined


def _shape(
    rel: ir.Table,
    row: ir.Value,
    key: ir.Value,
    value: ir.Value | None = None,
    extra: ir.Value | None = None,
) -> ir.Table:
    """Project violating rows onto the four columns the rows of every check share."""
    return rel.select(
        row=row.cast("int64"),
        key=key.cast("string"),
        value=ibis.null("string") if value is None else value.cast("string"),
        extra=ibis.null("string") if extra is None else extra.cast("string"),
    )


def _quote(value: str | None) -> str:
    if value is None:  # personal data is never fetched, so never quoted
        return "the value"
    if len(value) > _SHOWN_CHARS:
        value = value[: _SHOWN_CHARS - 1] + "…"
    return f"'{value}'"


def _pair(extra: str | None) -> tuple[str, str]:
    first, _, second = (extra or "?|?").partition("|")
    return first, second


def _choices(allowed: Sequence[str], most: int = 12) -> str:
    shown = ", ".join(allowed[:most])
    return shown if len(allowed) <= most else f"{shown}, … ({len(allowed)} values)"
