"""The nightly job: validate, reconstruct account states, portfolio analytics, report."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cobranza._atomic import atomic_directory
from cobranza._version import __version__
from cobranza.contract import CONTRACT_VERSION, discover, load_valid
from cobranza.engine import Engine, connect
from cobranza.ledger import DEFAULT_BUCKETS, Buckets, materialize_states
from cobranza.pipeline._stages import (
    DEFAULT_PROVISIONS,
    StageOutputs,
    decisions_stage,
    provisions_stage,
    scores_stage,
)
from cobranza.portfolio import (
    bucket_distribution,
    cure_rates,
    kpis,
    month_ends,
    roll_rate_matrix,
    roll_rates,
    vintages,
)

if TYPE_CHECKING:
    from cobranza.strategy import Strategy

#: A payment-operations hold file in the portfolio folder that decisions respect by default.
HOLDS_FILE = "payment_holds.parquet"

#: Called with (step description, fraction of the run done).
Progress = Callable[[str, float], None]


#: Tables ``run`` writes, in the order it writes them.
RUN_OUTPUTS = (
    "account_state",
    "snapshots",
    "roll_rates",
    "roll_rate_matrix",
    "cure_rates",
    "vintages",
    "kpis",
    "bucket_distribution",
)


@dataclass
class RunResult:
    """What a run wrote and how long each step took (seconds)."""

    out: Path
    as_of: dt.date
    engine: str
    outputs: dict[str, Path]
    report: Path
    timings: dict[str, float] = field(default_factory=dict)


def run(
    data: str | Path,
    as_of: dt.date | str,
    out: str | Path,
    engine: str | Engine = "duckdb",
    *,
    months: int = 12,
    buckets: Buckets = DEFAULT_BUCKETS,
    database: str | Path | None = None,
    progress: Progress | None = None,
    provisions: str | None = DEFAULT_PROVISIONS,
    provision_params: str | Path | None = None,
    models: str | Path | None = None,
    strategy: str | Path | Strategy | None = None,
    holds: str | Path | None = None,
) -> RunResult:
    """Run the nightly job over the portfolio in ``data`` as of ``as_of`` into ``out``.

    Writes ``account_state`` (every loan at ``as_of``), ``snapshots`` (the last ``months``
    month-end states), roll rates, cure rates, vintages, KPIs and ``report.html``; then, as
    asked: ``provisions`` with their summary and the allowance walk since the last month-end
    (method ``provisions``, ``None`` to skip; ``provision_params`` a parameter file or bundled
    name), ``features``, ``scores`` and ``model_monitoring`` for the live models of the
    ``models`` registry, and the day's ``decisions`` under ``strategy`` (suppressing the
    accounts of ``holds``, a ``payment_holds`` Parquet file; by default ``payment_holds.parquet``
    in ``data`` when there is one). Invalid input raises :class:`~cobranza.InvalidPortfolio`
    before anything is written; outputs appear atomically or not at all.
    """
    as_of = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    notify = progress or (lambda step, fraction: None)
    files = discover(data)
    eng = connect(engine, database)
    timings: dict[str, float] = {}

    def step(name: str, fraction: float, started: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - started, 3)
        notify(name, fraction)
        return now

    try:
        started = time.perf_counter()
        tables = load_valid(eng, files)
        started = step("validate", 0.15, started)
        snapshot_dates = month_ends(as_of, months)
        dates = sorted({as_of, *snapshot_dates})
        # One query for a year of month-ends (one window over the schedule serves them all);
        # longer histories go in batches.
        run_states = materialize_states(eng, tables, dates, "run_states", buckets)
        # A filter over the materialized states, not a copy of them (the copy of a year of
        # month-ends took ~3 s on a 1M-loan book; each reader's filter costs a fraction).
        snapshots = run_states.filter(run_states.as_of.isin(snapshot_dates))
        started = step("account states", 0.5, started)
        with atomic_directory(out, replace=True) as staging:
            outputs = {name: staging / f"{name}.parquet" for name in RUN_OUTPUTS}
            at_as_of = run_states.filter(run_states.as_of == as_of)
            eng.write_parquet(at_as_of.order_by("loan_id"), outputs["account_state"])
            eng.write_parquet(snapshots.order_by("as_of", "loan_id"), outputs["snapshots"])
            started = step("write states", 0.65, started)
            rolls = roll_rates(snapshots)
            analytics = {
                "roll_rates": rolls.order_by("from_month", "from_bucket", "to_bucket"),
                "roll_rate_matrix": roll_rate_matrix(rolls).order_by("from_bucket", "to_bucket"),
                "cure_rates": cure_rates(snapshots).order_by("from_month", "from_bucket"),
                "vintages": vintages(snapshots, tables["loans"]).order_by(
                    "origination_month", "months_on_book"
                ),
                "kpis": kpis(snapshots, tables["loans"]).order_by("month"),
                "bucket_distribution": bucket_distribution(snapshots).order_by("month", "bucket"),
            }
            for name, expr in analytics.items():
                eng.write_parquet(expr, outputs[name])
            started = step("portfolio analytics", 0.75, started)
            extra: list[StageOutputs] = []
            if provisions is not None:
                opening = max((d for d in snapshot_dates if d < as_of), default=None)
                stage = provisions_stage(
                    eng, tables, run_states, as_of, opening, provisions, provision_params, staging
                )
                extra.append(stage)
                started = step("provisions", 0.8, started)
            scores = None
            if models is not None:
                scores, scored = scores_stage(eng, tables, run_states, as_of, models, staging)
                extra.append(scored)
                started = step("scores", 0.85, started)
            if strategy is not None:
                hold_file = Path(holds) if holds is not None else files.root / HOLDS_FILE
                hold_file = hold_file if hold_file.exists() else None
                stage = decisions_stage(
                    eng, tables, at_as_of, as_of, strategy, hold_file, scores, staging
                )
                extra.append(stage)
                started = step("decisions", 0.9, started)
            for stage in extra:
                outputs.update(stage.files)
            from cobranza.reports import write_run_report

            report_path = write_run_report(
                staging, as_of=as_of, engine=eng.name, portfolio=files.root.name,
                sections=[section for stage in extra for section in stage.sections],
            )  # fmt: skip
            started = step("report", 1.0, started)
            manifest = {
                "cobranza_version": __version__,
                "contract_version": CONTRACT_VERSION,
                "as_of": as_of.isoformat(),
                "engine": eng.name,
                "data": str(files.root.resolve()),
                "months": months,
                "bucket_edges": list(buckets.edges),
                "outputs": [*sorted(p.name for p in outputs.values()), report_path.name],
                "timings_seconds": timings,
            }
            for stage in extra:
                manifest.update(stage.manifest)
            (staging / "run.json").write_text(json.dumps(manifest, indent=2) + "\n")
        out_path = Path(out).resolve()
        return RunResult(
            out=out_path,
            as_of=as_of,
            engine=eng.name,
            outputs={name: out_path / path.name for name, path in outputs.items()},
            report=out_path / report_path.name,
            timings=timings,
        )
    finally:
        if not isinstance(engine, Engine):
            eng.close()
