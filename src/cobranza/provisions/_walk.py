"""Movement of the allowance between two dates (the "allowance walk" or roll-forward).

From the provisions of the book at an opening date and at a closing date (the output of
``compute_provisions``, one row per open loan with ``stage``, ``ei``, ``rate``, ``reserve``),
every loan's change of reserve is split, in this order, into:

1. **new loans**: a loan with no opening row (opened after the opening date, or not in the
   book then): ``new_loans = r₁``, in its closing stage.
2. **write-offs**: a loan with an opening row and no closing row whose ``written_off_on`` is on
   or before the closing date: ``write_offs = −r₀``, in its opening stage (the allowance used).
3. **repayments**: a loan with an opening row and no closing row otherwise (paid off):
   ``repayments = −r₀``. For a loan in the book at both dates, the change of exposure at the
   opening rate: with ``m = round_half_even(EI₁ × rate₀)`` (the closing exposure reserved at
   the opening rate), ``repayments = m − r₀``, in its opening stage. Negative for amortisation
   and repayments, positive for draws on a revolving line.
4. **transfers between stages**: a loan in the book at both dates whose stage changed moves
   ``m`` out of its opening stage (``transfers_out = −m``) into its closing stage
   (``transfers_in = +m``); they cancel in the total.
5. **remeasurement**: the rest, ``remeasurement = r₁ − m``, in the closing stage: new PD,
   LGD, delinquency bucket or parameters.

Per loan, opening + new_loans + repayments + transfers_out + transfers_in + write_offs +
remeasurement = closing, with r₀ = 0 for a new loan and r₁ = 0 for a loan gone: every line is
a difference of centavo amounts (DECIMAL(18,2)), so the walk adds up exactly per loan, per
stage and in total, on both engines.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from cobranza.contract import MONEY
from cobranza.portfolio._measures import money_sum
from cobranza.provisions._money import (
    exact_reserve_expr,
    half_even_cents_expr,
    half_up_cents_expr,
    recast,
)

#: The lines of the walk, in order (``opening`` … ``closing``).
WALK_LINES = (
    "opening",
    "new_loans",
    "repayments",
    "transfers_out",
    "transfers_in",
    "write_offs",
    "remeasurement",
    "closing",
)
#: Lines booked in the loan's opening stage; the others go to its closing stage.
_OPENING_SIDE = ("opening", "repayments", "transfers_out", "write_offs")
_CLOSING_SIDE = ("new_loans", "transfers_in", "remeasurement", "closing")


def _zero() -> ir.DecimalScalar:
    return ibis.literal(0).cast(MONEY)


def allowance_movements(
    opening: ir.Table, closing: ir.Table, loans: ir.Table, closing_date: dt.date
) -> ir.Table:
    """Per loan in the book at either date: its opening and closing stage and the lines of
    :data:`WALK_LINES` (DECIMAL(18,2), 0 when they do not apply), attributed as the module
    docstring says. ``loans`` gives ``written_off_on`` (only dates ≤ ``closing_date`` count).
    """
    o = opening.select(
        "loan_id", opening_stage="stage", r0="reserve", rate0="rate", product0="product"
    )
    c = closing.select("loan_id", closing_stage="stage", r1="reserve", ei1="ei", product1="product")
    written = loans.select("loan_id", "written_off_on")
    both = o.outer_join(c, o.loan_id == c.loan_id)
    keyed = both.select(
        loan_id=ibis.coalesce(both.loan_id, both.loan_id_right),
        product=ibis.coalesce(both.product1, both.product0),
        opening_stage=both.opening_stage,
        closing_stage=both.closing_stage,
        in_opening=both.r0.notnull(),
        in_closing=both.r1.notnull(),
        r0=both.r0.fill_null(_zero()),
        r1=both.r1.fill_null(_zero()),
        ei1=both.ei1,
        rate0=both.rate0,
    ).view()
    flagged = keyed.left_join(written, "loan_id").select(
        keyed,
        written_off=written.written_off_on.notnull()
        & (written.written_off_on <= ibis.date(closing_date)),
    )
    # Nested selects so the SQL computes the exact product once (see provisions._money).
    # Null unless the loan is in the book at both dates (ei1 or rate0 is null otherwise).
    step = flagged.mutate(exact=exact_reserve_expr(flagged.ei1, flagged.rate0))
    step = step.mutate(up=half_up_cents_expr(step.exact))
    step = step.mutate(m=half_even_cents_expr(step.exact, step.up))
    zero = _zero()
    new = step.in_closing & ~step.in_opening
    gone = step.in_opening & ~step.in_closing
    both_dates = step.in_opening & step.in_closing
    moved = both_dates & (step.opening_stage != step.closing_stage)
    m = step.m

    def line(condition: ir.BooleanValue, value: ir.Value) -> ir.DecimalValue:
        return recast(ibis.ifelse(condition, value, zero), MONEY)

    return step.select(
        "loan_id", "product", "opening_stage", "closing_stage",
        opening=step.r0,
        new_loans=line(new, step.r1),
        repayments=recast(
            ibis.cases(
                (gone & ~step.written_off, -step.r0), (both_dates, m - step.r0), else_=zero
            ),
            MONEY,
        ),
        transfers_out=line(moved, -m),
        transfers_in=line(moved, m),
        write_offs=line(gone & step.written_off, -step.r0),
        remeasurement=line(both_dates, step.r1 - m),
        closing=step.r1,
    )  # fmt: skip


def allowance_walk(movements: ir.Table) -> ir.Table:
    """The walk per stage and in total from :func:`allowance_movements`.

    One row per stage (``stage`` '1', '2', '3') and a ``total`` row, with the sums of
    :data:`WALK_LINES`: opening, repayments, transfers_out and write_offs by the loans' opening
    stage; new_loans, transfers_in, remeasurement and closing by their closing stage. Each
    row adds up: opening + Σ movements = closing.
    """
    zero = _zero()
    sides = []
    for stage_column, own in (("opening_stage", _OPENING_SIDE), ("closing_stage", _CLOSING_SIDE)):
        rows = movements.filter(movements[stage_column].notnull())
        sides.append(
            rows.select(
                stage=rows[stage_column].cast("string"),
                **{name: recast(rows[name], MONEY) if name in own else zero for name in WALK_LINES},
            )
        )
    lines = ibis.union(*sides)
    per_stage = lines.group_by("stage").aggregate(
        **{name: money_sum(lines[name]) for name in WALK_LINES}
    )
    total = lines.aggregate(**{name: money_sum(lines[name]) for name in WALK_LINES}).mutate(
        stage=ibis.literal("total")
    )
    return ibis.union(per_stage, total.select("stage", *WALK_LINES))


def stage_transfers(movements: ir.Table) -> ir.Table:
    """Amounts moved between stages: per (from_stage, to_stage) with a change, ``loans`` and
    ``amount`` = Σ m (the reserve at the closing exposure and the opening rate)."""
    moved = movements.filter(
        movements.opening_stage.notnull()
        & movements.closing_stage.notnull()
        & (movements.opening_stage != movements.closing_stage)
    )
    return moved.group_by(from_stage=moved.opening_stage, to_stage=moved.closing_stage).aggregate(
        loans=moved.count().cast("int64"), amount=money_sum(moved.transfers_in)
    )
