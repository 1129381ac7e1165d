"""Models compiled to Ibis expressions, so scoring runs in the engine (DuckDB or Spark).

Scorecard: one ``CASE`` per variable giving that variable's points, summed in the variable
order optbinning sums them, so the SQL result equals ``Scorecard.score`` bit for bit. The bin
rules follow optbinning's transform: missing (null or NaN) first, then special codes, then
``splits`` with ``np.digitize(..., right=False)`` semantics (bin i holds
``splits[i−1] ≤ x < splits[i]``); categories outside every bin get the missing bin's points
(optbinning's index −1).

LightGBM: each tree of ``Booster.dump_model()`` becomes a nested ``CASE`` following LightGBM's
numerical decision: with ``missing_type`` NaN a missing value goes the default way; with Zero,
missing and (near-)zero values go the default way; with None, missing counts as 0; otherwise
``x <= threshold`` goes left. Categorical splits (``decision_type == '=='``) are refused.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir

from cobranza.models._artefact import Model
from cobranza.models._errors import ModelError

__all__ = ["bin_index", "probability_expression", "score_expression", "with_raw"]

#: LightGBM's kZeroThreshold: |x| ≤ 1e-35 counts as zero for missing_type Zero.
_ZERO = 1e-35
#: Trees summed per intermediate column (see ``_with_trees``).
_TREES_PER_COLUMN = 10


def _f64(value: float) -> ir.FloatingValue:
    """A float64 literal that both engines read as exactly this double.

    A plain literal such as ``0.1234`` is a DECIMAL in DuckDB and Spark SQL; converting it to
    a double is not always correctly rounded, so the shortest round-trip text is cast instead.
    """
    return ibis.literal(repr(float(value))).cast("float64")


def _column(features: ir.Table, name: str) -> ir.Column:
    if name not in features.columns:
        raise ModelError(f"the features table has no column {name!r} that the model needs")
    return features[name]


def _numeric(features: ir.Table, name: str) -> tuple[ir.FloatingValue, ir.BooleanValue]:
    """The column as float64 and its missing test (null, or NaN for floating columns)."""
    col = _column(features, name)
    if not col.type().is_numeric() and not col.type().is_boolean():
        raise ModelError(f"variable {name!r} is {col.type()}, expected a number")
    x = col.cast("float64")
    missing = x.isnull() | x.isnan() if col.type().is_floating() else x.isnull()
    return x, missing


def _bin_case(features: ir.Table, var: dict[str, Any], values: Sequence[Any]) -> ir.Value:
    """``values[bin of the row]`` for one scorecard variable (len = bins + special + missing)."""
    name = var["name"]
    codes = var.get("special_codes") or []
    n_special = 1  # optbinning keeps one special slot (and one missing) even when unused
    if var["dtype"] == "numerical":
        splits = var["splits"]
        n_bins = len(splits) + 1
        x, missing = _numeric(features, name)
        literal = [_f64(v) for v in values]
        branches = [(missing, literal[n_bins + n_special])]
        if codes:
            branches.append((x.isin([_f64(c) for c in codes]), literal[n_bins]))
        branches += [(x < _f64(s), literal[i]) for i, s in enumerate(splits)]
        return ibis.cases(*branches, else_=literal[n_bins - 1])
    col = _column(features, name)
    n_bins = len(var["categories"])
    literal = [_f64(v) for v in values]
    as_text = col.cast("string")
    branches = [(col.isnull(), literal[n_bins + n_special])]
    if codes:
        branches.append((as_text.isin([str(c) for c in codes]), literal[n_bins]))
    branches += [
        (as_text.isin([str(c) for c in cats]), literal[i])
        for i, cats in enumerate(var["categories"])
    ]
    return ibis.cases(*branches, else_=literal[-1])


def bin_index(features: ir.Table, var: dict[str, Any]) -> ir.IntegerValue:
    """The optbinning bin index of each row for a variable section of an artefact."""
    n = len(var["points"]) if "points" in var else len(var["shares"])
    return _bin_case(features, var, list(range(n))).cast("int32")


def _points(model: Model, features: ir.Table) -> ir.FloatingValue:
    card = model.data["scorecard"]
    terms = [_bin_case(features, var, var["points"]) for var in card["variables"]]
    if not terms:
        return _f64(card["intercept"])
    total = functools.reduce(operator.add, terms)
    return total + _f64(card["intercept"])


def _node(tree: dict[str, Any], inputs: dict[int, tuple[ir.Value, ...]]) -> ir.Value:
    if "leaf_value" in tree:
        return _f64(tree["leaf_value"])
    decision = tree["decision_type"]
    if decision != "<=":
        raise ModelError(
            f"LightGBM split with decision_type {decision!r} (categorical) cannot be compiled "
            "to SQL; train the challenger on numerical variables"
        )
    x, missing, zeroed, near_zero = inputs[tree["split_feature"]]
    threshold = _f64(tree["threshold"])
    left = _node(tree["left_child"], inputs)
    right = _node(tree["right_child"], inputs)
    default = left if tree["default_left"] else right
    kind = tree["missing_type"]
    if kind == "NaN":
        return ibis.cases((missing, default), (x <= threshold, left), else_=right)
    if kind == "Zero":
        return ibis.cases((missing | near_zero, default), (x <= threshold, left), else_=right)
    if kind == "None":
        return ibis.cases((zeroed <= threshold, left), else_=right)
    raise ModelError(f"unknown LightGBM missing_type {kind!r}")


def _with_trees(model: Model, features: ir.Table, name: str) -> ir.Table:
    dump = model.data["lightgbm"]["dump"]
    names = dump["feature_names"]
    used = sorted(
        {int(i) for tree in dump["tree_info"] for i in _split_features(tree["tree_structure"])}
    )
    # Each input's missing test and zero-filled value are computed once, in an inner SELECT
    # materialised by the engine, so the trees compare plain columns (a tenth of the SQL).
    prep: dict[str, ir.Value] = {}
    for i in used:
        x, missing = _numeric(features, names[i])
        prep[f"__x{i}"] = x
        prep[f"__m{i}"] = missing
        prep[f"__z{i}"] = missing.ifelse(_f64(0.0), x)
        prep[f"__n{i}"] = missing.ifelse(False, x.between(_f64(-_ZERO), _f64(_ZERO)))
    staged = features.mutate(**prep) if prep else features
    if prep:
        # A subquery boundary, so Ibis does not inline the prep expressions into every node.
        staged = staged.select(*staged.columns).limit(None)
    inputs = {
        i: (staged[f"__x{i}"], staged[f"__m{i}"], staged[f"__z{i}"], staged[f"__n{i}"])
        for i in used
    }
    terms = [_node(tree["tree_structure"], inputs) for tree in dump["tree_info"]]
    # Partial sums of a few trees each, added up one SELECT later: Spark generates code per
    # expression and gives up on (and interprets) a single expression of a hundred trees.
    # Regrouping the sum changes the last bits only (the tests hold it to 1e-9).
    chunks = {
        f"__t{k}": functools.reduce(operator.add, terms[k : k + _TREES_PER_COLUMN])
        for k in range(0, len(terms), _TREES_PER_COLUMN)
    }
    partial = staged.mutate(**chunks)
    total = functools.reduce(operator.add, [partial[c] for c in chunks])
    scored = partial.mutate(**{name: total})
    return scored.drop(*prep, *chunks) if prep else scored.drop(*chunks)


def _split_features(tree: dict[str, Any]) -> list[int]:
    if "leaf_value" in tree:
        return []
    return [
        tree["split_feature"],
        *_split_features(tree["left_child"]),
        *_split_features(tree["right_child"]),
    ]


def with_raw(model: Model, features: ir.Table, name: str = "score") -> ir.Table:
    """``features`` plus column ``name``: the model's native score (points or raw score)."""
    if model.kind == "scorecard":
        return features.mutate(**{name: _points(model, features)})
    return _with_trees(model, features, name)


