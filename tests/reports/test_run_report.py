"""report.html: a self-contained page with the right figures, in the right order, offline."""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cobranza._errors import ContractError
from cobranza.reports import write_run_report

AS_OF = dt.date(2025, 9, 30)
BUCKETS = ("current", "1-29", "30-59", "60-89", "90-119", "120-179", "180+")
MONEY = pa.decimal128(18, 2)
CENT = Decimal("0.01")

SCHEMAS = {
    "kpis": pa.schema([
        ("month", pa.date32()), ("loans", pa.int64()), ("balance", MONEY),
        ("balance_30_plus", MONEY), ("balance_90_plus", MONEY), ("imor", pa.float64()),
        ("written_off_loans", pa.int64()), ("written_off_balance", MONEY),
        ("paid_off_loans", pa.int64()),
    ]),
    "bucket_distribution": pa.schema([
        ("month", pa.date32()), ("bucket", pa.string()), ("loans", pa.int64()),
        ("balance", MONEY), ("loans_share", pa.float64()), ("balance_share", pa.float64()),
    ]),
    "roll_rate_matrix": pa.schema([
        ("from_bucket", pa.string()), ("to_bucket", pa.string()), ("loans", pa.int64()),
        ("balance", MONEY), ("loans_share", pa.float64()), ("balance_share", pa.float64()),
    ]),
    "vintages": pa.schema([
        ("origination_month", pa.date32()), ("months_on_book", pa.int32()), ("loans", pa.int64()),
        ("ever_30", pa.int64()), ("ever_90", pa.int64()), ("ever_30_rate", pa.float64()),
        ("ever_90_rate", pa.float64()),
    ]),
    "cure_rates": pa.schema([
        ("from_month", pa.date32()), ("to_month", pa.date32()), ("from_bucket", pa.string()),
        ("loans", pa.int64()), ("cured_loans", pa.int64()), ("cure_rate", pa.float64()),
        ("balance", MONEY), ("cured_balance", MONEY), ("balance_cure_rate", pa.float64()),
    ]),
}  # fmt: skip

# Loans by bucket in the first month and average balance per loan, current first.
_LOANS = (9000, 620, 240, 150, 110, 90, 60)
_GROWTH = (45, 6, 3, 2, 2, 1, 1)
_AVERAGE = tuple(Decimal(a) for a in ("8250.37", "7900.11", "7600.45", "7420.90", "7300.01",
                                      "7150.66", "6980.13"))  # fmt: skip
# Where loans in each bucket went a month later (counts).
_ROLLS = {
    "current": {"current": 9100, "1-29": 380, "paid_off": 290},
    "1-29": {"current": 310, "1-29": 120, "30-59": 160, "paid_off": 20},
    "30-59": {"current": 40, "1-29": 30, "30-59": 40, "60-89": 120, "paid_off": 5},
    "60-89": {"current": 10, "30-59": 10, "60-89": 25, "90-119": 100},
    "90-119": {"current": 4, "90-119": 15, "120-179": 95},
    "120-179": {"current": 2, "120-179": 55, "180+": 35},
    "180+": {"180+": 45, "written_off": 20},
}
_CURE = {"1-29": 0.5, "30-59": 0.17, "60-89": 0.07, "90-119": 0.035, "120-179": 0.02, "180+": 0}


