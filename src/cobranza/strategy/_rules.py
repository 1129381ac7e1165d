"""The segment-rule language: a small, safe expression syntax parsed by recursive descent.

Grammar (keywords are case-insensitive; ``#`` is not a comment, rules are one YAML scalar)::

    rule     := or
    or       := and ("or" and)*
    and      := not ("and" not)*
    not      := "not" not | test
    test     := operand ( cmp operand (cmp operand)?          -- 1 <= dpd <= 29
                        | "not"? "between" operand "and" operand
                        | "not"? "in" "[" literal ("," literal)* "]"
                        | "is" "not"? "null" )?
    operand  := NUMBER | STRING | "true" | "false" | "null" | NAME | "(" rule ")"
    cmp      := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="

There is no arithmetic, no function call and no attribute access: a rule can only read the
columns it names. A rule compiles to an Ibis boolean expression (for the batch, any engine) and
to a Python predicate over a dict (for one account); both follow SQL's three-valued logic, so
a comparison with a null is unknown and an unknown rule does not match.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import ibis
import ibis.expr.types as ir

Kind = Literal["number", "string", "boolean", "date"]

__all__ = ["RuleError", "Rule", "parse_rule", "overlap_report"]


class RuleError(ValueError):
    """A rule does not parse or names what it cannot; ``offset`` is the character position."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.offset = offset


# ---------------------------------------------------------------------------------------------
# Syntax tree


@dataclass(frozen=True)
class Col:
    name: str
    offset: int


@dataclass(frozen=True)
class Lit:
    value: Any  # int | Decimal | str | bool | None


@dataclass(frozen=True)
class Cmp:
    op: str
    left: Col | Lit
    right: Col | Lit


@dataclass(frozen=True)
class In:
    operand: Col | Lit
    values: tuple[Lit, ...]
    negated: bool


@dataclass(frozen=True)
class IsNull:
    operand: Col | Lit
    negated: bool


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class Truth:
    """A bare operand used as a condition (a boolean column or ``true``)."""

    operand: Col | Lit


Node = Cmp | In | IsNull | BoolOp | Not | Truth

# ---------------------------------------------------------------------------------------------
# Tokenizer

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op><=|>=|==|!=|<>|=|<|>)
  | (?P<punct>[()\[\],])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "between", "is", "null", "true", "false"}


