"""Tests of the synthetic portfolio generator (small books, a few seconds in all)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from cobranza.synthetic import _write, generate
from cobranza.synthetic._arrow import decimal_from_units

AS_OF = dt.date(2026, 10, 31)
LOANS = 2_000
SEED = 7
FILES = ("customers", "loans", "installments", "payments", "contacts", "promises")
MONEY = pa.decimal128(18, 2)
UTC = pa.timestamp("us", tz="UTC")
STATES = {
    "AGU", "BCN", "BCS", "CAM", "CHP", "CHH", "CMX", "COA", "COL", "DUR", "GUA", "GRO", "HID",
    "JAL", "MEX", "MIC", "MOR", "NAY", "NLE", "OAX", "PUE", "QUE", "ROO", "SLP", "SIN", "SON",
    "TAB", "TAM", "TLA", "VER", "YUC", "ZAC",
}  # fmt: skip
CONTACT_CHANNELS = {"sms", "email", "whatsapp", "push", "ivr", "call", "field", "letter", "agency"}

SCHEMA: dict[str, dict[str, pa.DataType]] = {
    "customers": {
        "customer_id": pa.string(), "state": pa.string(), "postal_code": pa.string(),
        "birth_date": pa.date32(), "monthly_income": MONEY, "phone": pa.string(),
        "email": pa.string(), "opt_out_channels": pa.string(), "do_not_contact": pa.bool_(),
    },
    "loans": {
        "loan_id": pa.string(), "customer_id": pa.string(), "product": pa.string(),
        "opened_on": pa.date32(), "principal": MONEY, "annual_rate": pa.decimal128(9, 4),
        "frequency": pa.string(), "term": pa.int32(), "cnbv_type": pa.string(),
        "written_off_on": pa.date32(), "closed_on": pa.date32(),
    },
    "installments": {
        "loan_id": pa.string(), "seq": pa.int32(), "due_date": pa.date32(),
        "principal_due": MONEY, "interest_due": MONEY, "fees_due": MONEY,
        "statement_balance": MONEY,
    },
    "payments": {
        "payment_id": pa.string(), "loan_id": pa.string(), "paid_at": UTC, "amount": MONEY,
        "channel": pa.string(), "partner_id": pa.string(), "reference": pa.string(),
        "status": pa.string(),
    },
    "contacts": {
        "contact_id": pa.string(), "loan_id": pa.string(), "channel": pa.string(),
        "attempted_at": UTC, "outcome": pa.string(), "agent_id": pa.string(), "cost": MONEY,
    },
    "promises": {
        "promise_id": pa.string(), "loan_id": pa.string(), "made_at": UTC,
        "due_on": pa.date32(), "amount": MONEY,
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("books")
    return {
        "a": generate(root / "a", LOANS, SEED, AS_OF),
        "b": generate(root / "b", LOANS, SEED, AS_OF),
        "c": generate(root / "c", LOANS, SEED + 1, AS_OF),
    }


@pytest.fixture(scope="module")
def book(books: dict[str, Path]) -> Path:
    return books["a"]


@pytest.fixture(scope="module")
def tables(book: Path) -> dict[str, pa.Table]:
    return {name: pq.read_table(book / f"{name}.parquet") for name in FILES}


def cents(arr: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Exact integer centavos of a decimal(18, 2) column (fails if not integral)."""
    scaled = pc.multiply(arr.cast(MONEY), pa.scalar(Decimal(100), pa.decimal128(5, 0)))
    return np.asarray(pc.cast(scaled, pa.int64()), dtype=np.int64)


def local_dates(ts: pa.ChunkedArray) -> pd.Series:
    return pd.Series(ts.to_pandas()).dt.tz_convert("America/Mexico_City").dt.date


# -- determinism ----------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(books: dict[str, Path]) -> None:
    for name in FILES:
        a = (books["a"] / f"{name}.parquet").read_bytes()
        assert a == (books["b"] / f"{name}.parquet").read_bytes(), name


def test_different_seed_gives_different_files(books: dict[str, Path]) -> None:
    for name in FILES:
        a = (books["a"] / f"{name}.parquet").read_bytes()
        assert a != (books["c"] / f"{name}.parquet").read_bytes(), name


def test_folder_holds_exactly_the_six_files(book: Path) -> None:
    assert sorted(p.name for p in book.iterdir()) == sorted(f"{n}.parquet" for n in FILES)


