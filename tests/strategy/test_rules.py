"""The segment-rule language: parsing, errors, SQL and Python agreeing, overlap analysis."""

from __future__ import annotations

import itertools
from decimal import Decimal

import ibis
import pyarrow as pa
import pytest

from cobranza.engine import Engine
from cobranza.strategy import RuleError, overlap_report, parse_rule

COLUMNS = {
    "dpd": "number", "past_due_amount": "number", "product": "string", "p_pay": "number",
    "vip": "boolean", "last_contact_outcome": "string", "rpc_30d": "number",
}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        ("dpd between 1 and 29", {"dpd": 29}, True),
        ("dpd between 1 and 29", {"dpd": 30}, False),
        ("1 <= dpd <= 29", {"dpd": 1}, True),
        ("1 <= dpd < 29", {"dpd": 29}, False),
        ("dpd not between 1 and 29", {"dpd": 0}, True),
        ("product in ['revolving', 'installment']", {"product": "revolving"}, True),
        ("product not in ['revolving']", {"product": "installment"}, True),
        ("past_due_amount >= 1500.50", {"past_due_amount": Decimal("1500.50")}, True),
        ("not (dpd > 5 or vip)", {"dpd": 3, "vip": False}, True),
        ("vip = true and dpd >= 1", {"vip": True, "dpd": 1}, True),
        ("p_pay is null", {"p_pay": None}, True),
        ("p_pay is not null and p_pay > 0.5", {"p_pay": 0.7}, True),
        ("p_pay > 0.5", {"p_pay": None}, False),  # unknown does not match
        ("not p_pay > 0.5", {"p_pay": None}, False),  # not unknown is unknown
        ("p_pay > 0.5 or dpd = 3", {"p_pay": None, "dpd": 3}, True),
        ("last_contact_outcome == 'promise'", {"last_contact_outcome": "promise"}, True),
        ("dpd <> 3", {"dpd": 4}, True),
        ("DPD BETWEEN 1 AND 2".replace("DPD", "dpd"), {"dpd": 2}, True),
    ],
)
def test_python_predicate(text: str, row: dict, expected: bool) -> None:
    assert parse_rule(text, COLUMNS).to_python()(row) is expected


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("dpd > 3 and balance < 5", "unknown column 'balance'", 12),
        ("dpd >", "expected a column or a value, found end of rule", 5),
        ("dpd between 1 29", "expected 'and'", 14),
        ("product > 3", "cannot compare a string with a number", 0),
        ("dpd = 'x'", "cannot compare a number with a string", 0),
        ("dpd in [1, 'a']", "list value 'a' is not a number", 0),
        ("(dpd > 1", "expected ')'", 8),
        ("dpd", "'dpd' is not a condition", 0),
        ("dpd = null", "is null", 0),
        ("__import__('os')", "unexpected '('", 10),
        ("dpd > 1; drop table x", "unexpected character ';'", 7),
        ("", "empty rule", 0),
    ],
)
def test_errors_name_the_problem(text: str, message: str, offset: int) -> None:
    with pytest.raises(RuleError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        parse_rule(text, COLUMNS)
    assert info.value.offset == offset


def test_columns_are_listed_in_order() -> None:
    rule = parse_rule("product = 'x' and (dpd > 3 or product = 'y')", COLUMNS)
    assert rule.columns == ("product", "dpd")


RULES = [
    "dpd between 1 and 29 and past_due_amount >= 2000",
    "dpd >= 30 or product = 'revolving'",
    "not (p_pay > 0.25) and vip",
    "p_pay is null or dpd in [3, 5, 7]",
    "1 <= dpd < 10 and not product in ['installment']",
    "vip = false and rpc_30d = 0",
]


def test_sql_and_python_agree_on_every_row(engine: Engine) -> None:
    """Every rule, evaluated by the engine and in Python, on a grid that includes nulls."""
    values = {
        "dpd": [None, 0, 1, 3, 9, 10, 29, 30],
        "past_due_amount": [None, Decimal("1999.99"), Decimal("2000.00")],
        "product": [None, "revolving", "installment"],
        "p_pay": [None, 0.25, 0.2500001, 0.9],
        "vip": [None, True, False],
    }
    rows = [dict(zip(values, combo, strict=True)) for combo in itertools.product(*values.values())]
    for i, row in enumerate(rows):
        row.update(id=i, last_contact_outcome=None, rpc_30d=i % 2)
    schema = pa.schema([
        ("id", pa.int64()), ("dpd", pa.int32()), ("past_due_amount", pa.decimal128(18, 2)),
        ("product", pa.string()), ("p_pay", pa.float64()), ("vip", pa.bool_()),
        ("last_contact_outcome", pa.string()), ("rpc_30d", pa.int64()),
    ])  # fmt: skip
    engine.register_arrow("rule_rows", pa.Table.from_pylist(rows, schema=schema))
    table = engine.table("rule_rows")
    rules = [parse_rule(text, COLUMNS) for text in RULES]
    expr = table.select(
        "id", **{f"r{i}": r.to_ibis(table).fill_null(False) for i, r in enumerate(rules)}
    ).order_by("id")
    got = engine.fetch(expr).to_pylist()
    for row, sql in zip(rows, got, strict=True):
        for i, rule in enumerate(rules):
            assert sql[f"r{i}"] is rule.to_python()(row), (RULES[i], row)


def test_overlap_report_finds_unreachable_and_ambiguous_segments() -> None:
    def rules(*texts: str) -> list:
        return [(f"s{i}", parse_rule(t, COLUMNS)) for i, t in enumerate(texts)]

    ints = {"dpd", "rpc_30d"}
    # Specific before general: the first-match idiom, no warning.
    assert overlap_report(rules("dpd >= 90 and past_due_amount >= 5000", "dpd >= 90"),
                          COLUMNS, integers=ints) == []  # fmt: skip
    # A later segment inside an earlier one never matches.
    found = overlap_report(rules("dpd >= 30", "dpd between 40 and 50"), COLUMNS, integers=ints)
    assert found == ["segment 's1' is unreachable: earlier segments take every case"]
    # Two segments sharing some accounts, each with accounts of its own: ambiguous order.
    found = overlap_report(
        rules("dpd between 1 and 29 and product = 'revolving'",
              "dpd between 1 and 29 and past_due_amount >= 2000"),
        COLUMNS, integers=ints,
    )  # fmt: skip
    assert len(found) == 1 and "'s1' overlaps earlier segment 's0'" in found[0]
    # Integer gaps hold no account: dpd 29.5 does not exist, so these do not overlap.
    assert overlap_report(rules("dpd <= 29", "dpd >= 30"), COLUMNS, integers=ints) == []


def test_quotes_in_strings_stay_data() -> None:
    rule = parse_rule("product = 'a\\'b' or product = \"x\"", COLUMNS)
    assert rule.to_python()({"product": "a'b"}) and rule.to_python()({"product": "x"})
    table = ibis.table({"product": "string"}, name="t")
    sql = ibis.to_sql(table.filter(rule.to_ibis(table)), dialect="duckdb")
    assert "'a''b'" in sql  # a literal, escaped by the compiler; nothing is evaluated
