"""A small Hamilton-style driver: variables are functions, parameters name their inputs.

Each node is a plain function. Its name is what it produces; each parameter is either an input
(a base table such as ``payments``, or the scalar ``as_of``), a column of the per-loan frame
(``dpd``, ``opened_on`` …) or another node. The driver orders the nodes by their parameter
names and assembles one per-loan Ibis table, so the whole catalog compiles to one query.

The frame starts as the per-loan ``accounts`` table; a parameter named ``accounts`` receives
the frame as it stands. A node returns one of:

* a column expression over the frame: added to the frame under the node's name (parameters
  that are variables or frame columns arrive as the frame's columns, so formulas compose:
  ``utilisation(balance, credit_limit)``);
* an Ibis table keyed by ``loan_id`` holding a column named like the node (a per-loan
  variable): left-joined onto the frame;
* for a node marked :func:`per_loan`, a table keyed by ``loan_id`` whose columns are all
  left-joined onto the frame at once (several variables read one scan); the nodes naming it
  receive the frame;
* any other Ibis table (e.g. a per-installment history): handed as is to the nodes naming it.

A variable's ``fill`` replaces its nulls (0 for counts of loans with no rows). The frame is
referenced once, so the account state is computed once even on engines that inline shared
subqueries (Spark).

We wrote this instead of pinning ``sf-hamilton``: Hamilton computes values, not
one relational plan, so it would still need this frame assembly (join per-loan tables, add
row-wise formulas) around it, and it brings pandas as a hard dependency and telemetry that is
on by default.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

Node = Callable[..., Any]


@dataclass(frozen=True)
class Variable:
    """One catalog variable: its output column, type, unit and documentation."""

    name: str
    dtype: dt.DataType
    unit: str
    description: str
    formula: str
    inputs: tuple[str, ...]
    fill: Any = None
    func: Node = field(repr=False, compare=False, default=None)  # type: ignore[assignment]


def _parse_doc(func: Node) -> tuple[str, str, str]:
    """(description, unit, formula) from a docstring of the form::

    Description sentence(s).

    unit: days
    formula: text, possibly on several lines
    """
    doc = inspect.getdoc(func) or ""
    head, _, rest = doc.partition("\n\n")
    unit = ""
    formula_lines: list[str] = []
    in_formula = False
    for line in rest.splitlines():
        if line.startswith("unit:"):
            unit = line.removeprefix("unit:").strip()
            in_formula = False
        elif line.startswith("formula:"):
            formula_lines = [line.removeprefix("formula:").strip()]
            in_formula = True
        elif in_formula:
            formula_lines.append(line)
    description = " ".join(head.split())
    formula = textwrap.dedent("\n".join(formula_lines)).strip()
    if not description or not unit or not formula:
        raise TypeError(
            f"variable {func.__name__}: docstring needs a description, unit: and formula:"
        )
    return description, unit, formula


def variable(dtype: str | dt.DataType, *, fill: Any = None) -> Callable[[Node], Node]:
    """Mark a node as a catalog variable of type ``dtype``; ``fill`` replaces the null of loans
    a per-loan table has no row for (0 for counts)."""

    def mark(func: Node) -> Node:
        description, unit, formula = _parse_doc(func)
        func.__variable__ = Variable(  # type: ignore[attr-defined]
            name=func.__name__,
            dtype=dt.dtype(dtype),
            unit=unit,
            description=description,
            formula=formula,
            inputs=tuple(inspect.signature(func).parameters),
            fill=fill,
            func=func,
        )
        return func

    return mark


def per_loan(func: Node) -> Node:
    """Mark a helper node whose per-loan table (keyed by ``loan_id``) joins onto the frame."""
    func.__per_loan__ = True  # type: ignore[attr-defined]
    return func


class Driver:
    """Resolves nodes by parameter names and builds the per-loan table of requested variables."""

    def __init__(self, nodes: Iterable[Node], frame_name: str = "accounts") -> None:
        self.frame_name = frame_name
        self.nodes: dict[str, Node] = {}
        for node in nodes:
            if node.__name__ in self.nodes:
                raise ValueError(f"two nodes named {node.__name__}")
            self.nodes[node.__name__] = node

    @property
    def variables(self) -> dict[str, Variable]:
        return {
            name: node.__variable__  # type: ignore[attr-defined]
            for name, node in self.nodes.items()
            if hasattr(node, "__variable__")
        }

    def order(self, outputs: Iterable[str], known: set[str]) -> list[str]:
        """Nodes needed for ``outputs``, each after the nodes it names (depth-first); a name
        is a node first, else one of ``known`` (inputs and frame columns)."""
        done: list[str] = []
        visiting: set[str] = set()

        def visit(name: str, path: tuple[str, ...]) -> None:
            if name in done:
                return
            if name not in self.nodes:
                if name in known or name == self.frame_name:
                    return
                raise KeyError(f"{' → '.join(path)}: no input or node named {name!r}")
            if name in visiting:
                raise ValueError(f"cycle through {' → '.join((*path, name))}")
            visiting.add(name)
            for param in inspect.signature(self.nodes[name]).parameters:
                visit(param, (*path, name))
            visiting.discard(name)
            done.append(name)

        for name in outputs:
            visit(name, ())
        return done

    def execute(
        self,
        outputs: Iterable[str],
        inputs: Mapping[str, Any],
        frame: ir.Table,
        keys: Iterable[str] = ("loan_id",),
    ) -> ir.Table:
        """``keys`` of ``frame`` (one row per loan) and one column per output, each variable
        cast to its declared type. Inputs win over frame columns of the same name (``as_of``
        is the Python date)."""
        outputs = list(outputs)
        variables = self.variables
        helpers: dict[str, ir.Table] = {}
        joined: set[str] = set()
        for name in self.order(outputs, set(inputs) | set(frame.columns)):
            node = self.nodes[name]
            args = {}
            for param in inspect.signature(node).parameters:
                if param == self.frame_name or param in joined:
                    args[param] = frame
                elif param in inputs:
                    args[param] = inputs[param]
                elif param in helpers:
                    args[param] = helpers[param]
                else:
                    args[param] = frame[param]
            result = node(**args)
            fill = variables[name].fill if name in variables else None
            if getattr(node, "__per_loan__", False):
                frame = _join(frame, result.view(), [c for c in result.columns if c != "loan_id"])
                joined.add(name)
            elif isinstance(result, ir.Table) and name in variables:
                frame = _join(frame, result.select("loan_id", name).view(), [name])
            elif isinstance(result, ir.Table):
                helpers[name] = result
                continue
            else:
                frame = frame.mutate(**{name: result})
            if fill is not None:
                frame = frame.mutate(**{name: frame[name].fill_null(ibis.literal(fill))})
        return frame.select(
            *keys,
            **{
                name: _cast(frame[name], variables[name].dtype)
                if name in variables
                else frame[name]
                for name in outputs
            },
        )


def _join(frame: ir.Table, table: ir.Table, columns: list[str]) -> ir.Table:
    """``frame`` with ``columns`` of the per-loan ``table`` (null for loans it lacks); a column
    of the same name already in the frame is replaced."""
    kept = [c for c in frame.columns if c not in columns]
    return frame.left_join(table, "loan_id").select(
        *[frame[c] for c in kept], *[table[c] for c in columns]
    )


def _cast(value: ir.Value, dtype: dt.DataType) -> ir.Value:
    """``value`` cast to ``dtype`` in the SQL even where Ibis believes it already has that type
    (a DuckDB SUM of BIGINT is a HUGEINT, a sum of DECIMAL(18,2) columns a DECIMAL(20,2), and
    Ibis drops a cast to the type it infers): integers and decimals pass through a wider
    decimal first, which is exact."""
    if value.type().copy(nullable=True) != dtype.copy(nullable=True):
        return value.cast(dtype)
    if dtype.is_decimal():
        return value.cast(dt.Decimal(38, dtype.scale)).cast(dtype)
    if dtype.is_integer():
        return value.cast(dt.Decimal(38, 0)).cast(dtype)
    return value
