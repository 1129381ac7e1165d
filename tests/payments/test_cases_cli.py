"""``cobranza payments`` on the command line: ingest, cases, scorecard (SQLite, DuckDB)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from case_fixtures import exceptions
from typer.testing import CliRunner

from cobranza.cli import app

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "payment_files"
runner = CliRunner()
WIDE = {"COLUMNS": "200"}  # one table row per line


def _run(*args: str | Path) -> str:
    result = runner.invoke(app, [str(a) for a in args], env=WIDE)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    table = exceptions([
        {"exception_id": "X1", "amount": "60000", "loan_id": "L1",
         "value_date": dt.date(2026, 10, 30)},
        {"exception_id": "X2", "amount": "20", "loan_id": "L2", "root_cause": "duplicate",
         "value_date": dt.date(2026, 10, 30)},
    ])  # fmt: skip
    pq.write_table(table, tmp_path / "payment_exceptions.parquet")
    return tmp_path


def test_cases_open_list_work_and_refuse(workdir: Path) -> None:
    db = ("--db", workdir / "cases.db")
    exc = workdir / "payment_exceptions.parquet"
    assert "2 opened" in _run("payments", "cases", *db, "open", "--exceptions", exc,
                              "--as-of", "2026-10-31")  # fmt: skip
    assert "0 opened, 2 already open" in _run("payments", "cases", *db, "open", "--exceptions",
                                              exc, "--as-of", "2026-10-31")  # fmt: skip
    listing = _run("payments", "cases", *db, "--as-of", "2026-11-01")
    # P1 (60,000 MXN, due in 5 days) before P4 (20 MXN, 30 days).
    assert re.search(r"CASE-1 .*P1.*open.*2026-11-05.*60,000\.00", listing)
    assert listing.index("CASE-1") < listing.index("CASE-2")
    _run("payments", "cases", *db, "start", "CASE-1", "--by", "ana")
    _run("payments", "cases", *db, "assign", "1", "ana", "--by", "lead", "--version", "2")
    _run("payments", "cases", *db, "note", "1", "STP confirms the credit", "--by", "ana")
    # A stale version is refused with a clear error, and nothing changes.
    stale = runner.invoke(app, ["payments", "cases", *map(str, db), "resolve", "1", "applied",
                                "--by", "beto", "--version", "2"], env=WIDE)  # fmt: skip
    assert stale.exit_code == 1 and "changed by someone else" in stale.output
    illegal = runner.invoke(app, ["payments", "cases", *map(str, db), "move", "2", "closed",
                                  "--by", "ana"], env=WIDE)  # fmt: skip
    assert illegal.exit_code == 1 and "cannot become closed" in illegal.output
    _run("payments", "cases", *db, "resolve", "1", "applied to L1", "--by", "ana",
         "--version", "3", "--on", "2026-11-03")  # fmt: skip
    shown = _run("payments", "cases", *db, "show", "CASE-1")
    assert "resolved" in shown and "STP confirms the credit" in shown and "ana" in shown
    assert "CASE-1" not in _run("payments", "cases", *db, "--status", "open")
    assert "CASE-2" in _run("payments", "cases", *db, "--status", "open", "--priority", "P4")
    late = _run("payments", "cases", *db, "--breach", "breached", "--as-of", "2026-12-01")
    assert "CASE-2" in late and "CASE-1" not in late
    # Holds: on Nov 2 both loans (CASE-1 resolved on Nov 3); on Nov 3 only L2.
    for day, loans in (("2026-11-02", ["L1", "L2"]), ("2026-11-03", ["L2"])):
        _run("payments", "cases", *db, "holds", "--as-of", day, "--out", workdir / "h.parquet")
        rows = pq.read_table(workdir / "h.parquet").to_pylist()
        assert [(r["loan_id"], r["reason"]) for r in rows] == [(x, "open_case") for x in loans]


def test_ingest_then_scorecard(workdir: Path) -> None:
    store = workdir / "store"
    files = sorted((SHARED / "spei_stp").glob("*.json"))
    output = _run("payments", "ingest", *files, "--partner", "stp", "--store", store)
    assert "11 rows added" in output
    assert "0 rows added" in _run("payments", "ingest", *files, "--partner", "stp",
                                  "--store", store)  # fmt: skip
    aug = exceptions([{"exception_id": "A1", "amount": "100", "root_cause": "unknown_reference",
                       "value_date": dt.date(2023, 8, 25)}])  # fmt: skip
    pq.write_table(aug, store / "payment_exceptions.parquet")
    contracts = workdir / "partners.yaml"
    contracts.write_text("partners:\n  stp:\n    name: STP SPEI\n    settlement_days: 0\n"
                         "    min_success_rate: 0.9\n    max_exception_rate: 0.05\n")  # fmt: skip
    page = workdir / "sc.html"
    _run("payments", "scorecard", "--month", "2023-08", "--contracts", contracts, "--store",
         store, "--out", page)  # fmt: skip
    html = page.read_text(encoding="utf-8")
    # 11 transactions, 6 settled and 5 returned: success 54.5% against a 90% minimum.
    assert "STP SPEI" in html and ">11<" in html and "54.5% (min 90.0%)" in html
    # 1 defect in 11 opportunities: 90,909 DPMO.
    assert "90,909" in html and "Unknown reference" in html
    # Self-contained: nothing to fetch, nothing to run.
    assert not re.search(r"<script|<link|(src|href)=\"https?:|url\(https?:", html)


def test_scorecard_from_reconciliation_outputs_and_a_portfolio(tmp_path: Path) -> None:
    """End to end: a synthetic portfolio's October payments, settled by a partner CSV 0, 1 or 2
    days later, matched in a reconciliation folder; the page shows the latency percentiles."""
    import pyarrow as pa

    from cobranza.synthetic import generate

    portfolio = generate(tmp_path / "portfolio", 100, 3)
    payments = pq.read_table(portfolio / "payments.parquet").to_pylist()
    mx = dt.timezone(dt.timedelta(hours=-6))  # Mexico City has no DST since 2022
    october = sorted(
        (p for p in payments if p["paid_at"].astimezone(mx).date().month == 10
         and p["paid_at"].astimezone(mx).date().year == 2026),
        key=lambda p: p["payment_id"],
    )[:20]  # fmt: skip
    assert len(october) == 20
    lines = ["Folio,Fecha,Importe,Estatus"]
    for i, p in enumerate(october):
        settled_on = p["paid_at"].astimezone(mx).date() + dt.timedelta(days=i % 3)
        lines.append(f"T{i},{settled_on},{p['amount']},LIQUIDADO")
    (tmp_path / "stp.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "stp.yml").write_text(
        "rail: spei\ncurrency: MXN\ncolumns: {external_id: Folio, value_date: Fecha, "
        "amount: Importe, status: Estatus}\nstatus_map: {LIQUIDADO: settled}\n",
        encoding="utf-8",
    )
    store = tmp_path / "store"
    _run("payments", "ingest", tmp_path / "stp.csv", "--partner", "stp", "--store", store,
         "--format", "csv", "--mapping", tmp_path / "stp.yml")  # fmt: skip
    rec = tmp_path / "reconciliation"
    rec.mkdir()
    pq.write_table(pa.table({
        "partner_id": ["stp"] * 20, "external_id": [f"T{i}" for i in range(20)],
        "payment_id": [p["payment_id"] for p in october], "rule": ["exact_reference"] * 20,
    }), rec / "reconciliation_matches.parquet")  # fmt: skip
    pq.write_table(exceptions([{"exception_id": "D1", "root_cause": "duplicate", "amount": "1",
                                "value_date": dt.date(2026, 10, 5)}]),
                   rec / "payment_exceptions.parquet")  # fmt: skip
    contracts = tmp_path / "partners.yaml"
    contracts.write_text("partners:\n  stp: {settlement_days: 1, min_success_rate: 0.9, "
                         "max_exception_rate: 0.1}\n")  # fmt: skip
    page = tmp_path / "sc.html"
    _run("payments", "scorecard", "--month", "2026-10", "--contracts", contracts, "--store",
         store, "--reconciliation", rec, "--data", portfolio, "--out", page)  # fmt: skip
    html = page.read_text(encoding="utf-8")
    # Latencies: seven 0s, seven 1s, six 2s. p50 = rank 10 → 1 day; p95 = rank 19 → 2 days;
    # 14 of 20 within the 1-day contract.
    assert "1 d / 2 d" in html and "70.0% within 1 d" in html
    assert "50,000" in html  # 1 defect in 20 opportunities
