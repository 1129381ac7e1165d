"""A small generated portfolio shared by the strategy tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cobranza.synthetic import generate

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="session")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,500 loans: a few hundred delinquent accounts in every stage, with contacts."""
    return generate(tmp_path_factory.mktemp("strategy") / "book", 2_500, 11, as_of=AS_OF)
