"""Running the checks: count every check, then fetch examples of the ones that failed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir

from cobranza._errors import ContractError, EngineError
from cobranza.contract._load import PortfolioFiles, discover, raw_view, register_raw
from cobranza.contract._report import CheckId, ValidationReport, Violation, make_report
from cobranza.contract._schema import TABLES
from cobranza.contract._validation._checks import _Check, _SetCheck, _Source
from cobranza.contract._validation._columns import _column_checks, _row_checks
from cobranza.contract._validation._sets import _keyed, _keyed_view, _probes, _set_checks
from cobranza.engine import Engine

#: Every rule a violation can name, with what it means.
RULES: dict[str, str] = {
    "missing_column": "a required column is not in the file",
    "required": "a required value is empty",
    "type": "a value does not convert to the column's type",
    "decimals": "an amount of money with more than 2 decimal places",
    "allowed": "a value that is not one of the column's allowed values",
    "pattern": "a value that does not match the column's pattern",
    "minimum": "a number below the column's minimum",
    "term_required": "an installment loan without a term",
    "before_opened": "a date before the loan's opening date",
    "due_before_made": "a promise due before the day it was made",
    "duplicate_key": "several rows with the same key",
    "reference": "an id that is not in the table it refers to",
    "no_installments": "an installment loan without installments",
    "due_date_order": "an installment not due after the previous one of its loan",
}

# The syntax of each kind written as text: the common ground of DuckDB's and Spark's casts.
# Loose input that the engines read differently (exponents, '1_000', '12.0' as an integer,

# Checks are counted table by table in contract order, a table's references with it: each
# must point to a table before it.
_ORDER = list(TABLES)
if any(
    _ORDER.index(ref.target) >= _ORDER.index(table.name)
    for table in TABLES.values()
    for ref in table.references
):
    raise RuntimeError("a contract table refers to a table after it")

# --- running ---------------------------------------------------------------------------------


def _missing_columns(src: _Source) -> list[Violation]:
    # A header that differs only in case or spaces is the usual cause: name it.
    near = {name.strip().lower(): name for name in src.raw.columns}
    missing = []
    for column in src.table.columns:
        if column.required and not src.has(column.name):
            found = near.get(column.name)
            hint = f" (found {found!r}: names are lower case, without spaces)" if found else ""
            missing.append(
                Violation(
                    src.name,
                    None,
                    None,
                    column.name,
                    "missing_column",
                    f"required column is missing from {src.path.name}{hint}",
                )
            )
    return missing


@contextmanager
def _reading(src: _Source) -> Iterator[None]:
    # The first full reads of a file: malformed CSV lines surface here.
    try:
        yield
    except EngineError as exc:
        raise ContractError(f"{src.path}: cannot be read as a {src.name} table: {exc}") from exc


def _count_sets(engine: Engine, checks: Sequence[_SetCheck]) -> list[int]:
    """Count the violations of key, reference and cross-table checks in one query.

    Checks that share a counted relation are tallied in one aggregate over it; the one-row
    aggregates are joined side by side.
    """
    if not checks:
        return []
    groups: dict[object, tuple[ir.Table, dict[str, ir.Scalar]]] = {}
    for i, check in enumerate(checks):
        counted, tally = check.counting()
        groups.setdefault(counted.op(), (counted, {}))[1][f"n{i}"] = tally
    parts = [counted.aggregate(**tallies) for counted, tallies in groups.values()]
    row = parts[0].cross_join(*parts[1:]) if len(parts) > 1 else parts[0]
    result = engine.fetch(row).to_pylist()[0]
    return [int(result[f"n{i}"] or 0) for i in range(len(checks))]


def _release(
    engine: Engine,
    keyed: dict[str, _Source],
    sources: dict[str, _Source],
    done: str,
    counted: Sequence[tuple[_Check, int]],
) -> None:
    """Drop the kept tables that no later check and no example to fetch reads.

    On the largest books the kept tables of every file together would crowd the engine's
    memory; keeping the loans and the table at hand is enough when the checks pass.
    """
    later = list(sources)[list(sources).index(done) + 1 :]
    needed = {ref.target for name in later for ref in sources[name].table.references}
    for check, count in counted:
        if count and isinstance(check, _SetCheck):
            needed.update(_reads(check.rows()))
    for name in list(keyed):
        if name not in needed:
            engine.drop(_keyed_view(name))
            del keyed[name]


def _reads(expr: ir.Table) -> set[str]:
    """The contract tables whose kept table ``expr`` reads."""
    views = {_keyed_view(name): name for name in TABLES}
    return {views[t.name] for t in expr.op().find(ops.UnboundTable) if t.name in views}


def _examples(engine: Engine, wanted: Sequence[tuple[_Check, int]]) -> list[Violation]:
    """Fetch the first rows (in file order) of every failed check, in one query."""
    if not wanted:
        return []
    parts = [
        check.rows().order_by("row").limit(n).mutate(check=ibis.literal(i, "int32"))
        for i, (check, n) in enumerate(wanted)
    ]
    violations = []
    for row in engine.fetch(ibis.union(*parts)).to_pylist():
        check = wanted[row["check"]][0]
        message = check.message(row["value"], row["extra"])
        violations.append(
            Violation(check.table, row["row"], row["key"], check.column, check.rule, message)
        )
    return violations


def validate(
    engine: Engine,
    data: str | Path | PortfolioFiles,
    *,
    cap: int = 100,
    examples_per_rule: int = 5,
) -> ValidationReport:
    """Check a portfolio against the data contract and report every violation.

    The report holds at most ``examples_per_rule`` violations per check (the first rows of
    the file) and ``cap`` in all, with the full count of every check. Raises
    :class:`ContractError` only for problems with the folder or its files: a missing folder
    or required table, a table given twice, a file that cannot be read.
    """
    if cap < 0 or examples_per_rule < 0:
        raise ValueError("cap and examples_per_rule must not be negative")
    files = data if isinstance(data, PortfolioFiles) else discover(data)
    schemas = register_raw(engine, files)
    sources = {
        name: _Source.prepare(TABLES[name], ibis.table(schemas[name], name=raw_view(name)), path)
        for name, path in files.files.items()
    }

    missing: list[Violation] = []
    counted: list[tuple[_Check, int]] = []
    keyed: dict[str, _Source] = {}
    facts: dict[str, int] = {}
    try:
        for src in sources.values():
            missing.extend(_missing_columns(src))
            row_checks = [
                check
                for column in src.table.columns
                if src.has(column.name)
                for check in _column_checks(src, column)
            ] + _row_checks(src)
            probes = _probes(src)
            flags = [check.flag for check in row_checks] + list(probes.values())
            with _reading(src):
                keyed[src.name], counts = _keyed(engine, src, flags)
            counted.extend(zip(row_checks, counts[: len(row_checks)], strict=True))
            facts.update(zip(probes, counts[len(row_checks) :], strict=True))
            # Tables refer only to tables before them, so a table's set checks are counted
            # as soon as it is kept; then what no later check reads is let go.
            set_checks = _set_checks(src.name, keyed, facts)
            set_counts = _count_sets(engine, set_checks)
            counted.extend(zip(set_checks, set_counts, strict=True))
            _release(engine, keyed, sources, src.name, counted)
        counts, wanted = _select_examples(counted, missing, cap, examples_per_rule)
        examples = _examples(engine, wanted)
    finally:
        for name in keyed:
            engine.drop(_keyed_view(name))
    shown = missing[: min(cap, len(missing) * examples_per_rule)]
    return make_report([*shown, *examples], counts)


def _select_examples(
    counted: list[tuple[_Check, int]], missing: list[Violation], cap: int, per_check: int
) -> tuple[dict[CheckId, int], list[tuple[_Check, int]]]:
    """The count of every failed check, and how many examples to fetch of each.

    Order: tables in contract order; within a table, missing columns first, then the checks
    in the order they were built (columns in contract order).
    """
    table_order = {name: i for i, name in enumerate(TABLES)}
    counted = sorted(counted, key=lambda pair: table_order[pair[0].table])
    counts: dict[CheckId, int] = {(v.table, v.column, v.rule): 1 for v in missing}
    wanted: list[tuple[_Check, int]] = []
    budget = max(0, cap - len(missing))
    for check, count in counted:
        if count:
            counts[check.id] = count
            take = min(count, per_check, budget)
            if take:
                wanted.append((check, take))
                budget -= take
    counts = dict(sorted(counts.items(), key=lambda item: table_order[item[0][0]]))
    return counts, wanted
