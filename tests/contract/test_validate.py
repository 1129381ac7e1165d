"""``validate``: every kind of contract violation, located by table, row, column and rule."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cobranza._errors import ContractError, InvalidPortfolio
from cobranza.contract import TABLES, _validate
from cobranza.contract._report import ValidationReport, Violation
from cobranza.contract._validate import RULES, load_valid, validate
from cobranza.engine import Engine

Rows = list[dict[str, str]]
Portfolio = dict[str, Rows]


def valid_portfolio() -> Portfolio:
    """2 customers, an installment loan and a revolving line, with every table filled in."""
    return {
        "customers": [
            dict(customer_id="C1", state="JAL", postal_code="44100", birth_date="1990-05-01",
                 monthly_income="25000.00", phone="3312345678", email="ana@example.com",
                 opt_out_channels="sms,email", do_not_contact="false"),
            dict(customer_id="C2", state="CMX", postal_code="06700", birth_date="",
                 monthly_income="18000", phone="", email="", opt_out_channels="",
                 do_not_contact=""),
        ],
        "loans": [
            dict(loan_id="L1", customer_id="C1", product="installment", opened_on="2026-01-15",
                 principal="3000.00", annual_rate="0.45", frequency="monthly", term="3",
                 cnbv_type="", written_off_on="", closed_on=""),
            dict(loan_id="L2", customer_id="C2", product="revolving", opened_on="2026-02-01",
                 principal="10000", annual_rate="0.6", frequency="monthly", term="",
                 cnbv_type="R", written_off_on="", closed_on=""),
        ],
        "installments": [
            dict(loan_id="L1", seq="1", due_date="2026-02-15", principal_due="1000.00",
                 interest_due="112.50", fees_due="0", statement_balance=""),
            dict(loan_id="L1", seq="2", due_date="2026-03-15", principal_due="1000.00",
                 interest_due="75.00", fees_due="", statement_balance=""),
            dict(loan_id="L1", seq="3", due_date="2026-04-15", principal_due="1000.00",
                 interest_due="37.50", fees_due="0.00", statement_balance=""),
            dict(loan_id="L2", seq="1", due_date="2026-03-01", principal_due="500.00",
                 interest_due="0", fees_due="0", statement_balance="4000.00"),
        ],
        "payments": [
            dict(payment_id="P1", loan_id="L1", paid_at="2026-02-14T10:00:00-06:00",
                 amount="1112.50", channel="spei", partner_id="", reference="REF1",
                 status="settled"),
            dict(payment_id="P2", loan_id="L1", paid_at="2026-03-15T05:30:00Z",
                 amount="1075.00", channel="oxxo", partner_id="OXXO", reference="",
                 status=""),
            dict(payment_id="P3", loan_id="L2", paid_at="2026-03-01 12:00:00",
                 amount="500", channel="card", partner_id="", reference="", status="pending"),
        ],
        "contacts": [
            dict(contact_id="K1", loan_id="L1", channel="sms",
                 attempted_at="2026-03-16T09:00:00-06:00", outcome="delivered", agent_id="",
                 cost="0.35"),
            dict(contact_id="K2", loan_id="L2", channel="call", attempted_at="2026-03-02T11:00",
                 outcome="right_party", agent_id="A7", cost=""),
        ],
        "promises": [
            dict(promise_id="R1", loan_id="L1", made_at="2026-03-16T09:05:00-06:00",
                 due_on="2026-03-20", amount="1075.00"),
        ],
    }  # fmt: skip


def write_csv(folder: Path, portfolio: Portfolio) -> Path:
    """One CSV per table; the header comes from the first row (or the contract if empty)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in portfolio.items():
        header = list(rows[0]) if rows else list(TABLES[name].names)
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, header)
            writer.writeheader()
            writer.writerows(rows)
    return folder


def write_parquet(folder: Path, portfolio: Portfolio) -> Path:
    """The portfolio as Parquet, with the types a data team's export would infer."""
    from pyarrow import csv as pacsv

    staging = write_csv(folder / "_csv", portfolio)
    folder.mkdir(parents=True, exist_ok=True)
    # Identifiers and codes stay text, as they must: inferring postal_code as a number
    # would drop the leading zero of 06700.
    text = dict.fromkeys(
        ["postal_code", "phone", "customer_id", "loan_id", "reference", "agent_id"], pa.string()
    )
    for name in portfolio:
        table = pacsv.read_csv(
            staging / f"{name}.csv", convert_options=pacsv.ConvertOptions(column_types=text)
        )
        pq.write_table(table, folder / f"{name}.parquet")
    return folder


