"""The credit results (WCR, MCR, QCR): periods, numbers checked independently, the HTML and
the PDF."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from cobranza.cli import app
from cobranza.contract import discover, load
from cobranza.engine import DuckDBEngine
from cobranza.portfolio import icor, imor, imora
from cobranza.provisions import WALK_LINES
from cobranza.reports.credit_results import (
    credit_results_data,
    period_ends,
    write_credit_results,
)
from cobranza.reports.credit_results._render import SECTIONS

AS_OF = dt.date(2026, 10, 31)
D = dt.date


def test_period_ends() -> None:
    assert period_ends("weekly", D(2026, 10, 31), 2) == [D(2026, 10, 17), D(2026, 10, 24),
                                                        D(2026, 10, 31)]  # fmt: skip
    # a month-end as-of closes its own month
    assert period_ends("monthly", D(2026, 10, 31), 2) == [D(2026, 8, 31), D(2026, 9, 30),
                                                         D(2026, 10, 31)]  # fmt: skip
    # mid-month: the month to date, after the previous month-ends
    assert period_ends("monthly", D(2026, 3, 15), 2) == [D(2026, 1, 31), D(2026, 2, 28),
                                                        D(2026, 3, 15)]  # fmt: skip
    assert period_ends("quarterly", D(2026, 9, 30), 2) == [D(2026, 3, 31), D(2026, 6, 30),
                                                          D(2026, 9, 30)]  # fmt: skip
    quarters = [D(2025, 6, 30), D(2025, 9, 30), D(2025, 12, 31), D(2026, 2, 10)]
    assert period_ends("quarterly", D(2026, 2, 10), 3) == quarters
    assert len(period_ends("weekly", AS_OF)) == 9  # 8 weeks shown
    with pytest.raises(ValueError, match="unknown period"):
        period_ends("daily", AS_OF)


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cobranza.synthetic import generate

    return generate(tmp_path_factory.mktemp("cr") / "book", 300, 17, as_of=AS_OF)


@pytest.fixture(scope="module")
def monthly(portfolio: Path):  # type: ignore[no-untyped-def]
    with DuckDBEngine() as eng, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return credit_results_data(eng, load(eng, discover(portfolio)), "monthly", AS_OF,
                                   periods=3)  # fmt: skip


def test_numbers_agree_with_an_independent_reading_of_the_files(portfolio: Path, monthly) -> None:  # type: ignore[no-untyped-def]
    assert monthly.ends == [D(2026, 7, 31), D(2026, 8, 31), D(2026, 9, 30), D(2026, 10, 31)]
    last = monthly.kpis[-1]
    # collected: settled payments with a Mexico City date in October, read from the file
    zone = ZoneInfo("America/Mexico_City")
    payments = pq.read_table(portfolio / "payments.parquet").to_pylist()
    october = [
        p for p in payments
        if p["status"] == "settled" and D(2026, 9, 30) < p["paid_at"].astimezone(zone).date()
        <= AS_OF
    ]  # fmt: skip
    assert last["collected"] == sum((p["amount"] for p in october), Decimal("0.00")) > 0
    by_channel = [r for r in monthly.collections_by_channel if r["period_end"] == AS_OF]
    assert sum(r["amount"] for r in by_channel) == last["collected"]
    assert {r["channel"] for r in by_channel} == {p["channel"] for p in october}
    by_bucket = [r for r in monthly.collections_by_bucket if r["period_end"] == AS_OF]
    assert sum(r["amount"] for r in by_bucket) == last["collected"]
    # the ratios are the public functions of the balances
    assert last["imor"] == imor(last["balance_90_plus"], last["balance"])
    assert last["imora"] == imora(last["balance_90_plus"], last["balance"],
                                  last["write_offs_12m"])  # fmt: skip
    assert last["icor"] == icor(last["reserves"], last["balance_90_plus"])
    assert last["write_offs_12m"] >= last["write_offs"]
    # the walk runs from the previous period end to as-of and closes on the reserves
    walk = {r["stage"]: r for r in monthly.walk}
    assert walk["total"]["closing"] == last["reserves"]
    assert walk["total"]["opening"] == monthly.kpis[-2]["reserves"]
    for row in walk.values():
        assert row["opening"] + sum(row[n] for n in WALK_LINES[1:-1]) == row["closing"]
    assert sum(r["reserve"] for r in monthly.stages) == last["reserves"]
    # roll-rate matrix of the last period: each from-bucket's shares add up to 1
    shares: dict[str, float] = {}
    for r in monthly.roll_matrix:
        shares[r["from_bucket"]] = shares.get(r["from_bucket"], 0.0) + r["loans_share"]
    assert shares and all(abs(v - 1) < 1e-12 for v in shares.values())
    assert 0 <= last["roll_forward_rate"] <= 1 and 0 <= last["cure_rate"] <= 1
    resolved = last["promises_kept"] + last["promises_broken"]
    assert resolved > 0 and last["promise_kept_rate"] == last["promises_kept"] / resolved


def test_report_html_and_pdf(portfolio: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.md"
    note.write_text("**Roll rates** rose in 30-59.\n\n<script>alert(1)</script>\n")
    result = CliRunner().invoke(
        app,
        ["report", "--period", "monthly", "--data", str(portfolio), "--as-of", "2026-10-31",
         "--out", str(tmp_path / "mcr"), "--commentary", str(note)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    html_path = tmp_path / "mcr" / "MCR_2026-10-31.html"
    pdf_path = tmp_path / "mcr" / "MCR_2026-10-31.pdf"
    html = html_path.read_text()
    for section in SECTIONS:
        assert f'<section id="{section}"' in html, section
    assert html.count("<svg") >= 4  # trend, roll rates, vintages, channels
    # self-contained: no URL other than the SVG namespace, nothing to fetch
    urls = re.findall(r"https?://[^\s\"'<>)]+", html)
    assert all(u.startswith("http://www.w3.org/") for u in urls), set(urls)
    assert "<script" not in html and "@import" not in html and "<link" not in html
    assert "<strong>Roll rates</strong>" in html and "&lt;script&gt;" in html
    reader = PdfReader(pdf_path)
    text = "\n".join(page.extract_text() for page in reader.pages)
    pages = len(reader.pages)
    assert 4 <= pages <= 10
    assert f"Page {pages} of {pages}" in text
    for words in ("Monthly credit results: Oct 2026", "Headline", "IMOR", "IMORA", "ICOR",
                  "Roll rates", "Vintages", "Provisions by stage", "Allowance walk",
                  "Closing allowance", "By payment channel", "SPEI", "Commentary",
                  "Roll rates rose in 30-59"):  # fmt: skip
        assert words in text, words


def test_weekly_and_quarterly_reports(portfolio: Path, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weekly = write_credit_results(portfolio, "weekly", AS_OF, tmp_path / "w", periods=2)
        quarterly = write_credit_results(
            portfolio, "quarterly", AS_OF, tmp_path / "q", method="ageband", periods=2
        )
    assert weekly.code == "WCR" and weekly.pdf.name == "WCR_2026-10-31.pdf"
    assert "Weekly credit results: wk to 31 Oct" in weekly.html.read_text()
    assert quarterly.code == "QCR"
    text = "\n".join(p.extract_text() for p in PdfReader(quarterly.pdf).pages)
    assert "Quarterly credit results: Q4 2026" in text and "ageband" in text


def test_missing_commentary_is_an_error_and_nothing_is_written(
    portfolio: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app,
        ["report", "--period", "weekly", "--data", str(portfolio), "--as-of", "2026-10-31",
         "--out", str(tmp_path / "r"), "--commentary", str(tmp_path / "none.md")],
    )  # fmt: skip
    assert result.exit_code == 1 and "no such commentary file" in " ".join(result.output.split())
    assert not (tmp_path / "r").exists()


@pytest.mark.spark
def test_duckdb_and_spark_give_the_same_credit_results(portfolio: Path, spark_session) -> None:  # type: ignore[no-untyped-def]
    from cobranza.engine._spark import SparkEngine

    results = []
    for eng in (DuckDBEngine(), SparkEngine(session=spark_session)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = credit_results_data(
                eng, load(eng, discover(portfolio)), "weekly", AS_OF, method="matrix", periods=1
            )
        results.append(data)
    duck, spark = results
    for name in ("kpis", "roll_matrix", "vintages", "stages", "collections_by_channel",
                 "collections_by_bucket"):  # fmt: skip
        key = lambda r: sorted((k, str(v)) for k, v in r.items())  # noqa: E731
        assert sorted(getattr(duck, name), key=key) == sorted(getattr(spark, name), key=key), name
