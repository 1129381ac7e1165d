"""The ``cobranza`` command line."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cobranza._errors import CobranzaError, InvalidPortfolio
from cobranza.cli._progress import console, progress_bar
from cobranza.cli._validation import print_report

__all__ = ["app", "main"]

app = typer.Typer(
    name="cobranza",
    help="Collections and payment operations for consumer lenders, Mexico first.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_INVALID = 2
DEMO_AS_OF = dt.date(2026, 10, 31)
_DEMO_AS_OF_TIME = dt.datetime.combine(DEMO_AS_OF, dt.time())

DataOption = Annotated[
    Path, typer.Option("--data", help="Portfolio folder (one file per contract table).")
]


class EngineName(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


EngineOption = Annotated[
    EngineName, typer.Option("--engine", help="Execution engine: duckdb (default) or spark.")
]


def _fail(exc: CobranzaError | OSError) -> typer.Exit:
    if isinstance(exc, InvalidPortfolio):
        print_report(exc.report)
        return typer.Exit(EXIT_INVALID)
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(1)


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the portfolio into.")],
    loans: Annotated[int, typer.Option("--loans", min=1, help="Number of loans.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same files.")] = 0,
    as_of: Annotated[
        dt.datetime, typer.Option("--as-of", formats=["%Y-%m-%d"], help="Last day of history.")
    ] = _DEMO_AS_OF_TIME,
) -> None:
    """Write a synthetic Mexican consumer-loan portfolio (contract v1, Parquet)."""
    from cobranza.synthetic import generate as _generate

    try:
        with progress_bar(f"generating {loans:,} loans") as progress:
            path = _generate(out, loans, seed, as_of=as_of.date(), progress=progress)
    except (CobranzaError, OSError) as exc:
        raise _fail(exc) from exc
    console.print(f"portfolio written to [bold]{path}[/bold]")


@app.command()
def validate(data: DataOption, engine: EngineOption = EngineName.duckdb) -> None:
    """Check a portfolio against the data contract; exit code 2 when it is invalid."""
    from cobranza._api import validate as _validate

    try:
        report = _validate(data, engine.value)
    except CobranzaError as exc:
        raise _fail(exc) from exc
    print_report(report)
    if not report.ok:
        raise typer.Exit(EXIT_INVALID)


@app.command()
def run(
    data: DataOption,
    as_of: Annotated[
        dt.datetime, typer.Option("--as-of", formats=["%Y-%m-%d"], help="As-of date.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the run's outputs.")],
    engine: EngineOption = EngineName.duckdb,
    months: Annotated[int, typer.Option("--months", min=2, help="Month-ends to analyse.")] = 12,
    database: Annotated[
        Path | None, typer.Option("--database", help="DuckDB database file (default: memory).")
    ] = None,
    provisions: Annotated[
        str,
        typer.Option(
            "--provisions",
            help="Provisions method: cnbv, ifrs9, rollrate, matrix, ageband, or none.",
        ),
    ] = "ifrs9",
    provision_params: Annotated[
        str | None,
        typer.Option("--provision-params", help="Provisions parameter file or bundled name."),
    ] = None,
    models: Annotated[
        Path | None,
        typer.Option("--models", help="Model registry: its live models score the book."),
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option("--strategy", help="Strategy file or bundled name: the day's decisions."),
    ] = None,
    holds: Annotated[
        Path | None,
        typer.Option("--holds", help="payment_holds Parquet file (default: DATA/payment_holds)."),
    ] = None,
) -> None:
    """Account states, month-end snapshots, roll rates, vintages, KPIs, provisions, scores,
    decisions and the report."""
    from cobranza.pipeline import run as _run

    try:
        with progress_bar(f"run as of {as_of.date()}") as progress:
            result = _run(
                data, as_of.date(), out, engine.value, months=months, database=database,
                progress=progress, provisions=None if provisions == "none" else provisions,
                provision_params=provision_params, models=models, strategy=strategy,
                holds=holds,
            )  # fmt: skip
    except CobranzaError as exc:
        raise _fail(exc) from exc
    console.print(f"outputs in [bold]{result.out}[/bold]")
    typer.echo(result.report)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo.")] = Path(
        "cobranza-demo"
    ),
    loans: Annotated[int, typer.Option("--loans", min=100)] = 100_000,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    engine: EngineOption = EngineName.duckdb,
) -> None:
    """Generate a 100,000-loan demo book and run everything on it: partner files,
    reconciliation and cases, a pay-propensity model, the nightly run with provisions and
    decisions, and the monthly credit results. Prints the report path."""
    from cobranza.pipeline import demo as _demo

    try:
        with progress_bar("demo") as progress:
            result = _demo(
                out, loans, seed, engine.value, progress=progress,
                step=lambda message: console.print(f"[dim]·[/dim] {message}"),
            )  # fmt: skip
    except (CobranzaError, OSError) as exc:
        raise _fail(exc) from exc
    console.print(f"portfolio         [bold]{result.portfolio}[/bold]")
    console.print(f"payment outputs   [bold]{result.payments}[/bold]  cases: {result.cases_db}")
    console.print(f"model             {result.model_id or ''} {result.model_note}")
    console.print(f"credit results    [bold]{result.credit_results}[/bold]")
    console.print(f"run outputs       [bold]{result.run.out}[/bold]")
    typer.echo(result.run.report)


def main() -> None:
    """Console-script entry point."""
    app()


# Each domain's commands live in their own module and register themselves on ``app``.
from cobranza.cli import (  # noqa: E402, F401
    _features,
    _models,
    _payments,
    _provisions,
    _strategy,
)
