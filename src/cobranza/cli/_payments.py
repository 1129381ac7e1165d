"""``cobranza payments``: partner files, payment cases and partner scorecards.

    cobranza payments ingest FILE... --partner P
    cobranza payments cases [--status S] [--priority P] [--breach breached|at_risk|ok]
    cobranza payments cases open|show|start|assign|note|move|resolve|aclaracion ...
    cobranza payments scorecard --month YYYY-MM --contracts partners.yaml

``reconcile`` and ``exceptions`` come from the reconcile module, plugged in with
:func:`plug_in` (see the marked place at the end of this file).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import pyarrow as pa
import typer
from rich.console import Console
from rich.table import Table

from cobranza._errors import CobranzaError
from cobranza.cli import EngineName, EngineOption, _fail, app
from cobranza.cli._progress import console

if TYPE_CHECKING:
    from cobranza.payments.cases import CaseStore, CaseView

__all__ = ["cases_app", "payments_app", "plug_in"]


payments_app = typer.Typer(
    name="payments",
    help="Payment operations: partner files, reconciliation, exceptions, cases, scorecards.",
    no_args_is_help=True,
)
cases_app = typer.Typer(
    help="Payment cases: list them (no sub-command), or work one.",
    invoke_without_command=True,
)
payments_app.add_typer(cases_app, name="cases")
app.add_typer(payments_app, name="payments")

StoreOption = Annotated[
    Path,
    typer.Option("--store", envvar="COBRANZA_PAYMENTS_STORE",
                 help="Payments store folder (partner transactions, exceptions)."),
]  # fmt: skip
DbOption = Annotated[
    str,
    typer.Option("--db", envvar="COBRANZA_CASES_DB",
                 help="Case store: a SQLite file or a SQLAlchemy URL (postgresql+psycopg://...)."),
]  # fmt: skip
RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", envvar="COBRANZA_CASE_RULES",
                 help="Case rules YAML (priorities and SLAs); built-in defaults otherwise."),
]  # fmt: skip
ByOption = Annotated[str, typer.Option("--by", help="Who does it (kept in the audit trail).")]
VersionOption = Annotated[
    int | None,
    typer.Option("--version", help="Version of the case you looked at; refused if it changed."),
]  # fmt: skip
OnOption = Annotated[
    dt.datetime | None,
    typer.Option("--on", formats=["%Y-%m-%d"],
                 help="Date it happened (default: today, Mexico City); the audit trail keeps "
                 "the moment it was recorded."),
]  # fmt: skip
AsOfOption = Annotated[
    dt.datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="Date (default: today, Mexico City)."),
]  # fmt: skip
DEFAULT_STORE = Path("cobranza-payments")
MEXICO_CITY = ZoneInfo("America/Mexico_City")
DEFAULT_DB = "cobranza-cases.db"


def _out() -> Console:
    """Listings go to stdout (messages and errors to stderr); made per call so the width
    follows the terminal (or ``COLUMNS``) of this invocation."""
    return Console()


def plug_in(register: Callable[[typer.Typer], None]) -> None:
    """Let another module add its commands to ``cobranza payments``: ``register`` receives
    the ``payments`` Typer app (the reconcile module's ``register(payments_app)``)."""
    register(payments_app)


def _day(value: dt.datetime | None) -> dt.date | None:
    return None if value is None else value.date()


# --- ingest --------------------------------------------------------------------------------


@payments_app.command()
def ingest(
    files: Annotated[
        list[Path], typer.Argument(help="Partner files to import.", exists=True, dir_okay=False)
    ],
    partner: Annotated[str, typer.Option("--partner", help="Partner that sent the files.")],
    store: StoreOption = DEFAULT_STORE,
    format: Annotated[
        str | None,
        typer.Option("--format", help="stp, conekta, mt940, camt or csv; detected when omitted."),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="Column mapping YAML for csv files.")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Also refuse files read with warnings.")
    ] = False,
) -> None:
    """Import partner files into the store: each file whole or not at all, and only once."""
    from cobranza.payments import ingest as _ingest

    try:
        result = _ingest(files, store, partner, format, mapping=mapping, strict=strict,
                         raise_on_reject=False)  # fmt: skip
    except (CobranzaError, OSError) as exc:
        raise _fail(exc) from exc
    for done in result.files:
        colour = "green" if done.status == "ingested" else "yellow"
        console.print(f"[{colour}]{done.status}[/{colour}] {done.source_file}: {done.rows} rows "
                      f"({done.format})")  # fmt: skip
        for warning in done.warnings:
            console.print(f"  [yellow]warning:[/yellow] {warning}")
    for error in result.rejected:
        console.print(f"[red]rejected[/red] {error}")
    console.print(f"{result.rows} rows added to [bold]{store}[/bold]")
    if result.rejected:
        raise typer.Exit(1)


