"""``cobranza model train|list|show|approve|promote|retire``."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from test_model_scoring import _frame
from typer.testing import CliRunner

from cobranza.cli import app

SPEC = """\
name: pay_propensity
target: pay
source: {features: features.parquet}
categorical: [channel]
development: [2026-06-30, 2026-07-31]
out_of_time: [2026-08-31]
lightgbm: {n_estimators: 20, min_child_samples: 20}
thresholds: {auc_min: 0.55, ks_min: 0.05, gini_drop_max: 0.5, calibration_error_max: 0.2}
registry: models
"""


def test_train_approve_promote_retire(tmp_path: Path) -> None:
    import datetime as dt

    frames = []
    for seed, day in (
        (1, dt.date(2026, 6, 30)),
        (2, dt.date(2026, 7, 31)),
        (3, dt.date(2026, 8, 31)),
    ):
        f = _frame(1500, seed=seed)
        f["as_of"] = day
        frames.append(f)
    import pandas as pd

    pq.write_table(pa.Table.from_pandas(pd.concat(frames)), tmp_path / "features.parquet")
    (tmp_path / "spec.yaml").write_text(SPEC)
    runner = CliRunner()
    res = runner.invoke(app, ["model", "train", "--spec", str(tmp_path / "spec.yaml")])
    assert res.exit_code == 0, res.output
    registry = str(tmp_path / "models")
    models = sorted(p.stem for p in (tmp_path / "models").glob("*.json"))
    assert len(models) == 2
    card = next(m for m in models if "-scorecard-" in m)
    assert (tmp_path / "models" / "reports" / f"{card}.html").exists()

    res = runner.invoke(app, ["model", "promote", card, "--registry", registry])
    assert res.exit_code == 1 and "cannot become live" in " ".join(res.output.split())
    res = runner.invoke(
        app, ["model", "approve", card, "--registry", registry, "--approver", "Ana López",
              "--note", "reviewed"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert runner.invoke(app, ["model", "promote", card, "--registry", registry]).exit_code == 0
    res = runner.invoke(app, ["model", "list", "--registry", registry])
    assert "live" in res.output and "scorecard" in res.output
    res = runner.invoke(app, ["model", "show", card, "--registry", registry])
    shown = json.loads(res.output)
    assert shown["status"] == "live"
    assert shown["governance"]["approval"]["approver"] == "Ana López"
    assert shown["windows"]["out_of_time"] == ["2026-08-31"]
    res = runner.invoke(app, ["model", "retire", card, "--registry", registry, "--note", "old"])
    assert res.exit_code == 0
    res = runner.invoke(app, ["model", "show", "nope", "--registry", registry])
    assert res.exit_code == 1 and "no model 'nope'" in " ".join(res.output.split())


def test_a_bad_spec_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(SPEC.replace("target: pay", "target: pay\ntarget2: x"))
    res = CliRunner().invoke(app, ["model", "train", "--spec", str(tmp_path / "spec.yaml")])
    assert res.exit_code == 1
    assert "line 3: target2: unknown key" in " ".join(res.output.split())
