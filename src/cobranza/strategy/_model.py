"""The strategy file: YAML validated with pydantic; every error names the file and the line.

A strategy holds its ``id`` and ``version``, the ``channels`` (cost per attempt, daily
capacity), the treatment ``paths`` (steps by dpd range, each with channel options in order),
the ordered first-match ``segments``, ``experiments`` (champion/challenger arms), the
``guardrails`` mapping (the compliance pack's settings) and the model ``scores`` and
``features`` its rules may read. The content hash — sha256 of the canonical JSON of the
validated content, so comments and layout do not change it — is stamped on every decision as
``strategy_version``: ``<id>@<version>#<first 12 hex digits>``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from cobranza._errors import ConfigError
from cobranza._yaml_nodes import node_at, node_line
from cobranza.strategy._guardrails import GuardrailPack
from cobranza.strategy._rules import Kind, Rule, RuleError, overlap_report, parse_rule

__all__ = [
    "CHANNELS",
    "BUILTIN_COLUMNS",
    "Strategy",
    "load_strategy",
    "parse_strategy",
    "bundled_strategies",
]

#: Contact channels a path may use, cheapest and least intrusive first.
CHANNELS = (
    "sms", "email", "whatsapp", "push", "ivr", "call", "field", "letter", "agency", "legal",
)  # fmt: skip
Channel = Literal[
    "sms", "email", "whatsapp", "push", "ivr", "call", "field", "letter", "agency", "legal"
]

#: Columns every segment rule may read: the account state, the contact history and the
#: promise summary as of the run date (see docs/strategy.md).
BUILTIN_COLUMNS: dict[str, Kind] = {
    "product": "string",
    "dpd": "number",
    "bucket": "string",
    "past_due_amount": "number",
    "outstanding_principal": "number",
    "installments_past_due": "number",
    "next_due_amount": "number",
    "last_payment_date": "date",
    "next_due_date": "date",
    "attempts_7d": "number",
    "attempts_30d": "number",
    "rpc_7d": "number",
    "rpc_30d": "number",
    "days_since_last_contact": "number",
    "last_contact_outcome": "string",
    "open_promise": "boolean",
    "broken_promises_90d": "number",
    "kept_promises_90d": "number",
}

#: Built-in columns holding whole numbers, and those that can be null (overlap analysis).
INTEGER_COLUMNS = frozenset({
    "dpd", "installments_past_due", "attempts_7d", "attempts_30d", "rpc_7d", "rpc_30d",
    "days_since_last_contact", "broken_promises_90d", "kept_promises_90d",
})  # fmt: skip
NULLABLE_COLUMNS = frozenset({
    "last_payment_date", "next_due_date", "next_due_amount", "days_since_last_contact",
    "last_contact_outcome",
})  # fmt: skip

Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$", max_length=64)]
Percent = Annotated[Decimal, Field(gt=0, le=100)]


def _plain(value: Any) -> Any:
    """JSON-ready values: a Decimal becomes an int when whole, else its shortest float."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Offer(_Strict):
    """A payment plan (``max_installments``, ``min_down_payment_pct``) or a discount
    (``max_discount_pct`` off the past-due amount), valid for ``valid_days``."""

    type: Literal["payment_plan", "discount"]
    max_installments: int | None = Field(default=None, ge=2, le=60)
    min_down_payment_pct: Percent | None = None
    max_discount_pct: Percent | None = None
    valid_days: int = Field(default=7, ge=1, le=90)

    @model_validator(mode="after")
    def _limits(self) -> Offer:
        if self.type == "payment_plan" and self.max_installments is None:
            raise ValueError("a payment_plan offer needs max_installments")
        if self.type == "discount" and self.max_discount_pct is None:
            raise ValueError("a discount offer needs max_discount_pct")
        return self

    def to_json(self) -> str:
        """Canonical JSON text of the offer (what ``decisions.offer`` holds)."""
        data = _plain(self.model_dump(mode="python", exclude_none=True))
        return json.dumps(data, sort_keys=True, separators=(",", ":"))


class Action(_Strict):
    """One channel option of a step: the template, and how often it may be tried."""

    channel: Channel
    template: Name
    #: Minimum days between two attempts on this channel (0: no limit).
    cadence_days: int = Field(default=1, ge=0, le=365)
    #: Attempts on this channel allowed while the account is in this step.
    max_attempts: int = Field(default=3, ge=1, le=1000)


