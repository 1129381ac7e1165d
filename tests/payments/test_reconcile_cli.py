"""``payments reconcile`` and ``payments exceptions`` on a throwaway Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import typer
from typer.testing import CliRunner

from cobranza.cli._reconcile import register
from cobranza.payments import ingest
from cobranza.payments.exceptions import EXCEPTION_COLUMNS, OUTPUT_TABLES
from cobranza.synthetic import generate
from cobranza.synthetic._partner_files import DefectRates, write_partner_files


def _app() -> typer.Typer:
    app = typer.Typer()
    payments = typer.Typer()
    register(payments)
    app.add_typer(payments, name="payments")
    return app


def test_reconcile_then_list_exceptions(tmp_path: Path) -> None:
    book = generate(tmp_path / "book", 400, 5)
    files = write_partner_files(
        book, tmp_path / "files", days=30, seed=1,
        rates=DefectRates(missing_settlement=0.3, unknown_reference=0.3, unapplied_credit=0.3),
    )  # fmt: skip
    for partner, paths in files.files.items():
        ingest(paths, tmp_path / "store", partner)
    (tmp_path / "rules.yml").write_text("lookback_days: 30\n", encoding="utf-8")
    runner = CliRunner()
    out = tmp_path / "out"
    args = [
        "payments", "reconcile", "--data", str(book), "--store", str(tmp_path / "store"),
        "--as-of", files.as_of.isoformat(), "--out", str(out),
        "--terms", str(files.folder / "manifest.json"), "--settlement-days", "STP=1",
        "--config", str(tmp_path / "rules.yml"),
    ]  # fmt: skip
    result = runner.invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert "outputs in" in result.output
    assert sorted(p.stem for p in out.glob("*.parquet")) == sorted(OUTPUT_TABLES)
    exceptions = pq.read_table(out / "payment_exceptions.parquet")
    assert exceptions.column_names == list(EXCEPTION_COLUMNS)
    n_open = sum(s == "open" for s in exceptions.column("status").to_pylist())
    assert n_open > 0

    listed = runner.invoke(_app(), ["payments", "exceptions", "--out", str(out), "--status",
                                    "open", "--json", "--limit", "1000"])  # fmt: skip
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines() if line.startswith("{")]
    assert len(rows) == n_open
    assert {r["status"] for r in rows} == {"open"}
    ages = [r["age_days"] for r in rows]
    assert ages == sorted(ages, reverse=True)

    bad = runner.invoke(_app(), [*args[:-2], "--config", str(tmp_path / "missing.yml")])
    assert bad.exit_code == 1
    assert "missing.yml" in bad.output
    wrong = runner.invoke(_app(), [*args, "--settlement-days", "STP"])
    assert wrong.exit_code == 1
    assert "PARTNER=DAYS" in wrong.output
    cause = runner.invoke(_app(), ["payments", "exceptions", "--out", str(out), "--root-cause",
                                   "nonsense"])  # fmt: skip
    assert cause.exit_code == 1
