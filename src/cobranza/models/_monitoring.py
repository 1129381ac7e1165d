"""``model_monitoring``: is a model still scoring the population it was built on?

One engine query per model gives a small table: the score PSI and each variable's CSI against
the development shares frozen in the artefact (same bins as in validation), the Gini on a
matured cohort when its outcomes are known, and the model's alarm status.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import operator
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from cobranza.models._artefact import Model
from cobranza.models._compile import _f64, bin_index, with_raw
from cobranza.models._errors import ModelError
from cobranza.models._metrics import PSI_FLOOR

__all__ = ["MONITORING_SCHEMA", "MonitoringThresholds", "model_monitoring"]

MONITORING_SCHEMA = {
    "as_of": "date",
    "model_id": "string",
    "check": "string",
    "rows": "int64",
    "value": "float64",
    "warn_at": "float64",
    "alarm_at": "float64",
    "status": "string",
}
_SEVERITY = ("ok", "warn", "alarm")


@dataclass(frozen=True)
class MonitoringThresholds:
    """When a drift measure warns and when it alarms (PSI/CSI: higher is worse; Gini drop:
    relative fall from the development Gini)."""

    psi_warn: float = 0.10
    psi_alarm: float = 0.25
    csi_warn: float = 0.10
    csi_alarm: float = 0.25
    gini_drop_warn: float = 0.10
    gini_drop_alarm: float = 0.20


def _psi(index: ir.IntegerValue, expected: list[float]) -> ir.FloatingValue:
    total = index.count().cast("float64")
    terms = []
    for k, e in enumerate(expected):
        share = ibis.greatest((index == k).cast("float64").sum() / total, _f64(PSI_FLOOR))
        e_ = _f64(max(e, PSI_FLOOR))
        terms.append((share - e_) * (share / e_).ln())
    return functools.reduce(operator.add, terms)


def _gini(model: Model, matured: ir.Table, target: str) -> ir.Table:
    """One row: rows and Gini of the model on a cohort whose outcomes are known, in SQL.

    AUC = Σ over score values of events × (non-events ranked below + ½ non-events tied)
    ÷ (events × non-events); Gini = 2·AUC − 1.
    """
    if target not in matured.columns:
        raise ModelError(f"the matured cohort has no target column {target!r}")
    scored = with_raw(model, matured, "__raw")
    raw = scored["__raw"]
    # Higher risk = more likely event: LightGBM's log-odds, or fewer scorecard points.
    risk = raw if model.kind == "lightgbm" else -raw
    s = scored.select(risk=risk, y=scored[target].cast("float64")).filter(ibis._.y.notnull())
    g = s.group_by("risk").aggregate(pos=s.y.sum(), neg=(1 - s.y).sum(), n=s.y.count())
    below = g.neg.sum().over(ibis.window(order_by=g.risk, rows=(None, -1))).fill_null(0)
    g = g.mutate(term=g.pos * (below + g.neg * 0.5))
    agg = g.aggregate(rows=g.n.sum(), auc=g.term.sum() / (g.pos.sum() * g.neg.sum()))
    return agg.select(rows=agg.rows.cast("int64"), value=agg.auc * 2 - 1)


def _status(value: ir.FloatingValue, warn: float, alarm: float) -> ir.StringValue:
    return ibis.cases(
        (value.isnull(), ibis.literal("n/a")),
        (value >= alarm, ibis.literal("alarm")),
        (value >= warn, ibis.literal("warn")),
        else_=ibis.literal("ok"),
    )


def model_monitoring(
    model: Model,
    features_now: ir.Table,
    *,
    matured: ir.Table | None = None,
    target: str | None = None,
    thresholds: MonitoringThresholds | None = None,
    as_of: dt.date | None = None,
) -> ir.Table:
    """Rows of ``MONITORING_SCHEMA`` for ``model`` on today's features (an engine query).

    ``check`` is ``score_psi``, ``csi:<variable>``, ``gini`` (only with ``matured``: a cohort's
    features with its realised ``target`` column, the model's target by default) and
    ``model`` (the worst status of the others). For ``gini`` the row's ``value`` is the Gini
    and the limits are those Gini values (development Gini × (1 − drop)).
    """
    t = thresholds or MonitoringThresholds()
    baseline = model.data["monitoring"]
    scored = with_raw(model, features_now, "__score")
    items = [("score_psi", {**baseline["score"], "name": "__score"}, t.psi_warn, t.psi_alarm)]
    items += [(f"csi:{v['name']}", v, t.csi_warn, t.csi_alarm) for v in baseline["variables"]]
    # Bin indices in their own SELECT, so each CASE is evaluated once per row, not once per
    # bin it is compared with.
    binned = scored.select(**{f"__i{k}": bin_index(scored, var) for k, (_, var, _, _) in
                              enumerate(items)})  # fmt: skip
    checks = [
        (name, var["shares"], binned[f"__i{k}"], warn, alarm)
        for k, (name, var, warn, alarm) in enumerate(items)
    ]
    wide = binned.aggregate(
        __rows=binned.count(),
        **{f"__v{i}": _psi(idx, shares) for i, (_, shares, idx, _, _) in enumerate(checks)},
    )
    # One wide row, unnested into one row per check: the features are scanned once (a union
    # of selects would make the engine recompute the scan, and the trees, per check).
    entries = [
        (name, wide["__rows"], wide[f"__v{i}"], warn, alarm,
         _status(wide[f"__v{i}"], warn, alarm))
        for i, (name, _, _, warn, alarm) in enumerate(checks)
    ]  # fmt: skip
    if matured is not None:
        dev_gini = (model.metrics.get("development") or {}).get("gini")
        if dev_gini is None or not math.isfinite(dev_gini):
            raise ModelError(f"model {model.model_id} has no development Gini to compare with")
        g = _gini(model, matured, target or model.target)
        wide = wide.cross_join(g.select(__g_rows=g.rows, __gini=g.value))
        warn_at = dev_gini * (1 - t.gini_drop_warn)
        alarm_at = dev_gini * (1 - t.gini_drop_alarm)
        gini = wide["__gini"]
        status = ibis.cases(
            (gini.isnull(), ibis.literal("n/a")),
            (gini <= _f64(alarm_at), ibis.literal("alarm")),
            (gini <= _f64(warn_at), ibis.literal("warn")),
            else_=ibis.literal("ok"),
        )
        entries.append(("gini", wide["__g_rows"], gini, warn_at, alarm_at, status))
    # Worst status, from the values (not from the status strings, which would nest every
    # status CASE inside the overall one).
    severity = [
        ibis.cases((value >= _f64(alarm), 2), (value >= _f64(warn), 1), else_=0)
        if name != "gini"
        else ibis.cases((value <= _f64(alarm), 2), (value <= _f64(warn), 1), else_=0)
        for name, _, value, warn, alarm, _ in entries
    ]
    worst = ibis.greatest(*severity) if len(severity) > 1 else severity[0]
    overall = ibis.cases(
        *[(worst == i, ibis.literal(s)) for i, s in enumerate(_SEVERITY)],
        else_=ibis.literal("ok"),
    )
    structs = [
        ibis.struct({
            "check": ibis.literal(name), "rows": rows.cast("int64"),
            "value": value.cast("float64"), "warn_at": _f64(warn), "alarm_at": _f64(alarm),
            "status": st,
        })
        for name, rows, value, warn, alarm, st in entries
    ]  # fmt: skip
    structs.append(
        ibis.struct({
            "check": ibis.literal("model"), "rows": wide["__rows"].cast("int64"),
            "value": ibis.null("float64"), "warn_at": ibis.null("float64"),
            "alarm_at": ibis.null("float64"), "status": overall,
        })
    )  # fmt: skip
    long = wide.select(__e=ibis.array(structs).unnest())
    day = ibis.literal(as_of, type="date") if as_of else ibis.null("date")
    return long.select(
        as_of=day,
        model_id=ibis.literal(model.model_id),
        **{c: long["__e"][c].cast(MONITORING_SCHEMA[c]) for c in list(MONITORING_SCHEMA)[2:]},
    )
