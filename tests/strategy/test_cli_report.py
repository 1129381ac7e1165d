"""``cobranza decide`` and the decisions section of the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from cobranza.cli import app
from cobranza.contract import load
from cobranza.engine import Engine
from cobranza.ledger import account_states
from cobranza.strategy import (
    DECISION_COLUMNS,
    SUMMARY_TABLES,
    decide,
    decisions_summary,
    load_strategy,
    render_decisions_section,
)
from conftest import AS_OF


def test_cli_writes_decisions_and_summary(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "decisions"
    result = CliRunner().invoke(
        app,
        ["decide", "--data", str(book), "--as-of", AS_OF.isoformat(), "--strategy",
         "mx_default", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pq.read_table(out / "decisions.parquet")
    assert tuple(table.column_names) == DECISION_COLUMNS
    summary = json.loads((out / "decisions_summary.json").read_text())
    assert summary["accounts"] == table.num_rows > 0
    assert summary["strategy_version"] == load_strategy("mx_default").strategy_version
    sent = sum(r["actions"] for r in summary["by_channel_segment"])
    assert sent == summary["actions"]
    assert set(SUMMARY_TABLES) <= set(summary)

    # A payment hold in the portfolio folder (INTERFACES.md §E) suppresses the held loans.
    rows = table.to_pylist()
    held = [r["loan_id"] for r in rows if r["suppressed_by"] is None][:3]
    copy = tmp_path / "book"
    shutil.copytree(book, copy)
    pq.write_table(
        pa.table({"loan_id": held, "reason": ["open_case"] * 3, "source_id": ["K1", "K2", "K3"],
                  "since": [AS_OF] * 3, "until": pa.array([None] * 3, pa.date32())}),
        copy / "payment_holds.parquet",
    )  # fmt: skip
    again = CliRunner().invoke(
        app,
        ["decide", "--data", str(copy), "--as-of", AS_OF.isoformat(), "--strategy",
         "mx_default", "--out", str(out)],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    after = {r["loan_id"]: r for r in pq.read_table(out / "decisions.parquet").to_pylist()}
    for loan in held:  # nothing is sent; the options that were permitted now meet the hold
        assert after[loan]["suppressed_by"] is not None
        assert ": payment_hold" in after[loan]["reason"]
    changed = [r["loan_id"] for r in rows if after[r["loan_id"]] != r]
    assert sorted(changed) == sorted(held)


def test_cli_bad_strategy_names_the_line_and_writes_nothing(book: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    lines = Path(load_strategy("mx_default").source).read_text().splitlines(keepends=True)
    line = lines.index("    when: dpd >= 90\n") + 1
    lines[line - 1] = "    when: dpd >= 90 or x\n"
    bad.write_text("".join(lines))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["decide", "--data", str(book), "--as-of", AS_OF.isoformat(), "--strategy", str(bad),
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert f"bad.yaml, line {line}: segments.2.when: unknown column 'x'" in " ".join(
        result.output.split()
    )
    assert not out.exists()


def test_summary_and_html_section(engine: Engine, book: Path) -> None:
    strategy = load_strategy("mx_default")
    tables = load(engine, book)
    states = account_states(tables["loans"], tables["installments"], tables["payments"], AS_OF)
    engine.materialize("summary_decisions", decide(engine, tables, states, AS_OF, strategy))
    decisions = engine.table("summary_decisions")
    summary = decisions_summary(engine, decisions, strategy)
    rows = engine.fetch(decisions).to_pylist()
    by = summary["by_channel_segment"].to_pylist()
    sent = [r for r in rows if r["channel"] and r["suppressed_by"] is None]
    assert sum(r["actions"] for r in by) == len(sent)
    capacity = {r["channel"]: r for r in summary["capacity"].to_pylist()}
    for channel, row in capacity.items():
        assert row["sent"] == sum(r["channel"] == channel for r in sent)
        assert row["overflow"] == sum(r["overflow_from"] == channel for r in rows)
    arms = summary["arms"].to_pylist()
    assert sum(a["accounts"] for a in arms) == sum(r["experiment"] is not None for r in rows)
    assert {a["arm"] for a in arms} == {"champion", "challenger_sms"}
    html = render_decisions_section(summary, strategy.strategy_version)
    assert html.startswith('<section class="panel" id="decisions">')
    assert "Channel capacity and overflow" in html and "<script" not in html
    assert strategy.strategy_version in html