def only(report: ValidationReport) -> Violation:
    """The single violation of a report that must hold exactly one."""
    assert report.total == 1, report.summary()
    (violation,) = report.violations
    return violation


def found(report: ValidationReport) -> set[tuple[str, int | None, str | None, str]]:
    return {(v.table, v.row, v.column, v.rule) for v in report.violations}


@pytest.fixture
def portfolio() -> Portfolio:
    return valid_portfolio()


def run(engine: Engine, tmp_path: Path, portfolio: Portfolio, **kw: int) -> ValidationReport:
    return validate(engine, write_csv(tmp_path / "book", portfolio), **kw)


# --- on both engines -------------------------------------------------------------------------


def test_valid_portfolio_is_ok(engine: Engine, tmp_path: Path, portfolio: Portfolio) -> None:
    report = run(engine, tmp_path, portfolio)
    assert report.ok, report.summary()
    assert report.total == 0
    assert report.violations == ()
    assert report.summary() == "The portfolio meets data contract v1: no violations."


def test_every_kind_of_rule_gives_the_same_report_on_both_engines(
    engine: Engine, duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio
) -> None:
    # Including values only one engine's cast would read: Spark takes '2026-02' for a date,
    # DuckDB '1.0' for an integer.
    portfolio["customers"][0]["opt_out_channels"] = "sms, fax"
    portfolio["customers"][1]["postal_code"] = "6700"
    portfolio["loans"][0]["customer_id"] = "C9"
    portfolio["loans"][1]["opened_on"] = "2026-02"
    portfolio["loans"][1]["annual_rate"] = "-0.1"
    portfolio["installments"][0]["seq"] = "1.0"
    portfolio["installments"][2]["due_date"] = "2026-03-01"
    portfolio["payments"][0]["paid_at"] = "2026-01-15T05:00:00Z"
    portfolio["payments"][1]["amount"] = "12,50"
    portfolio["payments"][2]["payment_id"] = "P1"
    portfolio["contacts"][0]["cost"] = "0.355"
    portfolio["promises"][0]["due_on"] = "2026-03-15"
    folder = write_csv(tmp_path / "book", portfolio)

    report = validate(engine, folder)

    assert found(report) == {
        ("customers", 1, "opt_out_channels", "allowed"),
        ("customers", 2, "postal_code", "pattern"),
        ("loans", 1, "customer_id", "reference"),
        ("loans", 2, "opened_on", "type"),
        ("loans", 2, "annual_rate", "minimum"),
        ("installments", 1, "seq", "type"),
        ("installments", 3, "due_date", "due_date_order"),
        ("payments", 1, "paid_at", "before_opened"),
        ("payments", 2, "amount", "type"),
        ("payments", 1, "payment_id", "duplicate_key"),
        ("payments", 3, "payment_id", "duplicate_key"),
        ("contacts", 1, "cost", "decimals"),
        ("promises", 1, "due_on", "due_before_made"),
    }
    assert report.total == 13
    if engine.name != "duckdb":
        assert report == validate(duckdb_engine, folder)


def test_type_violation_names_table_row_column_and_value(
    duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio
) -> None:
    portfolio["payments"][1]["amount"] = "12,50"
    violation = only(run(duckdb_engine, tmp_path, portfolio))
    assert violation == Violation(
        "payments", 2, "P2", "amount", "type", "'12,50' is not a decimal number"
    )
    assert str(violation) == (
        "payments row 2 (payment_id P2), column amount: '12,50' is not a decimal number"
    )


# --- folder and columns ----------------------------------------------------------------------


def test_folder_problems_raise_contract_error(duckdb_engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="portfolio folder not found"):
        validate(duckdb_engine, tmp_path / "nowhere")
    folder = write_csv(tmp_path / "book", valid_portfolio())
    (folder / "loans.csv").unlink()
    with pytest.raises(ContractError, match="required table loans is missing"):
        validate(duckdb_engine, folder)


