"""Checks across rows and tables: keys, references, schedules, payments before opening.

They read a table several times, so the few typed columns they need are kept once in a small
temporary table (:func:`_keyed`, which counts the row checks in the same read of the file).
A table's checks are counted in one query as soon as it is kept; checks that need the same
join or sort are tallied from one aggregate over it.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

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


def _key_check(src: _Source, schedule: ir.Table | None = None) -> list[_SetCheck]:
    """Every row of a repeated key; ``schedule`` counts the installments' key in key order."""
    names = src.table.key
    if not names or not src.has(*names):
        return []
    parts = [f"k{i}" for i in range(len(names))]
    keyed = src.rel.select(ROW_COLUMN, **dict(zip(parts, map(src.value, names), strict=True)))
    keyed = keyed.filter(*(keyed[part].notnull() for part in parts))
    if schedule is not None:
        # In key order a repeated key's rows are neighbours: the window that orders the
        # schedule for due_date_order counts them too, cheaper than grouping 20M keys apart.
        counted = schedule
        tally = schedule.count(
            where=(schedule.seq == schedule.prev_seq) | (schedule.seq == schedule.next_seq)
        )
    else:
        groups = keyed.group_by(parts).aggregate(n=keyed.count())
        counted = groups.filter(groups.n > 1)
        tally = counted.n.sum()
    # Every row of a repeated key is a violation, the first one too.
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

    return [_SetCheck(src.name, ", ".join(names), "duplicate_key", message, rows, counted, tally)]


def _reference_check(
    src: _Source,
    ref: Reference,
    target: _Source,
    counted: ir.Table | None = None,
    tally: ir.IntegerScalar | None = None,
) -> list[_SetCheck]:
    """Rows naming a target that does not exist; ``counted`` is a join shared with others."""
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

    return [_SetCheck(src.name, ", ".join(ref.columns), "reference", message, rows, counted, tally)]


def _schedules_by_loan(loans: _Source, installments: _Source) -> ir.Table | None:
    """Each loan id of the schedule (with its rows) beside each loans row naming it.

    A full join of two million-row relations: the installments' reference to loans (schedule
    ids with no loan) and no_installments (installment loans with no schedule) are both
    counted from it, instead of each reading the 20M installments again.
    """
    if not loans.has("loan_id") or not installments.has("loan_id"):
        return None
    scheduled = installments.rel.select(t0=installments.value("loan_id"))
    scheduled = scheduled.filter(scheduled.t0.notnull())
    scheduled = scheduled.group_by("t0").aggregate(n=scheduled.count())
    own = loans.rel.select(
        f0=loans.value("loan_id"), installment=loans.value("product") == "installment"
    )
    own = own.filter(own.f0.notnull())
    return scheduled.outer_join(own, scheduled.t0 == own.f0)


def _no_installments(
    loans: _Source, installments: _Source, by_loan: ir.Table | None
) -> list[_SetCheck]:
    if not loans.has("loan_id", "product") or not installments.has("loan_id"):
        return []
    scheduled = installments.rel.select(t0=installments.value("loan_id")).distinct()
    loan_id = loans.value("loan_id")
    own = loans.rel.filter(loan_id.notnull() & (loans.value("product") == "installment"))
    own = own.select(ROW_COLUMN, key=loans.key(), f0=loan_id)
    missing = own.anti_join(scheduled, own.f0 == scheduled.t0)
    rows = _shape(missing, missing[ROW_COLUMN], missing.key)
    tally = (
        None if by_loan is None else by_loan.count(where=by_loan.t0.isnull() & by_loan.installment)
    )
    return [
        _SetCheck(
            "loans",
            None,
            "no_installments",
            lambda v, e: "an installment loan without any row in installments",
            rows,
            by_loan,
            tally,
        )
    ]


def _paid_with_opening(payments: _Source, loans: _Source) -> ir.Table | None:
    """Each payment naming a loan, with the loan's opening date; NULL ``t0`` when no loan has
    its id. One join counts both the payments' reference to loans and before_opened."""
    if not payments.has("loan_id", "paid_at") or not loans.has("loan_id", "opened_on"):
        return None
    opened = loans.rel.select(t0=loans.value("loan_id"), opened_on=loans.value("opened_on"))
    opened = opened.filter(opened.t0.notnull())
    # One date per loan even when a loan_id repeats (a duplicate_key violation already); a
    # loan without a valid date gets NULL, which no payment is before.
    opened = opened.group_by("t0").aggregate(opened_on=opened.opened_on.min())
    # Paid on a Mexico City date before opened_on is paid before the first instant of
    # opened_on there: one cast per loan instead of one per payment.
    opened = opened.mutate(opened_at=opened.opened_on.cast(payments.value("paid_at").type()))
    paid = payments.rel.select(f0=payments.value("loan_id"), paid_at=payments.value("paid_at"))
    paid = paid.filter(paid.f0.notnull())
    return paid.left_join(opened, paid.f0 == opened.t0)


def _paid_before_opened(
    payments: _Source, loans: _Source, with_opening: ir.Table | None
) -> list[_SetCheck]:
    if with_opening is None:
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
    tally = with_opening.count(where=with_opening.paid_at < with_opening.opened_at)

    def message(value: str | None, extra: str | None) -> str:
        return f"paid on {value} (Mexico City date), before the loan was opened ({extra})"

    return [_SetCheck("payments", "paid_at", "before_opened", message, rows, with_opening, tally)]


