"""The nightly run's optional stages: provisions with the allowance walk, live-model scores and
the day's decisions, wired together as ``cobranza run`` and ``cobranza demo`` run them."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import cobranza
from cobranza.cli import app
from cobranza.contract import discover, load
from cobranza.engine import DuckDBEngine
from cobranza.features import labelled
from cobranza.models import Registry, TrainingSpec, train_from_table
from cobranza.models._spec import Thresholds
from cobranza.payments.cases import PAYMENT_HOLDS
from cobranza.provisions import WALK_LINES
from cobranza.strategy import decide_portfolio

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cobranza.generate(tmp_path_factory.mktemp("book") / "book", loans=1500, seed=5)


@pytest.fixture(scope="module")
def live_registry(portfolio: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry whose pay-propensity scorecard went through validation, approval, live."""
    dates = [dt.date(2026, 6, 30), dt.date(2026, 7, 31), dt.date(2026, 8, 31)]
    with DuckDBEngine() as eng:
        tables = load(eng, discover(portfolio))
        rows = ibis.union(*[labelled(tables, d) for d in dates])
        table = eng.fetch(rows.filter(rows.pay.notnull()))
    # A small book cannot pass production thresholds; these only keep the checks running.
    lax = Thresholds(auc_min=0.0, ks_min=0.0, gini_drop_max=1.0, score_psi_max=100.0,
                     csi_max=100.0, calibration_error_max=1.0)  # fmt: skip
    spec = TrainingSpec(name="pay_propensity", target="pay", development=dates[:2],
                        out_of_time=dates[2:], lightgbm=None, thresholds=lax)  # fmt: skip
    registry = Registry(tmp_path_factory.mktemp("models"))
    model = registry.add(train_from_table(spec, table))
    registry.validate(model.model_id)
    registry.approve(model.model_id, "Ana Strategy Lead", "test sign-off")
    registry.promote(model.model_id, by="Ana Strategy Lead")
    return registry.path


def _rows(path: Path, drop: tuple[str, ...] = ()) -> list[dict[str, object]]:
    table = pq.read_table(path)
    table = table.drop_columns([c for c in drop if c in table.column_names])
    return table.sort_by([(c, "ascending") for c in ("loan_id",)]).to_pylist()


def test_run_with_a_strategy_writes_the_decisions_decide_writes(
    portfolio: Path, tmp_path: Path
) -> None:
    result = cobranza.run(portfolio, AS_OF, tmp_path / "run", strategy="mx_default")
    alone = decide_portfolio(portfolio, AS_OF, "mx_default", tmp_path / "decide")
    decisions = _rows(result.outputs["decisions"])
    assert decisions == _rows(alone.decisions)
    assert any(d["channel"] and not d["suppressed_by"] for d in decisions)
    manifest = json.loads((result.out / "run.json").read_text())
    assert manifest["strategy_version"] == alone.strategy_version
    html = result.report.read_text()
    assert 'id="decisions"' in html and 'id="provisions"' in html
    urls = re.findall(r"https?://[^\s\"'<>)]+", html)  # SVG namespaces only: nothing to fetch
    assert all(u.startswith("http://www.w3.org/") for u in urls), set(urls)


def test_a_payment_hold_suppresses_the_held_account(portfolio: Path, tmp_path: Path) -> None:
    first = cobranza.run(portfolio, AS_OF, tmp_path / "first", strategy="mx_default",
                         provisions=None)  # fmt: skip
    acted = [
        d for d in _rows(first.outputs["decisions"]) if d["channel"] and not d["suppressed_by"]
    ]
    held = acted[0]["loan_id"]
    holds = pa.table(
        {"loan_id": [held], "reason": ["unapplied_credit"], "source_id": ["EXC-1"],
         "since": [AS_OF - dt.timedelta(days=2)], "until": pa.array([None], pa.date32())},
    ).cast(PAYMENT_HOLDS)  # fmt: skip
    pq.write_table(holds, tmp_path / "holds.parquet")
    second = cobranza.run(portfolio, AS_OF, tmp_path / "second", strategy="mx_default",
                          provisions=None, holds=tmp_path / "holds.parquet")  # fmt: skip
    after = {d["loan_id"]: d for d in _rows(second.outputs["decisions"])}
    assert after[held]["suppressed_by"] == "payment_hold"
    assert "provisions" not in second.outputs


def test_the_allowance_walk_adds_up_to_the_closing_reserve(portfolio: Path, tmp_path: Path) -> None:
    result = cobranza.run(portfolio, AS_OF, tmp_path / "run", provisions="ageband")
    walk = pq.read_table(result.outputs["allowance_walk"]).to_pylist()
    assert {row["stage"] for row in walk} >= {"total"}
    for row in walk:
        movements = sum((row[line] for line in WALK_LINES[1:-1]), Decimal(0))
        assert row["opening"] + movements == row["closing"], row
    book = pq.read_table(result.outputs["provisions"])
    total = next(r for r in walk if r["stage"] == "total")
    assert total["closing"] == sum(book["reserve"].to_pylist(), Decimal(0))


def test_live_models_score_the_book_and_the_strategy_reads_the_score(
    portfolio: Path, live_registry: Path, tmp_path: Path
) -> None:
    result = cobranza.run(portfolio, AS_OF, tmp_path / "run", models=live_registry,
                          strategy="mx_default", provisions=None)  # fmt: skip
    scores = pq.read_table(result.outputs["scores"])
    features = pq.read_table(result.outputs["features"])
    assert scores.num_rows == features.num_rows > 0
    probability = scores["probability"].to_pylist()
    assert all(0.0 < p < 1.0 for p in probability)
    monitoring = pq.read_table(result.outputs["model_monitoring"]).to_pylist()
    assert {"score_psi", "gini", "model"} <= {row["check"] for row in monitoring}
    gini = next(row for row in monitoring if row["check"] == "gini")
    assert gini["rows"] > 0 and -1.0 <= gini["value"] <= 1.0
    # Expected value (what capacity is served by) = past due × probability of paying, and the
    # early_unlikely segment takes the small installment arrears the model gives < 0.35.
    by_loan = dict(zip(scores["loan_id"].to_pylist(), probability, strict=True))
    states = {r["loan_id"]: r for r in _rows(result.outputs["account_state"])}
    decisions = _rows(result.outputs["decisions"])
    assert decisions
    for d in decisions:
        state, p = states[d["loan_id"]], by_loan[d["loan_id"]]
        assert d["expected_value"] == pytest.approx(float(state["past_due_amount"]) * p)
        unlikely = (1 <= state["dpd"] <= 29 and state["product"] == "installment"
                    and state["past_due_amount"] < 2000 and p < 0.35)  # fmt: skip
        assert (d["segment"] == "early_unlikely") == unlikely, d
    manifest = json.loads((result.out / "run.json").read_text())
    assert manifest["models"] == [scores["model_id"][0].as_py()]


def test_cli_run_takes_the_stage_options(portfolio: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [
        "run", "--data", str(portfolio), "--as-of", "2026-10-31", "--out", str(tmp_path / "o"),
        "--provisions", "none", "--strategy", "mx_default",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    names = {p.name for p in (tmp_path / "o").iterdir()}
    assert "decisions.parquet" in names and "provisions.parquet" not in names
    bad = CliRunner().invoke(app, [
        "run", "--data", str(portfolio), "--as-of", "2026-10-31", "--out", str(tmp_path / "x"),
        "--strategy", str(tmp_path / "missing.yaml"),
    ])  # fmt: skip
    assert bad.exit_code != 0
    assert not (tmp_path / "x").exists()
