"""Scalar formulas for one account: PI, ATR, IFRS 9 stage-2 reserve, lifetime ECL, marginal PD.

Types: money is ``Decimal`` (``int`` accepted, ``float`` refused) and every reserve is a Decimal
rounded once, at the end, to centavos with ROUND_HALF_EVEN. Probabilities, rates and discount
factors are ``float`` (``Decimal`` accepted); a reserve rate from float arithmetic is rounded to
9 decimal places before it multiplies the exposure (see ``_money``), so the vectorised engine
versions give the same centavos.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal

from cobranza.provisions._checks import (
    ProvisionInputError,
    days,
    finite_float,
    money,
    probability,
)
from cobranza.provisions._money import CENT, rate_decimal, reserve_amount

#: Days in one billing period, as the CNBV methodology converts days past due into ATR.
DAYS_PER_PERIOD: dict[str, Decimal] = {
    "monthly": Decimal("30.4"),
    "biweekly": Decimal("15.2"),
    "weekly": Decimal("7"),
}

#: Days per year in n = remaining days ÷ 365.25 of the stage-2 formula.
DAYS_PER_YEAR = Decimal("365.25")


def logistic_pi(z: float) -> float:
    """PI = 1 / (1 + e^(−z)), the CNBV probability of default from a model score z.

    Evaluated as e = e^(−|z|), PI = 1/(1+e) for z ≥ 0 and e/(1+e) otherwise, so no exponent
    overflows (z = −800 gives 0.0, not an error); the engines run the same steps.
    """
    z = finite_float("z", z)
    e = math.exp(-abs(z))
    return 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)


def atr(days_past_due: int | Decimal, frequency: str) -> int:
    """ATR = ceil(days past due ÷ days per period), the number of billing periods in arrears.

    Days per period: monthly 30.4, biweekly 15.2, weekly 7. Computed in Decimal: with floats
    91.2 ÷ 30.4 is 3.0000000000000004 and its ceiling 4; in Decimal it is exactly 3.
    """
    dpd = days("days_past_due", days_past_due)
    try:
        per_period = DAYS_PER_PERIOD[frequency]
    except (KeyError, TypeError):
        known = ", ".join(DAYS_PER_PERIOD)
        raise ProvisionInputError(
            f"unknown billing frequency {frequency!r}; expected one of {known}"
        ) from None
    return int((dpd / per_period).to_integral_value(rounding=ROUND_CEILING))


def twelve_month_reserve(pi: float, sp: float, ei: Decimal | int) -> Decimal:
    """R = PI × SP × EI (the 12-month expected loss; CNBV reserve; IFRS 9 stages 1 and 3).

    rate = PI·SP rounded to 9 places, R = EI × rate rounded to centavos (half-even).
    """
    pi = probability("pi", pi)
    sp = probability("sp", sp)
    return reserve_amount(money("ei", ei), rate_decimal(pi * sp))


def stage2_rate(pi: float, sp: float, annual_rate: float, years: float) -> float:
    """The stage-2 reserve rate max{PI·SP ; PI·SP ÷ (r + PI) · [1 − ((1 − PI) ÷ (1 + r))^n]}.

    Inputs already checked; n = ``years``. PI = 0 gives 0 (the formula's 0 ÷ 0 when r = 0 too).
    """
    base = pi * sp
    if pi == 0.0:
        return 0.0
    lifetime = base * (1.0 - ((1.0 - pi) / (1.0 + annual_rate)) ** years) / (annual_rate + pi)
    return max(base, lifetime)


def lifetime_years(remaining_days: float | None, days_per_year: float = 365.25) -> float:
    """n = max(remaining days ÷ 365.25, 1); no maturity (None) counts as one year."""
    if remaining_days is None:
        return 1.0
    return max(remaining_days / days_per_year, 1.0)


def ifrs9_stage2_reserve(
    pi: float,
    sp: float,
    ei: Decimal | int,
    annual_rate: float,
    remaining_days: float | None,
) -> Decimal:
    """Lifetime reserve of an IFRS 9 stage-2 account, as the CNBV adoption states it:

        R = max{PI·SP·EI ; PI·SP·EI ÷ (r + PI) · [1 − ((1 − PI) ÷ (1 + r))^n]}
        n = max(remaining days ÷ 365.25, 1)

    r is the annual interest rate (0.45 = 45 %). The second term sums PI·SP·EI over n years,
    each year's default discounted at r and conditional on surviving the previous ones, so the
    lifetime reserve is never below the 12-month one. Rounded as :func:`twelve_month_reserve`.
    """
    pi = probability("pi", pi)
    sp = probability("sp", sp)
    exposure = money("ei", ei)
    r = finite_float("annual_rate", annual_rate)
    if r < 0:
        raise ProvisionInputError(f"annual_rate must not be negative, got {annual_rate!r}")
    n = lifetime_years(
        None if remaining_days is None else finite_float("remaining_days", remaining_days)
    )
    return reserve_amount(exposure, rate_decimal(stage2_rate(pi, sp, r, n)))


def marginal_pd(conditional_pd: Sequence[float]) -> list[float]:
    """Marginal PD_t = h_t × Π_{s<t} (1 − h_s) from conditional (hazard) PDs h_t.

    h_t is the probability of defaulting in period t given survival to its start; PD_t the
    unconditional probability of defaulting in period t. Σ PD_t = 1 − Π (1 − h_t) ≤ 1.
    """
    survival = 1.0
    result = []
    for t, h in enumerate(conditional_pd, start=1):
        h = probability(f"conditional_pd[{t}]", h)
        result.append(survival * h)
        survival *= 1.0 - h
    return result


def _per_period(name: str, value: object, periods: int) -> list[object]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != periods:
            raise ProvisionInputError(
                f"{name} has {len(value)} periods but marginal_pd has {periods}"
            )
        return list(value)
    return [value] * periods


def lifetime_ecl(
    marginal_pd: Sequence[float],
    lgd: Sequence[float] | float,
    ead: Sequence[Decimal | int] | Decimal | int,
    eir: float,
) -> Decimal:
    """ECL = Σ_t PD_t × LGD_t × EAD_t × (1 + EIR)^(−t), t = 1 … T (the IFRS 9 general form).

    ``marginal_pd`` per period (see :func:`marginal_pd`); ``lgd`` and ``ead`` per period or one
    value for all; ``eir`` the effective interest rate per period (annual EIR for yearly
    periods). Each factor PD_t·LGD_t·(1+EIR)^(−t) is a float, multiplied exactly by the Decimal
    EAD_t; the sum is rounded once to centavos (half-even).
    """
    periods = len(marginal_pd)
    rate = finite_float("eir", eir)
    if rate <= -1:
        raise ProvisionInputError(f"eir must be greater than −1, got {eir!r}")
    lgds = _per_period("lgd", lgd, periods)
    eads = _per_period("ead", ead, periods)
    if sum(probability(f"marginal_pd[{t}]", p) for t, p in enumerate(marginal_pd, 1)) > 1 + 1e-12:
        raise ProvisionInputError("marginal PDs add up to more than 1")
    total = Decimal(0)
    for t, (pd_t, lgd_t, ead_t) in enumerate(zip(marginal_pd, lgds, eads, strict=True), start=1):
        factor = float(pd_t) * probability(f"lgd[{t}]", lgd_t) * (1.0 + rate) ** -t
        total += money(f"ead[{t}]", ead_t) * Decimal(factor)
    return total.quantize(CENT, rounding=ROUND_HALF_EVEN)