def test_malformed_csv_raises_contract_error_naming_the_file(
    duckdb_engine: Engine, tmp_path: Path
) -> None:
    # Spark reads CSV permissively (a ragged line is cut or padded); DuckDB refuses it.
    folder = write_csv(tmp_path / "book", valid_portfolio())
    with (folder / "payments.csv").open("a") as fh:
        fh.write("P4,L1,2026-03-01,5.00,spei,,,settled,EXTRA\n")
    with pytest.raises(ContractError, match=r"payments\.csv: cannot be read"):
        validate(duckdb_engine, folder)


def test_missing_required_column(
    duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio
) -> None:
    for row in portfolio["payments"]:
        row["Amount"] = row.pop("amount")  # a header that differs in case only
    violation = only(run(duckdb_engine, tmp_path, portfolio))
    assert (violation.table, violation.row, violation.key) == ("payments", None, None)
    assert (violation.column, violation.rule) == ("amount", "missing_column")
    assert violation.message == (
        "required column is missing from payments.csv "
        "(found 'Amount': names are lower case, without spaces)"
    )


def test_optional_columns_may_be_absent_and_unknown_ones_are_ignored(
    duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio
) -> None:
    for name, rows in portfolio.items():
        table = TABLES[name]
        for row in rows:
            for column in table.columns:
                if not column.required:
                    row.pop(column.name)
            row["notes"] = "anything at all"
    # Without term the installment loan breaks term_required, and only that.
    violation = only(run(duckdb_engine, tmp_path, portfolio))
    assert (violation.table, violation.row, violation.rule) == ("loans", 1, "term_required")


def test_empty_tables_are_valid(duckdb_engine: Engine, tmp_path: Path) -> None:
    portfolio: Portfolio = {name: [] for name in ("customers", "loans", "installments", "payments")}
    assert run(duckdb_engine, tmp_path, portfolio).ok


# --- one rule at a time ----------------------------------------------------------------------


def test_type(duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio) -> None:
    portfolio["customers"][0]["do_not_contact"] = "si"
    portfolio["customers"][1]["monthly_income"] = "1.234,56"
    portfolio["customers"][1]["birth_date"] = "15/01/1990"
    portfolio["loans"][0]["opened_on"] = "2026-13-01"
    portfolio["loans"][0]["term"] = "99999999999"
    portfolio["loans"][1]["annual_rate"] = "45%"
    portfolio["installments"][1]["seq"] = "2.0"
    portfolio["payments"][0]["paid_at"] = "2026-04-01T24:00:00"
    portfolio["payments"][1]["amount"] = "1e3"
    report = run(duckdb_engine, tmp_path, portfolio)
    messages = {(v.table, v.row, v.column): v.message for v in report.violations}
    assert messages == {
        ("customers", 1, "do_not_contact"): "'si' is not true or false",
        ("customers", 2, "monthly_income"): "'1.234,56' is not a decimal number",
        ("customers", 2, "birth_date"): "'15/01/1990' is not a valid date (YYYY-MM-DD)",
        ("loans", 1, "opened_on"): "'2026-13-01' is not a valid date (YYYY-MM-DD)",
        ("loans", 1, "term"): "'99999999999' is out of range",
        ("loans", 2, "annual_rate"): "'45%' is not a decimal number",
        ("installments", 2, "seq"): "'2.0' is not a whole number",
        ("payments", 1, "paid_at"): (
            "'2026-04-01T24:00:00' is not a valid timestamp (ISO 8601, like "
            "2026-04-01T05:30:00-06:00)"
        ),
        ("payments", 2, "amount"): "'1e3' is not a decimal number",
    }
    assert {v.rule for v in report.violations} == {"type"}
    assert report.total == len(messages)


def test_accepted_spellings(duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio) -> None:
    # ISO 8601 with or without an offset (without: Mexico City time), or a bare date.
    spellings = [
        ("2026-04-01T05:30:00Z", "1075"),
        ("2026-04-01T05:30:00-06:00", "1075.5"),
        ("2026-04-01T05:30:00", " 1075.50 "),
        ("2026-04-01T05:30:00.123+0000", "1075.500"),
        ("2026-04-01 05:30", "+1075.00"),
        ("2026-04-01", ".5"),
    ]
    portfolio["payments"] = [
        dict(portfolio["payments"][0], payment_id=f"P{i}", paid_at=paid_at, amount=amount)
        for i, (paid_at, amount) in enumerate(spellings)
    ]
    for flag in ("TRUE", "False", "1", "0", "yes", "n"):
        row = dict(portfolio["customers"][1], customer_id=f"C-{flag}", do_not_contact=flag)
        portfolio["customers"].append(row)
    report = run(duckdb_engine, tmp_path, portfolio)
    assert report.ok, report.summary()


