"""``cobranza provisions`` and ``cobranza report``: reserves, the allowance walk and the credit
results (WCR, MCR, QCR)."""

from __future__ import annotations

import datetime as dt
import warnings
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cobranza._errors import CobranzaError
from cobranza.cli import DataOption, EngineName, EngineOption, _fail, app
from cobranza.cli._progress import console

DateOption = Annotated[
    dt.datetime, typer.Option("--as-of", formats=["%Y-%m-%d"], help="As-of date.")
]


class MethodName(StrEnum):
    cnbv = "cnbv"
    ifrs9 = "ifrs9"
    rollrate = "rollrate"
    matrix = "matrix"
    ageband = "ageband"


class PeriodName(StrEnum):
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"


@app.command()
def provisions(
    data: DataOption,
    as_of: DateOption,
    out: Annotated[Path, typer.Option("--out", help="Folder for the provisions.")],
    method: Annotated[MethodName, typer.Option("--method", help="Provisioning method.")],
    params: Annotated[
        str | None,
        typer.Option(
            "--params",
            help="Parameter file (YAML path or bundled name); default: the method's bundled one.",
        ),
    ] = None,
    opening: Annotated[
        dt.datetime | None,
        typer.Option(
            "--opening", formats=["%Y-%m-%d"], help="Also write the allowance walk from this date."
        ),
    ] = None,
    engine: EngineOption = EngineName.duckdb,
) -> None:
    """Reserves per loan and their summary by product, segment, stage and bucket."""
    from cobranza.provisions import ExampleParametersWarning
    from cobranza.provisions._book import write_provisions

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ExampleParametersWarning)
            result = write_provisions(
                data, as_of.date(), out, method.value, params, engine.value,
                opening=opening.date() if opening else None,
            )  # fmt: skip
    except (CobranzaError, OSError) as exc:
        raise _fail(exc) from exc
    for warning in caught:
        if issubclass(warning.category, ExampleParametersWarning):
            console.print(f"[yellow]warning:[/yellow] {warning.message}")
    console.print(f"provisions ({result.method}) written to [bold]{result.out}[/bold]")


@app.command()
def report(
    period: Annotated[PeriodName, typer.Option("--period", help="weekly, monthly or quarterly.")],
    data: DataOption,
    as_of: DateOption,
    out: Annotated[Path, typer.Option("--out", help="Folder for the HTML and PDF.")],
    method: Annotated[
        MethodName, typer.Option("--method", help="Provisioning method of the report.")
    ] = MethodName.ifrs9,
    params: Annotated[
        str | None, typer.Option("--params", help="Parameter file of the method.")
    ] = None,
    commentary: Annotated[
        Path | None,
        typer.Option("--commentary", help="Markdown or text file with the period's commentary."),
    ] = None,
    engine: EngineOption = EngineName.duckdb,
) -> None:
    """The weekly, monthly or quarterly credit results (WCR, MCR, QCR) as HTML and PDF."""
    from cobranza.reports.credit_results import write_credit_results

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = write_credit_results(
                data, period.value, as_of.date(), out, engine.value, method=method.value,
                params=params, commentary=commentary,
            )  # fmt: skip
    except (CobranzaError, OSError) as exc:
        raise _fail(exc) from exc
    console.print(f"credit results written to [bold]{result.out}[/bold]")
    typer.echo(result.html)
    typer.echo(result.pdf)