# -- contract shape -------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_columns_and_arrow_types(book: Path, name: str) -> None:
    schema = pq.read_schema(book / f"{name}.parquet")
    assert {f.name: f.type for f in schema} == SCHEMA[name]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("customers", ["customer_id"]),
        ("loans", ["loan_id"]),
        ("installments", ["loan_id", "seq"]),
        ("payments", ["payment_id"]),
        ("contacts", ["contact_id"]),
        ("promises", ["promise_id"]),
    ],
)
def test_keys_unique(tables: dict[str, pa.Table], name: str, key: list[str]) -> None:
    df = tables[name].select(key).to_pandas()
    assert len(df) > 0
    assert not df.duplicated().any()
    assert not df.isna().any().any()


def test_references_resolve(tables: dict[str, pa.Table]) -> None:
    customers = set(tables["customers"]["customer_id"].to_pylist())
    loans = set(tables["loans"]["loan_id"].to_pylist())
    assert set(tables["loans"]["customer_id"].to_pylist()) <= customers
    for name in ("installments", "payments", "contacts", "promises"):
        assert set(tables[name]["loan_id"].to_pylist()) <= loans, name
    # Every loan has a schedule and some customers hold two loans.
    assert set(tables["installments"]["loan_id"].to_pylist()) == loans
    per_customer = tables["loans"]["customer_id"].value_counts()
    assert max(per_customer.field("counts").to_pylist()) == 2


def test_categorical_values(tables: dict[str, pa.Table]) -> None:
    loans = tables["loans"].to_pandas()
    assert set(loans["product"]) == {"installment", "revolving"}
    assert 0.65 < (loans["product"] == "installment").mean() < 0.85
    rev = loans["product"] == "revolving"
    assert set(loans.loc[rev, "cnbv_type"]) == {"R"}
    assert set(loans.loc[~rev, "cnbv_type"]) == {"P", "N"}
    assert set(loans.loc[rev, "frequency"]) == {"monthly"}
    assert set(loans["frequency"]) == {"weekly", "biweekly", "monthly"}
    assert loans.loc[rev, "term"].isna().all()
    assert loans.loc[~rev, "term"].notna().all()
    rates = loans["annual_rate"].astype(float)
    assert rates.between(0.30, 1.10).all()

    payments = tables["payments"].to_pandas()
    assert set(payments["channel"]) <= {"spei", "oxxo", "card", "direct_debit", "codi", "cash",
                                        "other"}  # fmt: skip
    shares = payments["status"].value_counts(normalize=True)
    assert shares["settled"] > 0.97
    assert shares.get("reversed", 0) > 0
    contacts = tables["contacts"].to_pandas()
    assert set(contacts["channel"]) <= CONTACT_CHANNELS
    assert set(contacts["outcome"]) <= {
        "delivered", "failed", "no_answer", "right_party", "wrong_party", "promise", "refused",
        "dispute",
    }  # fmt: skip
    digital = ~contacts["channel"].isin(["call", "field", "agency"])
    assert contacts.loc[digital, "agent_id"].isna().all()
    assert contacts.loc[~digital, "agent_id"].notna().all()


def test_customer_fields(tables: dict[str, pa.Table]) -> None:
    c = tables["customers"].to_pandas()
    assert set(c["state"]) <= STATES
    assert c["state"].value_counts().index[0] in {"MEX", "CMX"}
    assert c["postal_code"].str.fullmatch(r"\d{5}").all()
    assert c["phone"].str.fullmatch(r"\d{10}").all()
    assert c["email"].dropna().str.fullmatch(r"[a-z0-9.]+@example\.(com|net|org|mx)").all()
    opted = c["opt_out_channels"].dropna()
    assert (opted == "").mean() > 0.8
    for value in opted[opted != ""]:
        assert set(value.split(",")) <= CONTACT_CHANNELS
    age = (pd.Timestamp(AS_OF) - pd.to_datetime(c["birth_date"])).dt.days / 365.25
    assert age.between(18, 75).all()
    assert 0.001 < c["do_not_contact"].mean() < 0.03


# -- money ----------------------------------------------------------------------------