def test_decimals(duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio) -> None:
    portfolio["payments"][2]["amount"] = "500.005"
    portfolio["payments"][1]["amount"] = "1075.000"  # exact, however written
    violation = only(run(duckdb_engine, tmp_path, portfolio))
    assert violation == Violation(
        "payments", 3, "P3", "amount", "decimals", "'500.005' has more than 2 decimal places"
    )


def test_required(duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio) -> None:
    portfolio["loans"][1]["customer_id"] = "   "
    portfolio["installments"][0]["interest_due"] = ""
    report = run(duckdb_engine, tmp_path, portfolio)
    # A missing id is reported once: not also as a reference to nothing.
    assert found(report) == {
        ("loans", 2, "customer_id", "required"),
        ("installments", 1, "interest_due", "required"),
    }
    assert {v.message for v in report.violations} == {"a value is required"}


def test_allowed(duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio) -> None:
    portfolio["payments"][0]["channel"] = "SPEI"
    violation = only(run(duckdb_engine, tmp_path, portfolio))
    assert (violation.table, violation.row, violation.column) == ("payments", 1, "channel")
    assert violation.rule == "allowed"
    assert violation.message == (
        "'SPEI' is not one of spei, oxxo, card, direct_debit, codi, cash, other"
    )


def test_allowed_items_of_a_list(
    duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio
) -> None:
    portfolio["customers"][0]["opt_out_channels"] = "sms, fax,,email"
    portfolio["customers"][1]["opt_out_channels"] = "whatsapp, call"
    violation = only(run(duckdb_engine, tmp_path, portfolio))
    assert (violation.table, violation.row, violation.rule) == ("customers", 1, "allowed")
    assert violation.column == "opt_out_channels"
    assert violation.message.startswith("'sms, fax,,email': 'fax' is not one of sms, email,")


def test_pattern(duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio) -> None:
    portfolio["customers"][1]["postal_code"] = "6700"  # the leading zero lost
    violation = only(run(duckdb_engine, tmp_path, portfolio))
    assert violation == Violation(
        "customers",
        2,
        "C2",
        "postal_code",
        "pattern",
        "'6700' does not match the pattern [0-9]{5}",
    )


def test_minimum(duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio) -> None:
    portfolio["payments"][0]["amount"] = "0"
    portfolio["loans"][0]["principal"] = "0.00"
    portfolio["loans"][0]["term"] = "0"
    portfolio["loans"][1]["annual_rate"] = "-0.01"
    portfolio["installments"][3]["seq"] = "0"
    portfolio["installments"][0]["interest_due"] = "-1"
    portfolio["installments"][1]["fees_due"] = "0"  # dues may be zero
    report = run(duckdb_engine, tmp_path, portfolio)
    messages = {(v.table, v.row, v.column): v.message for v in report.violations}
    assert messages == {
        ("payments", 1, "amount"): "'0' must be greater than 0",
        ("loans", 1, "principal"): "'0.00' must be greater than 0",
        ("loans", 1, "term"): "'0' must be at least 1",
        ("loans", 2, "annual_rate"): "'-0.01' must be at least 0",
        ("installments", 4, "seq"): "'0' must be at least 1",
        ("installments", 1, "interest_due"): "'-1' must be at least 0",
    }
    assert {v.rule for v in report.violations} == {"minimum"}


def test_duplicate_key(duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio) -> None:
    portfolio["payments"][2]["payment_id"] = "P1"
    portfolio["installments"].append(dict(portfolio["installments"][1]))  # (L1, 2) again
    report = run(duckdb_engine, tmp_path, portfolio)
    # Every row of a repeated key is reported, the first one too.
    assert found(report) == {
        ("payments", 1, "payment_id", "duplicate_key"),
        ("payments", 3, "payment_id", "duplicate_key"),
        ("installments", 2, "loan_id, seq", "duplicate_key"),
        ("installments", 5, "loan_id, seq", "duplicate_key"),
    }
    assert report.counts == {
        ("installments", "loan_id, seq", "duplicate_key"): 2,
        ("payments", "payment_id", "duplicate_key"): 2,
    }
    last = report.violations[1]
    assert (last.row, last.key) == (5, "L1/2")
    assert last.message == "the key is not unique: 2 rows have it (the first is row 2)"
    assert str(last).startswith("installments row 5 (loan_id/seq L1/2), column loan_id, seq:")