class Step(_Strict):
    """A stretch of the path, ``dpd: [from, to]`` inclusive (``to`` null: open-ended)."""

    id: Name
    dpd: tuple[int, int | None]
    actions: list[Action] = Field(min_length=1)
    offer: Offer | None = None

    @field_validator("dpd")
    @classmethod
    def _range(cls, value: tuple[int, int | None]) -> tuple[int, int | None]:
        low, high = value
        if low < 1:
            raise ValueError("a step starts at 1 dpd or later (dpd 0 is not delinquent)")
        if high is not None and high < low:
            raise ValueError(f"the range ends before it starts: [{low}, {high}]")
        return value

    @field_validator("actions")
    @classmethod
    def _unique(cls, value: list[Action]) -> list[Action]:
        channels = [a.channel for a in value]
        dup = {c for c in channels if channels.count(c) > 1}
        if dup:
            raise ValueError(f"a channel appears twice in one step: {', '.join(sorted(dup))}")
        return value

    @property
    def text(self) -> str:
        high = "+" if self.dpd[1] is None else f"-{self.dpd[1]}"
        return f"step {self.id} (dpd {self.dpd[0]}{high})"


class ChannelSpec(_Strict):
    """Cost of one attempt (MXN) and attempts per day (null: unlimited)."""

    cost: Decimal = Field(ge=0)
    capacity: int | None = Field(default=None, ge=0)


class Segment(_Strict):
    id: Name
    when: str
    path: Name
    description: str | None = None


class Arm(_Strict):
    id: Name
    share: Decimal = Field(gt=0, le=1)
    #: The path this arm follows instead of the segment's (null: the segment's own path).
    path: Name | None = None

    @property
    def basis_points(self) -> int:
        return int(self.share * 10_000)


class Experiment(_Strict):
    """Champion/challenger: accounts of ``segments`` split into arms by a stable hash."""

    id: Name
    segments: list[Name] = Field(min_length=1)
    arms: list[Arm] = Field(min_length=2)

    @field_validator("arms")
    @classmethod
    def _shares(cls, arms: list[Arm]) -> list[Arm]:
        ids = [a.id for a in arms]
        if len(set(ids)) != len(ids):
            raise ValueError("arm ids must be unique")
        for arm in arms:
            if arm.share * 10_000 != int(arm.share * 10_000):
                raise ValueError(f"arm {arm.id}: share {arm.share} is finer than 0.0001")
        total = sum((a.share for a in arms), Decimal(0))
        if total != 1:
            raise ValueError(f"arm shares must add up to 1, they add up to {total}")
        return arms


class Scores(_Strict):
    """Model score columns rules may read; ``propensity`` weighs the expected value."""

    columns: list[Name] = Field(default_factory=list)
    propensity: Name | None = None


class Strategy(_Strict):
    """A validated strategy; build it with :func:`load_strategy` or :func:`parse_strategy`."""

    id: Name
    version: str
    description: str | None = None
    channels: dict[Channel, ChannelSpec] = Field(min_length=1)
    paths: dict[Name, list[Step]] = Field(min_length=1)
    segments: list[Segment] = Field(min_length=1)
    experiments: list[Experiment] = Field(default_factory=list)
    guardrails: dict[str, Any] = Field(default_factory=dict)
    scores: Scores = Field(default_factory=Scores)
    features: dict[Name, Literal["number", "string", "boolean"]] = Field(default_factory=dict)

    _source: str = PrivateAttr(default="<strategy>")
    _hash: str = PrivateAttr(default="")
    _rules: dict[str, Rule] = PrivateAttr(default_factory=dict)
    _warnings: list[str] | None = PrivateAttr(default=None)
    _pack: Any = PrivateAttr(default=None)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float | Decimal) else value

    # -- derived ------------------------------------------------------------------------------

    @property
    def source(self) -> str:
        return self._source

    @property
    def content_hash(self) -> str:
        """sha256 of the canonical JSON of the validated content."""
        return self._hash

    @property
    def strategy_version(self) -> str:
        """What every decision carries: ``<id>@<version>#<hash12>``."""
        return f"{self.id}@{self.version}#{self._hash[:12]}"

    @property
    def pack(self) -> GuardrailPack:
        """The compliance guardrails: the ``guardrails:`` mapping over the Mexico defaults."""
        if self._pack is None:
            self._pack = GuardrailPack.model_validate(self.guardrails)
        return self._pack

    @property
    def rules(self) -> dict[str, Rule]:
        """Compiled rule of each segment, in order."""
        return self._rules

    @property
    def warnings(self) -> list[str]:
        """Unreachable or overlapping segments (see :func:`~cobranza.strategy.overlap_report`);
        computed on first use."""
        if self._warnings is None:
            inputs = set(self.input_columns())
            found = overlap_report(
                list(self._rules.items()),
                self.columns(),
                integers=INTEGER_COLUMNS,
                nullable=NULLABLE_COLUMNS | inputs,
            )
            self._warnings = [f"{self._source}: {w}" for w in found]
        return list(self._warnings)

    def columns(self) -> dict[str, Kind]:
        """Every column segment rules may read, with its kind."""
        cols: dict[str, Kind] = dict(BUILTIN_COLUMNS)
        cols.update({c: "number" for c in self.scores.columns})
        cols.update(self.features)
        return cols

    def input_columns(self) -> list[str]:
        """Score and feature columns the strategy reads from the ``scores`` table."""
        names = [*self.scores.columns, *self.features]
        if self.scores.propensity and self.scores.propensity not in names:
            names.append(self.scores.propensity)
        return list(dict.fromkeys(names))

    def experiment_of(self, segment: str) -> Experiment | None:
        for experiment in self.experiments:
            if segment in experiment.segments:
                return experiment
        return None

    def max_options(self) -> int:
        return max(len(step.actions) for steps in self.paths.values() for step in steps)

    def canonical(self) -> Any:
        """The validated content with numbers normalised (0.350 and 0.35 are one value)."""
        return _plain(self.model_dump(mode="python"))