# --- cases ---------------------------------------------------------------------------------


class Breach(StrEnum):
    breached = "breached"
    at_risk = "at_risk"
    ok = "ok"


class Status(StrEnum):
    open = "open"
    in_progress = "in_progress"
    waiting_customer = "waiting_customer"
    waiting_partner = "waiting_partner"
    resolved = "resolved"
    closed = "closed"


@contextmanager
def _store(db: str, rules: Path | None) -> Iterator[CaseStore]:
    from cobranza.payments.cases import DEFAULT_RULES, CaseStore, load_case_rules

    try:
        store = CaseStore(db, rules=load_case_rules(rules) if rules else DEFAULT_RULES)
    except (CobranzaError, OSError) as exc:
        raise _fail(exc) from exc
    try:
        yield store
    except (CobranzaError, ValueError, OSError) as exc:
        raise _fail(exc) from exc
    finally:
        store.close()


def _case_id(text: str) -> int:
    digits = text.upper().removeprefix("CASE-")
    if not digits.isdigit():
        raise typer.BadParameter(f"{text!r} is not a case id (42 or CASE-42)")
    return int(digits)


CaseArg = Annotated[str, typer.Argument(help="Case id: 42 or CASE-42.")]


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value.quantize(Decimal('0.01')):,}"


def _flag(view: CaseView) -> str:
    if view.breached:
        return "[red]breached[/red]"
    if view.at_risk:
        return "[yellow]at risk[/yellow]"
    return "[green]ok[/green]"


@cases_app.callback()
def cases(
    ctx: typer.Context,
    db: DbOption = DEFAULT_DB,
    rules: RulesOption = None,
    status: Annotated[list[Status] | None, typer.Option("--status", help="Repeatable.")] = None,
    priority: Annotated[list[str] | None, typer.Option("--priority", help="Repeatable.")] = None,
    breach: Annotated[Breach | None, typer.Option("--breach")] = None,
    assignee: Annotated[str | None, typer.Option("--assignee")] = None,
    loan: Annotated[str | None, typer.Option("--loan")] = None,
    as_of: AsOfOption = None,
) -> None:
    """List payment cases, most urgent first (filters combine)."""
    ctx.obj = {"db": db, "rules": rules}
    if ctx.invoked_subcommand is not None:
        return
    with _store(db, rules) as store:
        views = store.list(
            status=[s.value for s in status] if status else None, priority=priority or None,
            breach=breach.value if breach else None, assignee=assignee, loan_id=loan,
            as_of=_day(as_of),
        )  # fmt: skip
    table = Table(title=f"{len(views)} payment case{'s' if len(views) != 1 else ''}")
    for header in ("case", "priority", "status", "SLA", "due", "root cause", "partner", "loan",
                   "amount", "assignee"):  # fmt: skip
        table.add_column(header, justify="right" if header == "amount" else "left",
                         no_wrap=header in ("case", "due", "amount"))  # fmt: skip
    for v in views:
        table.add_row(v.reference, v.priority, v.status, _flag(v), str(v.due_on), v.root_cause,
                      v.partner_id or "", v.loan_id or "", _money(v.amount),
                      v.assignee or "")  # fmt: skip
    _out().print(table)


def _ctx_store(ctx: typer.Context) -> AbstractContextManager[CaseStore]:
    return _store(ctx.obj["db"], ctx.obj["rules"])


