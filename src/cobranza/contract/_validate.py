"""``cobranza validate``: check a portfolio against the data contract before every run.

Each check is an Ibis relation of the rows that break it, with four columns: ``row`` (the
file's data row), ``key``, ``value`` (as written; never for personal data) and ``extra`` (what
the message needs besides the value). Counting comes first: the per-column and same-row checks
of a table are flags summed in one aggregate over its file. Key, reference and cross-table
checks read the table several times, so the few typed columns they need are kept once in a
small temporary table, and they are counted together in one union query. Examples are
fetched, in one more query, only for the checks that failed, first rows first.

A value passes only when it has a strict, engine-neutral syntax *and* the engine's
``try_cast`` reads it. The engines' casts disagree on loose input (DuckDB reads ``12.5`` as
the integer 13, Spark reads ``2026`` as a date), so both engines give the same report, and a
valid portfolio loads the same on both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from cobranza._errors import ContractError, EngineError
from cobranza.contract._load import (
    PortfolioFiles,
    cast_column,
    discover,
    raw_view,
    register_raw,
)
from cobranza.contract._report import CheckId, ValidationReport, Violation, make_report
from cobranza.contract._schema import TABLES, Column, Reference, Table
from cobranza.engine import ROW_COLUMN, Engine

__all__ = ["RULES", "SYNTAX", "ValidationReport", "Violation", "validate"]

#: Every rule a violation can name, with what it means.
RULES: dict[str, str] = {
    "missing_column": "a required column is not in the file",
    "required": "a required value is empty",
    "type": "a value does not convert to the column's type",
    "decimals": "an amount of money with more than 2 decimal places",
    "allowed": "a value that is not one of the column's allowed values",
    "pattern": "a value that does not match the column's pattern",
    "minimum": "a number below the column's minimum",
    "term_required": "an installment loan without a term",
    "before_opened": "a date before the loan's opening date",
    "due_before_made": "a promise due before the day it was made",
    "duplicate_key": "several rows with the same key",
    "reference": "an id that is not in the table it refers to",
    "no_installments": "an installment loan without installments",
    "due_date_order": "an installment not due after the previous one of its loan",
}

# The syntax of each kind written as text: the common ground of DuckDB's and Spark's casts.
# Loose input that the engines read differently (exponents, '1_000', '12.0' as an integer,
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
    """A check across rows or tables, counted by ``count`` (default: its rows)."""

    violating: ir.Table
    count: ir.IntegerScalar | None = None

    def rows(self) -> ir.Table:
        return self.violating


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
        present = trimmed.notnull()
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
    # Blank strings and text only one engine would read count as no value, so keys,
    # references and comparisons see the same rows on every engine.
    derived[f"{name}__value"] = ibis.ifelse(valid, cast, ibis.null(column.dtype))
    return derived


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


# --- checks of one column --------------------------------------------------------------------


def _column_checks(src: _Source, column: Column) -> list[_RowCheck]:
    name = column.name
    shown = None if column.personal else src.text(name)
    checks: list[_RowCheck] = []

    if not column.nullable and column.default is None:
        checks.append(
            src.check(name, "required", ~src.present(name), lambda v, e: "a value is required")
        )

    type_check = _type_check(src, column, shown)
    if type_check is not None:
        checks.append(type_check)

    # The remaining checks judge valid values only: a bad one is reported once, above.
    value = src.value(name)
    valid = value.notnull()
    if column.kind == "money":
        sub_cent = _sub_cent(src, column)
        if sub_cent is not None:
            checks.append(
                src.check(
                    name,
                    "decimals",
                    valid & sub_cent,
                    lambda v, e: f"{_quote(v)} has more than 2 decimal places",
                    value=shown,
                )
            )

    if column.allowed is not None:
        checks.append(_allowed_check(src, column, valid, shown))

    if column.pattern is not None:
        pattern = column.pattern
        checks.append(
            src.check(
                name,
                "pattern",
                valid & ~value.cast("string").re_search(f"^(?:{pattern})$"),
                lambda v, e: f"{_quote(v)} does not match the pattern {pattern}",
                value=shown,
            )
        )

    if column.minimum is not None:
        minimum = column.minimum
        below = value <= minimum if column.exclusive else value < minimum
        words = f"must be {'greater than' if column.exclusive else 'at least'} {minimum}"
        checks.append(
            src.check(
                name, "minimum", valid & below, lambda v, e: f"{_quote(v)} {words}", value=shown
            )
        )
    return checks


def _type_check(src: _Source, column: Column, shown: ir.Value | None) -> _RowCheck | None:
    name = column.name
    syntax = src.syntax(name)
    if syntax is not None:
        bad = src.present(name) & (~syntax | src.cast(name).isnull())
        # The syntax matched but the cast failed: too many digits for the type.
        extra = ibis.ifelse(syntax, "range", ibis.null("string"))
    elif column.kind != "string" and src.original(name).type() != column.dtype:
        # A typed column (Parquet) is not parsed; it fails only where the cast fails.
        bad = src.present(name) & src.cast(name).isnull()
        extra = None
    else:
        return None
    words = _TYPE_MESSAGES[column.kind]
    numeric = column.kind in ("integer", "money", "rate")

    def message(value: str | None, extra: str | None) -> str:
        if extra == "range" and numeric:
            return f"{_quote(value)} is out of range"
        return f"{_quote(value)} {words}"

    return src.check(name, "type", bad, message, value=shown, extra=extra)


def _sub_cent(src: _Source, column: Column) -> ir.BooleanValue | None:
    name = column.name
    kind = src.original(name).type()
    if kind.is_string():
        return src.text(name).re_search(_SUB_CENT)
    if kind.is_floating() or (kind.is_decimal() and (kind.scale or 0) > 2):
        # Compare at a scale finer than float noise that matters: 12.34 as a double is
        # 12.339999…, which is 12.34 to nine places; 12.345 is not.
        fine = dt.Decimal(38, 9)
        return src.original(name).try_cast(fine) != src.cast(name).cast(fine)
    return None


def _allowed_check(
    src: _Source, column: Column, valid: ir.BooleanValue, shown: ir.Value | None
) -> _RowCheck:
    allowed = column.allowed or ()
    choices = _choices(allowed)
    value = src.value(column.name)
    if column.separator is None:
        return src.check(
            column.name,
            "allowed",
            valid & ~value.isin(allowed),
            lambda v, e: f"{_quote(v)} is not one of {choices}",
            value=shown,
        )
    # A list: every non-blank item must be allowed; the first bad one is named.
    bad = value.split(column.separator).filter(
        lambda item: (item.strip() != "") & ~item.strip().isin(allowed)
    )
    first = None if column.personal else bad[0].strip()

    def message(value: str | None, item: str | None) -> str:
        if item is None:
            return f"the value has an item that is not one of {choices}"
        return f"{_quote(value)}: {_quote(item)} is not one of {choices}"

    return src.check(
        column.name, "allowed", valid & (bad.length() > 0), message, value=shown, extra=first
    )


# --- checks across the columns of one row ----------------------------------------------------


def _row_checks(src: _Source) -> list[_RowCheck]:
    if src.name == "loans":
        return _loan_row_checks(src)
    if src.name == "promises" and src.has("due_on", "made_at"):
        # Engines run in the Mexico City zone, so this is the local calendar date.
        made_on = src.value("made_at").cast("date")
        return [
            src.check(
                "due_on",
                "due_before_made",
                src.value("due_on") < made_on,
                lambda v, e: f"{_quote(v)} is before the day the promise was made ({e})",
                value=src.text("due_on"),
                extra=made_on,
            )
        ]
    return []


def _loan_row_checks(src: _Source) -> list[_RowCheck]:
    checks: list[_RowCheck] = []
    if src.has("product"):
        # A term that is present but unreadable is a type violation already.
        checks.append(
            src.check(
                "term",
                "term_required",
                (src.value("product") == "installment") & ~src.present("term"),
                lambda v, e: "an installment loan needs a term (its number of installments)",
            )
        )
    if src.has("opened_on"):
        for name in ("written_off_on", "closed_on"):
            if src.has(name):
                checks.append(
                    src.check(
                        name,
                        "before_opened",
                        src.value(name) < src.value("opened_on"),
                        lambda v, e: f"{_quote(v)} is before the loan was opened ({e})",
                        value=src.text(name),
                        extra=src.value("opened_on"),
                    )
                )
    return checks


# --- checks across rows and tables -----------------------------------------------------------


def _key_check(src: _Source) -> list[_SetCheck]:
    names = src.table.key
    if not names or not src.has(*names):
        return []
    parts = [f"k{i}" for i in range(len(names))]
    keyed = src.rel.select(ROW_COLUMN, **dict(zip(parts, map(src.value, names), strict=True)))
    keyed = keyed.filter(*(keyed[part].notnull() for part in parts))
    groups = keyed.group_by(parts).aggregate(n=keyed.count())
    # Every row of a repeated key is a violation, the first one too.
    count = groups.filter(groups.n > 1).n.sum()
    marked = keyed.mutate(
        n=keyed[ROW_COLUMN].count().over(group_by=parts),
        first=keyed[ROW_COLUMN].min().over(group_by=parts),
    )
    dupes = marked.filter(marked.n > 1)
    rows = _shape(
        dupes,
        dupes[ROW_COLUMN],
        _join(dupes[part] for part in parts),
        extra=_join([dupes.n, dupes.first], "|"),
    )

    def message(value: str | None, extra: str | None) -> str:
        many, first = _pair(extra)
        return f"the key is not unique: {many} rows have it (the first is row {first})"

    return [_SetCheck(src.name, ", ".join(names), "duplicate_key", message, rows, count)]


def _reference_check(src: _Source, ref: Reference, target: _Source) -> list[_SetCheck]:
    if not src.has(*ref.columns) or not target.has(*ref.target_columns):
        return []
    n = len(ref.columns)
    known = target.rel.select(
        **{f"t{i}": target.value(name) for i, name in enumerate(ref.target_columns)}
    ).distinct()
    own = src.rel.select(
        ROW_COLUMN,
        key=src.key(),
        **{f"f{i}": src.value(name) for i, name in enumerate(ref.columns)},
    )
    # Only rows that name a target: an empty one is a required-value violation.
    own = own.filter(*(own[f"f{i}"].notnull() for i in range(n)))
    missing = own.anti_join(known, [own[f"f{i}"] == known[f"t{i}"] for i in range(n)])
    rows = _shape(
        missing, missing[ROW_COLUMN], missing.key, _join(missing[f"f{i}"] for i in range(n))
    )
    target_names = ", ".join(ref.target_columns)

    def message(value: str | None, extra: str | None) -> str:
        return f"{_quote(value)} is not a {target_names} in {ref.target}"

    return [_SetCheck(src.name, ", ".join(ref.columns), "reference", message, rows)]


def _no_installments(loans: _Source, installments: _Source) -> list[_SetCheck]:
    if not loans.has("loan_id", "product") or not installments.has("loan_id"):
        return []
    scheduled = installments.rel.select(t0=installments.value("loan_id")).distinct()
    loan_id = loans.value("loan_id")
    own = loans.rel.filter(loan_id.notnull() & (loans.value("product") == "installment"))
    own = own.select(ROW_COLUMN, key=loans.key(), f0=loan_id)
    missing = own.anti_join(scheduled, own.f0 == scheduled.t0)
    rows = _shape(missing, missing[ROW_COLUMN], missing.key)
    return [
        _SetCheck(
            "loans",
            None,
            "no_installments",
            lambda v, e: "an installment loan without any row in installments",
            rows,
        )
    ]


def _paid_before_opened(payments: _Source, loans: _Source) -> list[_SetCheck]:
    if not payments.has("loan_id", "paid_at") or not loans.has("loan_id", "opened_on"):
        return []
    opened = loans.rel.select(t0=loans.value("loan_id"), opened_on=loans.value("opened_on"))
    opened = opened.filter(opened.t0.notnull() & opened.opened_on.notnull())
    # One date per loan even when a loan_id repeats (a duplicate_key violation already).
    opened = opened.group_by("t0").aggregate(opened_on=opened.opened_on.min())
    paid = payments.rel.select(
        ROW_COLUMN,
        key=payments.key(),
        f0=payments.value("loan_id"),
        # Engines run in the Mexico City zone, so this is the local calendar date.
        paid_on=payments.value("paid_at").cast("date"),
    )
    joined = paid.join(opened, paid.f0 == opened.t0)
    early = joined.filter(joined.paid_on < joined.opened_on)
    rows = _shape(
        early,
        early[ROW_COLUMN],
        early.key,
        early.paid_on,
        early.opened_on,
    )

    def message(value: str | None, extra: str | None) -> str:
        return f"paid on {value} (Mexico City date), before the loan was opened ({extra})"

    return [_SetCheck("payments", "paid_at", "before_opened", message, rows)]


def _due_date_order(src: _Source) -> list[_SetCheck]:
    if not src.has("loan_id", "seq", "due_date"):
        return []
    base = src.rel.select(
        ROW_COLUMN,
        key=src.key(),
        loan=src.value("loan_id"),
        seq=src.value("seq"),
        due=src.value("due_date"),
    )
    base = base.filter(base.loan.notnull() & base.seq.notnull() & base.due.notnull())
    # _row breaks ties, so a repeated seq (a duplicate key) orders the same on every engine.
    order = [base.seq, base[ROW_COLUMN]]
    marked = base.mutate(
        prev_seq=base.seq.lag().over(group_by=base.loan, order_by=order),
        prev_due=base.due.lag().over(group_by=base.loan, order_by=order),
    )
    # Rows that repeat a seq are not compared with each other: they are duplicate keys.
    late = marked.filter((marked.seq > marked.prev_seq) & (marked.due <= marked.prev_due))
    rows = _shape(
        late, late[ROW_COLUMN], late.key, late.due, _join([late.prev_seq, late.prev_due], "|")
    )

    def message(value: str | None, extra: str | None) -> str:
        seq, due = _pair(extra)
        return f"{_quote(value)} is not after the due date of installment {seq} ({due})"

    return [_SetCheck("installments", "due_date", "due_date_order", message, rows)]


# --- running ---------------------------------------------------------------------------------


def _missing_columns(src: _Source) -> list[Violation]:
    # A header that differs only in case or spaces is the usual cause: name it.
    near = {name.strip().lower(): name for name in src.raw.columns}
    missing = []
    for column in src.table.columns:
        if column.required and not src.has(column.name):
            found = near.get(column.name)
            hint = f" (found {found!r}: names are lower case, without spaces)" if found else ""
            missing.append(
                Violation(
                    src.name,
                    None,
                    None,
                    column.name,
                    "missing_column",
                    f"required column is missing from {src.path.name}{hint}",
                )
            )
    return missing


#: Columns that cross-table checks read, besides keys and references.
_CROSS_COLUMNS: dict[str, tuple[str, ...]] = {
    "loans": ("product", "opened_on"),
    "installments": ("due_date",),
    "payments": ("paid_at",),
}


@contextmanager
def _reading(src: _Source) -> Iterator[None]:
    # The first full reads of a file: malformed CSV lines surface here.
    try:
        yield
    except EngineError as exc:
        raise ContractError(f"{src.path}: cannot be read as a {src.name} table: {exc}") from exc


def _keyed_view(table: str) -> str:
    return f"_validate_{table}"


def _keyed(engine: Engine, src: _Source) -> _Source:
    """Keep the typed values that key, reference and cross-table checks read, once.

    Those checks read a table several times; from a small typed table rather than the file,
    they skip re-parsing it (single-threaded, to number the rows) and re-casting it. On the
    largest books that is the difference between seconds and minutes.
    """
    wanted = [*src.table.key, *_CROSS_COLUMNS.get(src.name, ())]
    wanted += [name for ref in src.table.references for name in ref.columns]
    names = [name for name in dict.fromkeys(wanted) if src.has(name)]
    narrow = src.narrow(*names)
    expr = narrow.rel.select(ROW_COLUMN, **{f"{name}__value": narrow.value(name) for name in names})
    engine.materialize(_keyed_view(src.name), expr)
    return _Source(
        src.table, src.raw, src.path, ibis.table(expr.schema(), name=_keyed_view(src.name))
    )


def _set_checks(sources: dict[str, _Source]) -> list[_SetCheck]:
    checks: list[_SetCheck] = []
    for src in sources.values():
        checks.extend(_key_check(src))
        for ref in src.table.references:
            if ref.target in sources:
                checks.extend(_reference_check(src, ref, sources[ref.target]))
    loans, installments, payments = (sources[n] for n in ("loans", "installments", "payments"))
    checks.extend(_no_installments(loans, installments))
    checks.extend(_paid_before_opened(payments, loans))
    checks.extend(_due_date_order(installments))
    return checks


def _count_rows(engine: Engine, src: _Source, checks: Sequence[_RowCheck]) -> list[int]:
    """Count the violations of a table's single-row checks in one pass over its file."""
    if not checks:
        return []
    sums = {f"c{i}": check.flag.sum() for i, check in enumerate(checks)}
    result = engine.fetch(src.rel.aggregate(**sums)).to_pylist()[0]
    return [int(result[f"c{i}"] or 0) for i in range(len(checks))]


