"""From a reserve rate to centavos, identically in Python, DuckDB and Spark.

Every method ends the same way:

    rate    = the reserve percentage of the exposure, rounded to 9 decimal places
    reserve = EI × rate, exact, then rounded to centavos with ROUND_HALF_EVEN

A rate that comes from floating-point arithmetic (a logistic PI, a power) is first rounded to
9 places by ``round(rate × 10⁹)`` on the IEEE double — the same double in Python and in both
engines, and ``round`` half-up on an exact double agrees everywhere. The product EI × rate has at
most 2 + 9 decimals, so the engines compute it exactly in DECIMAL, and the half-even step is done
by hand because DuckDB and Spark only round half-up. Exposures must stay below 10⁹ MXN per
account (DECIMAL(18,9)); the engines raise rather than round beyond that.

Scalar: :func:`rate_decimal`, :func:`reserve_amount`. Ibis twins: :func:`rate_decimal_expr`,
and :func:`reserve_amount` in three steps (:func:`exact_reserve_expr`, :func:`half_up_cents_expr`,
:func:`half_even_cents_expr`) so that the SQL computes the product once, as a column.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from cobranza.contract import MONEY

#: Decimal places of a reserve rate.
RATE_PLACES = 9
#: Engine type of a reserve rate: 9 places, at most 9 integer digits (so exposures < 10⁹).
RATE = dt.Decimal(18, RATE_PLACES)
CENT = Decimal("0.01")
_QUANTUM = Decimal(1).scaleb(-RATE_PLACES)
_SCALE = float(10**RATE_PLACES)
#: The exact product EI × rate: 2 + 9 decimal places.
_PRODUCT = dt.Decimal(20, 2 + RATE_PLACES)


def rate_decimal(rate: float) -> Decimal:
    """A floating-point rate rounded to 9 places: round_half_up(rate × 10⁹) × 10⁻⁹.

    The multiplication is the engines' IEEE double multiplication; the rounding is exact.
    """
    scaled = Decimal(rate * _SCALE).to_integral_value(rounding=ROUND_HALF_UP)
    return scaled * _QUANTUM


def reserve_amount(ei: Decimal, rate: Decimal) -> Decimal:
    """reserve = EI × rate rounded to centavos, ROUND_HALF_EVEN (rate has ≤ 9 places)."""
    return (ei * rate).quantize(CENT, rounding=ROUND_HALF_EVEN)


def float_literal(value: float) -> ir.FloatingScalar:
    """A float constant as CAST('repr' AS DOUBLE).

    Ibis's PySpark compiler cannot print a float literal unless Ibis's PySpark backend has been
    loaded; a string cast parses to the same double on both engines.
    """
    return ibis.literal(repr(float(value))).cast("float64")


def rate_literal(rate: Decimal) -> ir.DecimalScalar:
    """An exact rate (≤ 9 decimal places) as a DECIMAL(18,9) constant."""
    return ibis.literal(rate.quantize(_QUANTUM), type=RATE)


def recast(expr: ir.Value, to: dt.DataType) -> ir.Value:
    """``expr.cast(to)`` that stays in the SQL even when Ibis already types ``expr`` as ``to``.

    Ibis types DECIMAL arithmetic by precedence (d(18,2) + d(18,2) is d(18,2)) and drops a
    cast to the same type, while the engines widen the result; going through a wider type
    keeps the cast, so both engines return exactly ``to``.
    """
    if expr.type() == to and to.is_decimal():
        expr = expr.cast(dt.Decimal(38, to.scale))
    return expr.cast(to)


def rate_decimal_expr(rate: ir.FloatingValue) -> ir.DecimalValue:
    """Ibis twin of :func:`rate_decimal` (rates in [0, 1])."""
    scaled = (rate * float_literal(_SCALE)).round().cast("int32")  # ≤ 10⁹ < 2³¹
    return recast(rate_literal(_QUANTUM) * scaled, RATE)


def exact_reserve_expr(ei: ir.DecimalValue, rate: ir.DecimalValue) -> ir.DecimalValue:
    """EI × rate, exact: DECIMAL(18,9) × DECIMAL(18,9) fits both engines without rounding."""
    return (ei.cast(RATE) * rate.cast(RATE)).cast(_PRODUCT)


def half_up_cents_expr(exact: ir.DecimalValue) -> ir.DecimalValue:
    """The exact reserve rounded to centavos half-up: how both engines down-cast a DECIMAL."""
    return exact.cast(MONEY)


def half_even_cents_expr(exact: ir.DecimalValue, up: ir.DecimalValue) -> ir.DecimalValue:
    """Ibis twin of :func:`reserve_amount` from the exact product and its half-up rounding.

    Half-even differs from half-up only on an exact tie (up − exact = 0.005) whose rounded
    centavo is odd: then it rounds down instead. ``exact`` and ``up`` are best columns of a
    previous select, so the SQL does not repeat the product.
    """
    tie = (up.cast(_PRODUCT) - exact) == ibis.literal(Decimal("0.005"), type=_PRODUCT)
    odd = (up * 100).cast("int64") % 2 == 1
    even = ibis.ifelse(tie & odd, up - ibis.literal(CENT, type=MONEY), up)
    return recast(even, MONEY)
