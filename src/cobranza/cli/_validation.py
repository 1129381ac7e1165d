"""Printing a validation report for a person."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from cobranza.cli._progress import console

if TYPE_CHECKING:
    from cobranza.contract import ValidationReport


def print_report(report: ValidationReport) -> None:
    """A table of violations (table, row, key, column, what is wrong) and the summary line."""
    if report.ok:
        console.print("[green]✓ the portfolio satisfies data contract v1[/green]")
        return
    table = Table(title="Data contract violations", show_lines=False)
    for header in ("table", "row", "key", "column", "rule", "what is wrong"):
        table.add_column(header, overflow="fold")
    for v in report.violations:
        table.add_row(
            v.table, "" if v.row is None else str(v.row), v.key or "", v.column or "", v.rule,
            v.message,
        )  # fmt: skip
    console.print(table)
    console.print(f"[red]✗ {report.summary().splitlines()[0]}[/red]")
