"""Checks of single rows: each column on its own, then the columns of a row together."""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from cobranza.contract._schema import Column
from cobranza.contract._validation._checks import (
    _SUB_CENT,
    _TYPE_MESSAGES,
    _choices,
    _quote,
    _RowCheck,
    _Source,
)

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
    # Where a value is valid it is the cast, which is the cheaper expression to test.
    valid = src.valid(name)
    value = src.cast(name)
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
    value = src.cast(column.name)  # as valid values are
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
