"""CNBV consumer methodology for one account: reserve = PI × SP × EI, and the risk grade.

    ATR   = ceil(days past due ÷ days per period)                30.4 / 15.2 / 7 days
    z     = intercept + Σ_v coefficient_v × v                    model of the segment
    PI    = 1 if ATR ≥ pi_one_from_atr, else 1 / (1 + e^(−z))
    SP    = SP of the ATR band;  EI = balance (+ interest)
    rate  = PI × SP (9 places);  reserve = EI × rate (centavos);  grade = band of the rate

The segment is ``revolving`` for revolving products, else the non-revolving model of the loan's
billing periodicity. The coefficients come from a :class:`CnbvConsumer` parameter file; the one
bundled with cobranza is an *example* with illustrative numbers (see docs/provisions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import NamedTuple

from cobranza.provisions._checks import ProvisionInputError, finite_float, money
from cobranza.provisions._formulas import atr, logistic_pi
from cobranza.provisions._money import rate_decimal, reserve_amount
from cobranza.provisions._params import CnbvConsumer, CnbvSegment, LogitModel

REVOLVING = "revolving"


class CnbvResult(NamedTuple):
    """One account's CNBV reserve and its ingredients."""

    atr: int
    pi: float
    sp: float
    ei: Decimal
    rate: Decimal
    reserve: Decimal
    grade: str


def cnbv_segment(
    params: CnbvConsumer, product: str, frequency: str
) -> tuple[LogitModel, CnbvSegment]:
    """The PI model and the segment (SP and grade bands) of a product and periodicity."""
    if product == REVOLVING:
        return params.revolving.model, params.revolving
    try:
        return params.non_revolving.models[frequency], params.non_revolving  # type: ignore[index]
    except KeyError:
        raise ProvisionInputError(f"no non-revolving model for frequency {frequency!r}") from None


def cnbv_score(model: LogitModel, atr_value: int, variables: Mapping[str, float]) -> float:
    """z = intercept + Σ coefficient × variable, summed in the coefficients' order."""
    z = model.intercept
    for name, coefficient in model.coefficients.items():
        if name == "ATR":
            value = float(atr_value)
        elif name in variables:
            value = finite_float(name, variables[name])
        else:
            raise ProvisionInputError(f"the model needs variable {name!r}; it was not given")
        z = z + coefficient * value
    return z


def cnbv_reserve(
    params: CnbvConsumer,
    *,
    product: str,
    frequency: str,
    days_past_due: int,
    ei: Decimal | int,
    variables: Mapping[str, float] | None = None,
) -> CnbvResult:
    """The CNBV reserve of one account (formulas in the module docstring)."""
    model, segment = cnbv_segment(params, product, frequency)
    periods = atr(days_past_due, frequency)
    exposure = money("ei", ei)
    if periods >= model.pi_one_from_atr:
        pi = 1.0
    else:
        pi = logistic_pi(cnbv_score(model, periods, variables or {}))
    sp = segment.sp_for(periods)
    rate = rate_decimal(pi * sp)
    return CnbvResult(
        atr=periods, pi=pi, sp=sp, ei=exposure, rate=rate,
        reserve=reserve_amount(exposure, rate), grade=segment.grade_for(rate),
    )  # fmt: skip
