"""Shared fixtures: the cross-engine matrix (after Ibis's backend test matrix)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from cobranza.engine import DuckDBEngine, Engine

ENGINE_PARAMS = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("spark", id="spark", marks=pytest.mark.spark),
]


@pytest.fixture(scope="session")
def spark_session():  # type: ignore[no-untyped-def]
    """One local Spark session for the whole run (starting one costs seconds)."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed")
    from cobranza.engine._spark import local_session

    session = local_session(cores=2, memory="2g")
    yield session
    session.stop()


@pytest.fixture(params=ENGINE_PARAMS)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """Each test using ``engine`` runs once per engine."""
    if request.param == "duckdb":
        eng: Engine = DuckDBEngine()
    else:
        from cobranza.engine._spark import SparkEngine

        eng = SparkEngine(session=request.getfixturevalue("spark_session"))
    try:
        yield eng
    finally:
        eng.close()


@pytest.fixture
def duckdb_engine() -> Iterator[Engine]:
    eng = DuckDBEngine()
    try:
        yield eng
    finally:
        eng.close()
