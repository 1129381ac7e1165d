"""On the real UCI data: the scorecard reaches ROC AUC ≥ 0.77, the challenger ≥ 0.78.

30 % stratified hold-out, random_state 42 (docs/models.md has the numbers). The models are
scored from their JSON artefacts in the engine, as a strategy would use them.
"""

from __future__ import annotations

import pyarrow as pa
import pytest
from sklearn.metrics import roc_auc_score

from cobranza.engine import Engine
from cobranza.models import UCI_TARGET, TrainingResult, score_expression

pytestmark = pytest.mark.slow

THRESHOLDS = {"scorecard": 0.77, "lightgbm": 0.78}


def test_holdout_auc_meets_the_goals(
    duckdb_engine: Engine, uci_models: TrainingResult, uci_holdout: pa.Table
) -> None:
    duckdb_engine.register_arrow("holdout", uci_holdout)
    frame = uci_holdout.select(["loan_id", "PAY_0", UCI_TARGET]).to_pandas()
    for model in uci_models.models:
        scores = duckdb_engine.fetch(score_expression(model, duckdb_engine.table("holdout")))
        rows = frame.merge(scores.to_pandas(), on="loan_id", validate="one_to_one")
        auc = roc_auc_score(rows[UCI_TARGET], rows["probability"])
        assert auc >= THRESHOLDS[model.kind], (model.kind, auc)
        # The artefact records the same hold-out AUC that scoring in the engine gives.
        assert model.metrics["out_of_time"]["auc"] == pytest.approx(auc, abs=1e-12)
        assert model.metrics["out_of_time"]["rows"] == 9000
        delinquent = rows[rows["PAY_0"] >= 1]
        assert 0.65 < roc_auc_score(delinquent[UCI_TARGET], delinquent["probability"]) < auc
    assert all(c["passed"] for m in uci_models.models for c in m.checks)