# ---------------------------------------------------------------------------------------------
# Loading


class _Loader(yaml.SafeLoader):
    """Reads YAML floats as exact Decimals (money and shares must not go through float)."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    text = str(loader.construct_scalar(node)).replace("_", "")  # type: ignore[arg-type]
    try:
        value = Decimal(text)
    except ArithmeticError:
        return loader.construct_yaml_float(node)  # type: ignore[arg-type]
    return value if value.is_finite() else float(value)


_Loader.add_constructor("tag:yaml.org,2002:float", _decimal)


def _duplicates(node: yaml.Node) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if str(key_node.value) in seen:
                out.append((node_line(key_node), f"{key_node.value}: duplicate key"))
            seen.add(str(key_node.value))
            out.extend(_duplicates(value_node))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            out.extend(_duplicates(item))
    return out


def _fail(label: str, problems: list[tuple[int, str]]) -> ConfigError:
    return ConfigError(
        "\n".join(f"{label}, line {line}: {what}" for line, what in sorted(problems))
    )


def _describe(error: Any) -> str:
    where = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    else:
        message = str(error["msg"]).removeprefix("Value error, ")
        value = error.get("input")
        if error["type"] != "missing" and not isinstance(value, dict | list):
            message += f" (got {value!r})"
    return f"{where}: {message}" if where else message


def _cross_checks(s: Strategy) -> list[tuple[tuple[int | str, ...], str]]:
    """References between sections, and steps that overlap within a path."""
    problems: list[tuple[tuple[int | str, ...], str]] = []
    ids = [seg.id for seg in s.segments]
    for i, seg in enumerate(s.segments):
        if seg.path not in s.paths:
            problems.append((("segments", i, "path"), f"unknown path {seg.path!r}"))
        if seg.id in ids[:i]:
            problems.append((("segments", i, "id"), f"duplicate segment id {seg.id!r}"))
    for name, steps in s.paths.items():
        if not steps:
            problems.append((("paths", name), "a path needs at least one step"))
        ordered = sorted(enumerate(steps), key=lambda p: p[1].dpd[0])
        for (_, a), (j, b) in itertools.pairwise(ordered):
            if a.dpd[1] is None or a.dpd[1] >= b.dpd[0]:
                problems.append(
                    (("paths", name, j, "dpd"), f"step {b.id!r} overlaps step {a.id!r}")
                )
        step_ids = [st.id for st in steps]
        for j, st in enumerate(steps):
            if st.id in step_ids[:j]:
                problems.append((("paths", name, j, "id"), f"duplicate step id {st.id!r}"))
            for k, action in enumerate(st.actions):
                if action.channel not in s.channels:
                    problems.append((
                        ("paths", name, j, "actions", k, "channel"),
                        f"channel {action.channel!r} is not declared under channels",
                    ))  # fmt: skip
    seen: dict[str, str] = {}
    exp_ids = [e.id for e in s.experiments]
    for i, exp in enumerate(s.experiments):
        if exp.id in exp_ids[:i]:
            problems.append((("experiments", i, "id"), f"duplicate experiment id {exp.id!r}"))
        for j, seg in enumerate(exp.segments):
            if seg not in ids:
                problems.append((("experiments", i, "segments", j), f"unknown segment {seg!r}"))
            elif seg in seen:
                problems.append((
                    ("experiments", i, "segments", j),
                    f"segment {seg!r} is already in experiment {seen[seg]!r}",
                ))  # fmt: skip
            seen.setdefault(seg, exp.id)
        for j, arm in enumerate(exp.arms):
            if arm.path is not None and arm.path not in s.paths:
                problems.append(
                    (("experiments", i, "arms", j, "path"), f"unknown path {arm.path!r}")
                )
    if s.scores.propensity and s.scores.propensity not in s.scores.columns:
        problems.append(
            (("scores", "propensity"), "the propensity score must be listed in columns")
        )
    clash = (set(s.scores.columns) | set(s.features)) & set(BUILTIN_COLUMNS)
    for name in sorted(clash):
        problems.append((("scores",), f"{name!r} is a built-in column; pick another name"))
    return problems


def _validate_guardrails(s: Strategy, root: yaml.Node, label: str) -> None:
    """Validate ``guardrails:`` with the compliance pack's model."""
    try:
        s._pack = GuardrailPack.model_validate(s.guardrails)
    except ValidationError as exc:
        problems = [
            (node_line(node_at(root, ("guardrails", *e["loc"]))), "guardrails." + _describe(e))
            for e in exc.errors()
        ]
        raise _fail(label, problems) from None


