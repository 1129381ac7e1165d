"""``cobranza demo``: every face of cobranza on one synthetic book, end to end.

A synthetic portfolio; its payment partners' files with injected defects, ingested and
reconciled, exceptions opened as cases; a pay-propensity scorecard trained on the book and
approved by a clearly labelled demo approver; the nightly run with provisions, the model's
scores and the default Mexican strategy (suppressing accounts on payment hold); and the
monthly credit results (HTML and PDF).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cobranza.pipeline._run import Progress, RunResult, run

#: The demo book's last day of history.
DEMO_AS_OF = dt.date(2026, 10, 31)
#: Training windows of the demo model: the pay target looks 60 days ahead, so the latest
#: labelled date is two months before the as-of date.
DEMO_DEVELOPMENT = (dt.date(2026, 6, 30), dt.date(2026, 7, 31))
DEMO_OUT_OF_TIME = (dt.date(2026, 8, 31),)
DEMO_STRATEGY = "mx_default"


@dataclass
class DemoResult:
    """Where the demo put everything."""

    out: Path
    portfolio: Path
    run: RunResult
    payments: Path
    cases_db: Path
    model_id: str | None
    model_note: str
    credit_results: Path


def demo(
    out: str | Path,
    loans: int = 100_000,
    seed: int = 7,
    engine: str = "duckdb",
    *,
    progress: Progress | None = None,
    step: Callable[[str], None] | None = None,
) -> DemoResult:
    """Build the whole demo into ``out`` (replacing a previous demo there)."""
    from cobranza.synthetic import generate

    out = Path(out)
    say = step or (lambda message: None)
    data = out / "portfolio"
    say(f"generating {loans:,} loans")
    generate(data, loans, seed, as_of=DEMO_AS_OF, progress=progress, replace=True)

    say("partner files: write, ingest, reconcile, open cases")
    holds, payments, cases_db = _payment_operations(data, out, seed, engine)

    say("training the pay-propensity model")
    model_id, model_note = _demo_model(data, out / "models", engine)

    say(f"nightly run as of {DEMO_AS_OF}")
    result = run(
        data, DEMO_AS_OF, out / "run", engine, progress=progress, models=out / "models",
        strategy=DEMO_STRATEGY, holds=holds,
    )  # fmt: skip

    say("monthly credit results (HTML and PDF)")
    from cobranza.reports.credit_results import write_credit_results

    mcr = write_credit_results(data, "monthly", DEMO_AS_OF, out / "credit-results", engine)
    return DemoResult(
        out=out.resolve(),
        portfolio=data.resolve(),
        run=result,
        payments=payments.resolve(),
        cases_db=cases_db.resolve(),
        model_id=model_id,
        model_note=model_note,
        credit_results=mcr.pdf.resolve(),
    )


def _payment_operations(data: Path, out: Path, seed: int, engine: str) -> tuple[Path, Path, Path]:
    """Partner files → store → reconciliation → cases; returns (holds file, outputs, cases db)."""
    from cobranza.payments import ingest
    from cobranza.payments.cases import PAYMENT_HOLDS, CaseStore, open_case_holds
    from cobranza.payments.exceptions import reconcile_files
    from cobranza.synthetic._partner_files import write_partner_files

    files = write_partner_files(data, out / "partner_files", seed=seed, replace=True)
    store = out / "partner_store"
    shutil.rmtree(store, ignore_errors=True)  # a new demo's files, not the last one's too
    for partner, paths in sorted(files.files.items()):
        ingest(paths, store, partner)
    payments = out / "payments"
    reconcile_files(
        data, store, DEMO_AS_OF, payments, engine, settlement_days=files.settlement_days
    )
    cases_db = out / "cases.db"
    cases_db.unlink(missing_ok=True)
    case_store = CaseStore(cases_db)
    try:
        case_store.open_cases(pq.read_table(payments / "payment_exceptions.parquet"), DEMO_AS_OF)
        holds = pa.concat_tables(
            [
                pq.read_table(payments / "payment_holds.parquet").cast(PAYMENT_HOLDS),
                open_case_holds(case_store, DEMO_AS_OF).cast(PAYMENT_HOLDS),
            ]
        )
    finally:
        case_store.close()
    holds_file = out / "payment_holds.parquet"
    pq.write_table(holds, holds_file)
    return holds_file, payments, cases_db


def _demo_model(data: Path, registry: Path, engine: str) -> tuple[str | None, str]:
    """Train the demo scorecard on the delinquent accounts of a few past month-ends.

    Returns the live model's id, or ``None`` and why not: a book too small to pass the
    validation checks keeps its model as a draft and the strategy runs without the score.
    """
    import ibis

    from cobranza.contract import discover, load
    from cobranza.engine import connect
    from cobranza.features import labelled
    from cobranza.models import ModelError, demo_pay_model

    shutil.rmtree(registry, ignore_errors=True)
    eng = connect(engine)
    try:
        tables = load(eng, discover(data))
        # Only delinquent accounts carry a pay target; training pulls just those rows.
        parts = [labelled(tables, d) for d in (*DEMO_DEVELOPMENT, *DEMO_OUT_OF_TIME)]
        rows = ibis.union(*parts)
        table = eng.fetch(rows.filter(rows.pay.notnull()))
    finally:
        eng.close()
    try:
        model = demo_pay_model(
            table, registry, development=list(DEMO_DEVELOPMENT), out_of_time=list(DEMO_OUT_OF_TIME)
        )
    except ModelError as exc:
        return None, f"not live: {exc}"
    if model.status != "live":
        return None, f"not live: {model.model_id} is {model.status}"
    return model.model_id, f"live, approved by {model.data['governance']['history'][-1]['by']}"
