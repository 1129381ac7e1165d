"""Training specs: errors name the file and the line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cobranza._errors import ConfigError
from cobranza.models import load_spec

GOOD = """\
name: pay_propensity
target: pay
source: {features: features.parquet}
variables: [dpd, paid_ratio]
population:
  - {column: dpd, op: ">=", value: 1}
development: [2026-06-30, 2026-07-31]
out_of_time: [2026-09-30]
registry: models
"""


def test_a_good_spec_resolves_paths_from_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(GOOD)
    spec = load_spec(path)
    assert spec.source is not None and spec.source.features == tmp_path / "features.parquet"
    assert spec.registry == tmp_path / "models"
    assert spec.development == [dt.date(2026, 6, 30), dt.date(2026, 7, 31)]
    assert spec.population[0].op == ">="


@pytest.mark.parametrize(
    ("old", "new", "line", "what"),
    [
        ("    - {column: dpd, op: \">=\", value: 1}", "  - {column: dpd, op: \"~\", value: 1}",
         6, "population.0.op"),
        ("registry: models", "registry: models\nlearning_rate: 0.1", 10,
         "learning_rate: unknown key"),
        ("out_of_time: [2026-09-30]", "out_of_time: [2026-07-01]", 1,
         "every out_of_time date must come after"),
        ("name: pay_propensity", "name: Pay Propensity", 1, "name: String should match"),
        ("variables: [dpd, paid_ratio]", "variables: [dpd, paid_ratio", 5, "not valid YAML"),
    ],
)  # fmt: skip
def test_errors_name_the_file_and_line(
    tmp_path: Path, old: str, new: str, line: int, what: str
) -> None:
    path = tmp_path / "spec.yaml"
    text = GOOD.replace("  - {column: dpd", "    - {column: dpd")
    assert old in text
    path.write_text(text.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_spec(path)
    message = str(info.value)
    assert f"{path}, line {line}:" in message, message
    assert what in message, message
