"""``cobranza provisions``: outputs, the walk, errors that leave nothing, and identical
results on DuckDB and Spark."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cobranza.cli import app
from cobranza.provisions import BOOK_PROVISIONS_SCHEMA, WALK_LINES
from cobranza.provisions._book import PROVISION_OUTPUTS, WALK_OUTPUTS, write_provisions

AS_OF, OPENING = dt.date(2026, 10, 31), dt.date(2026, 9, 30)
pytestmark = pytest.mark.filterwarnings(
    "ignore::cobranza.provisions._params.ExampleParametersWarning"
)


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cobranza.synthetic import generate

    return generate(tmp_path_factory.mktemp("cli") / "book", 300, 5, as_of=AS_OF)


def invoke(*args: str) -> object:
    return CliRunner().invoke(app, ["provisions", *args])


def test_cli_writes_provisions_summary_and_walk(portfolio: Path, tmp_path: Path) -> None:
    out = tmp_path / "prov"
    result = invoke(
        "--data", str(portfolio), "--as-of", "2026-10-31", "--method", "cnbv",
        "--opening", "2026-09-30", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # The bundled CNBV file is an example. Rich wraps the warning at the terminal's width,
    # and a long temporary path moves the break: compare the words.
    assert "example parameters" in " ".join(result.output.split())
    names = {p.name for p in out.iterdir()}
    expected = {f"{n}.parquet" for n in (*PROVISION_OUTPUTS, *WALK_OUTPUTS)}
    assert names == expected | {"provisions.json"}
    manifest = json.loads((out / "provisions.json").read_text())
    assert manifest["params"]["example"] is True and manifest["method"] == "cnbv"
    provisions = pq.read_table(out / "provisions.parquet")
    assert provisions.column_names == list(BOOK_PROVISIONS_SCHEMA.names)
    rows = provisions.to_pylist()
    assert rows and all(r["grade"] and r["reserve"] <= r["ei"] for r in rows)
    assert {r["method"] for r in rows} == {"cnbv:cnbv_consumer_example"}
    total = sum((r["reserve"] for r in rows), Decimal("0.00"))
    summary = pq.read_table(out / "provision_summary.parquet").to_pylist()
    for dimension in ("total", "product", "segment", "stage", "bucket"):
        part = [r for r in summary if r["dimension"] == dimension]
        assert sum(r["reserve"] for r in part) == total, dimension
        assert sum(r["loans"] for r in part) == len(rows), dimension
    walk = {r["stage"]: r for r in pq.read_table(out / "allowance_walk.parquet").to_pylist()}
    assert walk["total"]["closing"] == total
    for row in walk.values():
        assert row["opening"] + sum(row[n] for n in WALK_LINES[1:-1]) == row["closing"]


def test_bad_parameters_are_refused_and_nothing_is_written(portfolio: Path, tmp_path: Path) -> None:
    wrong_kind = invoke(
        "--data", str(portfolio), "--as-of", "2026-10-31", "--method", "cnbv",
        "--params", "socap_nivel_basico", "--out", str(tmp_path / "a"),
    )  # fmt: skip
    assert wrong_kind.exit_code == 1
    assert "needs a parameter file of kind 'cnbv_consumer'" in wrong_kind.output
    unsourced = tmp_path / "rates.yaml"
    unsourced.write_text(
        "kind: provision_matrix\nname: mine\nversion: '1'\nexample: false\n"
        "loss_rates: {current: 0.01}\n"
    )
    no_source = invoke(
        "--data", str(portfolio), "--as-of", "2026-10-31", "--method", "matrix",
        "--params", str(unsourced), "--out", str(tmp_path / "b"),
    )  # fmt: skip
    assert no_source.exit_code == 1
    assert "line 1" in no_source.output and "must cite its source" in no_source.output
    late = invoke(
        "--data", str(portfolio), "--as-of", "2026-10-31", "--method", "ageband",
        "--opening", "2026-10-31", "--out", str(tmp_path / "c"),
    )  # fmt: skip
    assert late.exit_code == 1 and "must be before" in late.output
    assert not any((tmp_path / name).exists() for name in "abc")


def _rows(path: Path) -> tuple[pa.Schema, list[dict]]:
    table = pq.read_table(path)
    schema = pa.schema([pa.field(f.name, f.type) for f in table.schema])
    return schema, table.sort_by([(n, "ascending") for n in table.column_names]).to_pylist()


@pytest.mark.spark
@pytest.mark.parametrize("method", ["rollrate", "ageband"])
def test_duckdb_and_spark_write_identical_provisions(
    portfolio: Path, tmp_path: Path, spark_session: object, method: str
) -> None:
    from cobranza.engine._spark import SparkEngine

    duck = write_provisions(portfolio, AS_OF, tmp_path / "d", method, opening=OPENING)
    spark = write_provisions(
        portfolio, AS_OF, tmp_path / "s", method, engine=SparkEngine(session=spark_session),
        opening=OPENING,
    )  # fmt: skip
    assert set(duck.outputs) == set(spark.outputs) == {*PROVISION_OUTPUTS, *WALK_OUTPUTS}
    for name, path in duck.outputs.items():
        duck_schema, duck_rows = _rows(path)
        spark_schema, spark_rows = _rows(spark.outputs[name])
        assert duck_schema == spark_schema, name
        assert duck_rows, name
        if name == "provisions":
            # PI: libm's exp may differ in the last bit between the engines (docs/provisions.md)
            for d, s in zip(duck_rows, spark_rows, strict=True):
                d_pi, s_pi = d.pop("pi"), s.pop("pi")
                assert d_pi == s_pi or d_pi == pytest.approx(s_pi, abs=1e-12)
        assert duck_rows == spark_rows, name