@dataclass(frozen=True)
class Token:
    kind: str  # number | string | op | punct | name | kw | end
    text: str
    offset: int


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise RuleError(f"unexpected character {text[pos]!r}", pos)
        kind = match.lastgroup or ""
        if kind != "ws":
            value = match.group()
            if kind == "name" and value.lower() in _KEYWORDS:
                tokens.append(Token("kw", value.lower(), pos))
            else:
                tokens.append(Token(kind, value, pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# ---------------------------------------------------------------------------------------------
# Parser


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def accept(self, kind: str, text: str | None = None) -> Token | None:
        tok = self.tok
        if tok.kind == kind and (text is None or tok.text == text):
            self.i += 1
            return tok
        return None

    def expect(self, kind: str, text: str, what: str) -> Token:
        tok = self.accept(kind, text)
        if tok is None:
            raise RuleError(f"expected {what}, found {self._found()}", self.tok.offset)
        return tok

    def _found(self) -> str:
        return "end of rule" if self.tok.kind == "end" else repr(self.tok.text)

    def parse(self) -> Node:
        node = self.or_()
        if self.tok.kind != "end":
            raise RuleError(f"unexpected {self._found()}", self.tok.offset)
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while self.accept("kw", "or"):
            items.append(self.and_())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def and_(self) -> Node:
        items = [self.not_()]
        while self.accept("kw", "and"):
            items.append(self.not_())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def not_(self) -> Node:
        if self.accept("kw", "not"):
            return Not(self.not_())
        return self.test()

    def test(self) -> Node:
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.take()
            node = self.or_()
            self.expect("punct", ")", "')'")
            return node
        left = self.operand()
        if self.tok.kind == "op":
            op = _norm_op(self.take().text)
            right = self.operand()
            if self.tok.kind == "op":  # chained: a < b <= c
                op2 = _norm_op(self.take().text)
                third = self.operand()
                return BoolOp("and", (Cmp(op, left, right), Cmp(op2, right, third)))
            return Cmp(op, left, right)
        negated = False
        if self.tok.kind == "kw" and self.tok.text == "not":
            nxt = self.tokens[self.i + 1]
            if nxt.kind == "kw" and nxt.text in ("between", "in"):
                self.take()
                negated = True
        if self.accept("kw", "between"):
            low = self.operand()
            self.expect("kw", "and", "'and' in 'between … and …'")
            high = self.operand()
            node: Node = BoolOp("and", (Cmp(">=", left, low), Cmp("<=", left, high)))
            return Not(node) if negated else node
        if self.accept("kw", "in"):
            self.expect("punct", "[", "'[' after 'in'")
            values = [self.literal()]
            while self.accept("punct", ","):
                values.append(self.literal())
            self.expect("punct", "]", "']' closing the list")
            return In(left, tuple(values), negated)
        if self.accept("kw", "is"):
            neg = self.accept("kw", "not") is not None
            self.expect("kw", "null", "'null' after 'is'")
            return IsNull(left, neg)
        return Truth(left)

    def literal(self) -> Lit:
        start = self.tok.offset
        operand = self.operand()
        if not isinstance(operand, Lit):
            raise RuleError("a list holds literal values only", start)
        return operand

    def operand(self) -> Col | Lit:
        tok = self.take()
        if tok.kind == "number":
            return Lit(Decimal(tok.text) if "." in tok.text else int(tok.text))
        if tok.kind == "string":
            body = tok.text[1:-1]
            return Lit(re.sub(r"\\(.)", r"\1", body))
        if tok.kind == "kw" and tok.text in ("true", "false"):
            return Lit(tok.text == "true")
        if tok.kind == "kw" and tok.text == "null":
            return Lit(None)
        if tok.kind == "name":
            return Col(tok.text, tok.offset)
        self.i -= 1
        raise RuleError(f"expected a column or a value, found {self._found()}", tok.offset)


def _norm_op(op: str) -> str:
    return {"==": "=", "<>": "!="}.get(op, op)


# ---------------------------------------------------------------------------------------------
# Type checking, compilation


def _lit_kind(value: Any) -> Kind | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | Decimal):
        return "number"
    return "string"


@dataclass(frozen=True)
class Rule:
    """A parsed and checked rule; ``columns`` lists the columns it reads, in order."""

    text: str
    tree: Node
    columns: tuple[str, ...]

    def to_ibis(self, table: ir.Table) -> ir.BooleanValue:
        """The rule as an Ibis boolean expression over ``table`` (null when unknown)."""
        return _to_ibis(self.tree, table)

    def to_python(self) -> Callable[[Mapping[str, Any]], bool]:
        """The rule as a predicate over a dict; unknown (null) counts as no match."""
        tree = self.tree

        def predicate(row: Mapping[str, Any]) -> bool:
            return _eval(tree, row) is True

        return predicate

    def evaluate(self, row: Mapping[str, Any]) -> bool | None:
        """Three-valued truth of the rule for one row."""
        return _eval(self.tree, row)

    def literals(self) -> dict[str, set[Any]]:
        """Literal values compared with each column (for the overlap analysis)."""
        out: dict[str, set[Any]] = {c: set() for c in self.columns}
        _collect(self.tree, out)
        return out


def parse_rule(text: str, columns: Mapping[str, Kind]) -> Rule:
    """Parse ``text`` and check it against ``columns`` (name → kind).

    Raises :class:`RuleError` naming an unknown column, a value of the wrong kind, or where
    the syntax breaks.
    """
    if not text or not text.strip():
        raise RuleError("empty rule", 0)
    tree = _Parser(text).parse()
    used: list[str] = []
    _check(tree, columns, used)
    return Rule(text=" ".join(text.split()), tree=tree, columns=tuple(dict.fromkeys(used)))


def _operand_kind(op: Col | Lit, columns: Mapping[str, Kind], used: list[str]) -> Kind | None:
    if isinstance(op, Col):
        if op.name not in columns:
            known = ", ".join(sorted(columns))
            raise RuleError(f"unknown column {op.name!r} (known: {known})", op.offset)
        used.append(op.name)
        return columns[op.name]
    return _lit_kind(op.value)


def _check(node: Node, columns: Mapping[str, Kind], used: list[str]) -> None:
    if isinstance(node, BoolOp):
        for item in node.items:
            _check(item, columns, used)
    elif isinstance(node, Not):
        _check(node.item, columns, used)
    elif isinstance(node, Cmp):
        left = _operand_kind(node.left, columns, used)
        right = _operand_kind(node.right, columns, used)
        if left and right and left != right:
            raise RuleError(f"cannot compare a {left} with a {right} ({node.op})", _pos(node))
        if node.op not in ("=", "!=") and "boolean" in (left, right):
            raise RuleError(f"{node.op} does not apply to booleans", _pos(node))
        if node.left == Lit(None) or node.right == Lit(None):
            raise RuleError("compare with null using 'is null' / 'is not null'", _pos(node))
    elif isinstance(node, In):
        kind = _operand_kind(node.operand, columns, used)
        for value in node.values:
            vkind = _lit_kind(value.value)
            if vkind is None:
                raise RuleError("null in a list never matches; use 'is null'", _pos(node))
            if kind and vkind != kind:
                raise RuleError(f"list value {value.value!r} is not a {kind}", _pos(node))
    elif isinstance(node, IsNull):
        _operand_kind(node.operand, columns, used)
    elif isinstance(node, Truth):
        kind = _operand_kind(node.operand, columns, used)
        if kind != "boolean":
            what = node.operand.name if isinstance(node.operand, Col) else node.operand.value
            raise RuleError(f"{what!r} is not a condition (a {kind})", _pos(node))


def _pos(node: Node) -> int:
    for op in _operands(node):
        if isinstance(op, Col):
            return op.offset
    return 0


def _operands(node: Node) -> list[Col | Lit]:
    if isinstance(node, Cmp):
        return [node.left, node.right]
    if isinstance(node, In | IsNull | Truth):
        return [node.operand]
    return []


def _ibis_operand(op: Col | Lit, table: ir.Table) -> ir.Value:
    if isinstance(op, Col):
        return table[op.name]
    return ibis.literal(op.value)


def _to_ibis(node: Node, table: ir.Table) -> ir.BooleanValue:
    if isinstance(node, BoolOp):
        parts = [_to_ibis(item, table) for item in node.items]
        out = parts[0]
        for part in parts[1:]:
            out = (out & part) if node.op == "and" else (out | part)
        return out
    if isinstance(node, Not):
        return ~_to_ibis(node.item, table)
    if isinstance(node, Cmp):
        left, right = _ibis_operand(node.left, table), _ibis_operand(node.right, table)
        return {
            "=": left.__eq__, "!=": left.__ne__, "<": left.__lt__, "<=": left.__le__,
            ">": left.__gt__, ">=": left.__ge__,
        }[node.op](right)  # fmt: skip
    if isinstance(node, In):
        operand = _ibis_operand(node.operand, table)
        test = operand.isin([v.value for v in node.values])
        return ~test if node.negated else test
    if isinstance(node, IsNull):
        operand = _ibis_operand(node.operand, table)
        return operand.notnull() if node.negated else operand.isnull()
    return _ibis_operand(node.operand, table).cast("boolean")


def _value(op: Col | Lit, row: Mapping[str, Any]) -> Any:
    return row.get(op.name) if isinstance(op, Col) else op.value


def _same_footing(left: Any, right: Any) -> tuple[Any, Any]:
    """SQL compares a float with a decimal as two doubles; Python would compare them exactly."""
    if isinstance(left, float) and isinstance(right, Decimal):
        return left, float(right)
    if isinstance(right, float) and isinstance(left, Decimal):
        return float(left), right
    return left, right


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _eval(node: Node, row: Mapping[str, Any]) -> bool | None:
    """SQL's three-valued logic in Python: None is unknown."""
    if isinstance(node, BoolOp):
        values = [_eval(item, row) for item in node.items]
        if node.op == "and":
            if False in values:
                return False
            return None if None in values else True
        if True in values:
            return True
        return None if None in values else False
    if isinstance(node, Not):
        value = _eval(node.item, row)
        return None if value is None else not value
    if isinstance(node, Cmp):
        left, right = _value(node.left, row), _value(node.right, row)
        if left is None or right is None:
            return None
        return _COMPARE[node.op](*_same_footing(left, right))
    if isinstance(node, In):
        value = _value(node.operand, row)
        if value is None:
            return None
        hit = any(_COMPARE["="](*_same_footing(value, v.value)) for v in node.values)
        return (not hit) if node.negated else hit
    if isinstance(node, IsNull):
        is_null = _value(node.operand, row) is None
        return (not is_null) if node.negated else is_null
    value = _value(node.operand, row)
    return None if value is None else bool(value)


def _collect(node: Node, out: dict[str, set[Any]]) -> None:
    if isinstance(node, BoolOp):
        for item in node.items:
            _collect(item, out)
    elif isinstance(node, Not):
        _collect(node.item, out)
    elif isinstance(node, Cmp):
        for a, b in ((node.left, node.right), (node.right, node.left)):
            if isinstance(a, Col) and isinstance(b, Lit) and b.value is not None:
                out[a.name].add(b.value)
    elif isinstance(node, In) and isinstance(node.operand, Col):
        out[node.operand.name].update(v.value for v in node.values)


# ---------------------------------------------------------------------------------------------
# Overlap and reachability: boundary-value grid


def _candidates(kind: Kind, literals: set[Any], *, integer: bool, nullable: bool) -> list[Any]:
    """Values of a column that reach every truth pattern of single-column tests on it: each
    literal, one value inside each gap between consecutive literals (an integer one for an
    integer column, skipping gaps that hold none), one below and one above them all."""
    values: list[Any] = [None] if nullable else []
    if kind == "boolean":
        return [*values, True, False]
    if kind == "string":
        return [*values, *sorted(literals), "\x00other"]
    if kind != "number":
        return values or [None]  # dates are only null-checked by this analysis
    points = sorted({Decimal(str(v)) for v in literals})
    if not points:
        return [*values, Decimal(0)]
    grid = [points[0] - 1, *points, points[-1] + 1]
    for low, high in itertools.pairwise(points):
        if integer:
            if high - low > 1:
                grid.append(low.to_integral_value(rounding="ROUND_FLOOR") + 1)
        else:
            grid.append((low + high) / 2)
    if integer:
        grid = [int(g) for g in grid]
    return values + sorted(set(grid))


def overlap_report(
    rules: Sequence[tuple[str, Rule]],
    columns: Mapping[str, Kind],
    *,
    integers: Collection[str] = (),
    nullable: Collection[str] = (),
    max_points: int = 50_000,
    seed: int = 0,
) -> list[str]:
    """Warnings for segments no account can reach and segments that overlap ambiguously.

    Method (boundary-value grid): every atom of a rule compares one column with literals, so
    its truth is constant at each literal and inside each gap between consecutive literals.
    Per column the grid takes each literal, one value inside each gap (an integer for integer
    columns such as dpd), one value below and one above them all, null for nullable columns
    and a value outside every list for strings. Every combination of atom truths is then
    reached by the cartesian product of the columns' grids, on which the rules are evaluated
    with the Python predicate — exact when the product has at most ``max_points`` points,
    otherwise ``max_points`` random points of it (then a warning can be missed, never
    invented). Comparisons between two columns are only sampled this way.

    * unreachable: no point where the segment matches and no earlier segment does;
    * overlapping: an earlier segment A and a later B both match some point, and each also
      matches points the other does not — neither is a special case of the other, so the
      order decides who gets the shared accounts. Specific-before-general (A inside B), the
      usual first-match idiom, is not reported.
    """
    used = sorted({c for _, rule in rules for c in rule.columns})
    literals: dict[str, set[Any]] = {c: set() for c in used}
    for _, rule in rules:
        for column, values in rule.literals().items():
            literals[column] |= values
    axes = [
        _candidates(columns[c], literals[c], integer=c in integers, nullable=c in nullable)
        for c in used
    ]
    size = 1
    for axis in axes:
        size *= len(axis)
    if size <= max_points:
        points: Any = itertools.product(*axes)
    else:
        rng = random.Random(seed)
        points = (tuple(rng.choice(axis) for axis in axes) for _ in range(max_points))
    n = len(rules)
    reached = [False] * n
    both: dict[tuple[int, int], dict[str, Any]] = {}
    only = [[False] * n for _ in range(n)]  # only[i][j]: i matches where j does not
    predicates = [rule.to_python() for _, rule in rules]
    for point in points:
        row = dict(zip(used, point, strict=True))
        hits = [i for i, p in enumerate(predicates) if p(row)]
        if hits:
            reached[hits[0]] = True
        hit_set = set(hits)
        for i in hits:
            for j in range(n):
                if j not in hit_set:
                    only[i][j] = True
        for a, i in enumerate(hits):
            for j in hits[a + 1 :]:
                both.setdefault((i, j), row)
    warnings = []
    for i, (name, _) in enumerate(rules):
        if not reached[i]:
            warnings.append(f"segment {name!r} is unreachable: earlier segments take every case")
    for (i, j), row in sorted(both.items()):
        if reached[j] and only[i][j] and only[j][i]:
            example = ", ".join(f"{k}={v}" for k, v in row.items() if v is not None) or "nulls"
            warnings.append(
                f"segment {rules[j][0]!r} overlaps earlier segment {rules[i][0]!r} "
                f"(e.g. {example}); first match gives such accounts to {rules[i][0]!r}"
            )
    return warnings
