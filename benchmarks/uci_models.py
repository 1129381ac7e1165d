"""Scorecard and LightGBM challenger on the real UCI credit-card data (30,000 accounts).

Run from ``benchmarks/``:  python uci_models.py

Variables: the raw columns plus those derived from the six months of history
(``cobranza.models.UCI_VARIABLES``: max delay, months late, payment ratios, utilisation,
trends), computed in the engine. Split: 30 % stratified hold-out, ``random_state=42``. Both
models are scored in the engine (DuckDB) from their JSON artefacts, and the AUC is taken on the
hold-out, for all accounts and for the delinquent ones (PAY_0 ≥ 1). Prints one line per model
and population: ``<model> <population> auc=<value>``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from cobranza.engine import DuckDBEngine
from cobranza.models import UCI_TARGET, TrainingSpec, score_expression, train_models, uci_features

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "uci_credit_card"
SPEC = TrainingSpec(name="uci_default", target=UCI_TARGET, holdout=0.3, random_state=42)


def main() -> int:
    path = DATA / "UCI_Credit_Card.csv"
    with DuckDBEngine() as eng:
        eng.materialize("uci", uci_features(eng, path))
        # Training is the one step that needs the rows in Python (30,000 of them).
        table = eng.fetch(eng.table("uci"))
        result = train_models(SPEC, table)
        frame = table.select(["loan_id", "PAY_0", UCI_TARGET]).to_pandas()
        _, holdout = train_test_split(
            frame, test_size=0.3, stratify=frame[UCI_TARGET], random_state=42
        )
        for label, model in (("scorecard", result.scorecard), ("lightgbm", result.challenger)):
            assert model is not None
            scores = eng.fetch(score_expression(model, eng.table("uci"))).to_pandas()
            rows = holdout.merge(scores, on="loan_id", validate="one_to_one")
            for population, part in (("all", rows), ("delinquent", rows[rows["PAY_0"] >= 1])):
                auc = roc_auc_score(part[UCI_TARGET], part["probability"])
                print(f"{label} {population} auc={auc:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
