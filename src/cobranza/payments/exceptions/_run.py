"""One call for a whole reconciliation run from files: what the CLI and the pipeline use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cobranza._errors import ContractError
from cobranza.contract import load
from cobranza.engine import Engine, connect
from cobranza.payments._ingest import read_store
from cobranza.payments.exceptions._detect import payment_exceptions
from cobranza.payments.exceptions._write import write_outputs
from cobranza.payments.reconcile import ReconcileConfig, load_reconcile_config, reconcile

__all__ = ["RunSummary", "reconcile_files"]


@dataclass
class RunSummary:
    """Where the outputs are and what they hold (small counts, fetched from the engine)."""

    out: Path
    as_of: dt.date
    matches_by_rule: dict[str, int] = field(default_factory=dict)
    exceptions: dict[tuple[str, str], int] = field(default_factory=dict)
    holds: int = 0
    applied: int = 0
    unmatched_transactions: int = 0
    unmatched_payments: int = 0


def _register(engine: Engine, name: str, path: Path) -> None:
    if not path.exists():
        raise ContractError(f"{path}: no such file")
    engine.register_file(name, path)


def reconcile_files(
    data: Path,
    store: Path,
    as_of: dt.date,
    out: Path,
    engine: str | Engine = "duckdb",
    *,
    settlement_days: Mapping[str, int] | None = None,
    config: ReconcileConfig | Path | None = None,
    manual_matches: Path | None = None,
    references: Path | None = None,
) -> RunSummary:
    """Reconcile a partner-file store against a portfolio folder and write the outputs.

    Args:
        data: Portfolio folder (contract v1, loaded with ``cobranza.contract.load``).
        store: Ingestion store of ``cobranza.payments.ingest``.
        as_of: Reconciliation date.
        out: Output folder, replaced atomically (see ``OUTPUT_TABLES``).
        engine: ``"duckdb"``, ``"spark"`` or an engine instance (left open when given).
        settlement_days: Contract settlement days per partner.
        config: A :class:`ReconcileConfig` or the path of its YAML.
        manual_matches: CSV/Parquet with ``partner_id``, ``external_id``, ``payment_id``.
        references: CSV/Parquet directory with ``reference``, ``loan_id`` (CLABEs, cash refs).
    """
    cfg = load_reconcile_config(config) if isinstance(config, Path) else config
    owned = not isinstance(engine, Engine)
    eng = connect(engine)
    try:
        tables = load(eng, data)
        payments, loans = tables["payments"], tables["loans"].select("loan_id")
        eng.register_arrow("rc_partner_transactions", read_store(store))
        transactions = eng.table("rc_partner_transactions")
        manual = refs = None
        if manual_matches is not None:
            _register(eng, "rc_manual", manual_matches)
            manual = eng.table("rc_manual")
        if references is not None:
            _register(eng, "rc_references", references)
            refs = eng.table("rc_references")
        rec = reconcile(
            eng, transactions, payments, as_of, loans=loans, references=refs,
            manual_matches=manual, settlement_days=settlement_days, config=cfg,
        )  # fmt: skip
        exc = payment_exceptions(rec)
        write_outputs(eng, rec, exc, out)
        return _summary(eng, out, as_of)
    finally:
        if owned:
            eng.close()


def _summary(eng: Engine, out: Path, as_of: dt.date) -> RunSummary:
    def read(name: str) -> object:
        eng.register_file(f"rs_{name}", out / f"{name}.parquet")
        return eng.table(f"rs_{name}")

    summary = RunSummary(out=out, as_of=as_of)
    m = read("reconciliation_matches")
    for row in eng.fetch(m.group_by("rule").aggregate(n=m.count())).to_pylist():
        summary.matches_by_rule[row["rule"]] = row["n"]
    e = read("payment_exceptions")
    by = eng.fetch(e.group_by(["root_cause", "status"]).aggregate(n=e.count()))
    for row in by.to_pylist():
        summary.exceptions[(row["root_cause"], row["status"])] = row["n"]
    for name, attr in (("payment_holds", "holds"), ("applied_payments", "applied"),
                       ("unmatched_transactions", "unmatched_transactions"),
                       ("unmatched_payments", "unmatched_payments")):  # fmt: skip
        t = read(name)
        setattr(summary, attr, int(eng.fetch(t.count().name("n").as_table()).column(0)[0].as_py()))
    return summary
