"""Validation measures on development and out-of-time rows (numpy; the rows are in memory).

The same frozen bins serve the validation report (development against out-of-time) and the
monitoring query in the engine (development against today), so a PSI means the same thing in
both places.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "auc",
    "bin_values",
    "calibration",
    "decile_bins",
    "ks",
    "psi",
    "roc_points",
    "shares",
]

#: Share floor in PSI so an empty bin contributes a large but finite term.
PSI_FLOOR = 1e-4


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC AUC of ``p`` (higher = more likely event) against 0/1 ``y``; ties count half."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, p))


def ks(y: np.ndarray, p: np.ndarray) -> float:
    """Kolmogorov–Smirnov: the largest gap between the events' and non-events' score CDFs."""
    y = np.asarray(y)
    order = np.argsort(p, kind="stable")
    ys, ps = y[order], np.asarray(p)[order]
    n1, n0 = ys.sum(), len(ys) - ys.sum()
    if n1 == 0 or n0 == 0:
        return float("nan")
    # Evaluate the CDFs only at the end of each run of tied scores.
    last = np.r_[ps[1:] != ps[:-1], True]
    cum1 = np.cumsum(ys)[last] / n1
    cum0 = np.cumsum(1 - ys)[last] / n0
    return float(np.max(np.abs(cum1 - cum0)))


def roc_points(y: np.ndarray, p: np.ndarray, n: int = 60) -> list[dict[str, float]]:
    """About ``n`` points of the ROC curve (false and true positive rates) for a chart."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, p)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(n, len(fpr))).round().astype(int))
    return [{"fpr": float(fpr[i]), "tpr": float(tpr[i])} for i in keep]


def calibration(
    y: np.ndarray, p: np.ndarray, groups: np.ndarray | None = None
) -> list[dict[str, Any]]:
    """Predicted against observed event rate by decile of ``p`` (or by ``groups`` labels)."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if groups is None:
        ranks = np.argsort(np.argsort(p, kind="stable"), kind="stable")
        labels = (ranks * 10 // max(len(p), 1)) + 1
        keys: Sequence[Any] = sorted(set(labels.tolist()))
    else:
        labels = np.asarray(groups).astype(str)
        keys = sorted(set(labels.tolist()))
    out = []
    for key in keys:
        mask = labels == key
        out.append({
            "group": str(key),
            "rows": int(mask.sum()),
            "predicted": float(p[mask].mean()),
            "observed": float(y[mask].mean()),
        })  # fmt: skip
    return out


def decile_bins(name: str, values: np.ndarray) -> dict[str, Any]:
    """Frozen numerical bins at the development deciles (a missing bin is always kept)."""
    x = np.asarray(values, dtype=float)
    clean = x[~np.isnan(x)]
    edges = np.unique(np.quantile(clean, np.linspace(0.1, 0.9, 9))) if len(clean) else []
    spec: dict[str, Any] = {
        "name": name,
        "dtype": "numerical",
        "splits": [float(e) for e in edges],
        "special_codes": [],
    }
    spec["shares"] = shares(bin_values(spec, x), len(edges) + 3)
    return spec


def bin_values(var: dict[str, Any], values: np.ndarray) -> np.ndarray:
    """Bin index of each value, as :func:`cobranza.models.bin_index` computes it in SQL."""
    codes = var.get("special_codes") or []
    if var["dtype"] == "numerical":
        x = np.asarray(values, dtype=float)
        splits = np.asarray(var["splits"], dtype=float)
        n_bins = len(splits) + 1
        idx = np.digitize(x, splits, right=False)
        if codes:
            idx = np.where(np.isin(x, np.asarray(codes, dtype=float)), n_bins, idx)
        return np.where(np.isnan(x), n_bins + 1, idx)
    cats = var["categories"]
    n_bins = len(cats)
    text = np.array([None if v is None else str(v) for v in values], dtype=object)
    idx = np.full(len(text), n_bins + 1)
    for i in reversed(range(n_bins)):
        idx = np.where(np.isin(text, [str(c) for c in cats[i]]), i, idx)
    if codes:
        idx = np.where(np.isin(text, [str(c) for c in codes]), n_bins, idx)
    is_none = np.array([v is None for v in text], dtype=bool)
    return np.where(is_none, n_bins + 1, idx)


def shares(index: np.ndarray, n: int) -> list[float]:
    """Share of rows in each of ``n`` bins."""
    counts = np.bincount(np.asarray(index, dtype=int), minlength=n)[:n]
    total = counts.sum()
    return [float(c / total) if total else 0.0 for c in counts]


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index Σ (a − e) · ln(a ÷ e), shares floored at ``PSI_FLOOR``."""
    e = np.maximum(np.asarray(expected, dtype=float), PSI_FLOOR)
    a = np.maximum(np.asarray(actual, dtype=float), PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))