def _show(v: CaseView) -> None:
    _out().print(f"[bold]{v.reference}[/bold] · {v.priority} · {v.status} · {_flag(v)} · "
              f"due {v.due_on} · version {v.version}")  # fmt: skip
    fields = (
        ("exception", v.exception_id), ("root cause", v.root_cause),
        ("partner / rail", f"{v.partner_id or ''} / {v.rail or ''}"),
        ("external id", v.external_id), ("payment", v.payment_id),
        ("loan", v.loan_id), ("amount", _money(v.amount)),
        ("difference", _money(v.difference)), ("detail", v.detail),
        ("value date", v.value_date), ("opened", v.opened_on),
        ("aclaración", v.aclaracion_on), ("assignee", v.assignee),
        ("resolution", v.resolution), ("resolved", v.resolved_on),
        ("closed", v.closed_on),
    )  # fmt: skip
    for name, value in fields:
        if value not in (None, ""):
            _out().print(f"  {name:<15} {value}")
    if v.notes:
        _out().print("[bold]notes[/bold]")
        for n in v.notes:
            _out().print(f"  {n.created_at:%Y-%m-%d %H:%M} UTC · {n.author}: {n.body}")
    if v.events:
        _out().print("[bold]history[/bold]")
        for at, actor, action, detail in v.events:
            _out().print(f"  {at:%Y-%m-%d %H:%M} UTC · {actor} · {action}"
                      + (f" · {detail}" if detail else ""))  # fmt: skip


@cases_app.command("open")
def open_(
    ctx: typer.Context,
    exceptions: Annotated[Path, typer.Option("--exceptions", exists=True, dir_okay=False,
                                             help="payment_exceptions Parquet file.")],
    as_of: AsOfOption = None,
    by: Annotated[str, typer.Option("--by")] = "system",
) -> None:  # fmt: skip
    """Open a case for every open payment exception without one (safe to repeat)."""
    import pyarrow.parquet as pq

    with _ctx_store(ctx) as store:
        day = _day(as_of) or dt.datetime.now(MEXICO_CITY).date()
        result = store.open_cases(pq.read_table(exceptions), day, actor=by)
    console.print(f"{len(result.opened)} opened, {result.already_open} already open, "
                  f"{len(result.escalated)} escalated")  # fmt: skip


@cases_app.command()
def show(ctx: typer.Context, case: CaseArg, as_of: AsOfOption = None) -> None:
    """One case with its notes and history."""
    with _ctx_store(ctx) as store:
        _show(store.get(_case_id(case), as_of=_day(as_of)))


@cases_app.command()
def start(ctx: typer.Context, case: CaseArg, by: ByOption, version: VersionOption = None) -> None:
    """open → in_progress."""
    with _ctx_store(ctx) as store:
        _show(store.start(_case_id(case), actor=by, expected_version=version))


@cases_app.command()
def assign(
    ctx: typer.Context, case: CaseArg, assignee: str, by: ByOption, version: VersionOption = None
) -> None:
    """Give the case to someone."""
    with _ctx_store(ctx) as store:
        _show(store.assign(_case_id(case), assignee, actor=by, expected_version=version))


@cases_app.command()
def note(ctx: typer.Context, case: CaseArg, text: str, by: ByOption) -> None:
    """Append a note (notes are never edited)."""
    with _ctx_store(ctx) as store:
        store.add_note(_case_id(case), text, author=by)
        console.print(f"note added to CASE-{_case_id(case)}")


@cases_app.command()
def move(
    ctx: typer.Context,
    case: CaseArg,
    status: Status,
    by: ByOption,
    resolution: Annotated[str | None, typer.Option("--resolution")] = None,
    version: VersionOption = None,
    on: OnOption = None,
) -> None:
    """Move a case along its lifecycle (illegal moves are refused)."""
    with _ctx_store(ctx) as store:
        _show(store.transition(_case_id(case), status.value, actor=by, resolution=resolution,
                               expected_version=version, on=_day(on)))  # fmt: skip


@cases_app.command()
def resolve(
    ctx: typer.Context, case: CaseArg, resolution: str, by: ByOption,
    version: VersionOption = None, on: OnOption = None,
) -> None:  # fmt: skip
    """Resolve a case with what was done (stops the SLA clock)."""
    with _ctx_store(ctx) as store:
        _show(store.resolve(_case_id(case), resolution, actor=by, expected_version=version,
                            on=_day(on)))  # fmt: skip


@cases_app.command()
def aclaracion(
    ctx: typer.Context,
    case: CaseArg,
    received: Annotated[dt.datetime, typer.Option("--received", formats=["%Y-%m-%d"])],
    by: ByOption,
    version: VersionOption = None,
) -> None:
    """Record the customer's aclaración: answer due within 45 calendar days of it."""
    with _ctx_store(ctx) as store:
        _show(store.mark_aclaracion(_case_id(case), received.date(), actor=by,
                                    expected_version=version))  # fmt: skip


