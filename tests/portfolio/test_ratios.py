"""IMOR, IMORA and ICOR: hand-computed cases, zero denominators, refused inputs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cobranza.portfolio import icor, imor, imora

D = Decimal


def test_imor_is_the_90_plus_share_of_the_balance() -> None:
    # 150.00 of 1,000.00 is 90+ dpd: 150 / 1000 = 0.15
    assert imor(D("150.00"), D("1000.00")) == D("0.15")
    # 1 / 3 to 28 significant digits, half-even
    assert imor(D("1.00"), D("3.00")) == D("0.3333333333333333333333333333")
    assert imor(0, D("250.00")) == 0
    assert imor(D("250.00"), D("250.00")) == 1


def test_imora_adds_the_write_offs_of_twelve_months_to_both_sides() -> None:
    # (150 + 50) / (1000 + 50) = 200 / 1050 = 0.190476190476…
    assert imora(D("150.00"), D("1000.00"), D("50.00")) == D("200") / D("1050")
    assert str(imora(D("150.00"), D("1000.00"), D("50.00")))[:10] == "0.19047619"
    # no write-offs: IMORA is IMOR
    assert imora(D("150.00"), D("1000.00"), 0) == imor(D("150.00"), D("1000.00"))
    # a book written off entirely: (0 + 80) / (0 + 80) = 1
    assert imora(0, 0, D("80.00")) == 1


def test_icor_is_reserves_over_the_90_plus_balance() -> None:
    # 300 reserved against 150 non-performing: 300 / 150 = 2 (200 % coverage)
    assert icor(D("300.00"), D("150.00")) == 2
    # 45.50 / 182.00 = 0.25
    assert icor(D("45.50"), D("182.00")) == D("0.25")
    assert icor(0, D("10.00")) == 0


def test_zero_denominators_are_undefined_not_zero() -> None:
    assert imor(0, 0) is None
    assert imora(0, 0, 0) is None
    assert icor(D("500.00"), 0) is None
    assert icor(0, 0) is None


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: imor(0.5, 1), TypeError, "balance_90_plus must be a Decimal or int"),
        (lambda: imor(D("-1"), D("10")), ValueError, "must not be negative"),
        (lambda: imor(D("11"), D("10")), ValueError, "cannot exceed total_balance"),
        (lambda: icor(D("1"), D("NaN")), ValueError, "must be finite"),
        (lambda: imora(D("1"), D("10"), D("-5")), ValueError, "write_offs_12m"),
        (lambda: imora(D("20"), D("10"), D("5")), ValueError, "cannot exceed"),
        (lambda: icor(True, D("10")), TypeError, "reserves"),
    ],
)
def test_bad_inputs_are_refused(call, error, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        call()
