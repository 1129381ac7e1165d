"""The optional stages of the nightly run: provisions, model scores and collection decisions.

Each stage reads the account states the run already materialised, writes its tables into the
run's staging folder through the engine and returns the report section it contributes, so
``run`` stays a list of steps and a failed stage leaves no output at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import ibis.expr.types as ir

from cobranza.engine import Engine

#: The provisions method ``run`` uses unless told otherwise (``None`` skips the stage).
DEFAULT_PROVISIONS = "ifrs9"

#: Tables the provisions stage writes (the walk only when there is a month-end before as-of).
PROVISION_OUTPUTS = ("provisions", "provision_summary", "allowance_walk")


@dataclass
class StageOutputs:
    """What a stage wrote (table name → file), its report section and manifest entries."""

    files: dict[str, Path] = field(default_factory=dict)
    sections: list[str] = field(default_factory=list)
    manifest: dict[str, object] = field(default_factory=dict)


def provisions_stage(
    eng: Engine,
    tables: Mapping[str, ir.Table],
    run_states: ir.Table,
    as_of: dt.date,
    opening: dt.date | None,
    method: str,
    params: str | Path | None,
    staging: Path,
) -> StageOutputs:
    """Provisions per loan at ``as_of``, their summary and the allowance walk from ``opening``.

    ``opening`` is the last month-end before ``as_of`` (no walk without one); the walk adds up
    exactly: opening + new loans + repayments + transfers + write-offs + remeasurement = closing.
    """
    from cobranza.provisions import (
        allowance_movements,
        allowance_walk,
        compute_provisions,
        provision_summary,
    )
    from cobranza.reports import render_provisions_section

    result = StageOutputs(manifest={"provisions_method": method})
    eng.materialize(
        "run_provisions", compute_provisions(eng, tables, run_states, as_of, method, params)
    )
    book = eng.table("run_provisions")
    summary = provision_summary(book).order_by("dimension_order", "value")
    result.files["provisions"] = staging / "provisions.parquet"
    result.files["provision_summary"] = staging / "provision_summary.parquet"
    eng.write_parquet(book.order_by("loan_id"), result.files["provisions"])
    eng.write_parquet(summary, result.files["provision_summary"])
    walk = None
    if opening is not None:
        before = run_states.filter(run_states.as_of <= ibis.date(opening))
        eng.materialize(
            "run_provisions_opening",
            compute_provisions(eng, tables, before, opening, method, params),
        )
        movements = allowance_movements(
            eng.table("run_provisions_opening"), book, tables["loans"], as_of
        )
        walk = allowance_walk(movements).order_by("stage")
        result.files["allowance_walk"] = staging / "allowance_walk.parquet"
        eng.write_parquet(walk, result.files["allowance_walk"])
    result.sections.append(
        render_provisions_section(
            eng.fetch(summary),
            None if walk is None else eng.fetch(walk),
            method=method,
            opening=opening,
        )
    )
    return result


def scores_stage(
    eng: Engine,
    tables: Mapping[str, ir.Table],
    run_states: ir.Table,
    as_of: dt.date,
    registry: str | Path,
    staging: Path,
) -> tuple[ir.Table | None, StageOutputs]:
    """Score the book with every live model of ``registry``, in the engine.

    Returns a table keyed by ``loan_id`` with one column per live model, named after the model
    and holding its probability of the target (what a strategy's ``scores`` section reads),
    and writes ``features``, ``scores`` and ``model_monitoring`` (score PSI and CSI against
    development, and the Gini on the cohort that matured by ``as_of``).
    """
    from cobranza.features import compute_features, horizon, labelled
    from cobranza.models import Registry, model_monitoring, score_expression

    live = [m for m in Registry(registry).list() if m.status == "live"]
    result = StageOutputs(manifest={"models": [m.model_id for m in live]})
    if not live:
        return None, result
    at_as_of = run_states.filter(run_states.as_of == as_of)
    eng.materialize("run_features", compute_features(tables, as_of, states=at_as_of))
    features = eng.table("run_features")
    result.files["features"] = staging / "features.parquet"
    eng.write_parquet(features.order_by("loan_id"), result.files["features"])
    scored = [score_expression(model, features) for model in live]
    eng.materialize("run_scores", ibis.union(*scored) if len(scored) > 1 else scored[0])
    scores = eng.table("run_scores")
    result.files["scores"] = staging / "scores.parquet"
    eng.write_parquet(scores.order_by("model_id", "loan_id"), result.files["scores"])
    # Gini on the matured cohort: the accounts of the day whose targets are fully observed by
    # as_of (their horizon ends on it), so monitoring reads nothing after the run's date.
    matured_on = as_of - (horizon(as_of) - as_of)
    eng.materialize("run_matured", labelled(tables, matured_on))
    matured = eng.table("run_matured")
    monitoring = [
        model_monitoring(
            m, features, matured=matured.filter(matured[m.target].notnull()), as_of=as_of
        )
        for m in live
    ]
    result.files["model_monitoring"] = staging / "model_monitoring.parquet"
    eng.write_parquet(
        ibis.union(*monitoring) if len(monitoring) > 1 else monitoring[0],
        result.files["model_monitoring"],
    )
    # One column per model name: the strategy's rules read ``<name>`` as a probability.
    wide = scores.group_by("loan_id").aggregate(
        **{m.name: scores.probability.max(where=scores.model_id == m.model_id) for m in live}
    )
    return wide, result


def decisions_stage(
    eng: Engine,
    tables: Mapping[str, ir.Table],
    at_as_of: ir.Table,
    as_of: dt.date,
    strategy: object,
    holds: Path | None,
    scores: ir.Table | None,
    staging: Path,
) -> StageOutputs:
    """The day's collection decisions under ``strategy`` (a file, bundled name or Strategy)."""
    from cobranza.strategy import (
        decide,
        decisions_summary,
        load_strategy,
        render_decisions_section,
    )

    plan = load_strategy(strategy)  # type: ignore[arg-type]
    hold_table = None
    if holds is not None:
        eng.register_file("run_payment_holds", holds)
        hold_table = eng.table("run_payment_holds")
    eng.materialize(
        "run_decisions",
        decide(eng, tables, at_as_of, as_of, plan, holds=hold_table, scores=scores),
    )
    decisions = eng.table("run_decisions")
    result = StageOutputs(
        manifest={"strategy_version": plan.strategy_version, "strategy_warnings": plan.warnings}
    )
    result.files["decisions"] = staging / "decisions.parquet"
    eng.write_parquet(decisions.order_by("loan_id"), result.files["decisions"])
    summary = decisions_summary(eng, decisions, plan)
    result.sections.append(render_decisions_section(summary, plan.strategy_version))
    return result
