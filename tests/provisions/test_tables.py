"""Provision matrix and age-band tables (SOCAP "Nivel Básico"), hand-computed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cobranza.provisions import (
    MatrixProvision,
    ProvisionInputError,
    age_band_reserve,
    load_age_bands,
    provision_matrix,
)

D = Decimal
SOCAP = load_age_bands("socap_nivel_basico")


def test_provision_matrix_by_bucket_and_total() -> None:
    result = provision_matrix(
        {"current": D("1000.00"), "1-29": D("500.00"), "30-59": D("200.00")},
        {"current": D("0.01"), "1-29": "0.05", "30-59": 0.2, "60-89": D("0.5")},
    )
    # 1000 × 1 % = 10.00;  500 × 5 % = 25.00;  200 × 20 % = 40.00;  total 75.00
    assert result == MatrixProvision(
        total=D("75.00"),
        by_bucket={"current": D("10.00"), "1-29": D("25.00"), "30-59": D("40.00")},
    )


def test_provision_matrix_rounds_each_bucket_half_even() -> None:
    result = provision_matrix(
        {"current": D("10.10"), "1-29": D("10.30"), "30-59": D("333.33")},
        {"current": D("0.05"), "1-29": D("0.05"), "30-59": D("0.015")},
    )
    # 10.10 × 5 % = 0.505 → 0.50;  10.30 × 5 % = 0.515 → 0.52;  333.33 × 1.5 % = 4.99995 → 5.00
    assert result.by_bucket == {"current": D("0.50"), "1-29": D("0.52"), "30-59": D("5.00")}
    assert result.total == D("6.02")  # the sum of the rounded parts


def test_provision_matrix_refuses_bad_inputs() -> None:
    with pytest.raises(ProvisionInputError, match="no loss rate for bucket\\(s\\) '1-29'"):
        provision_matrix({"current": D(1), "1-29": D(1)}, {"current": D("0.01")})
    with pytest.raises(ProvisionInputError, match="loss rate of 'current' must be in \\[0, 1\\]"):
        provision_matrix({"current": D(1)}, {"current": D("1.5")})
    with pytest.raises(ProvisionInputError, match="more than 9 decimal places"):
        provision_matrix({"current": D(1)}, {"current": D("0.0000000001")})
    with pytest.raises(ProvisionInputError, match="balance of 'current' must not be negative"):
        provision_matrix({"current": D(-1)}, {"current": D("0.01")})


@pytest.mark.parametrize(
    ("dpd", "rate"),
    [
        (0, "0.01"),
        (1, "0.02"), (7, "0.02"),
        (8, "0.10"), (30, "0.10"),
        (31, "0.20"), (60, "0.20"),
        (61, "0.40"), (90, "0.40"),
        (91, "0.70"), (120, "0.70"),
        (121, "0.85"), (180, "0.85"),
        (181, "1.00"), (5000, "1.00"),
    ],
)  # fmt: skip
def test_socap_table_band_edges(dpd: int, rate: str) -> None:
    # base = balance + interest = 1000.00 + 10.00 = 1010.00; reserve = rate × 1010.00
    expected = (D("1010.00") * D(rate)).quantize(D("0.01"))
    assert age_band_reserve(dpd, D("1000.00"), D("10.00"), SOCAP) == expected


def test_socap_table_hand_values() -> None:
    assert age_band_reserve(0, D("1000.00"), D("10.00"), SOCAP) == D("10.10")  # 1 % × 1010
    assert age_band_reserve(45, D("1000.00"), D("10.00"), SOCAP) == D("202.00")  # 20 % × 1010
    assert age_band_reserve(150, D("1000.00"), D("10.00"), SOCAP) == D("858.50")  # 85 % × 1010
    # 1 % × 10.50 = 0.105 → half-even 0.10;  1 % × 10.70 = 0.107 → 0.11
    assert age_band_reserve(0, D("10.50"), D("0"), SOCAP) == D("0.10")
    assert age_band_reserve(0, D("10.00"), D("0.70"), SOCAP) == D("0.11")


def test_balance_only_table_ignores_interest() -> None:
    balance_only = SOCAP.model_copy(update={"base": "balance"})
    assert age_band_reserve(0, D("1000.00"), D("10.00"), balance_only) == D("10.00")


def test_age_band_reserve_refuses_bad_inputs() -> None:
    with pytest.raises(ProvisionInputError, match="days_past_due must not be negative"):
        age_band_reserve(-1, D(1), D(0), SOCAP)
    with pytest.raises(ProvisionInputError, match="days_past_due must be an integer"):
        age_band_reserve(1.5, D(1), D(0), SOCAP)  # type: ignore[arg-type]
    with pytest.raises(ProvisionInputError, match="interest must be a Decimal or int amount"):
        age_band_reserve(1, D(1), 0.5, SOCAP)  # type: ignore[arg-type]
