"""IFRS 9 staging edges and the reserve of each stage, hand-computed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cobranza.provisions import (
    ProvisionInputError,
    ifrs9_reserve,
    ifrs9_stage,
    ifrs9_stage2_reserve,
    load_ifrs9_staging,
)

D = Decimal
STAGING = load_ifrs9_staging()


@pytest.mark.parametrize(
    ("dpd", "written_off", "stage"),
    [
        (0, False, 1),
        (30, False, 1),  # ≤ 30 dpd
        (31, False, 2),  # > 30 dpd
        (89, False, 2),
        (90, False, 3),  # ≥ 90 dpd
        (400, False, 3),
        (0, True, 3),  # written off, whatever the dpd
    ],
)
def test_staging_edges(dpd: int, written_off: bool, stage: int) -> None:
    assert ifrs9_stage(dpd, written_off, STAGING) == stage


def test_staging_thresholds_are_configurable() -> None:
    strict = STAGING.model_copy(update={"stage2_after_dpd": 15, "stage3_from_dpd": 60})
    assert [ifrs9_stage(d, False, strict) for d in (15, 16, 59, 60)] == [1, 2, 2, 3]


def test_reserve_of_each_stage() -> None:
    # stage 1: 12-month PI·SP·EI = 0.2 × 0.5 × 1000 = 100.00
    assert ifrs9_reserve(1, 0.2, 0.5, D(1000), 0.25, 730.5) == D("100.00")
    # stage 2: lifetime, 131.20 (see test_formulas) — the same as ifrs9_stage2_reserve
    assert ifrs9_reserve(2, 0.2, 0.5, D(1000), 0.25, 730.5) == D("131.20")
    assert ifrs9_stage2_reserve(0.2, 0.5, D(1000), 0.25, 730.5) == D("131.20")
    # stage 3: PI = 1 whatever is given → SP·EI = 500.00
    assert ifrs9_reserve(3, 0.2, 0.5, D(1000), 0.25, 730.5) == D("500.00")
    with pytest.raises(ProvisionInputError, match="stage must be 1, 2 or 3"):
        ifrs9_reserve(4, 0.2, 0.5, D(1000), 0.25, 730.5)
