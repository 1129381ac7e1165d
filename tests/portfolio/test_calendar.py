"""month_ends: the month-ends the nightly run takes snapshots at."""

from __future__ import annotations

import datetime as dt

import pytest

from cobranza.portfolio import month_ends

D = dt.date


def test_mid_month_as_of_starts_at_the_previous_month_end() -> None:
    assert month_ends(D(2026, 3, 15), 3) == [D(2025, 12, 31), D(2026, 1, 31), D(2026, 2, 28)]


def test_as_of_on_a_month_end_counts_itself() -> None:
    assert month_ends(D(2026, 4, 30), 2) == [D(2026, 3, 31), D(2026, 4, 30)]
    assert month_ends(D(2025, 12, 31), 1) == [D(2025, 12, 31)]


def test_february_of_a_leap_year_ends_on_the_29th() -> None:
    assert month_ends(D(2024, 2, 29), 1) == [D(2024, 2, 29)]
    # The 28th of a leap February is not its month-end.
    assert month_ends(D(2024, 2, 28), 1) == [D(2024, 1, 31)]
    assert month_ends(D(2024, 3, 1), 2) == [D(2024, 1, 31), D(2024, 2, 29)]
    assert month_ends(D(2100, 3, 1), 1) == [D(2100, 2, 28)]  # century, not a leap year


def test_twelve_months_by_default_oldest_first_across_a_year() -> None:
    ends = month_ends(D(2026, 1, 10))
    assert len(ends) == 12
    assert ends[0] == D(2025, 1, 31)
    assert ends[-1] == D(2025, 12, 31)
    assert ends == sorted(ends)
    assert all((e + dt.timedelta(days=1)).day == 1 for e in ends)


def test_zero_months_is_empty_and_negative_is_an_error() -> None:
    assert month_ends(D(2026, 1, 10), 0) == []
    with pytest.raises(ValueError, match="months"):
        month_ends(D(2026, 1, 10), -1)
