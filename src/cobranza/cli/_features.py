"""``cobranza features``: the variable catalog (and targets) of a portfolio at a date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from cobranza._errors import CobranzaError
from cobranza.cli import DataOption, EngineName, EngineOption, _fail, app
from cobranza.cli._progress import console


@app.command()
def features(
    data: DataOption,
    as_of: Annotated[
        dt.datetime, typer.Option("--as-of", formats=["%Y-%m-%d"], help="As-of date.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write.")],
    engine: EngineOption = EngineName.duckdb,
    with_targets: Annotated[
        bool,
        typer.Option(
            "--targets",
            help="Add pay, cure_30, cure_60 and roll (needs data to as-of + 60 days).",
        ),
    ] = False,
) -> None:
    """Compute the variable catalog for every active loan at the as-of date (Parquet)."""
    from cobranza.features import write_features

    try:
        path = write_features(data, as_of.date(), out, engine.value, with_targets=with_targets)
    except (CobranzaError, OSError) as exc:
        raise _fail(exc) from exc
    console.print(f"features written to [bold]{path}[/bold]")
