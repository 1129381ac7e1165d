"""DuckDB and Spark give the same feature and target tables, value for value and type for
type, on a synthetic book (the hand-made cases run on both engines in their own tests)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cobranza.contract import load
from cobranza.engine import DuckDBEngine, Engine
from cobranza.features import compute_features, targets
from cobranza.synthetic import generate


@pytest.mark.spark
@pytest.mark.slow
def test_duckdb_and_spark_agree(tmp_path: Path, spark_session) -> None:  # type: ignore[no-untyped-def]
    from cobranza.engine._spark import SparkEngine

    book = generate(tmp_path / "book", 150, 3)
    results = {}
    engines: list[Engine] = [DuckDBEngine(), SparkEngine(session=spark_session)]
    for eng in engines:
        try:
            tables = load(eng, book)
            as_of = dt.date(2026, 8, 31)
            feats = compute_features(tables, as_of)
            outcome = targets(tables, as_of).drop("as_of")
            both = feats.inner_join(outcome, "loan_id").order_by("loan_id")
            results[eng.name] = eng.fetch(both)
        finally:
            eng.close()
    duck, spark = results["duckdb"], results["spark"]
    assert duck.num_rows > 50
    assert duck.schema.types == spark.schema.types
    assert duck.to_pylist() == spark.to_pylist()
