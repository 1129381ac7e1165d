"""Checks across rows and tables: keys, references, schedules, payments before opening.

They read a table several times, so the few typed columns they need are kept once in a small
temporary table (:func:`_keyed`), and they are counted together in one union query.
"""

from __future__ import annotations

import ibis

from cobranza.contract._schema import Reference
from cobranza.contract._validation._checks import (
    _join,
    _pair,
    _quote,
    _SetCheck,
    _shape,
    _Source,
)
from cobranza.engine import ROW_COLUMN, Engine

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


#: Columns that cross-table checks read, besides keys and references.
_CROSS_COLUMNS: dict[str, tuple[str, ...]] = {
    "loans": ("product", "opened_on"),
    "installments": ("due_date",),
    "payments": ("paid_at",),
}


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