def test_reference(duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio) -> None:
    portfolio["loans"][0]["customer_id"] = "C9"
    portfolio["payments"][2]["loan_id"] = "L9"
    report = run(duckdb_engine, tmp_path, portfolio)
    assert report.violations == (
        Violation("loans", 1, "L1", "customer_id", "reference",
                  "'C9' is not a customer_id in customers"),
        Violation("payments", 3, "P3", "loan_id", "reference", "'L9' is not a loan_id in loans"),
    )  # fmt: skip


def test_term_required(duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio) -> None:
    portfolio["loans"][0]["term"] = ""  # the revolving line L2 has none either, rightly
    violation = only(run(duckdb_engine, tmp_path, portfolio))
    assert (violation.table, violation.row, violation.key) == ("loans", 1, "L1")
    assert (violation.column, violation.rule) == ("term", "term_required")


def test_written_off_or_closed_before_opened(
    duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio
) -> None:
    portfolio["loans"][0]["written_off_on"] = "2026-01-14"
    portfolio["loans"][1]["closed_on"] = "2026-01-31"
    portfolio["loans"][1]["written_off_on"] = "2026-02-01"  # the same day is fine
    report = run(duckdb_engine, tmp_path, portfolio)
    assert report.violations == (
        Violation("loans", 1, "L1", "written_off_on", "before_opened",
                  "'2026-01-14' is before the loan was opened (2026-01-15)"),
        Violation("loans", 2, "L2", "closed_on", "before_opened",
                  "'2026-01-31' is before the loan was opened (2026-02-01)"),
    )  # fmt: skip


def test_paid_before_opened(duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio) -> None:
    # 05:00 UTC on the 15th is still the 14th in Mexico City; 06:00 UTC is the 15th.
    portfolio["payments"][0]["paid_at"] = "2026-01-15T05:00:00Z"
    portfolio["payments"][1]["paid_at"] = "2026-01-15T06:00:00Z"
    violation = only(run(duckdb_engine, tmp_path, portfolio))
    assert violation == Violation(
        "payments",
        1,
        "P1",
        "paid_at",
        "before_opened",
        "paid on 2026-01-14 (Mexico City date), before the loan was opened (2026-01-15)",
    )


def test_due_date_order(duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio) -> None:
    portfolio["installments"][2]["due_date"] = "2026-03-15"  # the same as installment 2
    violation = only(run(duckdb_engine, tmp_path, portfolio))
    assert (violation.table, violation.row, violation.key) == ("installments", 3, "L1/3")
    assert (violation.column, violation.rule) == ("due_date", "due_date_order")
    assert violation.message == (
        "'2026-03-15' is not after the due date of installment 2 (2026-03-15)"
    )


def test_no_installments(duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio) -> None:
    # Neither loan has a schedule; only the installment loan needs one.
    portfolio["installments"] = []
    violation = only(run(duckdb_engine, tmp_path, portfolio))
    assert violation == Violation(
        "loans",
        1,
        "L1",
        None,
        "no_installments",
        "an installment loan without any row in installments",
    )


def test_promise_due_before_made(
    duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio
) -> None:
    portfolio["promises"].append(
        # Made at 21:00 on the 16th in Mexico City, due the same day: fine.
        dict(promise_id="R2", loan_id="L2", made_at="2026-03-17T03:00:00Z",
             due_on="2026-03-16", amount="100")
    )  # fmt: skip
    portfolio["promises"][0]["due_on"] = "2026-03-15"
    violation = only(run(duckdb_engine, tmp_path, portfolio))
    assert violation == Violation(
        "promises",
        1,
        "R1",
        "due_on",
        "due_before_made",
        "'2026-03-15' is before the day the promise was made (2026-03-16)",
    )


# --- inputs and output -----------------------------------------------------------------------