def parse_strategy(text: str, label: str = "<strategy>") -> Strategy:
    """Validate the YAML ``text`` of a strategy; ``label`` (the file name) prefixes errors."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise _fail(label, [(1, "empty strategy file")])
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise _fail(label, [(line, f"not valid YAML: {exc.problem or exc}")]) from None
    finally:
        loader.dispose()
    duplicates = _duplicates(root)
    if duplicates:
        raise _fail(label, duplicates)
    if not isinstance(data, dict):
        raise _fail(label, [(node_line(root), "a strategy file must be a mapping of keys")])
    try:
        strategy = Strategy.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            node = node_at(root, loc, key=error["type"] == "extra_forbidden")
            problems.append((node_line(node), _describe(error)))
        raise _fail(label, problems) from None
    problems = [
        (node_line(node_at(root, loc)), ".".join(map(str, loc)) + ": " + what)
        for loc, what in _cross_checks(strategy)
    ]
    columns = strategy.columns()
    rules: dict[str, Rule] = {}
    for i, seg in enumerate(strategy.segments):
        try:
            rules[seg.id] = parse_rule(seg.when, columns)
        except RuleError as exc:
            node = node_at(root, ("segments", i, "when"))
            problems.append(
                (node_line(node), f"segments.{i}.when: {exc} (at character {exc.offset + 1})")
            )
    if problems:
        raise _fail(label, problems)
    _validate_guardrails(strategy, root, label)
    strategy._source = label
    canonical = json.dumps(strategy.canonical(), sort_keys=True, separators=(",", ":"))
    strategy._hash = hashlib.sha256(canonical.encode()).hexdigest()
    strategy._rules = rules
    return strategy


def bundled_strategies() -> list[str]:
    """Names of the strategies shipped with cobranza (``mx_default``)."""
    folder = resources.files("cobranza.strategy") / "strategies"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_strategy(file: str | Path | Strategy) -> Strategy:
    """Load a strategy: a path, a bundled name (``"mx_default"``) or a loaded one (returned).

    Raises :class:`~cobranza.ConfigError` naming the file and line of every problem.
    """
    if isinstance(file, Strategy):
        return file
    if isinstance(file, str) and "/" not in file and not file.endswith((".yaml", ".yml")):
        bundled = resources.files("cobranza.strategy") / "strategies" / f"{file}.yaml"
        if not bundled.is_file():
            raise ConfigError(
                f"no bundled strategy {file!r}; bundled: {', '.join(bundled_strategies())}"
            )
        return parse_strategy(bundled.read_text(encoding="utf-8"), str(bundled))
    path = Path(file)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the strategy file: {exc.strerror}") from exc
    return parse_strategy(text, str(path))