def _count_sets(engine: Engine, checks: Sequence[_SetCheck]) -> list[int]:
    """Count the violations of key, reference and cross-table checks in one query."""
    if not checks:
        return []
    parts = []
    for i, check in enumerate(checks):
        count = check.count if check.count is not None else check.violating.count()
        parts.append(count.name("n").as_table().mutate(check=ibis.literal(i, "int32")))
    result = engine.fetch(ibis.union(*parts)).to_pylist()
    counts = {row["check"]: int(row["n"] or 0) for row in result}
    return [counts.get(i, 0) for i in range(len(checks))]


def _examples(engine: Engine, wanted: Sequence[tuple[_Check, int]]) -> list[Violation]:
    """Fetch the first rows (in file order) of every failed check, in one query."""
    if not wanted:
        return []
    parts = [
        check.rows().order_by("row").limit(n).mutate(check=ibis.literal(i, "int32"))
        for i, (check, n) in enumerate(wanted)
    ]
    violations = []
    for row in engine.fetch(ibis.union(*parts)).to_pylist():
        check = wanted[row["check"]][0]
        message = check.message(row["value"], row["extra"])
        violations.append(
            Violation(check.table, row["row"], row["key"], check.column, check.rule, message)
        )
    return violations


def validate(
    engine: Engine,
    data: str | Path | PortfolioFiles,
    *,
    cap: int = 100,
    examples_per_rule: int = 5,
) -> ValidationReport:
    """Check a portfolio against the data contract and report every violation.

    The report holds at most ``examples_per_rule`` violations per check (the first rows of
    the file) and ``cap`` in all, with the full count of every check. Raises
    :class:`ContractError` only for problems with the folder or its files: a missing folder
    or required table, a table given twice, a file that cannot be read.
    """
    if cap < 0 or examples_per_rule < 0:
        raise ValueError("cap and examples_per_rule must not be negative")
    files = data if isinstance(data, PortfolioFiles) else discover(data)
    schemas = register_raw(engine, files)
    sources = {
        name: _Source.prepare(TABLES[name], ibis.table(schemas[name], name=raw_view(name)), path)
        for name, path in files.files.items()
    }

    missing: list[Violation] = []
    counted: list[tuple[_Check, int]] = []
    keyed: dict[str, _Source] = {}
    try:
        for src in sources.values():
            missing.extend(_missing_columns(src))
            row_checks = [
                check
                for column in src.table.columns
                if src.has(column.name)
                for check in _column_checks(src, column)
            ] + _row_checks(src)
            with _reading(src):
                counted.extend(zip(row_checks, _count_rows(engine, src, row_checks), strict=True))
                keyed[src.name] = _keyed(engine, src)
        set_checks = _set_checks(keyed)
        counted.extend(zip(set_checks, _count_sets(engine, set_checks), strict=True))
        counts, wanted = _select_examples(counted, missing, cap, examples_per_rule)
        examples = _examples(engine, wanted)
    finally:
        for name in keyed:
            engine.drop(_keyed_view(name))
    shown = missing[: min(cap, len(missing) * examples_per_rule)]
    return make_report([*shown, *examples], counts)


def _select_examples(
    counted: list[tuple[_Check, int]], missing: list[Violation], cap: int, per_check: int
) -> tuple[dict[CheckId, int], list[tuple[_Check, int]]]:
    """The count of every failed check, and how many examples to fetch of each.

    Order: tables in contract order; within a table, missing columns first, then the checks
    in the order they were built (columns in contract order).
    """
    table_order = {name: i for i, name in enumerate(TABLES)}
    counted = sorted(counted, key=lambda pair: table_order[pair[0].table])
    counts: dict[CheckId, int] = {(v.table, v.column, v.rule): 1 for v in missing}
    wanted: list[tuple[_Check, int]] = []
    budget = max(0, cap - len(missing))
    for check, count in counted:
        if count:
            counts[check.id] = count
            take = min(count, per_check, budget)
            if take:
                wanted.append((check, take))
                budget -= take
    counts = dict(sorted(counts.items(), key=lambda item: table_order[item[0][0]]))
    return counts, wanted