def test_parquet_portfolio(duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio) -> None:
    assert validate(duckdb_engine, write_parquet(tmp_path / "ok", portfolio)).ok
    portfolio["payments"][1]["amount"] = "1075.005"  # a double in Parquet
    portfolio["loans"][1]["principal"] = "-5"  # an integer column in Parquet
    report = validate(duckdb_engine, write_parquet(tmp_path / "bad", portfolio))
    assert found(report) == {
        ("loans", 2, "principal", "minimum"),
        ("payments", 2, "amount", "decimals"),
    }


def test_cap_keeps_a_few_examples_and_the_full_count(
    duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio
) -> None:
    bad = [
        dict(portfolio["payments"][0], payment_id=f"X{i}", amount="12,50", channel="SPEI")
        for i in range(300)
    ]
    portfolio["payments"] += bad
    report = run(duckdb_engine, tmp_path, portfolio, cap=7, examples_per_rule=5)
    assert report.counts == {
        ("payments", "amount", "type"): 300,
        ("payments", "channel", "allowed"): 300,
    }
    assert report.total == 600
    # Examples are the first rows of the file, per check, until the cap.
    assert [(v.column, v.row) for v in report.violations] == [
        ("amount", 4), ("amount", 5), ("amount", 6), ("amount", 7), ("amount", 8),
        ("channel", 4), ("channel", 5),
    ]  # fmt: skip
    summary = report.summary()
    assert "600 violations of 2 checks" in summary
    assert "payments.amount [type]: 300 violations" in summary
    assert "… and 295 more" in summary
    assert "… and 298 more" in summary


def test_personal_data_is_never_fetched_or_shown(
    duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The contract has no format for phones yet; give it one to have something to break.
    customers = TABLES["customers"]
    phone = replace(customers.column("phone"), pattern="[0-9]{10}")
    columns = tuple(phone if c.name == "phone" else c for c in customers.columns)
    monkeypatch.setitem(_validate.TABLES, "customers", replace(customers, columns=columns))
    secret = "55-SECRET-99"
    portfolio["customers"][0]["phone"] = secret
    fetched: list[pa.Table] = []
    fetch = duckdb_engine.fetch

    def spy(expr: object, limit: int | None = None) -> pa.Table:
        fetched.append(result := fetch(expr, limit))  # type: ignore[arg-type]
        return result

    monkeypatch.setattr(duckdb_engine, "fetch", spy)
    report = run(duckdb_engine, tmp_path, portfolio)

    violation = only(report)
    assert (violation.table, violation.row, violation.column) == ("customers", 1, "phone")
    assert violation.message == "the value does not match the pattern [0-9]{10}"
    shown = [report.summary(), json.dumps(report.to_dict()), *map(str, fetched)]
    assert not any(secret in text for text in shown)


def test_report_to_dict_and_invalid_portfolio(
    duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio
) -> None:
    portfolio["payments"][1]["amount"] = "12,50"
    report = run(duckdb_engine, tmp_path, portfolio)
    assert json.loads(json.dumps(report.to_dict())) == {
        "ok": False,
        "total": 1,
        "counts": [{"table": "payments", "column": "amount", "rule": "type", "count": 1}],
        "violations": [
            {"table": "payments", "row": 2, "key": "P2", "column": "amount", "rule": "type",
             "message": "'12,50' is not a decimal number"},
        ],
    }  # fmt: skip
    assert str(InvalidPortfolio(report)) == (
        "The portfolio breaks data contract v1: 1 violation of 1 check.\n"
        "payments.amount [type]: 1 violation\n"
        "  payments row 2 (payment_id P2), column amount: '12,50' is not a decimal number"
    )
    assert set(RULES) >= {rule for _, _, rule in report.counts}


def test_load_valid_loads_a_valid_book_and_refuses_an_invalid_one(
    duckdb_engine: Engine, tmp_path: Path, portfolio: Portfolio
) -> None:
    tables = load_valid(duckdb_engine, write_csv(tmp_path / "good", portfolio))
    assert duckdb_engine.fetch(tables["loans"].select("loan_id")).column(0).to_pylist() == [
        "L1",
        "L2",
    ]

    portfolio["payments"][0]["loan_id"] = "L9"
    with pytest.raises(InvalidPortfolio) as raised:
        load_valid(duckdb_engine, write_csv(tmp_path / "bad", portfolio))
    (violation,) = raised.value.report.violations
    assert (violation.table, violation.row, violation.column, violation.rule) == (
        "payments", 1, "loan_id", "reference",
    )  # fmt: skip
