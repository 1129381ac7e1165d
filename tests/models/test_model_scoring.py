"""Scoring in the engine equals the fitted models' own scoring, on both engines."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cobranza.engine import Engine
from cobranza.models import Model, ModelError, TrainingResult, TrainingSpec, score_expression
from cobranza.models import train_models as train
from cobranza.models._artefact import content_hash


def _scores(engine: Engine, model: Model, table: pa.Table) -> pd.DataFrame:
    engine.register_arrow("features", table)
    out = engine.fetch(score_expression(model, engine.table("features"))).to_pandas()
    return out.set_index("loan_id").loc[table["loan_id"].to_pylist()]


def test_scorecard_sql_equals_optbinning_on_the_uci_holdout(
    engine: Engine, uci_models: TrainingResult, uci_holdout: pa.Table
) -> None:
    model = Model.from_json(uci_models.scorecard.to_json())  # what the registry stores
    frame = uci_holdout.to_pandas()
    reference = uci_models.fitted["scorecard"].score(frame[model.variables])
    got = _scores(engine, model, uci_holdout)
    assert len(got) == len(frame) == 9000
    # Exact: same bins, same points, summed in the same order, read as the same doubles.
    np.testing.assert_array_equal(got["score"].to_numpy(), reference)
    assert (got["model_id"] == model.model_id).all()
    np.testing.assert_allclose(
        got["probability"], uci_models.fitted["scorecard"].predict_proba(frame), rtol=1e-12
    )


def test_lightgbm_sql_equals_raw_predict_on_the_uci_holdout(
    engine: Engine, uci_models: TrainingResult, uci_holdout: pa.Table
) -> None:
    assert uci_models.challenger is not None
    model = Model.from_json(uci_models.challenger.to_json())
    frame = uci_holdout.to_pandas()
    reference = uci_models.fitted["lightgbm"].booster_.predict(
        frame[model.variables].astype("float64"), raw_score=True
    )
    got = _scores(engine, model, uci_holdout)
    np.testing.assert_allclose(got["score"].to_numpy(), reference, rtol=0, atol=1e-9)


def _frame(n: int = 3000, seed: int = 3) -> pd.DataFrame:
    """Variables with missing values, a special code (-1) and a categorical one."""
    rng = np.random.default_rng(seed)
    dpd = rng.integers(0, 120, n).astype(float)
    ratio = rng.gamma(2.0, 0.4, n)
    ratio[rng.random(n) < 0.15] = np.nan  # no bill: no ratio
    months = rng.integers(0, 48, n).astype(float)
    months[rng.random(n) < 0.1] = -1.0  # special code: unknown origination
    zeroish = np.where(rng.random(n) < 0.3, 0.0, rng.normal(0, 1, n))
    channel = rng.choice(["sms", "call", "email", "field"], n).astype(object)
    channel[rng.random(n) < 0.05] = None
    logit = -1 + 0.02 * dpd - 0.8 * np.nan_to_num(ratio, nan=0.5) + 0.3 * (channel == "call")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({
        "loan_id": [f"L{i:05d}" for i in range(n)], "dpd": dpd, "paid_ratio": ratio,
        "months_on_book": months, "zeroish": zeroish, "channel": channel, "pay": y,
    })  # fmt: skip


SPEC = TrainingSpec(
    name="pay_propensity", target="pay", categorical=["channel"],
    special_codes={"months_on_book": [-1.0]},
    lightgbm={"n_estimators": 30, "min_child_samples": 20, "num_leaves": 6},
)  # fmt: skip


@pytest.fixture(scope="module")
def generated() -> tuple[pd.DataFrame, TrainingResult]:
    frame = _frame()
    return frame, train(SPEC, pa.Table.from_pandas(frame))


def test_special_missing_and_categorical_bins_score_exactly(
    engine: Engine, generated: tuple[pd.DataFrame, TrainingResult]
) -> None:
    _, result = generated
    card = result.scorecard.data["scorecard"]
    by_name = {v["name"]: v for v in card["variables"]}
    assert by_name["months_on_book"]["special_codes"] == [-1.0]
    assert by_name["channel"]["dtype"] == "categorical"
    # Rows the training never saw, with an unknown category (optbinning: the missing bin).
    new = _frame(800, seed=11)
    new.loc[new.index[:25], "channel"] = "carrier_pigeon"
    got = _scores(engine, result.scorecard, pa.Table.from_pandas(new))
    reference = result.fitted["scorecard"].score(new[result.scorecard.variables])
    np.testing.assert_array_equal(got["score"].to_numpy(), reference)


def test_lightgbm_missing_values_follow_the_default_direction(
    engine: Engine, generated: tuple[pd.DataFrame, TrainingResult]
) -> None:
    _, result = generated
    assert result.challenger is not None
    kinds = {
        node["missing_type"]
        for tree in result.challenger.data["lightgbm"]["dump"]["tree_info"]
        for node in _internal(tree["tree_structure"])
    }
    assert "NaN" in kinds  # paid_ratio has missing values in training
    new = _frame(800, seed=12)
    new.loc[new.index[:40], "dpd"] = np.nan  # missing where training had none: counts as 0
    got = _scores(engine, result.challenger, pa.Table.from_pandas(new))
    reference = result.fitted["lightgbm"].raw_score(new)
    np.testing.assert_allclose(got["score"].to_numpy(), reference, rtol=0, atol=1e-9)


def _internal(node: dict) -> list[dict]:
    if "leaf_value" in node:
        return []
    return [node, *_internal(node["left_child"]), *_internal(node["right_child"])]


def test_categorical_tree_splits_are_refused(
    duckdb_engine: Engine, generated: tuple[pd.DataFrame, TrainingResult]
) -> None:
    _, result = generated
    assert result.challenger is not None
    data = copy.deepcopy(result.challenger.data)
    first = data["lightgbm"]["dump"]["tree_info"][0]["tree_structure"]
    first["decision_type"] = "=="
    data["content_hash"] = content_hash(data)
    duckdb_engine.register_arrow("features", pa.Table.from_pandas(_frame(10)))
    with pytest.raises(ModelError, match="categorical"):
        score_expression(Model(data), duckdb_engine.table("features"))


def test_money_columns_train_and_score_as_doubles(duckdb_engine: Engine) -> None:
    from decimal import Decimal

    frame = _frame(1200, seed=5)
    balance = pa.array(
        [Decimal(f"{v:.2f}") for v in np.random.default_rng(5).gamma(2, 4000, 1200)],
        type=pa.decimal128(18, 2),
    )
    table = pa.Table.from_pandas(frame).append_column("balance", balance)
    spec = TrainingSpec(name="with_money", target="pay", categorical=["channel"], lightgbm=None)
    result = train(spec, table)
    model = result.scorecard
    assert "balance" in model.variables  # DECIMAL money is a numeric variable
    got = _scores(duckdb_engine, model, table)
    reference = (
        train(spec, table)
        .fitted["scorecard"]
        .score(
            table.to_pandas().assign(balance=lambda f: f["balance"].astype(float))[model.variables]
        )
    )
    np.testing.assert_array_equal(got["score"].to_numpy(), reference)
