"""Versioned parameter files (YAML): pydantic models, loading with file and line in every error.

A parameter file states its ``kind``, ``name``, ``version``, whether it is an ``example``, and
its ``source``: the DOF date and article, or the publication the values come from. A file
without a source is refused. Numbers in the YAML are read as exact Decimals (``0.01`` is
Decimal('0.01'), not the float 0.01000000000000000020…).
"""

from __future__ import annotations

import datetime as dt
import itertools
import warnings
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cobranza._errors import ConfigError
from cobranza._yaml_nodes import node_at, node_line
from cobranza.contract._schema import FREQUENCIES
from cobranza.provisions._money import RATE_PLACES

Frequency = Literal["weekly", "biweekly", "monthly"]
assert set(FREQUENCIES) == set(Frequency.__args__)  # type: ignore[attr-defined]

Rate = Annotated[Decimal, Field(ge=0, le=1)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Coefficient = Annotated[float, Field(allow_inf_nan=False)]


class ExampleParametersWarning(UserWarning):
    """A parameter file marked ``example: true`` was loaded: its values are illustrative."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where the values come from: ``dof_date`` + ``article``, or ``publication``."""

    publication: str | None = None
    dof_date: dt.date | None = None
    article: str | None = None
    url: str | None = None
    #: True once the values were checked against the official text.
    verified: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _cites_something(self) -> Source:
        if not (self.publication or (self.dof_date and self.article)):
            raise ValueError("a source must give the DOF date and article, or the publication")
        return self


class ParameterFile(_Strict):
    """Fields every parameter file has."""

    kind: str
    name: str
    version: str
    example: bool
    source: Source
    description: str | None = None


def _check_places(value: Decimal, what: str) -> Decimal:
    if value.as_tuple().exponent < -RATE_PLACES:  # type: ignore[operator]
        raise ValueError(f"{what} has more than {RATE_PLACES} decimal places: {value}")
    return value


class AgeBand(_Strict):
    """Accounts with from_dpd ≤ dpd ≤ to_dpd (open-ended when to_dpd is null) reserve ``rate``."""

    from_dpd: Annotated[int, Field(ge=0)]
    to_dpd: Annotated[int, Field(ge=0)] | None = None
    rate: Rate

    @field_validator("rate")
    @classmethod
    def _places(cls, rate: Decimal) -> Decimal:
        return _check_places(rate, "rate")


class AgeBandTable(ParameterFile):
    """A reserve table by days past due (e.g. SOCAP "Nivel Básico"); ``base`` is what it covers."""

    kind: Literal["age_bands"]
    base: Literal["balance", "balance_plus_interest"]
    bands: list[AgeBand]

    @field_validator("bands")
    @classmethod
    def _contiguous(cls, bands: list[AgeBand]) -> list[AgeBand]:
        if not bands:
            raise ValueError("at least one band is needed")
        expected = 0
        for i, band in enumerate(bands):
            if band.from_dpd != expected:
                raise ValueError(
                    f"band {i} starts at {band.from_dpd} dpd; the bands must cover every dpd "
                    f"from 0 without gaps or overlaps, so it should start at {expected}"
                )
            if band.to_dpd is None:
                if i != len(bands) - 1:
                    raise ValueError(f"band {i} is open-ended but is not the last band")
                return bands
            if band.to_dpd < band.from_dpd:
                raise ValueError(f"band {i} ends ({band.to_dpd}) before it starts")
            expected = band.to_dpd + 1
        raise ValueError("the last band must be open-ended (to_dpd: null)")

    def band(self, dpd: int) -> AgeBand:
        """The band containing ``dpd``."""
        for band in self.bands:
            if band.to_dpd is None or dpd <= band.to_dpd:
                return band
        raise AssertionError("unreachable: the last band is open-ended")  # pragma: no cover


class Ifrs9Staging(ParameterFile):
    """IFRS 9 stages by dpd: 1 up to ``stage2_after_dpd``, 3 from ``stage3_from_dpd``."""

    kind: Literal["ifrs9_staging"]
    #: Stage 2 when dpd > this (IFRS 9 §5.5.11's 30-days-past-due presumption).
    stage2_after_dpd: Annotated[int, Field(ge=0)] = 30
    #: Stage 3 when dpd ≥ this, or the account is written off (IFRS 9 §B5.5.37: 90 days).
    stage3_from_dpd: Annotated[int, Field(ge=1)] = 90
    days_per_year: Annotated[Decimal, Field(gt=0)] = Decimal("365.25")

    @model_validator(mode="after")
    def _ordered(self) -> Ifrs9Staging:
        if self.stage3_from_dpd <= self.stage2_after_dpd:
            raise ValueError(
                f"stage3_from_dpd ({self.stage3_from_dpd}) must be greater than "
                f"stage2_after_dpd ({self.stage2_after_dpd})"
            )
        return self


class LogitModel(_Strict):
    """z = intercept + Σ coefficient × variable; PI = 1/(1+e^(−z)), or 1 when ATR ≥ pi_one_from_atr.

    Variable names are the regulation's (ATR, MAXATR, %PAGO, …); ATR is computed from the dpd,
    any other variable is a column the caller maps.
    """

    intercept: Coefficient
    coefficients: dict[str, Coefficient]
    pi_one_from_atr: Annotated[int, Field(ge=1)]


class SpBand(_Strict):
    """SP = ``sp`` for accounts with ATR ≥ ``from_atr`` (up to the next band)."""

    from_atr: Annotated[int, Field(ge=0)]
    sp: Probability


class GradeBand(_Strict):
    """Risk grade of accounts whose reserve rate is ≤ ``up_to`` (and above the previous band)."""

    grade: str
    up_to: Rate


def _sp_bands(bands: list[SpBand]) -> list[SpBand]:
    if not bands or bands[0].from_atr != 0:
        raise ValueError("the first SP band must start at ATR 0")
    if any(b.from_atr <= a.from_atr for a, b in itertools.pairwise(bands)):
        raise ValueError("SP bands must be in increasing from_atr order")
    return bands


def _grade_bands(bands: list[GradeBand]) -> list[GradeBand]:
    if not bands or bands[-1].up_to != 1:
        raise ValueError("the last grade band must go up to 1 (100 %)")
    if any(b.up_to <= a.up_to for a, b in itertools.pairwise(bands)):
        raise ValueError("grade bands must be in increasing up_to order")
    for band in bands:
        _check_places(band.up_to, f"grade {band.grade} up_to")
    return bands


class CnbvSegment(_Strict):
    """SP bands and grade bands of one segment (non-revolving or revolving)."""

    sp: list[SpBand]
    grades: list[GradeBand]

    @field_validator("sp")
    @classmethod
    def _sp(cls, bands: list[SpBand]) -> list[SpBand]:
        return _sp_bands(bands)

    @field_validator("grades")
    @classmethod
    def _grades(cls, bands: list[GradeBand]) -> list[GradeBand]:
        return _grade_bands(bands)

    def sp_for(self, atr: int) -> float:
        """SP of the last band whose from_atr ≤ ATR."""
        return [band.sp for band in self.sp if band.from_atr <= atr][-1]

    def grade_for(self, rate: Decimal) -> str:
        """The first grade whose up_to ≥ the reserve rate."""
        return next(band.grade for band in self.grades if rate <= band.up_to)


class NonRevolving(CnbvSegment):
    """Non-revolving consumer loans: one PI model per billing periodicity."""

    models: dict[Frequency, LogitModel]

    @field_validator("models")
    @classmethod
    def _every_frequency(cls, models: dict[str, LogitModel]) -> dict[str, LogitModel]:
        missing = [f for f in FREQUENCIES if f not in models]
        if missing:
            raise ValueError(f"no model for the {', '.join(missing)} periodicity")
        return models


class Revolving(CnbvSegment):
    """Revolving consumer credit (cards, lines): one PI model."""

    model: LogitModel


class CnbvConsumer(ParameterFile):
    """CNBV consumer methodology parameters: PI models, SP by ATR, grade bands."""

    kind: Literal["cnbv_consumer"]
    non_revolving: NonRevolving
    revolving: Revolving


class Ifrs9Ecl(Ifrs9Staging):
    """IFRS 9 expected credit loss by bucket: staging, LGD (SP) and 12-month PD per bucket.

    ``pd`` maps every bucket to its 12-month PD (the ``ifrs9`` method); when it is left out the
    PD comes from the month-end snapshots as a roll-rate (Markov) cumulative PD over
    ``pd_months`` months, with the buckets from ``default_from_dpd`` on folded into default and
    transitions weighted by ``weight`` (the ``rollrate`` method).
    """

    kind: Literal["ifrs9_ecl"]  # type: ignore[assignment]
    lgd: dict[str, Probability]
    pd: dict[str, Probability] | None = None
    pd_months: Annotated[int, Field(ge=1)] = 12
    default_from_dpd: Annotated[int, Field(ge=1)] | None = 90
    weight: Literal["loans", "balance"] = "loans"


class ProvisionMatrixRates(ParameterFile):
    """Loss rates by bucket for the provision matrix (IFRS 9 simplified approach)."""

    kind: Literal["provision_matrix"]
    loss_rates: dict[str, Rate]

    @field_validator("loss_rates")
    @classmethod
    def _places(cls, rates: dict[str, Decimal]) -> dict[str, Decimal]:
        for bucket, rate in rates.items():
            _check_places(rate, f"loss rate of {bucket}")
        return rates


KINDS: dict[str, type[ParameterFile]] = {
    "age_bands": AgeBandTable,
    "ifrs9_staging": Ifrs9Staging,
    "cnbv_consumer": CnbvConsumer,
    "ifrs9_ecl": Ifrs9Ecl,
    "provision_matrix": ProvisionMatrixRates,
}

P = TypeVar("P", bound=ParameterFile)


class _Loader(yaml.SafeLoader):
    """Safe YAML with floats as exact Decimals."""


def _decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal | float:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return loader.construct_yaml_float(node)  # .inf, .nan: pydantic refuses them by name
    return value if value.is_finite() else float(value)


_Loader.add_constructor("tag:yaml.org,2002:float", _decimal)


def _duplicate_keys(node: yaml.Node, where: str = "") -> Iterator[tuple[int, str]]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                yield node_line(key_node), f"{where}{key}: duplicate key"
            seen.add(key)
            yield from _duplicate_keys(value_node, f"{where}{key}.")
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicate_keys(item, f"{where}{i}.")


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "missing" and error["loc"] == ("source",):
        message = (
            "missing: a parameter file must cite its source (the DOF date and article, or the "
            "publication); this one has none, so it is refused"
        )
    elif error["type"] == "extra_forbidden":
        message = "unknown key"
    else:
        message = str(error["msg"]).removeprefix("Value error, ")
        value = error.get("input")
        if error["type"] != "missing" and not isinstance(value, dict | list):
            message += f" (got {value})" if isinstance(value, Decimal) else f" (got {value!r})"
    return f"{where}: {message}" if where else message


def _fail(label: str, problems: list[tuple[int, str]]) -> ConfigError:
    lines = [f"{label}, line {line}: {what}" for line, what in sorted(problems)]
    return ConfigError("\n".join(lines))


def parse_params(text: str, label: str) -> ParameterFile:
    """Validate the YAML ``text`` of a parameter file; ``label`` names it in errors."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise _fail(label, [(1, "empty parameter file")])
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise _fail(label, [(line, f"not valid YAML: {exc.problem or exc}")]) from None
    finally:
        loader.dispose()
    duplicates = list(_duplicate_keys(root))
    if duplicates:
        raise _fail(label, duplicates)
    if not isinstance(data, dict):
        raise _fail(label, [(node_line(root), "a parameter file must be a mapping of keys")])
    kind = data.get("kind")
    model = KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        node = node_at(root, ("kind",))
        known = ", ".join(KINDS)
        what = (
            f"kind: unknown kind {kind!r}; expected one of {known}"
            if "kind" in data
            else (f"kind: missing; expected one of {known}")
        )
        raise _fail(label, [(node_line(node), what)])
    try:
        params = model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            node = node_at(root, loc, key=error["type"] == "extra_forbidden")
            problems.append((node_line(node), _describe(error)))
        raise _fail(label, problems) from None
    if params.example:
        warnings.warn(
            f"{label}: example parameters ({params.name} {params.version}): illustrative values, "
            "not for regulatory reporting",
            ExampleParametersWarning,
            stacklevel=3,
        )
    return params


def _resolve(file: str | Path) -> tuple[str, str]:
    """(text, label) of a path, or of a bundled file named without ``.yaml``."""
    if isinstance(file, str) and "/" not in file and not file.endswith((".yaml", ".yml")):
        bundled = resources.files("cobranza.provisions") / "params" / f"{file}.yaml"
        if not bundled.is_file():
            names = ", ".join(bundled_params())
            raise ConfigError(f"no bundled parameter file {file!r}; bundled: {names}")
        return bundled.read_text(encoding="utf-8"), str(bundled)
    path = Path(file)
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the parameter file: {exc.strerror}") from exc


def bundled_params() -> list[str]:
    """Names of the parameter files shipped with cobranza."""
    folder = resources.files("cobranza.provisions") / "params"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_params(file: str | Path) -> ParameterFile:
    """Load and validate a parameter file: a path, or a bundled name (``"socap_nivel_basico"``).

    Raises :class:`ConfigError` naming the file and line of every problem; warns with
    :class:`ExampleParametersWarning` when the file is an example.
    """
    text, label = _resolve(file)
    return parse_params(text, label)


def _load_kind(file: str | Path, model: type[P]) -> P:
    params = load_params(file)
    if not isinstance(params, model):
        expected = model.model_fields["kind"].annotation.__args__[0]  # type: ignore[union-attr]
        raise ConfigError(f"{_resolve(file)[1]}, line 1: kind is {params.kind!r}, "
                          f"expected {expected!r}")  # fmt: skip
    return params


def load_age_bands(file: str | Path = "socap_nivel_basico") -> AgeBandTable:
    """An age-band table (default: the bundled SOCAP "Nivel Básico" table)."""
    return _load_kind(file, AgeBandTable)


def load_ifrs9_staging(file: str | Path = "ifrs9_default") -> Ifrs9Staging:
    """IFRS 9 staging thresholds (default: 30 / 90 dpd)."""
    return _load_kind(file, Ifrs9Staging)


def load_cnbv_params(file: str | Path = "cnbv_consumer_example") -> CnbvConsumer:
    """CNBV consumer parameters (default: the bundled *example*, illustrative coefficients)."""
    return _load_kind(file, CnbvConsumer)