def test_decimals_are_exact() -> None:
    units = np.array([1, -1, 10, 99, 0, 123_456_789_012_345, -987_654_321], dtype=np.int64)
    values = decimal_from_units(units).to_pylist()
    assert values == [Decimal(int(u)).scaleb(-2) for u in units]
    assert [str(v) for v in values[:4]] == ["0.01", "-0.01", "0.10", "0.99"]


def test_principal_due_sums_exactly_to_principal(tables: dict[str, pa.Table]) -> None:
    loans = tables["loans"]
    inst = tables["installments"]
    due = pd.DataFrame({"loan_id": inst["loan_id"].to_numpy(zero_copy_only=False),
                        "p": cents(inst["principal_due"])})  # fmt: skip
    sums = due.groupby("loan_id")["p"].sum()
    installment = pc.equal(loans["product"], "installment")
    ids = loans["loan_id"].filter(installment).to_pylist()
    principal = cents(loans["principal"].filter(installment))
    assert np.array_equal(sums.loc[ids].to_numpy(), principal)


def test_amounts_are_positive(tables: dict[str, pa.Table]) -> None:
    assert (cents(tables["payments"]["amount"]) > 0).all()
    assert (cents(tables["promises"]["amount"]) > 0).all()
    assert (cents(tables["loans"]["principal"]) > 0).all()
    for column in ("principal_due", "interest_due", "fees_due"):
        assert (cents(tables["installments"][column]) >= 0).all()
    assert (cents(tables["installments"]["fees_due"]) > 0).any()
    loans = tables["loans"].to_pandas()
    principal = loans["principal"].astype(float)
    payroll = loans["cnbv_type"] == "N"
    assert principal[loans["cnbv_type"] == "P"].between(3_000, 80_000).all()
    assert principal[payroll].between(10_000, 150_000).all()
    assert principal[loans["cnbv_type"] == "R"].between(5_000, 60_000).all()


def test_statement_balance_only_for_cards(tables: dict[str, pa.Table]) -> None:
    inst = tables["installments"].to_pandas()
    product = tables["loans"].to_pandas().set_index("loan_id")["product"]
    card = inst["loan_id"].map(product) == "revolving"
    assert inst.loc[card, "statement_balance"].notna().all()
    assert inst.loc[~card, "statement_balance"].isna().all()


# -- dates ----------------------------------------------------------------------------


def test_due_dates_increase_with_seq(tables: dict[str, pa.Table]) -> None:
    inst = tables["installments"].to_pandas()
    assert (inst["seq"] >= 1).all()
    g = inst.groupby("loan_id")
    assert (g["seq"].diff().dropna() == 1).all()
    assert (g["seq"].transform("min") == 1).all()
    gaps = pd.to_datetime(inst["due_date"]).groupby(inst["loan_id"]).diff().dropna()
    assert (gaps.dt.days > 0).all()
    loans = tables["loans"].to_pandas().set_index("loan_id")
    freq = inst["loan_id"].map(loans["frequency"]).loc[gaps.index]
    assert (gaps[freq == "weekly"].dt.days == 7).all()
    assert (gaps[freq == "biweekly"].dt.days == 14).all()
    assert gaps[freq == "monthly"].dt.days.between(28, 31).all()
    first = inst[inst["seq"] == 1].set_index("loan_id")["due_date"]
    assert (first > loans.loc[first.index, "opened_on"]).all()


def test_opened_dates_span_36_months_and_grow(tables: dict[str, pa.Table]) -> None:
    opened = pd.to_datetime(tables["loans"].to_pandas()["opened_on"])
    assert opened.max() <= pd.Timestamp(AS_OF)
    assert opened.min() >= pd.Timestamp(AS_OF) - pd.DateOffset(months=36)
    per_year = opened.dt.to_period("Y").value_counts().sort_index()
    assert per_year.iloc[-1] > per_year.iloc[1]


def test_no_activity_after_as_of(tables: dict[str, pa.Table]) -> None:
    assert (local_dates(tables["payments"]["paid_at"]) <= AS_OF).all()
    assert (local_dates(tables["contacts"]["attempted_at"]) <= AS_OF).all()
    assert (local_dates(tables["promises"]["made_at"]) <= AS_OF).all()
    loans = tables["loans"].to_pandas()
    for column in ("written_off_on", "closed_on"):
        assert (loans[column].dropna() <= AS_OF).all()
    # Schedules do run into the future.
    assert (tables["installments"]["due_date"].to_pandas() > AS_OF).any()


