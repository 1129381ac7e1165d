"""A small Hamilton-style driver: variables are functions, parameters name their inputs.

Each node is a plain function. Its name is what it produces; each parameter is either an input
(a base table such as ``payments``, or the scalar ``as_of``), a column of the per-loan frame
(``dpd``, ``opened_on`` …) or another node. The driver orders the nodes by their parameter
names and assembles one per-loan Ibis table, so the whole catalog compiles to one query.

A node returns one of:

* an Ibis table keyed by ``loan_id`` holding a column named like the node (a per-loan
  variable): it is left-joined onto the frame, with the variable's ``fill`` for loans absent;
* another Ibis table (a helper node, e.g. a per-installment history): handed as is to the
  nodes that name it;
* a column expression over the frame's columns: added to the frame (its parameters that
  are variables arrive as the frame's columns, so formulas compose: ``utilisation(balance,
  credit_limit)``).

We wrote this (~100 lines) instead of pinning ``sf-hamilton``: Hamilton computes values, not
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


class Driver:
    """Resolves nodes by parameter names and builds the per-loan table of requested variables."""

    def __init__(self, nodes: Iterable[Node]) -> None:
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
        """Nodes needed for ``outputs``, each after the nodes it names (depth-first)."""
        done: list[str] = []
        visiting: set[str] = set()

        def visit(name: str, path: tuple[str, ...]) -> None:
            if name in done or name in known:
                return
            if name not in self.nodes:
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
        cast to its declared type.

        Inputs win over frame columns of the same name (``as_of`` is the Python date).
        """
        outputs = list(outputs)
        variables = self.variables
        helpers: dict[str, ir.Table] = {}
        for name in self.order(outputs, set(inputs) | set(frame.columns)):
            args = {}
            for param in inspect.signature(self.nodes[name]).parameters:
                if param in inputs:
                    args[param] = inputs[param]
                elif param in helpers:
                    args[param] = helpers[param]
                else:
                    args[param] = frame[param]
            result = self.nodes[name](**args)
            if isinstance(result, ir.Table) and name in variables:
                per_loan = result.select("loan_id", name).view()
                joined = frame.left_join(per_loan, "loan_id")
                value = per_loan[name]
                if variables[name].fill is not None:
                    value = value.fill_null(ibis.literal(variables[name].fill))
                frame = joined.select(frame, **{name: value})
            elif isinstance(result, ir.Table):
                helpers[name] = result
            else:
                frame = frame.mutate(**{name: result})
        return frame.select(
            *keys,
            **{
                name: frame[name].cast(variables[name].dtype) if name in variables else frame[name]
                for name in outputs
            },
        )
