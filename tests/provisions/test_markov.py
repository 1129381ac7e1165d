"""Roll-rate (Markov) PD: the transition matrix and its powers against exact Fractions."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from cobranza.provisions import (
    DEFAULT,
    ProvisionInputError,
    cumulative_pd,
    lifetime_pd,
    transition_matrix,
)

#: Pooled month-to-month counts (from_bucket, to_bucket, loans), as roll_rate_matrix gives.
ROWS = [
    ("current", "current", 80), ("current", "1-29", 15), ("current", "paid_off", 5),
    ("1-29", "current", 30), ("1-29", "1-29", 20), ("1-29", "30-59", 50),
    ("30-59", "current", 10), ("30-59", "30-59", 30), ("30-59", "60-89", 60),
    ("60-89", "current", 10), ("60-89", "60-89", 20), ("60-89", "90-119", 60),
    ("60-89", "written_off", 10),
    # Rows leaving a default bucket are ignored: default is absorbing.
    ("90-119", "current", 5), ("90-119", "120-179", 95),
]  # fmt: skip
STATES = ("current", "1-29", "30-59", "60-89", DEFAULT, "paid_off")

#: The same matrix written out by hand: each count ÷ its row total (100 in every row).
F = Fraction
EXACT = [
    [F(80, 100), F(15, 100), 0, 0, 0, F(5, 100)],
    [F(30, 100), F(20, 100), F(50, 100), 0, 0, 0],
    [F(10, 100), 0, F(30, 100), F(60, 100), 0, 0],
    # 60-89 → 90-119 (60) and → written_off (10) both land in default: 70 / 100
    [F(10, 100), 0, 0, F(20, 100), F(70, 100), 0],
    [0, 0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0, 1],
]


def rows(data: list[tuple[str, str, int]]) -> list[dict[str, object]]:
    return [{"from_bucket": a, "to_bucket": b, "loans": n} for a, b, n in data]


def multiply(a: list[list[Fraction]], b: list[list[Fraction]]) -> list[list[Fraction]]:
    """Explicit loop multiplication in exact arithmetic (independent of numpy)."""
    n = len(a)
    return [[sum((a[i][k] * b[k][j] for k in range(n)), F(0)) for j in range(n)] for i in range(n)]


def power(m: list[list[Fraction]], k: int) -> list[list[Fraction]]:
    result = [[F(int(i == j)) for j in range(len(m))] for i in range(len(m))]
    for _ in range(k):
        result = multiply(result, m)
    return result


def test_transition_matrix_is_row_stochastic_with_absorbing_states() -> None:
    tm = transition_matrix(rows(ROWS))
    assert tm.states == STATES
    assert tm.default_buckets == ("90-119", "120-179", "180+")
    assert np.allclose(tm.matrix.sum(axis=1), 1.0)
    assert np.array_equal(tm.matrix, np.array([[float(x) for x in row] for row in EXACT]))


@pytest.mark.parametrize("months", [0, 1, 2, 3, 12])
def test_cumulative_pd_matches_exact_powers(months: int) -> None:
    exact = power(EXACT, months)
    pd = cumulative_pd(transition_matrix(rows(ROWS)), months)
    for i, bucket in enumerate(STATES[:4]):
        assert pd[bucket] == pytest.approx(float(exact[i][4]), abs=1e-12)
    assert pd["90-119"] == pd["180+"] == pd["written_off"] == 1.0


def test_two_month_pd_by_hand() -> None:
    # From 60-89 in two months: default now (0.7), or stay (0.2) then default (0.7 × 0.2), or
    # cure (0.1) and not default next month from current (0): 0.7 + 0.2 × 0.7 = 0.84
    assert cumulative_pd(transition_matrix(rows(ROWS)), 2)["60-89"] == pytest.approx(0.84)


def test_lifetime_pd_equals_absorption_probability() -> None:
    # Independent check: absorption probabilities b = (I − Q)⁻¹ r, solved exactly with
    # Gauss-Jordan on Fractions (Q = open → open block, r = open → default column).
    n = 4
    a = [[F(int(i == j)) - EXACT[i][j] for j in range(n)] + [EXACT[i][4]] for i in range(n)]
    for col in range(n):
        pivot = a[col][col]
        a[col] = [x / pivot for x in a[col]]
        for r in range(n):
            if r != col:
                factor = a[r][col]
                a[r] = [x - factor * y for x, y in zip(a[r], a[col], strict=True)]
    absorption = [a[i][n] for i in range(n)]
    pd = lifetime_pd(transition_matrix(rows(ROWS)))
    for i, bucket in enumerate(STATES[:4]):
        assert pd[bucket] == pytest.approx(float(absorption[i]), abs=1e-9)
    # Paid-off is reachable only from current, so no bucket defaults for sure.
    assert 0 < pd["current"] < pd["1-29"] < pd["30-59"] < pd["60-89"] < 1


def test_ninety_plus_as_default_is_configurable() -> None:
    data = [*ROWS, ("120-179", "180+", 1), ("180+", "written_off", 1)]
    tm = transition_matrix(rows(data), default_from_dpd=None)
    assert tm.states == (
        "current", "1-29", "30-59", "60-89", "90-119", "120-179", "180+", DEFAULT, "paid_off",
    )  # fmt: skip
    assert tm.default_buckets == ()
    # 90-119 is now open: 5 % cure, 95 % roll on
    assert tm.matrix[tm.index("90-119"), tm.index("current")] == 0.05
    # Default from 120 dpd instead of 90
    tm120 = transition_matrix(rows(data), default_from_dpd=120)
    assert "90-119" in tm120.open_states and tm120.default_buckets == ("120-179", "180+")


def test_bad_roll_rates_are_refused() -> None:
    empty = "no transitions observed from bucket\\(s\\) '30-59'"
    with pytest.raises(ProvisionInputError, match=empty):
        transition_matrix(rows([r for r in ROWS if r[0] != "30-59"]))
    with pytest.raises(ProvisionInputError, match="unknown bucket 'late'"):
        transition_matrix(rows([*ROWS, ("current", "late", 1)]))
    with pytest.raises(ProvisionInputError, match="is not a bucket edge"):
        transition_matrix(rows(ROWS), default_from_dpd=75)
    with pytest.raises(ProvisionInputError, match="months must be a non-negative integer"):
        cumulative_pd(transition_matrix(rows(ROWS)), -1)


def test_balance_weighted_matrix() -> None:
    data = [
        {"from_bucket": "current", "to_bucket": "current", "loans": 1, "balance": 300},
        {"from_bucket": "current", "to_bucket": "1-29", "loans": 1, "balance": 100},
        *({"from_bucket": b, "to_bucket": "current", "loans": 1, "balance": 1}
          for b in ("1-29", "30-59", "60-89")),
    ]  # fmt: skip
    tm = transition_matrix(data, weight="balance")
    assert tm.matrix[0, 1] == 0.25  # 100 ÷ (300 + 100)
