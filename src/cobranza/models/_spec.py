"""The training spec: a versioned YAML file validated with pydantic, errors with file and line.

    name: pay_propensity
    target: pay
    source: {features: features/}          # a Parquet file or folder; or {uci: path/to.csv}
    variables: [dpd, max_dpd_6m, paid_ratio_3p]
    population: [{column: dpd, op: ">=", value: 1}]
    development: [2026-06-30, 2026-07-31]   # as-of dates (column as_of)
    out_of_time: [2026-09-30]
    registry: models/

Relative paths are read from the spec file's folder. Without ``development``/``out_of_time``
the rows are split at random (``holdout`` share, stratified on the target, ``random_state``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cobranza._errors import ConfigError
from cobranza._yaml_nodes import node_at, node_line

__all__ = [
    "Condition",
    "LightGBMParams",
    "ScorecardParams",
    "Source",
    "Thresholds",
    "TrainingSpec",
    "load_spec",
    "parse_spec",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where the rows come from: a features Parquet file/folder or the UCI CSV."""

    features: Path | None = None
    uci: Path | None = None

    @model_validator(mode="after")
    def _one(self) -> Source:
        if (self.features is None) == (self.uci is None):
            raise ValueError("give exactly one of features (Parquet) or uci (CSV)")
        return self


class Condition(_Strict):
    """One population condition: ``column op value`` (all conditions must hold)."""

    column: str
    op: Literal["==", "!=", ">", ">=", "<", "<=", "in", "not_null"]
    value: Any = None


class ScorecardParams(_Strict):
    pdo: float = Field(20.0, gt=0)
    odds: float = Field(50.0, gt=0)
    base_points: float = 600.0
    min_bin_size: float = Field(0.05, gt=0, lt=0.5)
    max_n_bins: int | None = Field(None, ge=2)
    C: float = Field(1.0, gt=0)


class LightGBMParams(_Strict):
    n_estimators: int = Field(60, ge=1, le=2000)
    learning_rate: float = Field(0.1, gt=0, le=1)
    num_leaves: int = Field(8, ge=2, le=256)
    min_child_samples: int = Field(200, ge=1)
    subsample: float = Field(0.8, gt=0, le=1)
    colsample_bytree: float = Field(0.7, gt=0, le=1)
    reg_lambda: float = Field(5.0, ge=0)
    random_state: int = 42
    num_threads: int = Field(1, ge=1)


class Thresholds(_Strict):
    """Pass/fail limits of the validation checks (on the out-of-time window)."""

    auc_min: float = Field(0.65, ge=0, le=1)
    ks_min: float = Field(0.20, ge=0, le=1)
    gini_drop_max: float = Field(0.15, ge=0, le=1)
    score_psi_max: float = Field(0.25, ge=0)
    csi_max: float = Field(0.25, ge=0)
    calibration_error_max: float = Field(0.05, ge=0, le=1)


class TrainingSpec(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    target: str
    source: Source | None = None
    variables: list[str] | None = None
    exclude: list[str] = []
    categorical: list[str] = []
    special_codes: dict[str, list[float | str]] = {}
    population: list[Condition] = []
    development: list[dt.date] | None = None
    out_of_time: list[dt.date] | None = None
    holdout: float = Field(0.3, gt=0, lt=1)
    random_state: int = 42
    bucket_column: str | None = None
    scorecard: ScorecardParams = ScorecardParams()
    lightgbm: LightGBMParams | None = LightGBMParams()
    thresholds: Thresholds = Thresholds()
    registry: Path | None = None
    description: str = ""

    @model_validator(mode="after")
    def _windows(self) -> TrainingSpec:
        if (self.development is None) != (self.out_of_time is None):
            raise ValueError("give both development and out_of_time as-of dates, or neither")
        if self.development is not None and self.out_of_time is not None:
            if not self.development or not self.out_of_time:
                raise ValueError("development and out_of_time need at least one as-of date")
            if max(self.development) >= min(self.out_of_time):
                raise ValueError("every out_of_time date must come after every development date")
        return self

    def resolve(self, base: Path) -> TrainingSpec:
        """The spec with relative paths read from ``base`` (the spec file's folder)."""

        def fix(path: Path | None) -> Path | None:
            return path if path is None or path.is_absolute() else base / path

        source = self.source
        if source is not None:
            source = Source(features=fix(source.features), uci=fix(source.uci))
        return self.model_copy(update={"source": source, "registry": fix(self.registry)})


def parse_spec(text: str, label: str = "spec") -> TrainingSpec:
    """Validate the YAML ``text`` of a training spec; ``label`` names it in errors."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise ConfigError(f"{label}, line 1: empty training spec")
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError(f"{label}, line {line}: not valid YAML: {exc.problem or exc}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError(f"{label}, line {node_line(root)}: a training spec is a mapping of keys")
    try:
        return TrainingSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            node = node_at(root, loc, key=error["type"] == "extra_forbidden")
            where = ".".join(str(p) for p in loc)
            what = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
            what = str(what).removeprefix("Value error, ")
            if error["type"] not in ("missing", "extra_forbidden") and not isinstance(
                error.get("input"), dict | list
            ):
                what += f" (got {error.get('input')!r})"
            problems.append((node_line(node), f"{where}: {what}" if where else what))
        raise ConfigError(
            "\n".join(f"{label}, line {line}: {what}" for line, what in sorted(problems))
        ) from None


def load_spec(path: str | Path) -> TrainingSpec:
    """Read and validate a training spec file; relative paths are read from its folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the training spec: {exc.strerror}") from None
    return parse_spec(text, str(path)).resolve(path.resolve().parent)