def _schedule(src: _Source) -> ir.Table | None:
    """The installments with a loan and a seq, each beside its neighbours in (seq, row) order.

    One sort of the schedule serves duplicate keys (a repeated seq sits next to its twin)
    and, when every such row has a due date, due_date_order too.
    """
    if src.table.key != ("loan_id", "seq") or not src.has("loan_id", "seq"):
        return None
    base = src.rel.select(
        ROW_COLUMN,
        loan=src.value("loan_id"),
        seq=src.value("seq"),
        due=src.value("due_date"),
    )
    base = base.filter(base.loan.notnull() & base.seq.notnull())
    window = ibis.window(group_by=base.loan, order_by=[base.seq, base[ROW_COLUMN]])
    return base.mutate(
        prev_seq=base.seq.lag().over(window),
        next_seq=base.seq.lead().over(window),
        prev_due=base.due.lag().over(window),
    )


def _due_date_order(src: _Source, schedule: ir.Table | None) -> list[_SetCheck]:
    """``schedule`` counts the check when no row with a loan and seq lacks a due date."""
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
    tally = None
    if schedule is not None:
        tally = schedule.count(
            where=(schedule.seq > schedule.prev_seq) & (schedule.due <= schedule.prev_due)
        )

    def message(value: str | None, extra: str | None) -> str:
        seq, due = _pair(extra)
        return f"{_quote(value)} is not after the due date of installment {seq} ({due})"

    return [_SetCheck("installments", "due_date", "due_date_order", message, rows, schedule, tally)]


#: Columns that cross-table checks read, besides keys and references.
_CROSS_COLUMNS: dict[str, tuple[str, ...]] = {
    "loans": ("product", "opened_on"),
    "installments": ("due_date",),
    "payments": ("paid_at",),
}


def _keyed_view(table: str) -> str:
    return f"_validate_{table}"


#: Flags packed into each SMALLINT column of a kept table (bits 0 to 14: never the sign bit).
_BITS = 15


def _keyed(
    engine: Engine, src: _Source, flags: Sequence[ir.BooleanValue]
) -> tuple[_Source, list[int]]:
    """Read a table's file once: keep the typed values set checks read, and count ``flags``.

    Key, reference and cross-table checks read a table several times; from a small typed
    table rather than the file, they skip re-parsing it (single-threaded, to number the
    rows) and re-casting it. The row checks' flags are kept in the same pass, packed as bits
    of an integer, and summed from the kept table: the file is read once, not twice.
    """
    wanted = [*src.table.key, *_CROSS_COLUMNS.get(src.name, ())]
    wanted += [name for ref in src.table.references for name in ref.columns]
    names = [name for name in dict.fromkeys(wanted) if src.has(name)]
    masks: dict[str, ir.Value] = {}
    for start in range(0, len(flags), _BITS):
        bits = [
            flag.cast("int16") * ibis.literal(1 << i, "int16")
            for i, flag in enumerate(flags[start : start + _BITS])
        ]
        masks[f"_flags{start // _BITS}"] = functools.reduce(operator.add, bits).cast("int16")
    expr = src.rel.select(
        ROW_COLUMN, **{f"{name}__value": src.value(name) for name in names}, **masks
    )
    engine.materialize(_keyed_view(src.name), expr)
    kept = ibis.table(expr.schema(), name=_keyed_view(src.name))
    counts = [0] * len(flags)
    if flags:
        sums = {
            f"c{i}": ((kept[f"_flags{i // _BITS}"] >> (i % _BITS)) & 1).sum()
            for i in range(len(flags))
        }
        result = engine.fetch(kept.aggregate(**sums)).to_pylist()[0]
        counts = [int(result[f"c{i}"] or 0) for i in range(len(flags))]
    return _Source(src.table, src.raw, src.path, kept), counts


def _probes(src: _Source) -> dict[str, ir.BooleanValue]:
    """Facts counted while a file is read that choose how the set checks are counted."""
    if src.name == "installments" and src.has("loan_id", "seq", "due_date"):
        # Rows in the schedule's key order that due_date_order skips (see _set_checks).
        undated = (
            src.value("loan_id").notnull()
            & src.value("seq").notnull()
            & src.value("due_date").isnull()
        )
        return {"undated_installments": undated}
    return {}


def _set_checks(table: str, sources: dict[str, _Source], facts: dict[str, int]) -> list[_SetCheck]:
    """The checks counted once ``table`` is kept: its key, its references, and the
    cross-table checks between it and the loans it refers to (kept before it)."""
    src = sources[table]
    loans = sources.get("loans")
    schedule = _schedule(src) if table == "installments" else None
    # A join with loans that other checks read gives the reference to loans too.
    to_loans: tuple[ir.Table | None, ir.IntegerScalar | None] = (None, None)
    by_loan = with_opening = None
    if table == "installments" and loans is not None:
        by_loan = _schedules_by_loan(loans, src)
        if by_loan is not None:
            to_loans = (by_loan, by_loan.n.sum(where=by_loan.f0.isnull()))
    if table == "payments" and loans is not None:
        with_opening = _paid_with_opening(src, loans)
        if with_opening is not None:
            to_loans = (with_opening, with_opening.count(where=with_opening.t0.isnull()))
    checks = _key_check(src, schedule)
    for ref in src.table.references:
        if ref.target in sources:
            counted, tally = to_loans if ref.target == "loans" else (None, None)
            checks.extend(_reference_check(src, ref, sources[ref.target], counted, tally))
    if table == "installments" and loans is not None:
        checks.extend(_no_installments(loans, src, by_loan))
    if table == "installments":
        # The schedule's neighbours are due_date_order's only when no row between them was
        # skipped for lacking a due date; otherwise the check sorts its own rows.
        undated = facts.get("undated_installments", 0)
        checks.extend(_due_date_order(src, schedule if not undated else None))
    if table == "payments" and loans is not None:
        checks.extend(_paid_before_opened(src, loans, with_opening))
    return checks
