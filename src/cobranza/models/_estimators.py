"""The two estimators: an optbinning scorecard and a LightGBM challenger.

Both follow scikit-learn's contract (parameters in ``__init__``, fitted state with a trailing
underscore) and export themselves as plain JSON-able dicts (:meth:`to_artefact`), which is all
that scoring in the engine and monitoring need: a fitted model never travels as a pickle.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cobranza.models._errors import ModelError

__all__ = ["LightGBMChallenger", "ScorecardModel"]


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as JSON-able Python values (floats keep every bit)."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class ScorecardModel:
    """Binning process + logistic regression → points scaled by PDO (optbinning ``Scorecard``).

    Parameters
    ----------
    categorical:
        Variables binned as categories (strings); the others are numerical.
    special_codes:
        Per variable, values that get a bin of their own (e.g. ``-2`` for "no consumption").
    pdo, odds, base_points:
        Points to double the odds, the odds (non-event : event) at ``base_points``.
    min_bin_size:
        Smallest share of the development rows a bin may hold.
    max_n_bins:
        Most bins per variable (``None``: no limit).
    C:
        Inverse regularisation strength of the logistic regression.
    """

    def __init__(
        self,
        categorical: Sequence[str] = (),
        special_codes: Mapping[str, Sequence[float | str]] | None = None,
        pdo: float = 20.0,
        odds: float = 50.0,
        base_points: float = 600.0,
        min_bin_size: float = 0.05,
        max_n_bins: int | None = None,
        C: float = 1.0,  # noqa: N803
    ) -> None:
        self.categorical = categorical
        self.special_codes = special_codes
        self.pdo = pdo
        self.odds = odds
        self.base_points = base_points
        self.min_bin_size = min_bin_size
        self.max_n_bins = max_n_bins
        self.C = C

    def fit(self, X: pd.DataFrame, y: Sequence[int] | np.ndarray) -> ScorecardModel:  # noqa: N803
        from optbinning import BinningProcess, Scorecard
        from sklearn.linear_model import LogisticRegression

        names = list(X.columns)
        fit_params: dict[str, dict[str, Any]] = {}
        for name in names:
            params: dict[str, Any] = {"min_bin_size": self.min_bin_size}
            if self.max_n_bins is not None:
                params["max_n_bins"] = self.max_n_bins
            codes = (self.special_codes or {}).get(name)
            if codes:
                params["special_codes"] = list(codes)
            fit_params[name] = params
        process = BinningProcess(
            names,
            categorical_variables=[n for n in names if n in set(self.categorical)] or None,
            binning_fit_params=fit_params,
        )
        card = Scorecard(
            binning_process=process,
            estimator=LogisticRegression(C=self.C, max_iter=1000),
            scaling_method="pdo_odds",
            scaling_method_params={
                "pdo": self.pdo,
                "odds": self.odds,
                "scorecard_points": self.base_points,
            },
        )
        card.fit(X, np.asarray(y))
        self.scorecard_ = card
        self.variables_ = list(card.binning_process_.get_support(names=True))
        self.factor_ = self.pdo / math.log(2)
        self.offset_ = self.base_points - self.factor_ * math.log(self.odds)
        return self

    def score(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """Points of each row (optbinning's ``Scorecard.score``): higher = less likely event."""
        return self.scorecard_.score(X)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """P(target = 1) of each row, from the points: logit = (offset − points) ÷ factor."""
        return 1.0 / (1.0 + np.exp(-(self.offset_ - self.score(X)) / self.factor_))

    def to_artefact(self) -> dict[str, Any]:
        """The points table and everything needed to bin a value, as plain JSON values."""
        card = self.scorecard_
        table = card.table(style="detailed")
        variables = []
        for name in self.variables_:
            optb = card.binning_process_.get_binned_variable(name)
            rows = table[table["Variable"] == name]
            codes = optb.special_codes
            if isinstance(codes, dict):
                raise ModelError(f"{name}: named groups of special codes are not supported")
            entry: dict[str, Any] = {
                "name": name,
                "dtype": optb.dtype,
                "special_codes": _plain(list(codes)) if codes else [],
                "labels": [str(b) for b in rows["Bin"]],
                "points": _plain(rows["Points"].to_numpy(dtype="float64")),
                "counts": _plain(rows["Count"].to_numpy(dtype="int64")),
                "event_rates": _plain(rows["Event rate"].to_numpy(dtype="float64")),
                "woe": _plain(rows["WoE"].to_numpy(dtype="float64")),
                "iv": float(rows["IV"].sum()),
            }
            if optb.dtype == "numerical":
                entry["splits"] = _plain(np.asarray(optb.splits, dtype="float64"))
            else:
                entry["categories"] = [_plain(list(b)) for b in optb.splits]
            variables.append(entry)
        return {
            "pdo": self.pdo,
            "odds": self.odds,
            "base_points": self.base_points,
            "factor": self.factor_,
            "offset": self.offset_,
            "intercept": float(card.intercept_),
            "variables": variables,
        }


_LGB_PARAMS = (
    "n_estimators", "learning_rate", "num_leaves", "min_child_samples", "subsample",
    "colsample_bytree", "reg_lambda", "random_state", "num_threads",
)  # fmt: skip


class LightGBMChallenger:
    """A gradient-boosted trees challenger (LightGBM), deterministic for a given data set.

    Parameters follow LightGBM's names; ``num_threads=1`` with ``deterministic`` gives the same
    trees on every machine (and is the fastest on a shared two-core host).
    """

    def __init__(
        self,
        n_estimators: int = 60,
        learning_rate: float = 0.1,
        num_leaves: int = 8,
        min_child_samples: int = 200,
        subsample: float = 0.8,
        colsample_bytree: float = 0.7,
        reg_lambda: float = 5.0,
        random_state: int = 42,
        num_threads: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.random_state = random_state
        self.num_threads = num_threads

    def fit(self, X: pd.DataFrame, y: Sequence[int] | np.ndarray) -> LightGBMChallenger:  # noqa: N803
        import lightgbm as lgb

        non_numeric = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if non_numeric:
            raise ModelError(
                "the LightGBM challenger takes numerical variables only (its categorical splits "
                f"are not compiled to SQL); got {', '.join(non_numeric)}"
            )
        self.variables_ = list(X.columns)
        params = {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1 else 0,
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "seed": self.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.num_threads,
            "verbose": -1,
        }
        data = lgb.Dataset(X.astype("float64"), label=np.asarray(y), free_raw_data=True)
        self.booster_ = lgb.train(params, data, num_boost_round=self.n_estimators)
        return self

    def raw_score(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """Sum of the trees' leaf values (log-odds of the event)."""
        return self.booster_.predict(X[self.variables_].astype("float64"), raw_score=True)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """P(target = 1) of each row."""
        return 1.0 / (1.0 + np.exp(-self.raw_score(X)))

    def to_artefact(self) -> dict[str, Any]:
        """The tree dump (``Booster.dump_model()``) and the parameters, as JSON values."""
        params = {k: getattr(self, k) for k in _LGB_PARAMS}
        return {"params": params, "dump": self.booster_.dump_model()}
