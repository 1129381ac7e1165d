"""Hand-computed cases of the scalar formulas; the arithmetic is written next to each case."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from cobranza.provisions import (
    ProvisionInputError,
    atr,
    ifrs9_stage2_reserve,
    lifetime_ecl,
    logistic_pi,
    marginal_pd,
    twelve_month_reserve,
)

D = Decimal


def test_logistic_pi_hand_values() -> None:
    assert logistic_pi(0) == 0.5  # 1 / (1 + e⁰) = 1/2
    # z = ln 3: 1 / (1 + 1/3) = 3/4; z = −ln 3: 1 / (1 + 3) = 1/4
    assert logistic_pi(math.log(3)) == pytest.approx(0.75, abs=1e-15)
    assert logistic_pi(-math.log(3)) == pytest.approx(0.25, abs=1e-15)
    # No overflow at the extremes: e^800 does not fit a double, e^(−800) underflows to 0.
    assert logistic_pi(800) == 1.0
    assert logistic_pi(-800) == 0.0


@pytest.mark.parametrize("bad", [math.inf, math.nan, "1", None, True])
def test_logistic_pi_refuses_non_numbers(bad: object) -> None:
    with pytest.raises(ProvisionInputError, match="z must be"):
        logistic_pi(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dpd", "frequency", "expected"),
    [
        # monthly: ceil(dpd ÷ 30.4)
        (0, "monthly", 0),
        (1, "monthly", 1),  # 0.03… → 1
        (30, "monthly", 1),  # 0.986… → 1
        (31, "monthly", 2),  # 1.019… → 2
        (60, "monthly", 2),  # 1.973… → 2
        (61, "monthly", 3),  # 2.006… → 3
        (152, "monthly", 5),  # exactly 5
        (304, "monthly", 10),  # exactly 10
        (D("30.4"), "monthly", 1),  # exactly 1
        (D("91.2"), "monthly", 3),  # exactly 3 (in floats 91.2 / 30.4 = 3.0000000000000004)
        # biweekly: ceil(dpd ÷ 15.2)
        (15, "biweekly", 1),  # 0.986… → 1
        (16, "biweekly", 2),  # 1.052… → 2
        (76, "biweekly", 5),  # exactly 5
        (D("45.6"), "biweekly", 3),  # exactly 3 (floats: 3.0000000000000004)
        # weekly: ceil(dpd ÷ 7)
        (7, "weekly", 1),
        (8, "weekly", 2),
        (35, "weekly", 5),
        (36, "weekly", 6),
    ],
)
def test_atr_per_periodicity(dpd: int | Decimal, frequency: str, expected: int) -> None:
    assert atr(dpd, frequency) == expected


def test_atr_in_floats_would_be_wrong() -> None:
    # Why atr() uses Decimal: the float quotient lands just above the integer.
    assert math.ceil(91.2 / 30.4) == 4
    assert atr(D("91.2"), "monthly") == 3


def test_atr_refuses_bad_inputs() -> None:
    with pytest.raises(ProvisionInputError, match="must not be negative"):
        atr(-1, "monthly")
    with pytest.raises(ProvisionInputError, match="unknown billing frequency 'yearly'"):
        atr(10, "yearly")
    with pytest.raises(ValueError, match="days_past_due must be a finite number"):
        atr(D("NaN"), "monthly")


def test_twelve_month_reserve_and_half_even_rounding() -> None:
    # PI·SP·EI = 0.2 × 0.5 × 1000 = 100.00
    assert twelve_month_reserve(0.2, 0.5, D("1000")) == D("100.00")
    # 0.5 × 0.5 × 10.10 = 2.525 → half-even → 2.52 (half-up would give 2.53)
    assert twelve_month_reserve(0.5, 0.5, D("10.10")) == D("2.52")
    # 0.5 × 0.5 × 10.30 = 2.575 → half-even → 2.58
    assert twelve_month_reserve(0.5, 0.5, D("10.30")) == D("2.58")


def test_ifrs9_stage2_reserve_hand_computed() -> None:
    # PI 0.2, SP 0.5, EI 1000, r 25 %, 730.5 days → n = 730.5 ÷ 365.25 = 2
    # ((1 − 0.2) ÷ 1.25)² = 0.64² = 0.4096;  1 − 0.4096 = 0.5904;  ÷ (0.25 + 0.2) = 1.312
    # lifetime = 0.2 × 0.5 × 1000 × 1.312 = 131.20 > 12-month 100.00
    assert ifrs9_stage2_reserve(0.2, 0.5, D("1000"), 0.25, 730.5) == D("131.20")
    # 100 days → n = max(0.27…, 1) = 1: (1 − 0.64) ÷ 0.45 = 0.8 → 80.00 < 100.00 → 100.00
    assert ifrs9_stage2_reserve(0.2, 0.5, D("1000"), 0.25, 100) == D("100.00")
    # No maturity counts as one year, like 100 days.
    assert ifrs9_stage2_reserve(0.2, 0.5, D("1000"), 0.25, None) == D("100.00")
    # r = 0, n = 3: [1 − 0.8³] ÷ 0.2 = 0.488 ÷ 0.2 = 2.44 → 0.1 × 1000 × 2.44 = 244.00
    assert ifrs9_stage2_reserve(0.2, 0.5, D("1000"), 0, 3 * 365.25) == D("244.00")
    # PI = 1: ((0) ÷ 1.25)^n = 0 → 1 ÷ 1.25 = 0.8 < 1 → max is SP·EI = 500.00
    assert ifrs9_stage2_reserve(1, 0.5, D("1000"), 0.25, 730.5) == D("500.00")
    # PI = 0 and r = 0 (0 ÷ 0 in the formula) → 0
    assert ifrs9_stage2_reserve(0, 0.5, D("1000"), 0, 730.5) == D("0.00")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1.2, 0.5, D(1), 0.1, 10), "pi must be a probability in \\[0, 1\\], got 1.2"),
        ((0.2, -0.1, D(1), 0.1, 10), "sp must be a probability"),
        ((0.2, 0.5, D(-1), 0.1, 10), "ei must not be negative"),
        ((0.2, 0.5, 1.5, 0.1, 10), "ei must be a Decimal or int amount, not 1.5"),
        ((0.2, 0.5, D(1), -0.1, 10), "annual_rate must not be negative"),
    ],
)
def test_ifrs9_stage2_reserve_refuses_bad_inputs(args: tuple, message: str) -> None:
    with pytest.raises(ProvisionInputError, match=message):
        ifrs9_stage2_reserve(*args)


def test_marginal_pd_from_conditional() -> None:
    # h = 10 % each year: 0.1;  0.9 × 0.1 = 0.09;  0.9² × 0.1 = 0.081
    assert marginal_pd([0.1, 0.1, 0.1]) == pytest.approx([0.1, 0.09, 0.081], abs=1e-15)
    # A certain default in year 2 leaves nothing for year 3: 0.5, 0.5 × 1, 0
    assert marginal_pd([0.5, 1.0, 0.3]) == [0.5, 0.5, 0.0]
    assert marginal_pd([]) == []
    with pytest.raises(ProvisionInputError, match=r"conditional_pd\[2\] must be a probability"):
        marginal_pd([0.1, 1.5])


def test_lifetime_ecl_hand_computed() -> None:
    # PD = 0.1, 0.09, 0.081; LGD 0.5; EAD 1000, 800, 600; EIR 10 %
    # 0.1 × 0.5 × 1000 ÷ 1.1    = 45.454545…
    # 0.09 × 0.5 × 800 ÷ 1.21   = 29.752066…
    # 0.081 × 0.5 × 600 ÷ 1.331 = 18.256949…
    # Σ = 93.463561… → 93.46
    assert lifetime_ecl([0.1, 0.09, 0.081], 0.5, [D(1000), D(800), D(600)], 0.1) == D("93.46")
    # Per-period LGD and a single EAD: 0.2 × 0.5 × 100 + 0.1 × 1 × 100 = 20.00 (EIR 0)
    assert lifetime_ecl([0.2, 0.1], [0.5, 1.0], D(100), 0) == D("20.00")
    assert lifetime_ecl([], 0.5, D(100), 0.1) == D("0.00")


def test_lifetime_ecl_refuses_bad_inputs() -> None:
    with pytest.raises(ProvisionInputError, match="lgd has 1 periods but marginal_pd has 2"):
        lifetime_ecl([0.1, 0.1], [0.5], D(100), 0.1)
    with pytest.raises(ProvisionInputError, match="marginal PDs add up to more than 1"):
        lifetime_ecl([0.6, 0.6], 0.5, D(100), 0.1)
    with pytest.raises(ProvisionInputError, match="eir must be greater than −1"):
        lifetime_ecl([0.1], 0.5, D(100), -1)
    with pytest.raises(ProvisionInputError, match=r"ead\[1\] must be a Decimal or int amount"):
        lifetime_ecl([0.1], 0.5, 100.0, 0.1)
