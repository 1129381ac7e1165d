"""The command line a person types: demo, generate, run with a database file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from cobranza.cli import app


def test_demo_generates_runs_and_prints_the_report_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--loans", "300"])
    assert result.exit_code == 0, result.output
    report = Path(result.stdout.strip().splitlines()[-1])
    assert report == (tmp_path / "demo" / "run" / "report.html").resolve()
    assert report.read_text().startswith("<!DOCTYPE html>")
    loans = pq.read_table(tmp_path / "demo" / "portfolio" / "loans.parquet")
    assert loans.num_rows == 300
    # Every domain ran: payment operations, decisions, provisions, the credit results.
    demo = tmp_path / "demo"
    exceptions = pq.read_table(demo / "payments" / "payment_exceptions.parquet")
    assert exceptions.num_rows > 0  # the partner files carry injected defects
    assert (demo / "cases.db").stat().st_size > 0
    decisions = pq.read_table(demo / "run" / "decisions.parquet")
    assert decisions.num_rows > 0
    assert "provisions.parquet" in {p.name for p in (demo / "run").iterdir()}
    assert (demo / "credit-results" / "MCR_2026-10-31.pdf").read_bytes().startswith(b"%PDF")
    assert "model" in result.output
    # Running the demo again replaces the previous demo instead of failing.
    again = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--loans", "200"])
    assert again.exit_code == 0, again.output
    assert pq.read_table(tmp_path / "demo" / "portfolio" / "loans.parquet").num_rows == 200


def test_generate_into_a_non_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "book")])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert "Traceback" not in result.output
    assert (tmp_path / "book" / "notes.txt").read_text() == "mine"


def test_generate_is_deterministic_and_run_accepts_a_duckdb_file(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("a", "b"):
        out = tmp_path / name
        result = runner.invoke(
            app, ["generate", "--out", str(out), "--loans", "200", "--seed", "5"]
        )
        assert result.exit_code == 0, result.output
    for table in ("customers", "loans", "installments", "payments"):
        assert (tmp_path / "a" / f"{table}.parquet").read_bytes() == (
            tmp_path / "b" / f"{table}.parquet"
        ).read_bytes()
    database = tmp_path / "work.duckdb"
    result = runner.invoke(
        app,
        ["run", "--data", str(tmp_path / "a"), "--as-of", "2026-09-30",
         "--out", str(tmp_path / "run"), "--database", str(database)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert database.exists()
    state = pq.read_table(tmp_path / "run" / "account_state.parquet")
    assert set(state["as_of"].to_pylist()) == {dt.date(2026, 9, 30)}


def test_unknown_engine_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "--data", str(tmp_path), "--engine", "oracle"])
    # A usage error, raised before any file is looked at.
    assert result.exit_code == 2
    assert "oracle" in result.output
    assert "duckdb" in result.output
