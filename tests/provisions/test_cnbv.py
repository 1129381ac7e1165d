"""CNBV consumer methodology on the bundled *example* parameters, hand-computed.

The example coefficients are illustrative (see the file's header); these tests check the
structure of the computation, not regulatory values.
"""

from __future__ import annotations

import math
import warnings
from decimal import Decimal

import pytest

from cobranza.provisions import (
    CnbvResult,
    ExampleParametersWarning,
    ProvisionInputError,
    cnbv_reserve,
    load_cnbv_params,
)

D = Decimal

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ExampleParametersWarning)
    EXAMPLE = load_cnbv_params()

# The non-revolving variables besides MAXATR and %PAGO at 0, so that each hand-computed z
# below has only the ATR, MAXATR and %PAGO terms.
OTHERS_ZERO = {
    "VECES": 0, "INDATR": 0, "%PR": 0, "%SDOIMP": 0, "TIPO_A": 0, "TIPO_N": 0, "TIPO_B": 0,
    "TIPO_O": 0,
}  # fmt: skip


def monthly(dpd: int, maxatr: float, pago: float) -> CnbvResult:
    return cnbv_reserve(
        EXAMPLE, product="installment", frequency="monthly", days_past_due=dpd,
        ei=D("1000.00"), variables={**OTHERS_ZERO, "MAXATR": maxatr, "%PAGO": pago},
    )  # fmt: skip


def test_current_account() -> None:
    # ATR = ceil(0 ÷ 30.4) = 0;  z = −2.5 + 0.9·0 + 0.2·0 − 0.01·100 = −3.5
    # PI = 1 ÷ (1 + e^3.5) = 0.0293122307…;  SP(ATR 0) = 0.65;  rate = 0.0190529500
    # reserve = 1000 × 0.019052950 = 19.05;  grade A-1 (rate ≤ 2 %)
    result = monthly(0, 0, 100)
    assert result.atr == 0
    assert result.pi == pytest.approx(1 / (1 + math.exp(3.5)), abs=1e-15)
    assert result.sp == 0.65
    assert result.rate == D("0.019052950")
    assert (result.reserve, result.grade) == (D("19.05"), "A-1")


def test_two_periods_late() -> None:
    # ATR = ceil(31 ÷ 30.4) = 2;  z = −2.5 + 0.9·2 + 0.2·4 − 0.01·10 = 0  →  PI = 0.5
    # rate = 0.5 × 0.65 = 0.325 → reserve 325.00, grade D (15 % < rate ≤ 35 %)
    result = monthly(31, 4, 10)
    assert result.atr == 2
    assert result.pi == pytest.approx(0.5, abs=1e-15)
    assert result.rate == D("0.325000000")
    assert (result.reserve, result.grade) == (D("325.00"), "D")


def test_every_non_revolving_variable_enters_z() -> None:
    # ATR = ceil(14 ÷ 30.4) = 1; a payroll loan (TIPO_N) with
    # z = −2.5 + 0.9·1 + 0.2·1 − 0.01·60 + 0.15·2 + 0.3·1 − 0.005·50 + 0.004·80 − 0.2·1
    #   = −2.5 + 0.9 + 0.2 − 0.6 + 0.3 + 0.3 − 0.25 + 0.32 − 0.2 = −1.53
    variables = {
        **OTHERS_ZERO, "MAXATR": 1, "%PAGO": 60, "VECES": 2, "INDATR": 1, "%PR": 50,
        "%SDOIMP": 80, "TIPO_N": 1,
    }  # fmt: skip
    result = cnbv_reserve(
        EXAMPLE, product="installment", frequency="monthly", days_past_due=14,
        ei=D("1000.00"), variables=variables,
    )  # fmt: skip
    assert result.atr == 1
    assert result.pi == pytest.approx(1 / (1 + math.exp(1.53)), abs=1e-15)


def test_pi_is_one_from_the_atr_threshold() -> None:
    # 92 dpd: ATR = ceil(3.026…) = 4 ≥ pi_one_from_atr 4 → PI = 1; SP 0.65 → 650.00, grade E
    result = monthly(92, 0, 100)
    assert (result.atr, result.pi, result.sp) == (4, 1.0, 0.65)
    assert (result.reserve, result.grade) == (D("650.00"), "E")
    # 91 dpd: ATR = ceil(2.993…) = 3 → still the logistic PI
    assert monthly(91, 0, 100).pi < 1
    # 300 dpd: ATR = ceil(9.868…) = 10 → SP 1.0 → the whole exposure
    assert monthly(300, 0, 100).reserve == D("1000.00")


def test_revolving_model() -> None:
    # z = −2.9 + 0.6·1 + 0.4·2 − 0.01·50 − 0.01·20 + 0.01·80 = −1.4
    # PI = 1 ÷ (1 + e^1.4) = 0.1978161114…;  SP 0.75;  rate 0.148362083…
    # reserve = 148.36;  revolving grade C-1 (10 % < rate ≤ 15 %)
    result = cnbv_reserve(
        EXAMPLE, product="revolving", frequency="monthly", days_past_due=20, ei=D("1000.00"),
        variables={"ACT": 1, "HIST": 2, "ANT": 50, "%PAGO": 20, "%USO": 80},
    )  # fmt: skip
    assert result.pi == pytest.approx(1 / (1 + math.exp(1.4)), abs=1e-15)
    assert result.sp == 0.75
    assert (result.reserve, result.grade) == (D("148.36"), "C-1")


def test_other_periodicities_use_their_own_model() -> None:
    # weekly, 10 dpd: ATR = ceil(10 ÷ 7) = 2; z = −2.7 + 0.2·2 + 0.05·2 − 0.01·50 = −2.7
    weekly = cnbv_reserve(
        EXAMPLE, product="installment", frequency="weekly", days_past_due=10, ei=D(1000),
        variables={**OTHERS_ZERO, "MAXATR": 2, "%PAGO": 50},
    )  # fmt: skip
    assert weekly.atr == 2
    assert weekly.pi == pytest.approx(1 / (1 + math.exp(2.7)), abs=1e-15)


def test_missing_variable_and_bad_frequency() -> None:
    with pytest.raises(ProvisionInputError, match="needs variable 'MAXATR'"):
        cnbv_reserve(
            EXAMPLE, product="installment", frequency="monthly", days_past_due=0,
            ei=D(1), variables={"%PAGO": 1},
        )  # fmt: skip
    with pytest.raises(ProvisionInputError, match="no non-revolving model for frequency 'daily'"):
        cnbv_reserve(EXAMPLE, product="installment", frequency="daily", days_past_due=0, ei=D(1))


def test_example_file_is_marked_and_warns() -> None:
    assert EXAMPLE.example is True
    assert "ILLUSTRATIVE" in (EXAMPLE.source.note or "")
    with pytest.warns(ExampleParametersWarning, match="illustrative values"):
        load_cnbv_params()
