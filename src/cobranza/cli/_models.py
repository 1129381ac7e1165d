"""``cobranza model …``: train, list, show, approve, promote, retire."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cobranza._errors import CobranzaError
from cobranza.cli import EngineName, EngineOption, _fail, app
from cobranza.cli._progress import console

model_app = typer.Typer(
    name="model",
    help="Collection decision models: train, validate, sign off, promote, retire.",
    no_args_is_help=True,
)
app.add_typer(model_app, name="model")

RegistryOption = Annotated[
    Path, typer.Option("--registry", help="Model registry folder (JSON artefacts).")
]
ModelId = Annotated[str, typer.Argument(help="Model id (see `cobranza model list`).")]


@model_app.command("train")
def train_cmd(
    spec: Annotated[Path, typer.Option("--spec", help="Training spec (YAML).")],
    registry: Annotated[
        Path | None,
        typer.Option("--registry", help="Registry folder (default: the spec's `registry`)."),
    ] = None,
    engine: EngineOption = EngineName.duckdb,
) -> None:
    """Train the scorecard and its LightGBM challenger; register them with their reports."""
    from cobranza.models import Registry, load_spec, train, write_validation_report

    try:
        parsed = load_spec(spec)
        folder = registry or parsed.registry
        if folder is None:
            raise typer.BadParameter("give --registry or `registry:` in the spec")
        with console.status(f"training {parsed.name}"):
            result = train(parsed, engine=engine.value)
        reg = Registry(folder)
        for model in result.models:
            stored = reg.add(model)
            if stored.status == "draft" and all(c["passed"] for c in stored.checks):
                stored = reg.validate(stored.model_id)
            report = write_validation_report(stored, Path(folder) / "reports" /
                                             f"{stored.model_id}.html")  # fmt: skip
            oot = stored.metrics["out_of_time"]
            failed = [c["check"] for c in stored.checks if not c["passed"]]
            console.print(
                f"[bold]{stored.model_id}[/bold] {stored.status}: out-of-time AUC "
                f"{oot['auc']:.4f}, KS {oot['ks']:.4f}"
                + (f", [red]failed: {', '.join(failed)}[/red]" if failed else ", all checks pass")
            )
            console.print(f"  report: {report}")
    except (CobranzaError, OSError) as exc:
        raise _fail(exc) from exc


@model_app.command("list")
def list_cmd(registry: RegistryOption) -> None:
    """Every model in the registry with its status and out-of-time AUC."""
    from cobranza.models import Registry

    try:
        models = Registry(registry).list()
    except (CobranzaError, OSError) as exc:
        raise _fail(exc) from exc
    table = Table("model id", "kind", "target", "status", "OOT AUC", "checks")
    for m in models:
        auc = (m.metrics.get("out_of_time") or {}).get("auc")
        passed = sum(c["passed"] for c in m.checks)
        table.add_row(
            m.model_id, m.kind, m.target, m.status,
            f"{auc:.4f}" if auc is not None else "—", f"{passed}/{len(m.checks)} pass",
        )  # fmt: skip
    console.print(table)


@model_app.command("show")
def show_cmd(
    model_id: ModelId,
    registry: RegistryOption,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write the validation report here.")
    ] = None,
) -> None:
    """A model's metrics, checks and governance record."""
    from cobranza.models import Registry, write_validation_report

    try:
        model = Registry(registry).get(model_id)
        if report is not None:
            write_validation_report(model, report)
    except (CobranzaError, OSError) as exc:
        raise _fail(exc) from exc
    summary = {
        "model_id": model.model_id, "kind": model.kind, "target": model.target,
        "status": model.status, "content_hash": model.content_hash,
        "variables": model.variables, "windows": model.data.get("windows"),
        "metrics": {w: model.metrics.get(w) for w in ("development", "out_of_time")},
        "checks": model.checks, "governance": model.data["governance"],
    }  # fmt: skip
    typer.echo(json.dumps(summary, indent=1))


@model_app.command("approve")
def approve_cmd(
    model_id: ModelId,
    registry: RegistryOption,
    approver: Annotated[str, typer.Option("--approver", help="Name of the person signing off.")],
    note: Annotated[str, typer.Option("--note", help="What was reviewed; any conditions.")],
) -> None:
    """Sign a validated model off (named approver, note, today's date)."""
    from cobranza.models import Registry

    try:
        model = Registry(registry).approve(model_id, approver, note)
    except (CobranzaError, OSError) as exc:
        raise _fail(exc) from exc
    console.print(f"{model.model_id} approved by {approver}")


@model_app.command("promote")
def promote_cmd(model_id: ModelId, registry: RegistryOption) -> None:
    """Make an approved model live (an unapproved model is refused)."""
    from cobranza.models import Registry

    try:
        model = Registry(registry).promote(model_id)
    except (CobranzaError, OSError) as exc:
        raise _fail(exc) from exc
    console.print(f"{model.model_id} is live")


@model_app.command("retire")
def retire_cmd(
    model_id: ModelId,
    registry: RegistryOption,
    note: Annotated[str, typer.Option("--note", help="Why it is retired.")] = "",
) -> None:
    """Retire a model (final: a retired model is never used again)."""
    from cobranza.models import Registry

    try:
        model = Registry(registry).retire(model_id, note=note)
    except (CobranzaError, OSError) as exc:
        raise _fail(exc) from exc
    console.print(f"{model.model_id} retired")
