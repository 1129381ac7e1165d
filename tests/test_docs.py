"""The documented contract and the executable one agree."""

from __future__ import annotations

from pathlib import Path

from cobranza.contract import TABLES

DOC = (Path(__file__).resolve().parents[1] / "docs" / "data-contract.md").read_text()


def test_every_contract_column_is_documented_with_its_table() -> None:
    for table in TABLES.values():
        section = DOC.split(f"### `{table.name}`", 1)[1].split("### ", 1)[0]
        for column in table.columns:
            assert f"| `{column.name}` |" in section, (table.name, column.name)
            for value in column.allowed or ():
                assert f"`{value}`" in section, (table.name, column.name, value)
