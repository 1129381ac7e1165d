"""The whole nightly job: both engines agree exactly, bad input writes nothing, outputs swap
in atomically, and a past as-of date ignores later data."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import cobranza
from cobranza.cli import app
from cobranza.pipeline import PROVISION_OUTPUTS, RUN_OUTPUTS

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cobranza.generate(tmp_path_factory.mktemp("book") / "book", loans=400, seed=11)


def _read_sorted(path: Path) -> tuple[pa.Schema, list[dict[str, object]]]:
    table = pq.read_table(path)
    # Nullability differs between engines (Spark knows more NOT NULL columns); types must not.
    schema = pa.schema([pa.field(f.name, f.type) for f in table.schema])
    keys = [(name, "ascending") for name in table.column_names]
    return schema, table.sort_by(keys).to_pylist()


@pytest.mark.spark
def test_duckdb_and_spark_write_identical_outputs(
    portfolio: Path, tmp_path: Path, spark_session: object
) -> None:
    from cobranza.engine._spark import SparkEngine

    duck = cobranza.run(portfolio, AS_OF, tmp_path / "duckdb")
    spark = cobranza.run(portfolio, AS_OF, tmp_path / "spark", SparkEngine(session=spark_session))
    for name in (*RUN_OUTPUTS, *PROVISION_OUTPUTS):
        duck_schema, duck_rows = _read_sorted(duck.outputs[name])
        spark_schema, spark_rows = _read_sorted(spark.outputs[name])
        assert duck_schema == spark_schema, name
        assert len(duck_rows) > 0, name
        assert duck_rows == spark_rows, name


def test_run_writes_every_output_and_a_report(portfolio: Path, tmp_path: Path) -> None:
    result = cobranza.run(portfolio, AS_OF, tmp_path / "run")
    names = {p.name for p in result.out.iterdir()}
    written = {f"{n}.parquet" for n in (*RUN_OUTPUTS, *PROVISION_OUTPUTS)}
    assert written | {"report.html", "run.json"} == names
    state = pq.read_table(result.outputs["account_state"])
    loans = pq.read_table(portfolio / "loans.parquet")
    opened = pc.sum(pc.less_equal(loans["opened_on"], pa.scalar(AS_OF))).as_py()
    assert state.num_rows == opened
    assert set(state["as_of"].to_pylist()) == {AS_OF}
    snapshots = pq.read_table(result.outputs["snapshots"])
    month_ends = sorted(set(snapshots["as_of"].to_pylist()))
    assert len(month_ends) == 12 and month_ends[-1] == AS_OF
    # The month-end snapshot at the as-of date is the account state itself.
    last = snapshots.filter(pc.equal(snapshots["as_of"], pa.scalar(AS_OF)))
    assert last.sort_by("loan_id").to_pylist() == state.sort_by("loan_id").to_pylist()


def _as_csv_portfolio(portfolio: Path, target: Path) -> Path:
    target.mkdir()
    for file in portfolio.glob("*.parquet"):
        pacsv.write_csv(pq.read_table(file), target / f"{file.stem}.csv")
    return target


def test_invalid_portfolio_is_refused_and_nothing_is_written(
    portfolio: Path, tmp_path: Path
) -> None:
    data = _as_csv_portfolio(portfolio, tmp_path / "bad")
    lines = (data / "payments.csv").read_text().splitlines()
    header = lines[0].split(",")
    amount = header.index('"amount"') if '"amount"' in header else header.index("amount")
    cells = lines[3].split(",")
    cells[amount] = "-5.00"
    lines[3] = ",".join(cells)
    (data / "payments.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(cobranza.InvalidPortfolio) as raised:
        cobranza.run(data, AS_OF, tmp_path / "out")
    violation = raised.value.report.violations[0]
    assert (violation.table, violation.row, violation.column) == ("payments", 3, "amount")
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.*"))

    result = CliRunner().invoke(
        app, ["run", "--data", str(data), "--as-of", "2026-10-31", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "amount" in result.output
    assert not (tmp_path / "o").exists()


def test_failed_run_leaves_the_previous_outputs_untouched(
    portfolio: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    first = cobranza.run(portfolio, AS_OF, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken_report(*args: object, **kwargs: object) -> Path:
        raise RuntimeError("disk full")

    monkeypatch.setattr("cobranza.reports.write_run_report", broken_report)
    with pytest.raises(RuntimeError, match="disk full"):
        cobranza.run(portfolio, dt.date(2026, 9, 30), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert first.out == out.resolve()


def test_a_past_as_of_date_ignores_everything_after_it(portfolio: Path, tmp_path: Path) -> None:
    as_of = dt.date(2026, 6, 30)
    before = cobranza.run(portfolio, as_of, tmp_path / "before")
    truncated = tmp_path / "truncated"
    shutil.copytree(portfolio, truncated)
    # Drop every payment after the as-of date (Mexico City): the state must not change.
    payments = pq.read_table(truncated / "payments.parquet")
    local = pc.local_timestamp(
        payments["paid_at"].cast(pa.timestamp("us", tz="America/Mexico_City"))
    )
    keep = pc.less_equal(pc.cast(local, pa.date32()), pa.scalar(as_of))
    assert pc.sum(pc.invert(keep)).as_py() > 0
    pq.write_table(payments.filter(keep), truncated / "payments.parquet")
    after = cobranza.run(truncated, as_of, tmp_path / "after")
    for name in ("account_state", "snapshots", "roll_rates", "kpis", "vintages", "provisions",
                 "allowance_walk"):  # fmt: skip
        assert _read_sorted(before.outputs[name]) == _read_sorted(after.outputs[name]), name


def test_cli_validate_reports_ok_and_exit_codes(portfolio: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["validate", "--data", str(portfolio)])
    assert ok.exit_code == 0, ok.output
    missing = runner.invoke(app, ["validate", "--data", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1
    assert "not found" in missing.output
