"""``cobranza features``: a Parquet file with the catalog, atomically; clear errors."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cobranza.cli import app
from cobranza.features import CATALOG, TARGET_COLUMNS
from cobranza.synthetic import generate


@pytest.fixture(scope="module")
def small_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("cli") / "book", 120, 5)


def test_features_command_writes_the_catalog(small_book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "features.parquet"
    args = ["features", "--data", str(small_book), "--as-of", "2026-08-31", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column_names == ["loan_id", "as_of", "customer_id", *CATALOG]
    loan_ids = table["loan_id"].to_pylist()
    assert loan_ids == sorted(loan_ids) and len(set(loan_ids)) == len(loan_ids) > 50
    assert [p.name for p in out.parent.iterdir()] == ["features.parquet"]  # no leftovers

    with_targets = tmp_path / "with_targets.parquet"
    result = CliRunner().invoke(app, [*args[:-1], str(with_targets), "--targets"])
    assert result.exit_code == 0, result.output
    both = pq.read_table(with_targets)
    assert both.column_names == [*table.column_names, *TARGET_COLUMNS[2:]]
    assert both.select(table.column_names).equals(table)
    # Targets are defined for the delinquent loans (dpd > 0) only, except roll.
    rows = both.to_pylist()
    assert all((r["pay"] is None) == (r["dpd"] == 0) for r in rows)
    assert all(r["roll"] is not None for r in rows)


def test_features_command_on_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "features.parquet"
    args = ["features", "--data", str(tmp_path / "nope"), "--as-of", "2026-08-31",
            "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "not found" in result.output and "Traceback" not in result.output
    assert not out.exists()
