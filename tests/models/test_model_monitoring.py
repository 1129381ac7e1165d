"""``model_monitoring`` in the engine agrees with the same measures computed in numpy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.metrics import roc_auc_score
from test_model_scoring import SPEC, _frame

from cobranza.engine import Engine
from cobranza.models import MONITORING_SCHEMA, TrainingResult, model_monitoring, train_models
from cobranza.models import _metrics as mx


@pytest.fixture(scope="module")
def trained() -> TrainingResult:
    return train_models(SPEC, pa.Table.from_pandas(_frame()))


def _run(engine: Engine, model, now: pd.DataFrame, **kw) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    engine.register_arrow("now", pa.Table.from_pandas(now))
    out = engine.fetch(model_monitoring(model, engine.table("now"), **kw))
    assert out.schema.names == list(MONITORING_SCHEMA)
    return out.to_pandas().set_index("check")


@pytest.mark.parametrize("kind", ["scorecard", "lightgbm"])
def test_psi_csi_and_gini_match_numpy(engine: Engine, trained: TrainingResult, kind: str) -> None:
    model = trained.scorecard if kind == "scorecard" else trained.challenger
    fitted = trained.fitted[kind]
    now = _frame(1500, seed=21)
    engine.register_arrow("matured", pa.Table.from_pandas(now))
    got = _run(engine, model, now, matured=engine.table("matured"))
    baseline = model.data["monitoring"]
    native = fitted.score(now[model.variables]) if kind == "scorecard" else fitted.raw_score(now)
    score_bins = baseline["score"]
    expected = mx.psi(
        score_bins["shares"],
        mx.shares(mx.bin_values(score_bins, native), len(score_bins["shares"])),
    )
    assert got.loc["score_psi", "value"] == pytest.approx(expected, abs=1e-12)
    for var in baseline["variables"]:
        values = now[var["name"]].to_numpy(dtype=float if var["dtype"] == "numerical" else object)
        csi = mx.psi(var["shares"], mx.shares(mx.bin_values(var, values), len(var["shares"])))
        assert got.loc[f"csi:{var['name']}", "value"] == pytest.approx(csi, abs=1e-12)
    assert (got["rows"] == 1500).all()
    drift = got.drop(index=["gini", "model"])
    assert (drift["status"] == "ok").all()  # same population as development
    order = ["ok", "warn", "alarm"]
    worst = max(got.drop(index="model")["status"], key=order.index)
    assert got.loc["model", "status"] == worst
    proba = fitted.predict_proba(now)
    assert got.loc["gini", "value"] == pytest.approx(
        2 * roc_auc_score(now["pay"], proba) - 1, abs=1e-9
    )


def test_a_shifted_population_raises_the_alarm(engine: Engine, trained: TrainingResult) -> None:
    now = _frame(1500, seed=22)
    now["dpd"] = now["dpd"] + 90  # the book got much later than the development one
    got = _run(engine, trained.scorecard, now)
    assert got.loc["csi:dpd", "status"] == "alarm"
    assert got.loc["csi:dpd", "value"] > 0.25
    assert got.loc["model", "status"] == "alarm"
    assert np.isnan(got.loc["model", "value"])
