"""``cobranza decide``: the strategy's decisions for a portfolio as of a date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from cobranza._errors import CobranzaError
from cobranza.cli import DataOption, EngineName, EngineOption, _fail, app
from cobranza.cli._progress import console


@app.command()
def decide(
    data: DataOption,
    as_of: Annotated[
        dt.datetime, typer.Option("--as-of", formats=["%Y-%m-%d"], help="Decision date.")
    ],
    strategy: Annotated[
        str,
        typer.Option("--strategy", help="Strategy YAML file, or a bundled name (mx_default)."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for decisions.parquet.")],
    engine: EngineOption = EngineName.duckdb,
) -> None:
    """Decide today's collection action for every delinquent account (decisions.parquet)."""
    from cobranza.strategy import decide_portfolio

    try:
        result = decide_portfolio(data, as_of.date(), strategy, out, engine.value)
    except (CobranzaError, OSError) as exc:
        raise _fail(exc) from exc
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    console.print(
        f"{result.accounts:,} delinquent accounts, {result.actions:,} actions "
        f"({result.strategy_version}) → [bold]{result.decisions}[/bold]"
    )
