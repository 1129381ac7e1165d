"""``cobranza payments reconcile`` and ``cobranza payments exceptions``.

:func:`register` adds both commands to the ``payments`` sub-app.
"""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cobranza._errors import CobranzaError, ConfigError
from cobranza.cli._progress import console

__all__ = ["exceptions", "parse_settlement_days", "reconcile", "register"]


class _Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


def parse_settlement_days(items: list[str], terms: Path | None) -> dict[str, int]:
    """``PARTNER=DAYS`` options over a terms file (JSON or YAML: a mapping partner → days, or
    such a mapping under ``settlement_days`` as the synthetic partner files' manifest has)."""
    days: dict[str, int] = {}
    if terms is not None:
        from cobranza.payments.readers._common import load_yaml

        try:
            text = terms.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{terms.name}: cannot read: {exc}") from exc
        data = load_yaml(terms, text, error=ConfigError)
        if isinstance(data, dict) and isinstance(data.get("settlement_days"), dict):
            data = data["settlement_days"]
        if not isinstance(data, dict):
            raise ConfigError(f"{terms.name}, line 1: expected a mapping partner: days")
        for key, value in data.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                line = getattr(data, "key_lines", {}).get(key)
                where = f", line {line}" if line else ""
                raise ConfigError(f"{terms.name}{where}: {key}: days must be an integer ≥ 0")
            days[str(key)] = int(value)
    for item in items:
        partner, sep, value = item.partition("=")
        if not sep or not partner or not value.strip().isdigit():
            raise ConfigError(f"--settlement-days {item!r}: expected PARTNER=DAYS")
        days[partner.strip()] = int(value)
    return days


def reconcile(
    data: Annotated[Path, typer.Option("--data", help="Portfolio folder (contract v1).")],
    store: Annotated[Path, typer.Option("--store", help="Partner-file store (payments ingest).")],
    as_of: Annotated[
        dt.datetime, typer.Option("--as-of", formats=["%Y-%m-%d"], help="Reconciliation date.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the outputs (replaced).")],
    config: Annotated[
        Path | None, typer.Option("--config", help="Rules and tolerances (YAML).")
    ] = None,
    settlement_days: Annotated[
        list[str] | None,
        typer.Option("--settlement-days", help="PARTNER=DAYS, repeatable (contract terms)."),
    ] = None,
    terms: Annotated[
        Path | None, typer.Option("--terms", help="Settlement days per partner (YAML/JSON).")
    ] = None,
    manual: Annotated[
        Path | None, typer.Option("--manual", help="Manual matches (CSV/Parquet).")
    ] = None,
    references: Annotated[
        Path | None, typer.Option("--references", help="Reference directory (CSV/Parquet).")
    ] = None,
    engine: Annotated[_Engine, typer.Option("--engine", help="duckdb or spark.")] = _Engine.duckdb,
) -> None:
    """Match partner transactions to payments, classify exceptions, write holds."""
    from cobranza.payments.exceptions import reconcile_files

    try:
        days = parse_settlement_days(settlement_days or [], terms)
        summary = reconcile_files(
            data, store, as_of.date(), out, engine.value, settlement_days=days,
            config=config, manual_matches=manual, references=references,
        )  # fmt: skip
    except (CobranzaError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    table = Table(title=f"reconciliation as of {summary.as_of}")
    table.add_column("rule")
    table.add_column("pairs", justify="right")
    for rule, n in sorted(summary.matches_by_rule.items()):
        table.add_row(rule, f"{n:,}")
    console.print(table)
    causes = Table(title="exceptions")
    for col in ("root cause", "status", "count"):
        causes.add_column(col, justify="right" if col == "count" else "left")
    for (cause, status), n in sorted(summary.exceptions.items()):
        causes.add_row(cause, status, f"{n:,}")
    console.print(causes)
    typer.echo(
        f"unmatched transactions {summary.unmatched_transactions:,}, unmatched payments "
        f"{summary.unmatched_payments:,}, applied credits {summary.applied:,}, "
        f"holds {summary.holds:,}; outputs in {summary.out}"
    )


def exceptions(
    out: Annotated[Path, typer.Option("--out", help="Output folder of payments reconcile.")],
    status: Annotated[str | None, typer.Option("--status", help="open or auto_resolved.")] = None,
    root_cause: Annotated[
        str | None, typer.Option("--root-cause", help="Only this root cause.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows to show.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """List payment exceptions (oldest first), with their ageing and resolution."""
    from cobranza.engine import connect
    from cobranza.payments.exceptions import ROOT_CAUSES

    path = out / "payment_exceptions.parquet"
    if not path.exists():
        console.print(f"[red]error:[/red] {path}: no such file; run payments reconcile first")
        raise typer.Exit(1)
    if root_cause is not None and root_cause not in ROOT_CAUSES:
        console.print(f"[red]error:[/red] --root-cause must be one of {', '.join(ROOT_CAUSES)}")
        raise typer.Exit(1)
    with connect("duckdb") as eng:
        eng.register_file("payment_exceptions", path)
        e = eng.table("payment_exceptions").drop("_row")
        if status is not None:
            e = e.filter(e.status == status)
        if root_cause is not None:
            e = e.filter(e.root_cause == root_cause)
        total = int(eng.fetch(e.count().name("n").as_table()).column(0)[0].as_py())
        rows = eng.fetch(e.order_by([e.age_days.desc(), e.exception_id]), limit=limit).to_pylist()
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, default=str))
        return
    table = Table(title=f"payment exceptions ({len(rows)} of {total:,})")
    columns = ("exception_id", "root_cause", "partner_id", "loan_id", "amount", "age_days",
               "ageing_bucket", "status", "detail")  # fmt: skip
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*["" if row[c] is None else str(row[c]) for c in columns])
    console.print(table)
    typer.echo(f"{total} exceptions")


def register(payments_app: typer.Typer) -> None:
    """Add ``reconcile`` and ``exceptions`` to the ``payments`` sub-app."""
    payments_app.command("reconcile")(reconcile)
    payments_app.command("exceptions")(exceptions)