def probability_expression(model: Model, raw: ir.FloatingValue) -> ir.FloatingValue:
    """P(target = 1) from the native score (logit = (offset − points) ÷ factor, or raw)."""
    if model.kind == "scorecard":
        card = model.data["scorecard"]
        logit = (_f64(card["offset"]) - raw) / _f64(card["factor"])
    else:
        logit = raw
    one = _f64(1.0)
    return one / (one + (-logit).exp())


def _inputs(model: Model) -> list[str]:
    if model.kind == "scorecard":
        return [v["name"] for v in model.data["scorecard"]["variables"]]
    return list(dict.fromkeys(model.data["lightgbm"]["dump"]["feature_names"]))


def score_expression(model: Model, features: ir.Table) -> ir.Table:
    """``loan_id`` (and ``as_of`` when present), ``model_id``, ``score``, ``probability``.

    ``score`` is the model's native score: scorecard points (higher = less likely event) or
    the LightGBM raw score (log-odds of the event). ``probability`` is P(target = 1).
    """
    keys = [c for c in ("loan_id", "as_of") if c in features.columns]
    if "loan_id" not in keys:
        raise ModelError("the features table has no loan_id column")
    scored = with_raw(model, features.select(*keys, *_inputs(model)), "score")
    return scored.select(
        *keys,
        model_id=ibis.literal(model.model_id),
        score=scored.score,
        probability=probability_expression(model, scored.score),
    )