def month_ends(last: dt.date, n: int) -> list[dt.date]:
    out = []
    year, month = last.year, last.month
    for _ in range(n):
        out.append(dt.date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def table(name: str, rows: Sequence[dict]) -> pa.Table:
    schema = SCHEMAS[name]
    return pa.table({f.name: [r[f.name] for r in rows] for f in schema}, schema=schema)


def bucket_rows(months: Sequence[dt.date], buckets: Sequence[str] = BUCKETS) -> list[dict]:
    rows = []
    for i, month in enumerate(months):
        loans = [base + i * g for base, g in zip(_LOANS, _GROWTH, strict=False)]
        balances = [(n * avg + Decimal(i) * Decimal("13.07")).quantize(CENT)
                    for n, avg in zip(loans, _AVERAGE, strict=False)]  # fmt: skip
        for bucket, n, bal in zip(buckets, loans, balances, strict=False):
            rows.append(dict(month=month, bucket=bucket, loans=n, balance=bal,
                             loans_share=n / sum(loans[: len(buckets)]),
                             balance_share=float(bal / sum(balances[: len(buckets)]))))  # fmt: skip
    # The run writes rows ordered by bucket *name*; the report must not rely on row order.
    return sorted(rows, key=lambda r: (r["month"], r["bucket"]))


def kpi_rows(buckets: list[dict]) -> list[dict]:
    rows = []
    for i, month in enumerate(sorted({r["month"] for r in buckets})):
        these = [r for r in buckets if r["month"] == month]
        balance = sum((r["balance"] for r in these), Decimal(0))
        b30 = sum((r["balance"] for r in these if r["bucket"] not in ("current", "1-29")),
                  Decimal(0))  # fmt: skip
        b90 = sum((r["balance"] for r in these if r["bucket"] in ("90-119", "120-179", "180+")),
                  Decimal(0))  # fmt: skip
        rows.append(dict(month=month, loans=sum(r["loans"] for r in these), balance=balance,
                         balance_30_plus=b30, balance_90_plus=b90, imor=float(b90 / balance),
                         written_off_loans=20 + i,
                         written_off_balance=Decimal("150000.55") + i * Decimal("2300.10"),
                         paid_off_loans=300 + 7 * i))  # fmt: skip
    return rows


def roll_rows() -> list[dict]:
    rows = []
    for (frm, tos), avg in zip(_ROLLS.items(), _AVERAGE, strict=True):
        total = sum(tos.values())
        for to, n in tos.items():
            balance = (n * avg).quantize(CENT)  # one average per row: shares match counts
            rows.append(dict(from_bucket=frm, to_bucket=to, loans=n, balance=balance,
                             loans_share=n / total, balance_share=n / total))  # fmt: skip
    return sorted(rows, key=lambda r: (r["from_bucket"], r["to_bucket"]))


def vintage_rows(months: Sequence[dt.date], cohorts: int) -> list[dict]:
    rows = []
    for c, origination in enumerate(months[:cohorts]):
        loans = 1200 + 10 * c
        for mob in range(1, len(months) - c):
            ever_30 = round(loans * min(0.012 * mob * (1 + 0.04 * c), 0.3))
            ever_90 = round(ever_30 * 0.4)
            rows.append(dict(origination_month=origination, months_on_book=mob, loans=loans,
                             ever_30=ever_30, ever_90=ever_90, ever_30_rate=ever_30 / loans,
                             ever_90_rate=ever_90 / loans))  # fmt: skip
    return rows


def cure_rows(buckets: list[dict]) -> list[dict]:
    months = sorted({r["month"] for r in buckets})
    rows = []
    for frm, to in itertools.pairwise(months):
        for r in buckets:
            if r["month"] != frm or r["bucket"] == "current":
                continue
            rate = _CURE[r["bucket"]]
            cured = round(r["loans"] * rate)
            cured_balance = (r["balance"] * Decimal(str(rate))).quantize(CENT)
            rows.append(dict(from_month=frm, to_month=to, from_bucket=r["bucket"],
                             loans=r["loans"], cured_loans=cured, cure_rate=cured / r["loans"],
                             balance=r["balance"], cured_balance=cured_balance,
                             balance_cure_rate=float(cured_balance / r["balance"])))  # fmt: skip
    return rows


def run_tables(*, cohorts: int = 3, with_cures: bool = True) -> dict[str, pa.Table]:
    months = month_ends(AS_OF, 12)
    buckets = bucket_rows(months)
    tables = {
        "kpis": table("kpis", kpi_rows(buckets)),
        "bucket_distribution": table("bucket_distribution", buckets),
        "roll_rate_matrix": table("roll_rate_matrix", roll_rows()),
        "vintages": table("vintages", vintage_rows(months, cohorts)),
    }
    if with_cures:
        tables["cure_rates"] = table("cure_rates", cure_rows(buckets))
    return tables


# --- expectations, formatted independently of the report's own helpers --------------------


def exact(amount: Decimal) -> str:
    return f"${amount:,.2f} MXN"


def millions(amount: Decimal) -> str:
    return f"MXN {(amount / 10**6).quantize(Decimal('0.1'), ROUND_HALF_UP)} M"


def thousands(amount: Decimal, *, signed: bool = False) -> str:
    sign = "+" if signed and amount > 0 else ""
    return f"{sign}MXN {(amount / 10**3).quantize(Decimal('0.1'), ROUND_HALF_UP)} K"


def percent(ratio: float | Decimal) -> str:
    return f"{(Decimal(str(ratio)) * 100).quantize(CENT, ROUND_HALF_UP)}%"


def points(delta: float | Decimal) -> str:
    value = (Decimal(str(delta)) * 100).quantize(CENT, ROUND_HALF_UP)
    return f"{value:+.2f} pp".replace("-", "\N{MINUS SIGN}")


def write(tmp_path: Path, tables: dict[str, pa.Table], as_of: dt.date = AS_OF) -> str:
    path = write_run_report(tmp_path, as_of=as_of, engine="duckdb", portfolio="Demo MX",
                            tables=tables)  # fmt: skip
    assert path == tmp_path / "report.html"
    assert path.is_file()
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The page for the default run, rendered once: each render costs a couple of seconds."""
    return write(tmp_path_factory.mktemp("report"), run_tables(cohorts=12))


def section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</section>", start)]


def cards(html: str) -> list[str]:
    """The text of each headline card, tags removed."""
    found = re.findall(r'<article class="card">(.*?)</article>', html, flags=re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in found]


def test_the_page_shows_the_headline_figures_of_the_latest_month(page: str) -> None:
    html = page
    kpis = run_tables()["kpis"].to_pylist()
    cur, prev = kpis[-1], kpis[-2]
    assert cur["month"] == AS_OF
    share_30, prev_share_30 = (r["balance_30_plus"] / r["balance"] for r in (cur, prev))
    loans_change = Decimal((cur["loans"] - prev["loans"]) * 100) / prev["loans"]
    up = "\N{BLACK UP-POINTING SMALL TRIANGLE}"
    balance, loans, imor, thirty, write_offs = cards(html)
    assert balance.startswith("Portfolio balance")
    assert f"{millions(cur['balance'])} {exact(cur['balance'])}" in balance
    assert loans == (
        f"Active loans {cur['loans']:,} {cur['paid_off_loans']:,} paid off in the "
        f"month {up} +{cur['loans'] - prev['loans']:,} (+{loans_change:.1f}%)"
    )
    imor_change = Decimal(str(cur["imor"])) - Decimal(str(prev["imor"]))
    assert imor == (
        f"IMOR {percent(cur['imor'])} {exact(cur['balance_90_plus'])} at 90+ dpd "
        f"{up} {points(imor_change)}"
    )
    assert thirty == (
        f"30+ share of balance {percent(share_30)} "
        f"{exact(cur['balance_30_plus'])} at 30+ dpd "
        f"{up} {points(share_30 - prev_share_30)}"
    )
    wo_change = cur["written_off_balance"] - prev["written_off_balance"]
    assert write_offs.startswith(
        f"Write-offs in the month {thousands(cur['written_off_balance'])} "
        f"{cur['written_off_loans']:,} loans · "
        f"{exact(cur['written_off_balance'])} {up} "
        f"{thousands(wo_change, signed=True)} (+"
    )
    # Worse credit quality is flagged; a bigger book is not judged.
    assert re.findall(r'class="delta (\w+)"', html) == ["flat", "flat", "bad", "bad", "bad"]
    assert "changes are against Aug 2025" in html
    assert "September 30, 2025" in html  # as-of date in the header
    assert "Demo MX" in html and "duckdb" in html
    assert re.search(r"Generated.*\d{4}-\d\d-\d\d \d\d:\d\d \w+ \(UTC[+\u2212]\d\d:\d\d\)", html)


def test_one_inline_svg_per_chart_and_nothing_from_the_network(page: str) -> None:
    html = page
    # buckets, roll rates by count and by balance, vintages, trend, cure rates
    assert html.count("<svg") == 6
    assert "<script" not in html.lower()
    assert "<img" not in html.lower() and "data:image" not in html
    assert "@import" not in html and "url(http" not in html
    urls = re.findall(r"https?://[^\s\"'<>)]+", html)
    assert urls and all(u.startswith("http://www.w3.org/") for u in urls), set(urls)
    # Inline SVGs share one id space: a clash would let one chart clip another.
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_bucket_table_lists_buckets_from_best_to_worst(page: str) -> None:
    tables = run_tables()
    part = section(page, "buckets")
    names = re.findall(r'<th scope="row" class="rowhead">([^<]+)</th>', part)
    assert names == ["Current", "1–29 dpd", "30–59 dpd", "60–89 dpd", "90–119 dpd",
                     "120–179 dpd", "180+ dpd"]  # fmt: skip
    latest = [r for r in tables["bucket_distribution"].to_pylist() if r["month"] == AS_OF]
    total = sum((r["balance"] for r in latest), Decimal(0))
    assert exact(total) in part
    for r in latest:
        assert exact(r["balance"]) in part


def test_bucket_order_follows_configured_edges_not_names(tmp_path: Path) -> None:
    buckets = ("current", "5-29", "30-119", "120+")
    months = month_ends(AS_OF, 2)
    rows = bucket_rows(months, buckets)
    tables = run_tables()
    tables["bucket_distribution"] = table("bucket_distribution", rows)
    html = write(tmp_path, tables)
    names = re.findall(r'<th scope="row" class="rowhead">([^<]+)</th>', section(html, "buckets"))
    assert names == ["Current", "5–29 dpd", "30–119 dpd", "120+ dpd"]


def test_roll_rate_columns_end_with_closed_states(page: str) -> None:
    part = section(page, "roll-rates")
    assert part.count("<svg") == 2
    # Columns left to right: the x position of each cell, read from the rendered SVG.
    first = part[part.index("<svg") : part.index("</svg>")]
    cells = re.findall(r'aria-label="To bucket \(next month-end\): ([^;]+);[^"]*"'
                       r'[^>]*d="M([\d.]+),', first)  # fmt: skip
    x_of = {to: float(x) for to, x in cells}
    assert sorted(x_of, key=x_of.__getitem__) == [
        "Current", "1–29", "30–59", "60–89", "90–119", "120–179", "180+", "Paid off",
        "Written off",
    ]  # fmt: skip
    names = re.findall(r'<th scope="row" class="rowhead">([^<]+)</th>', part)
    assert names[0] == "Current" and names[-1] == "180+ dpd"


@pytest.mark.parametrize("cures", ["missing", "empty"])
def test_cure_rates_are_optional(tmp_path: Path, cures: str) -> None:
    tables = run_tables(with_cures=False)
    if cures == "empty":
        tables["cure_rates"] = SCHEMAS["cure_rates"].empty_table()
    html = write(tmp_path, tables)
    assert html.count("<svg") == 5
    assert 'id="cure-rates"' not in html


def test_reads_the_parquet_files_of_the_run_folder(tmp_path: Path) -> None:
    for name, t in run_tables(with_cures=False).items():
        pq.write_table(t, tmp_path / f"{name}.parquet")
    path = write_run_report(tmp_path, as_of=AS_OF, engine="spark", portfolio="Demo MX")
    html = path.read_text(encoding="utf-8")
    assert html.count("<svg") == 5
    assert "spark" in html


def test_a_missing_required_table_is_a_contract_error(tmp_path: Path) -> None:
    tables = run_tables()
    del tables["vintages"]
    with pytest.raises(ContractError, match="vintages"):
        write(tmp_path, tables)
    with pytest.raises(ContractError, match=r"kpis\.parquet"):
        write_run_report(tmp_path, as_of=AS_OF, engine="duckdb", portfolio="x")


def test_money_must_be_decimal(tmp_path: Path) -> None:
    tables = run_tables()
    kpis = tables["kpis"]
    column = kpis.schema.get_field_index("balance")
    tables["kpis"] = kpis.set_column(column, "balance", kpis["balance"].cast(pa.float64()))
    with pytest.raises(ContractError, match=r"kpis\.balance"):
        write(tmp_path, tables)


def test_whole_float_counts_are_accepted_and_fractional_ones_refused(tmp_path: Path) -> None:
    # Some engines widen SUM(int) to double; the report reads it when no count is lost.
    tables = run_tables()
    matrix = tables["roll_rate_matrix"]
    column = matrix.schema.get_field_index("loans")
    floats = matrix["loans"].cast(pa.float64())
    tables["roll_rate_matrix"] = matrix.set_column(column, "loans", floats)
    assert write(tmp_path, tables).count("<svg") == 6
    halves = pa.compute.add(floats, 0.5)
    tables["roll_rate_matrix"] = matrix.set_column(column, "loans", halves)
    with pytest.raises(ContractError, match=r"roll_rate_matrix\.loans has non-integer"):
        write(tmp_path, tables)


def test_null_money_is_a_contract_error(tmp_path: Path) -> None:
    tables = run_tables()
    dist = tables["bucket_distribution"]
    column = dist.schema.get_field_index("balance")
    nulls = pa.nulls(len(dist), MONEY)
    tables["bucket_distribution"] = dist.set_column(column, dist.schema.field(column), nulls)
    with pytest.raises(ContractError, match=r"bucket_distribution\.balance has null"):
        write(tmp_path, tables)


def test_text_from_the_data_is_escaped(tmp_path: Path) -> None:
    path = write_run_report(tmp_path, as_of=AS_OF, engine="duckdb",
                            portfolio="<b>Cartera</b> & Co", tables=run_tables())  # fmt: skip
    html = path.read_text(encoding="utf-8")
    assert "<b>Cartera" not in html
    assert "&lt;b&gt;Cartera&lt;/b&gt; &amp; Co" in html


def test_a_single_month_has_no_deltas(tmp_path: Path) -> None:
    tables = run_tables()
    for name in ("kpis", "bucket_distribution"):
        t = tables[name]
        tables[name] = t.filter(pa.compute.equal(t["month"], pa.scalar(AS_OF, pa.date32())))
    html = write(tmp_path, tables)
    assert html.count("no prior month") == 5
    assert html.count("<svg") == 6


@pytest.mark.parametrize(
    ("as_of", "stale"),
    [(AS_OF, False), (dt.date(2025, 10, 7), False), (dt.date(2025, 11, 12), True)],
)
def test_a_weekly_run_describes_the_last_month_end_and_flags_stale_data(
    tmp_path: Path, as_of: dt.date, stale: bool
) -> None:
    html = write(tmp_path, run_tables(), as_of=as_of)
    assert ('class="notice"' in html) is stale
    assert "Delinquency buckets · Sep 2025" in html
