"""What validation found: violations with their place in the files, and counts per rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from cobranza.contract._schema import CONTRACT_VERSION, TABLES

#: (table, column, rule): ``column`` is None for rules about a whole row or table.
CheckId = tuple[str, str | None, str]


@dataclass(frozen=True)
class Violation:
    """One row (or column) of a file that breaks the data contract.

    ``row`` is the 1-based data row of the file (the header is not counted); ``key`` the row's
    key value (parts of a composite key joined by ``/``) when it has one. ``column`` names the
    column at fault; key and reference rules name all their columns (``"loan_id, seq"``).
    ``message`` says what is wrong and never quotes personal data.
    """

    table: str
    row: int | None
    key: str | None
    column: str | None
    rule: str
    message: str

    @property
    def location(self) -> str:
        """Where a person finds the problem: ``payments row 7 (payment_id P7), column amount``."""
        where = self.table if self.row is None else f"{self.table} row {self.row}"
        if self.key is not None:
            names = "/".join(TABLES[self.table].key) if self.table in TABLES else "key"
            where += f" ({names} {self.key})"
        if self.column is not None:
            where += f", column {self.column}"
        return where

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True)
class ValidationReport:
    """Violations found in a portfolio: examples (capped) and the full count of every check.

    ``violations`` holds at most a few examples per check, in table, check and row order;
    ``counts`` the number of violations of every check that failed, however many.
    """

    violations: tuple[Violation, ...] = ()
    counts: Mapping[CheckId, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Number of violations, examples or not."""
        return sum(self.counts.values())

    @property
    def ok(self) -> bool:
        """True when the portfolio meets the contract."""
        return self.total == 0

    def by_check(self) -> dict[CheckId, list[Violation]]:
        """The examples of each failed check, in the order of ``counts``."""
        grouped: dict[CheckId, list[Violation]] = {check: [] for check in self.counts}
        for violation in self.violations:
            check = (violation.table, violation.column, violation.rule)
            grouped.setdefault(check, []).append(violation)
        return grouped

    def summary(self) -> str:
        """Multi-line text for people: each failed check, its count and its examples."""
        if self.ok:
            return f"The portfolio meets data contract v{CONTRACT_VERSION}: no violations."
        checks = len(self.counts)
        lines = [
            f"The portfolio breaks data contract v{CONTRACT_VERSION}: "
            f"{_plural(self.total, 'violation')} of {_plural(checks, 'check')}."
        ]
        for (table, column, rule), examples in self.by_check().items():
            count = self.counts.get((table, column, rule), len(examples))
            name = table if column is None else f"{table}.{column}"
            lines.append(f"{name} [{rule}]: {_plural(count, 'violation')}")
            lines.extend(f"  {violation}" for violation in examples)
            if examples and count > len(examples):
                lines.append(f"  … and {count - len(examples):,} more")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (``cobranza validate --json``)."""
        return {
            "ok": self.ok,
            "total": self.total,
            "counts": [
                {"table": table, "column": column, "rule": rule, "count": count}
                for (table, column, rule), count in self.counts.items()
            ],
            "violations": [asdict(violation) for violation in self.violations],
        }

    def __str__(self) -> str:
        return self.summary()


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def make_report(examples: Sequence[Violation], counts: Mapping[CheckId, int]) -> ValidationReport:
    """A report keeping only checks that failed, with examples in check order."""
    failed = {check: count for check, count in counts.items() if count > 0}
    order = {check: i for i, check in enumerate(failed)}
    ranked = sorted(
        (v for v in examples if (v.table, v.column, v.rule) in order),
        key=lambda v: (order[(v.table, v.column, v.rule)], v.row is None, v.row or 0),
    )
    return ValidationReport(tuple(ranked), failed)