@cases_app.command()
def holds(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", help="Parquet file to write.")],
    as_of: AsOfOption = None,
) -> None:
    """Write the payment_holds rows of loans with a case open on the date (reason open_case)."""
    import pyarrow.parquet as pq

    from cobranza.payments.cases import open_case_holds

    day = _day(as_of) or dt.datetime.now(MEXICO_CITY).date()
    with _ctx_store(ctx) as store:
        table = open_case_holds(store, day)
        out_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_file.with_name(f".{out_file.name}.tmp")
        pq.write_table(table, tmp)
        tmp.replace(out_file)  # readers never see half a file
    console.print(f"{table.num_rows} holds on {day} written to [bold]{out_file}[/bold]")


# --- scorecard -----------------------------------------------------------------------------


@payments_app.command()
def scorecard(
    month: Annotated[dt.datetime, typer.Option("--month", formats=["%Y-%m"],
                                               help="Month, YYYY-MM.")],
    contracts: Annotated[Path, typer.Option("--contracts", exists=True, dir_okay=False,
                                            help="Partner contracts YAML.")],
    store: StoreOption = DEFAULT_STORE,
    reconciliation: Annotated[Path | None, typer.Option(
        "--reconciliation", exists=True, file_okay=False,
        help="Output folder of `payments reconcile`: its payment_exceptions and "
        "reconciliation_matches are used unless given below.")] = None,
    exceptions: Annotated[Path | None, typer.Option(
        "--exceptions", help="payment_exceptions Parquet (default: RECONCILIATION/ or STORE/"
        "payment_exceptions.parquet; none: no defects).")] = None,
    matches: Annotated[Path | None, typer.Option(
        "--matches", exists=True, dir_okay=False,
        help="Parquet of payment_id, partner_id, external_id pairs (for latency).")] = None,
    data: Annotated[Path | None, typer.Option(
        "--data", help="Portfolio folder whose payments give paid_at (for latency).")] = None,
    out_path: Annotated[Path | None, typer.Option(
        "--out", help="HTML file (default: scorecard-YYYY-MM.html).")] = None,
    engine: EngineOption = EngineName.duckdb,
) -> None:  # fmt: skip
    """Monthly partner scorecard (HTML) with the defect Pareto and DPMO."""
    import pyarrow.parquet as pq

    from cobranza.engine import connect
    from cobranza.payments import read_store
    from cobranza.payments.partners import load_partner_contracts, partner_scorecard

    first = month.date().replace(day=1)
    path = out_path or Path(f"scorecard-{first:%Y-%m}.html")
    try:
        terms = load_partner_contracts(contracts)
        with connect(engine.value) as eng:
            eng.register_arrow("partner_transactions", read_store(store))
            folder = reconciliation or store
            source = exceptions or folder / "payment_exceptions.parquet"
            if matches is None and reconciliation is not None:
                found = reconciliation / "reconciliation_matches.parquet"
                matches = found if found.exists() else None
            eng.register_arrow("payment_exceptions", pq.read_table(source) if source.exists()
                               else _no_exceptions())  # fmt: skip
            match_table = payments = None
            if matches is not None and data is not None:
                from cobranza.contract import load

                payments = load(eng, data)["payments"]
                eng.register_arrow("payment_matches", pq.read_table(matches))
                match_table = eng.table("payment_matches")
            written = partner_scorecard(
                eng, path, month=first, transactions=eng.table("partner_transactions"),
                exceptions=eng.table("payment_exceptions"), contracts=terms,
                matches=match_table, payments=payments,
            )  # fmt: skip
    except (CobranzaError, OSError) as exc:
        raise _fail(exc) from exc
    console.print(f"scorecard written to [bold]{written}[/bold]")
    typer.echo(str(written))


def _no_exceptions() -> pa.Table:
    return pa.schema([
        ("exception_id", pa.string()), ("root_cause", pa.string()), ("partner_id", pa.string()),
        ("rail", pa.string()), ("amount", pa.decimal128(20, 5)), ("value_date", pa.date32()),
        ("status", pa.string()),
    ]).empty_table()  # fmt: skip


# `payments reconcile` and `payments exceptions` live beside reconciliation.
from cobranza.cli._reconcile import register as _register_reconcile  # noqa: E402

plug_in(_register_reconcile)
