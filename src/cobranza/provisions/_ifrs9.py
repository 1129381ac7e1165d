"""IFRS 9 staging and the per-account reserve of each stage (scalar twins of the engine's)."""

from __future__ import annotations

from decimal import Decimal

from cobranza.provisions._checks import (
    ProvisionInputError,
    finite_float,
    money,
    non_negative_int,
    probability,
)
from cobranza.provisions._formulas import lifetime_years, stage2_rate
from cobranza.provisions._money import rate_decimal, reserve_amount
from cobranza.provisions._params import Ifrs9Staging


def ifrs9_stage(days_past_due: int, written_off: bool, staging: Ifrs9Staging) -> int:
    """Stage 3 if written off or dpd ≥ stage3_from_dpd (90); stage 2 if dpd > stage2_after_dpd
    (30); else stage 1."""
    dpd = non_negative_int("days_past_due", days_past_due)
    if written_off or dpd >= staging.stage3_from_dpd:
        return 3
    return 2 if dpd > staging.stage2_after_dpd else 1


def ifrs9_rate(
    stage: int,
    pi: float,
    sp: float,
    annual_rate: float,
    remaining_days: float | None,
    days_per_year: float = 365.25,
) -> tuple[float, float]:
    """(PI used, reserve rate) of one account:

    stage 1: rate = PI·SP                                  (12 months)
    stage 2: rate = max{PI·SP ; PI·SP ÷ (r + PI) · [1 − ((1 − PI) ÷ (1 + r))^n]}
    stage 3: PI = 1, rate = SP
    """
    if stage not in (1, 2, 3):
        raise ProvisionInputError(f"stage must be 1, 2 or 3, got {stage!r}")
    pi = 1.0 if stage == 3 else probability("pi", pi)
    sp = probability("sp", sp)
    if stage != 2:
        return pi, pi * sp
    r = finite_float("annual_rate", annual_rate)
    if r < 0:
        raise ProvisionInputError(f"annual_rate must not be negative, got {annual_rate!r}")
    n = lifetime_years(
        None if remaining_days is None else finite_float("remaining_days", remaining_days),
        days_per_year,
    )
    return pi, stage2_rate(pi, sp, r, n)


def ifrs9_reserve(
    stage: int,
    pi: float,
    sp: float,
    ei: Decimal | int,
    annual_rate: float,
    remaining_days: float | None,
    days_per_year: float = 365.25,
) -> Decimal:
    """The reserve of one account in ``stage``: EI × :func:`ifrs9_rate`, rounded like all
    reserves (rate to 9 places, then centavos half-even)."""
    _, rate = ifrs9_rate(stage, pi, sp, annual_rate, remaining_days, days_per_year)
    return reserve_amount(money("ei", ei), rate_decimal(rate))