def test_pending_only_in_the_last_days(tables: dict[str, pa.Table]) -> None:
    p = tables["payments"].to_pandas()
    pending = p["status"] == "pending"
    assert pending.any()
    days = local_dates(tables["payments"]["paid_at"])
    assert (days[pending] >= AS_OF - dt.timedelta(days=5)).all()


def test_contacts_within_legal_hours(tables: dict[str, pa.Table]) -> None:
    local = pd.Series(tables["contacts"]["attempted_at"].to_pandas()).dt.tz_convert(
        "America/Mexico_City"
    )
    assert local.dt.hour.between(7, 21).all()


def test_dst_era_times_convert_with_the_tz_database(tmp_path: Path) -> None:
    # Mexico City had DST until October 2022: local wall times must survive the round trip.
    as_of = dt.date(2022, 6, 30)
    out = generate(tmp_path / "old", 300, 3, as_of)
    contacts = pq.read_table(out / "contacts.parquet")
    local = pd.Series(contacts["attempted_at"].to_pandas()).dt.tz_convert("America/Mexico_City")
    assert local.dt.hour.between(7, 21).all()
    summer = local[local.dt.month.isin([6, 7, 8])]
    assert (summer.dt.tz_convert("UTC").dt.hour - summer.dt.hour).mod(24).eq(5).all()
    payments = pq.read_table(out / "payments.parquet")
    assert (local_dates(payments["paid_at"]) <= as_of).all()


# -- behaviour ------------------------------------------------------------------------


def _dpd(tables: dict[str, pa.Table], day: dt.date) -> pd.Series:
    """Days past due per loan, following the platform's ledger semantics independently."""
    inst = pd.DataFrame({
        "loan_id": tables["installments"]["loan_id"].to_numpy(zero_copy_only=False),
        "seq": tables["installments"]["seq"].to_numpy(),
        "due_date": tables["installments"]["due_date"].to_pandas(),
        "due": cents(tables["installments"]["principal_due"])
        + cents(tables["installments"]["interest_due"])
        + cents(tables["installments"]["fees_due"]),
    }).sort_values(["loan_id", "seq"])  # fmt: skip
    pay = pd.DataFrame({
        "loan_id": tables["payments"]["loan_id"].to_numpy(zero_copy_only=False),
        "amount": cents(tables["payments"]["amount"]),
        "status": tables["payments"]["status"].to_numpy(zero_copy_only=False),
        "day": local_dates(tables["payments"]["paid_at"]),
    })  # fmt: skip
    settled = pay[(pay["status"] == "settled") & (pay["day"] <= day)]
    paid = settled.groupby("loan_id")["amount"].sum()
    inst["cum"] = inst.groupby("loan_id")["due"].cumsum()
    inst["paid"] = inst["loan_id"].map(paid).fillna(0)
    unpaid = inst[(inst["cum"] > inst["paid"]) & (inst["due_date"] < day)]
    oldest = unpaid.groupby("loan_id")["due_date"].min()
    dpd = pd.Series(0, index=tables["loans"]["loan_id"].to_pylist())
    dpd.loc[oldest.index] = [(day - d).days for d in oldest]
    return dpd


def test_delinquency_has_a_visible_spread(tables: dict[str, pa.Table]) -> None:
    loans = tables["loans"].to_pandas().set_index("loan_id")
    dpd = _dpd(tables, AS_OF)
    active = loans["written_off_on"].isna() & loans["closed_on"].isna()
    live = dpd[active[active].index]
    assert 0.50 <= (live == 0).mean() <= 0.85
    assert (live.between(1, 29)).mean() > 0.03
    assert (live.between(30, 89)).any()
    assert (live >= 90).any()
    assert loans["written_off_on"].notna().any()
    assert loans["closed_on"].notna().any()
    # Buckets thin out with depth (per 30 days of bucket width).
    counts = [live.between(1, 29).sum(), live.between(30, 59).sum(), live.between(60, 89).sum()]
    assert counts[0] > counts[1] > counts[2]


