"""Training: a spec and a table of variables + target → a scorecard and a LightGBM challenger.

Training is the one step that needs the rows in Python (optbinning and LightGBM fit in
memory); everything after it — scoring, monitoring — runs in the engine from the JSON
artefact.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from cobranza.models import _metrics as mx
from cobranza.models._artefact import Model
from cobranza.models._errors import ModelError
from cobranza.models._estimators import LightGBMChallenger, ScorecardModel
from cobranza.models._spec import Condition, TrainingSpec, load_spec

__all__ = ["TrainingResult", "load_source", "train", "train_from_table", "train_models"]

#: Columns that identify a row rather than describe it: never variables.
KEYS = ("loan_id", "customer_id", "as_of", "_row")
#: The features helper's targets: outcomes, never variables of another target's model.
TARGETS = ("pay", "cure_30", "cure_60", "roll")


@dataclass(frozen=True)
class TrainingResult:
    """The scorecard (champion) and the LightGBM challenger (None when the spec has none).

    ``fitted`` holds the fitted estimators of this process (``"scorecard"``, ``"lightgbm"``)
    for checks and benchmarks; they are never stored — the artefacts are the models.
    """

    scorecard: Model
    challenger: Model | None
    fitted: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def models(self) -> list[Model]:
        return [m for m in (self.scorecard, self.challenger) if m is not None]


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _num(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _population(frame: pd.DataFrame, conditions: list[Condition]) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for c in conditions:
        if c.column not in frame.columns:
            raise ModelError(f"population: the table has no column {c.column!r}")
        col = frame[c.column]
        if c.op == "not_null":
            mask &= col.notna()
        elif c.op == "in":
            mask &= col.isin(list(c.value or []))
        else:
            ops = {
                "==": col.__eq__, "!=": col.__ne__, ">": col.__gt__,
                ">=": col.__ge__, "<": col.__lt__, "<=": col.__le__,
            }  # fmt: skip
            mask &= ops[c.op](c.value).fillna(False).astype(bool)
    return frame[mask.to_numpy()]


def _variables(spec: TrainingSpec, frame: pd.DataFrame) -> list[str]:
    if spec.variables is not None:
        missing = [v for v in spec.variables if v not in frame.columns]
        if missing:
            raise ModelError(f"variables not in the table: {', '.join(missing)}")
        return list(spec.variables)
    skip = {*KEYS, *TARGETS, *spec.exclude, spec.target, spec.bucket_column}
    return [
        c
        for c in frame.columns
        if c not in skip and (pd.api.types.is_numeric_dtype(frame[c]) or c in spec.categorical)
    ]


def _split(spec: TrainingSpec, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    if spec.development is not None and spec.out_of_time is not None:
        if "as_of" not in frame.columns:
            raise ModelError("development/out_of_time dates need an as_of column in the table")
        as_of = pd.to_datetime(frame["as_of"]).dt.date
        dev = frame[as_of.isin(spec.development).to_numpy()]
        oot = frame[as_of.isin(spec.out_of_time).to_numpy()]
        windows = {
            "split": "out_of_time",
            "development": [d.isoformat() for d in spec.development],
            "out_of_time": [d.isoformat() for d in spec.out_of_time],
        }
    else:
        from sklearn.model_selection import train_test_split

        dev, oot = train_test_split(
            frame, test_size=spec.holdout, stratify=frame[spec.target],
            random_state=spec.random_state,
        )  # fmt: skip
        windows = {
            "split": "random",
            "holdout": spec.holdout,
            "random_state": spec.random_state,
        }
    for label, part in (("development", dev), ("out_of_time", oot)):
        if len(part) == 0 or part[spec.target].nunique() < 2:
            raise ModelError(f"the {label} window needs rows with both target values 0 and 1")
    windows["rows"] = {"development": len(dev), "out_of_time": len(oot)}
    return dev, oot, windows


def _window_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    a = mx.auc(y, p)
    return {
        "rows": len(y),
        "events": int(np.sum(y)),
        "event_rate": _num(float(np.mean(y))),
        "auc": _num(a),
        "gini": _num(2 * a - 1),
        "ks": _num(mx.ks(y, p)),
    }


def _checks(metrics: dict[str, Any], spec: TrainingSpec) -> list[dict[str, Any]]:
    t = spec.thresholds
    dev, oot = metrics["development"], metrics["out_of_time"]
    gini_drop = (
        (dev["gini"] - oot["gini"]) / dev["gini"]
        if dev["gini"] and oot["gini"] is not None
        else None
    )
    calib = max(abs(r["observed"] - r["predicted"]) for r in metrics["calibration"])
    max_csi = max(metrics["csi"].values(), default=0.0)
    rows = [
        ("auc", "ROC AUC out of time", oot["auc"], ">=", t.auc_min),
        ("ks", "KS out of time", oot["ks"], ">=", t.ks_min),
        ("gini_drop", "relative Gini drop, development → out of time", gini_drop, "<=",
         t.gini_drop_max),
        ("score_psi", "score PSI, development → out of time", metrics["score_psi"], "<=",
         t.score_psi_max),
        ("max_csi", "largest variable CSI, development → out of time", max_csi, "<=", t.csi_max),
        ("calibration", "largest |observed − predicted| by decile, out of time", calib, "<=",
         t.calibration_error_max),
    ]  # fmt: skip
    out = []
    for check, label, value, rule, limit in rows:
        passed = value is not None and (value >= limit if rule == ">=" else value <= limit)
        out.append({
            "check": check, "label": label, "value": _num(value) if value is not None else None,
            "rule": rule, "threshold": limit, "passed": bool(passed),
        })  # fmt: skip
    return out


def _baselines(
    kind: str, dev: pd.DataFrame, variables: list[str], score: np.ndarray,
    card: dict[str, Any] | None,
) -> dict[str, Any]:  # fmt: skip
    """Frozen bins with development shares: the score's deciles and each variable's bins."""
    if card is not None:
        total = sum(card["variables"][0]["counts"]) if card["variables"] else 1
        binned = [
            {k: v[k] for k in ("name", "dtype", "splits", "categories", "special_codes") if k in v}
            | {"shares": [c / total for c in v["counts"]]}
            for v in card["variables"]
        ]
    else:
        binned = [mx.decile_bins(name, dev[name].to_numpy(dtype=float)) for name in variables]
    return {"score": mx.decile_bins("score", score) | {"kind": kind}, "variables": binned}


def _csi(baseline: dict[str, Any], oot: pd.DataFrame) -> dict[str, float]:
    out = {}
    for var in baseline["variables"]:
        n = len(var["shares"])
        values = oot[var["name"]].to_numpy(dtype=float if var["dtype"] == "numerical" else object)
        out[var["name"]] = mx.psi(var["shares"], mx.shares(mx.bin_values(var, values), n))
    return out


def _content(
    spec: TrainingSpec, kind: str, variables: list[str], section: dict[str, Any],
    dev: pd.DataFrame, oot: pd.DataFrame, windows: dict[str, Any],
    native: tuple[np.ndarray, np.ndarray], proba: tuple[np.ndarray, np.ndarray],
    iv: dict[str, float],
) -> dict[str, Any]:  # fmt: skip
    y_dev = dev[spec.target].to_numpy(dtype=int)
    y_oot = oot[spec.target].to_numpy(dtype=int)
    card = section if kind == "scorecard" else None
    baseline = _baselines(kind, dev, variables, native[0], card)
    score_bins = baseline["score"]
    oot_shares = mx.shares(mx.bin_values(score_bins, native[1]), len(score_bins["shares"]))
    metrics: dict[str, Any] = {
        "development": _window_metrics(y_dev, proba[0]),
        "out_of_time": _window_metrics(y_oot, proba[1]),
        "roc": {
            "development": mx.roc_points(y_dev, proba[0]),
            "out_of_time": mx.roc_points(y_oot, proba[1]),
        },
        "calibration": mx.calibration(y_oot, proba[1]),
        "score_psi": mx.psi(score_bins["shares"], oot_shares),
        "score_shares": {"development": score_bins["shares"], "out_of_time": oot_shares},
        "csi": _csi(baseline, oot),
        "iv": iv,
    }
    if spec.bucket_column and spec.bucket_column in oot.columns:
        metrics["calibration_by_bucket"] = mx.calibration(
            y_oot, proba[1], oot[spec.bucket_column].to_numpy()
        )
    return {
        "name": spec.name,
        "kind": kind,
        "target": spec.target,
        "description": spec.description,
        "variables": variables,
        "population": [c.model_dump(mode="json") for c in spec.population],
        "windows": windows,
        kind: section,
        "metrics": metrics,
        "thresholds": spec.thresholds.model_dump(),
        "checks": _checks(metrics, spec),
        "monitoring": baseline,
    }


def _frame(spec: TrainingSpec, table: pa.Table | pd.DataFrame) -> pd.DataFrame:
    if isinstance(table, pa.Table):
        # Money is DECIMAL in the contract; the models see it as float64, as the SQL does.
        for i, fld in enumerate(table.schema):
            if pa.types.is_decimal(fld.type):
                table = table.set_column(i, fld.name, table[fld.name].cast(pa.float64()))
    frame = table if isinstance(table, pd.DataFrame) else table.to_pandas()
    if spec.target not in frame.columns:
        raise ModelError(f"the table has no target column {spec.target!r}")
    frame = _population(frame, spec.population)
    frame = frame[frame[spec.target].notna().to_numpy()]  # targets not yet matured
    values = set(pd.unique(frame[spec.target]).tolist())
    if not values <= {0, 1}:
        raise ModelError(f"target {spec.target!r} must be 0/1; got values {sorted(values)[:5]}")
    frame = frame.copy()
    frame[spec.target] = frame[spec.target].astype(int)
    return frame


def train_models(
    spec: TrainingSpec | str | Path,
    table: pa.Table | pd.DataFrame,
    *,
    trained_at: str | None = None,
) -> TrainingResult:
    """Fit the scorecard and the challenger on ``table`` and build their draft artefacts."""
    if not isinstance(spec, TrainingSpec):
        spec = load_spec(spec)
    at = trained_at or _now()
    frame = _frame(spec, table)
    variables = _variables(spec, frame)
    dev, oot, windows = _split(spec, frame)
    p = spec.scorecard
    card = ScorecardModel(
        categorical=spec.categorical, special_codes=spec.special_codes, pdo=p.pdo,
        odds=p.odds, base_points=p.base_points, min_bin_size=p.min_bin_size,
        max_n_bins=p.max_n_bins, C=p.C,
    ).fit(dev[variables], dev[spec.target])  # fmt: skip
    section = card.to_artefact()
    iv = {v["name"]: v["iv"] for v in section["variables"]}
    scorecard = Model.create(
        _content(
            spec, "scorecard", card.variables_, section, dev, oot, windows,
            (card.score(dev[variables]), card.score(oot[variables])),
            (card.predict_proba(dev[variables]), card.predict_proba(oot[variables])), iv,
        ),
        at=at,
    )  # fmt: skip
    challenger = None
    fitted: dict[str, Any] = {"scorecard": card}
    if spec.lightgbm is not None:
        numeric = [v for v in variables if v not in set(spec.categorical)]
        lgb = LightGBMChallenger(**spec.lightgbm.model_dump()).fit(dev[numeric], dev[spec.target])
        challenger = Model.create(
            _content(
                spec, "lightgbm", numeric, lgb.to_artefact(), dev, oot, windows,
                (lgb.raw_score(dev), lgb.raw_score(oot)),
                (lgb.predict_proba(dev), lgb.predict_proba(oot)), iv,
            ),
            at=at,
        )  # fmt: skip
        fitted["lightgbm"] = lgb
    return TrainingResult(scorecard, challenger, fitted)


def train_from_table(spec: TrainingSpec | str | Path, table: pa.Table) -> Model:
    """The draft scorecard trained on ``table`` (variables + target, ``as_of`` for windows)."""
    return train_models(spec, table).scorecard


def load_source(spec: TrainingSpec, engine: Any = "duckdb") -> pa.Table:
    """The rows the spec's ``source`` names: a features Parquet file/folder, or the UCI CSV."""
    if spec.source is None:
        raise ModelError("the spec has no source; use train_from_table with a table")
    if spec.source.uci is not None:
        from cobranza.engine import connect
        from cobranza.models._uci import uci_features

        with connect(engine) as eng:
            # Training data is the one per-row result that must reach Python (the fit is in
            # memory); 30,000 rows.
            return eng.fetch(uci_features(eng, spec.source.uci))
    import pyarrow.dataset as ds

    path = Path(spec.source.features)  # type: ignore[arg-type]
    if not path.exists():
        raise ModelError(f"features source {path} does not exist")
    return ds.dataset(path, format="parquet").to_table()


def train(
    spec: TrainingSpec | str | Path, *, engine: Any = "duckdb", trained_at: str | None = None
) -> TrainingResult:
    """Train from the spec's own source (see :func:`load_source`)."""
    if not isinstance(spec, TrainingSpec):
        spec = load_spec(spec)
    return train_models(spec, load_source(spec, engine), trained_at=trained_at)
