"""Parameter files: validated, sourced, and every error names the file and the line."""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal
from pathlib import Path

import pytest

from cobranza._errors import ConfigError
from cobranza.provisions import (
    AgeBandTable,
    CnbvConsumer,
    ExampleParametersWarning,
    Ifrs9Ecl,
    Ifrs9Staging,
    ProvisionMatrixRates,
    bundled_params,
    load_age_bands,
    load_ifrs9_staging,
    load_params,
)

GOOD = """\
kind: age_bands
name: test_table
version: "1"
example: false
source:
  dof_date: 2012-06-04
  article: Artículo 1
base: balance
bands:
  - {from_dpd: 0, to_dpd: 30, rate: 0.05}
  - {from_dpd: 31, to_dpd: null, rate: 1}
"""


def write(tmp_path: Path, text: str, name: str = "table.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_files_load() -> None:
    assert bundled_params() == [
        "cnbv_consumer_example", "ifrs9_default", "ifrs9_ecl_example", "provision_matrix_example",
        "rollrate_example", "socap_nivel_basico",
    ]  # fmt: skip
    socap = load_age_bands()
    assert isinstance(socap, AgeBandTable) and socap.example is False
    assert socap.source.dof_date == dt.date(2012, 6, 4)
    assert [b.rate for b in socap.bands] == [
        Decimal(x) for x in ("0.01", "0.02", "0.10", "0.20", "0.40", "0.70", "0.85", "1.00")
    ]
    staging = load_ifrs9_staging()
    assert isinstance(staging, Ifrs9Staging)
    assert (staging.stage2_after_dpd, staging.stage3_from_dpd) == (30, 90)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExampleParametersWarning)
        assert isinstance(load_params("cnbv_consumer_example"), CnbvConsumer)
        ecl = load_params("ifrs9_ecl_example")
        assert isinstance(ecl, Ifrs9Ecl) and ecl.pd is not None and ecl.pd.keys() == ecl.lgd.keys()
        rollrate = load_params("rollrate_example")
        assert isinstance(rollrate, Ifrs9Ecl) and rollrate.pd is None and rollrate.pd_months == 12
        matrix = load_params("provision_matrix_example")
        assert isinstance(matrix, ProvisionMatrixRates)
        assert matrix.loss_rates["current"] == Decimal("0.02")
        assert all(load_params(n).example for n in ("ifrs9_ecl_example", "rollrate_example"))


def test_a_good_file_loads_numbers_as_exact_decimals(tmp_path: Path) -> None:
    table = load_age_bands(write(tmp_path, GOOD))
    assert table.bands[0].rate == Decimal("0.05")  # not the float 0.05000000000000000277
    assert str(table.bands[0].rate) == "0.05"


def test_a_file_without_source_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    text = GOOD.replace("source:\n  dof_date: 2012-06-04\n  article: Artículo 1\n", "")
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_params(path)
    message = str(error.value)
    assert message.startswith(f"{path}, line 1: source: missing")
    assert "must cite its source" in message


def test_a_source_without_a_citation_is_refused(tmp_path: Path) -> None:
    # A DOF date alone is not enough: the article, or the publication, is needed.
    text = GOOD.replace("  article: Artículo 1\n", "  note: trust me\n")
    with pytest.raises(ConfigError, match=r"line 6: source: a source must give the DOF date"):
        load_params(write(tmp_path, text))


def test_an_unknown_key_names_its_line(tmp_path: Path) -> None:
    text = GOOD.replace("base: balance\n", "base: balance\nbnads: []\n")
    with pytest.raises(ConfigError, match=r"table\.yaml, line 9: bnads: unknown key"):
        load_params(write(tmp_path, text))


def test_a_wrong_value_names_its_line(tmp_path: Path) -> None:
    text = GOOD.replace("rate: 1}", "rate: 1.5}")
    with pytest.raises(ConfigError) as error:
        load_params(write(tmp_path, text))
    assert "line 11: bands.1.rate: Input should be less than or equal to 1" in str(error.value)
    assert "(got 1.5)" in str(error.value)


def test_several_errors_are_all_reported_in_line_order(tmp_path: Path) -> None:
    text = GOOD.replace('version: "1"', "version: [1]").replace("rate: 0.05", "rate: -1")
    with pytest.raises(ConfigError) as error:
        load_params(write(tmp_path, text))
    lines = str(error.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        f"{tmp_path / 'table.yaml'}, line 3",
        f"{tmp_path / 'table.yaml'}, line 10",
    ]


def test_gaps_in_the_bands_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace("from_dpd: 31", "from_dpd: 40")
    with pytest.raises(ConfigError, match="line 10: bands: band 1 starts at 40 dpd"):
        load_params(write(tmp_path, text))


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace("base: balance\n", "base: balance\nbase: balance_plus_interest\n")
    with pytest.raises(ConfigError, match=r"line 9: base: duplicate key"):
        load_params(write(tmp_path, text))


def test_broken_yaml_names_its_line(tmp_path: Path) -> None:
    text = GOOD.replace("  - {from_dpd: 31", "  - {from_dpd: 31,,")
    with pytest.raises(ConfigError, match=r"line 11: not valid YAML"):
        load_params(write(tmp_path, text))


def test_unknown_or_missing_kind(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"line 1: kind: unknown kind 'tables'"):
        load_params(write(tmp_path, GOOD.replace("kind: age_bands", "kind: tables")))
    with pytest.raises(ConfigError, match=r"line 1: kind: missing"):
        load_params(write(tmp_path, GOOD.replace("kind: age_bands\n", "")))
    with pytest.raises(ConfigError, match="kind is 'age_bands', expected 'ifrs9_staging'"):
        load_ifrs9_staging(write(tmp_path, GOOD))


def test_unreadable_or_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the parameter file"):
        load_params(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="no bundled parameter file 'nope'"):
        load_params("nope")
    with pytest.raises(ConfigError, match="line 1: empty parameter file"):
        load_params(write(tmp_path, "# nothing\n"))
    with pytest.raises(ConfigError, match="line 1: a parameter file must be a mapping"):
        load_params(write(tmp_path, "- 1\n- 2\n"))


def test_config_errors_are_value_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"table\.yaml"):
        load_params(write(tmp_path, GOOD.replace("base: balance", "base: everything")))


def test_ifrs9_thresholds_must_be_ordered(tmp_path: Path) -> None:
    text = """\
kind: ifrs9_staging
name: bad
version: "1"
example: false
source: {publication: IFRS 9}
stage2_after_dpd: 90
stage3_from_dpd: 30
"""
    with pytest.raises(ConfigError, match="line 1: stage3_from_dpd \\(30\\) must be greater"):
        load_params(write(tmp_path, text))


def test_cnbv_file_errors_point_inside_the_models(tmp_path: Path) -> None:
    bundled = Path(__file__).parents[2] / "src/cobranza/provisions/params"
    text = (bundled / "cnbv_consumer_example.yaml").read_text(encoding="utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "pi_one_from_atr: 8" in t)
    broken = text.replace("pi_one_from_atr: 8", "pi_one_from_atr: zero")
    with pytest.raises(ConfigError, match=f"line {line}: non_revolving.models.biweekly"):
        load_params(write(tmp_path, broken))