def test_write_off_at_180_days(tables: dict[str, pa.Table]) -> None:
    loans = tables["loans"].to_pandas().set_index("loan_id")
    wo = loans["written_off_on"].dropna()
    day_before = {loan: d - dt.timedelta(days=1) for loan, d in wo.items()}
    # Just before its write-off date a loan is 179 days past due in the platform's ledger.
    sample = list(day_before.items())[:40]
    for loan, day in sample:
        assert _dpd(tables, day).loc[loan] == 179, loan


def test_closed_loans_are_fully_paid(tables: dict[str, pa.Table]) -> None:
    loans = tables["loans"].to_pandas().set_index("loan_id")
    closed = loans[loans["closed_on"].notna() & (loans["product"] == "installment")]
    inst = tables["installments"]
    due = (
        pd.Series(
            cents(inst["principal_due"]) + cents(inst["interest_due"]) + cents(inst["fees_due"]),
            index=inst["loan_id"].to_numpy(zero_copy_only=False),
        )
        .groupby(level=0)
        .sum()
    )
    pay = tables["payments"].to_pandas()
    pay["cents"] = cents(tables["payments"]["amount"])
    paid = pay[pay["status"] == "settled"].groupby("loan_id")["cents"].sum()
    assert len(closed) > 0
    assert (paid.reindex(closed.index).fillna(0) >= due.loc[closed.index]).all()


def test_promises_some_kept_some_broken(tables: dict[str, pa.Table]) -> None:
    pr = tables["promises"].to_pandas()
    pr["cents"] = cents(tables["promises"]["amount"])
    pr["made_day"] = local_dates(tables["promises"]["made_at"])
    assert ((pr["due_on"] >= pr["made_day"]) & (pr["due_on"] <= pr["made_day"]
            + dt.timedelta(days=8))).all()  # fmt: skip
    pay = tables["payments"].to_pandas()
    pay["cents"] = cents(tables["payments"]["amount"])
    pay["day"] = local_dates(tables["payments"]["paid_at"])
    pay = pay[pay["status"] == "settled"]
    m = pr.merge(pay, on="loan_id", how="left", suffixes=("", "_pay"))
    ok = (m["day"] >= m["made_day"]) & (m["day"] <= m["due_on"]) & (m["cents_pay"] >= m["cents"])
    kept = ok.groupby(m["promise_id"]).any()
    assert 0.2 < kept.mean() < 0.9
    # Each promise has its contact with outcome "promise" at the same instant.
    contacts = tables["contacts"].to_pandas()
    promise_contacts = contacts[contacts["outcome"] == "promise"]
    assert len(promise_contacts) == len(pr)
    assert set(zip(promise_contacts["loan_id"], promise_contacts["attempted_at"], strict=True)) \
        == set(zip(pr["loan_id"], pr["made_at"], strict=True))  # fmt: skip


# -- API ------------------------------------------------------------------------------


def test_progress_is_monotone_and_completes(tmp_path: Path) -> None:
    seen: list[tuple[str, float]] = []
    generate(tmp_path / "p", 50, 1, AS_OF, progress=lambda s, f: seen.append((s, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert {"behaviour", "payments.parquet"} <= {s for s, _ in seen}


def test_failure_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = _write.write_table

    def flaky(path: Path, name: str, chunks: object) -> None:
        if name == "payments":
            raise OSError("disk full")
        real(path, name, chunks)  # type: ignore[arg-type]

    monkeypatch.setattr(_write, "write_table", flaky)
    out = tmp_path / "book"
    with pytest.raises(OSError, match="disk full"):
        generate(out, 100, 1, AS_OF)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    out = tmp_path / "book"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        generate(out, 10, 1, AS_OF)
    assert (out / "keep.txt").read_text() == "mine"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert generate(empty, 10, 1, AS_OF) == empty
    assert (empty / "loans.parquet").exists()


def test_replace_swaps_a_previous_portfolio_for_the_new_one(tmp_path: Path) -> None:
    out = generate(tmp_path / "book", 10, 1, AS_OF)
    generate(out, 20, 2, AS_OF, replace=True)
    assert pq.read_table(out / "loans.parquet").num_rows == 20
    assert [p.name for p in tmp_path.iterdir()] == ["book"]


@pytest.mark.parametrize(("loans", "seed"), [(0, 1), (10, -1), (1.5, 1)])
def test_rejects_bad_arguments(tmp_path: Path, loans: object, seed: object) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path / "x", loans, seed)  # type: ignore[arg-type]
