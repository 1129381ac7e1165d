"""``report.html``: one self-contained page summarising a run for a collection strategy lead.

The page never reaches the network: CSS is inline, charts are SVG rendered offline and inlined,
and there is no JavaScript, so it opens the same from a laptop, an e-mail attachment or an
air-gapped file share.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import markupsafe
import pyarrow as pa
import pyarrow.parquet as pq

from cobranza._errors import ContractError
from cobranza._version import __version__
from cobranza.ledger import PAID_OFF, WRITTEN_OFF
from cobranza.reports import _charts as charts
from cobranza.reports import _format as fmt

REPORT_NAME = "report.html"
# Mexico first: the timestamp a lender's staff will compare with their own clocks.
ZONE = ZoneInfo("America/Mexico_City")

_KINDS: dict[str, Callable[[pa.DataType], bool]] = {
    "date": pa.types.is_date,
    "int": pa.types.is_integer,
    "money": pa.types.is_decimal,
    "float": pa.types.is_floating,
    "str": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
}

# Columns the report reads, by the kind of value it expects; extra columns are ignored.
SCHEMAS: dict[str, dict[str, str]] = {
    "kpis": {
        "month": "date", "loans": "int", "balance": "money", "balance_30_plus": "money",
        "balance_90_plus": "money", "imor": "float", "written_off_loans": "int",
        "written_off_balance": "money", "paid_off_loans": "int",
    },
    "bucket_distribution": {
        "month": "date", "bucket": "str", "loans": "int", "balance": "money",
        "loans_share": "float", "balance_share": "float",
    },
    "roll_rate_matrix": {
        "from_bucket": "str", "to_bucket": "str", "loans": "int", "balance": "money",
        "loans_share": "float", "balance_share": "float",
    },
    "vintages": {
        "origination_month": "date", "months_on_book": "int", "loans": "int", "ever_30": "int",
        "ever_90": "int", "ever_30_rate": "float", "ever_90_rate": "float",
    },
    "cure_rates": {
        "from_month": "date", "to_month": "date", "from_bucket": "str", "loans": "int",
        "cured_loans": "int", "cure_rate": "float", "balance": "money",
        "cured_balance": "money", "balance_cure_rate": "float",
    },
}  # fmt: skip
REQUIRED = ("kpis", "bucket_distribution", "roll_rate_matrix", "vintages")
OPTIONAL = ("cure_rates",)

Rows = list[dict[str, Any]]


def write_run_report(
    out: Path,
    *,
    as_of: dt.date,
    engine: str,
    portfolio: str,
    tables: Mapping[str, pa.Table] | None = None,
    sections: Sequence[str] = (),
) -> Path:
    """Write ``out/report.html`` from a run's aggregate tables and return its path.

    ``tables`` maps table names to Arrow tables; when it is ``None`` they are read from the
    Parquet files the run wrote in ``out`` (``cure_rates`` may be missing). ``sections`` are
    HTML ``<section>`` fragments other stages rendered (provisions, decisions), autoescaped by
    their own templates, placed after the portfolio sections. Raises
    :class:`~cobranza.ContractError` when a required table or column is missing.
    """
    out = Path(out)
    data = _read(out) if tables is None else dict(tables)
    rows = _validated_rows(data)
    html = render_run_report(
        rows, as_of=as_of, engine=engine, portfolio=portfolio,
        generated_at=dt.datetime.now(ZONE), sections=sections,
    )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)  # with ``tables`` given, ``out`` may be new
    path = out / REPORT_NAME
    path.write_text(html, encoding="utf-8")
    return path


def _read(out: Path) -> dict[str, pa.Table]:
    data = {}
    for name in (*REQUIRED, *OPTIONAL):
        path = out / f"{name}.parquet"
        if path.exists():
            data[name] = pq.read_table(path)
        elif name in REQUIRED:
            raise ContractError(f"report input {path} is missing")
    return data


def _validated_rows(data: Mapping[str, pa.Table]) -> dict[str, Rows]:
    """Python rows per table (``Decimal`` money, ``date`` months) after checking columns."""
    rows: dict[str, Rows] = {}
    for name, columns in SCHEMAS.items():
        table = data.get(name)
        if table is None:
            if name in REQUIRED:
                raise ContractError(f"report input table {name!r} is missing")
            continue
        rows[name] = pa.table(
            {column: _checked(table, name, column, kind) for column, kind in columns.items()}
        ).to_pylist()
    return rows


def _checked(table: pa.Table, name: str, column: str, kind: str) -> pa.ChunkedArray:
    if column not in table.column_names:
        raise ContractError(f"report input {name!r} has no column {column!r}")
    values = table[column]
    if kind == "int" and pa.types.is_floating(values.type):
        # A count summed as float (some engines widen SUM) is fine if it is whole; a safe
        # cast refuses anything fractional rather than print a rounded count.
        try:
            values = values.cast(pa.int64(), safe=True)
        except pa.ArrowInvalid as exc:
            raise ContractError(f"report input {name}.{column} has non-integer counts") from exc
    if not _KINDS[kind](values.type):
        raise ContractError(f"report input {name}.{column} is {values.type}, expected {kind}")
    # Rates may be null (a ratio over nothing); keys, counts and money may not.
    if kind != "float" and values.null_count:
        raise ContractError(f"report input {name}.{column} has null values")
    return values


# --- the page model ------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    title: str
    value: str
    detail: str
    delta: str = fmt.DASH
    tone: str = "flat"  # good / bad / flat: the colour of the delta, not of the value
    arrow: str = ""


@dataclass(frozen=True)
class Chart:
    svg: str
    caption: str = ""


@dataclass
class Table:
    head: list[str]
    rows: list[list[str]]
    total: list[str] | None = None
    numeric_from: int = 1  # columns from this index on are right-aligned figures


def _latest_on_or_before(months: Sequence[dt.date], as_of: dt.date) -> dt.date | None:
    """The month-end the page describes: the last one not after ``as_of``."""
    if not months:
        return None
    eligible = [m for m in months if m <= as_of]
    return max(eligible) if eligible else max(months)


#: A month-over-month change: its text and its value rounded as displayed (for the arrow).
Change = tuple[str, Decimal]


def _covers(month: dt.date, as_of: dt.date) -> bool:
    """Whether ``month`` is the month-end a run as of ``as_of`` should describe.

    A weekly run in mid-October describes September (or the as-of day itself, when the run
    snapshots it); anything older means the data stops short of the as-of date.
    """
    last_month_end = as_of.replace(day=1) - dt.timedelta(days=1)
    if (as_of + dt.timedelta(days=1)).day == 1:
        last_month_end = as_of
    return last_month_end <= month <= as_of


_ARROWS = {1: "\N{BLACK UP-POINTING SMALL TRIANGLE}", -1: "\N{BLACK DOWN-POINTING SMALL TRIANGLE}"}


def _card(
    title: str,
    value: str,
    detail: str,
    change: Change | None,
    *,
    worse_when_up: bool | None,
) -> Card:
    """A headline card; ``change`` is (text, change rounded as displayed) or None."""
    if change is None:
        return Card(title, value, detail, "no prior month")
    text, amount = change
    direction = (amount > 0) - (amount < 0)
    if worse_when_up is None or not direction:
        tone = "flat"  # a bigger book is neither good nor bad news on its own
    else:
        tone = "bad" if (direction > 0) == worse_when_up else "good"
    return Card(title, value, detail, text, tone, _ARROWS.get(direction, ""))


def _money_change(new: Decimal, old: Decimal) -> Change:
    return f"{fmt.mxn_short(new - old, signed=True)} {fmt.pct_change(new, old)}", new - old


def _count_change(new: int, old: int) -> Change:
    return f"{fmt.count(new - old, signed=True)} {fmt.pct_change(new, old)}", Decimal(new - old)


def _rate_change(new: Decimal | float | None, old: Decimal | float | None) -> Change:
    if new is None or old is None:
        return fmt.DASH, Decimal(0)
    diff = Decimal(str(new)) - Decimal(str(old))
    return fmt.pp(diff), (diff * 100).quantize(Decimal("0.01"))


def _share_30(row: Mapping[str, Any]) -> Decimal | None:
    return row["balance_30_plus"] / row["balance"] if row["balance"] else None


CARD_TITLES = (
    "Portfolio balance",
    "Active loans",
    "IMOR",
    "30+ share of balance",
    "Write-offs in the month",
)
# Whether a rise is bad news, per card; None: a bigger book is neither good nor bad on its own.
_WORSE_WHEN_UP = (None, None, True, True, True)


def _cards(kpis: Rows, month: dt.date | None) -> tuple[list[Card], dt.date | None]:
    """The headline cards for ``month`` and the month-end their changes compare against."""
    by_month = {r["month"]: r for r in kpis}
    cur = by_month.get(month) if month else None
    if cur is None:
        return [Card(title, fmt.DASH, "no data for this month") for title in CARD_TITLES], None
    earlier = [m for m in by_month if m < cur["month"]]
    prev = by_month[max(earlier)] if earlier else None
    bal, wo = cur["balance"], cur["written_off_balance"]
    shown = (
        (fmt.mxn_short(bal), fmt.mxn(bal)),
        (fmt.count(cur["loans"]), f"{fmt.count(cur['paid_off_loans'])} paid off in the month"),
        (fmt.pct(cur["imor"]), f"{fmt.mxn(cur['balance_90_plus'])} at 90+ dpd"),
        (fmt.pct(_share_30(cur)), f"{fmt.mxn(cur['balance_30_plus'])} at 30+ dpd"),
        (fmt.mxn_short(wo), f"{fmt.count(cur['written_off_loans'])} loans · {fmt.mxn(wo)}"),
    )
    changes: Sequence[Change | None] = (None,) * len(CARD_TITLES)
    if prev is not None:
        changes = (
            _money_change(bal, prev["balance"]),
            _count_change(cur["loans"], prev["loans"]),
            _rate_change(cur["imor"], prev["imor"]),
            _rate_change(_share_30(cur), _share_30(prev)),
            _money_change(wo, prev["written_off_balance"]),
        )
    cards = [
        _card(title, value, detail, change, worse_when_up=worse)
        for title, (value, detail), change, worse in zip(
            CARD_TITLES, shown, changes, _WORSE_WHEN_UP, strict=True
        )
    ]
    return cards, prev["month"] if prev else None


# --- sections ------------------------------------------------------------------------------


def _sum(values: Sequence[Decimal]) -> Decimal:
    return sum(values, Decimal(0))


def _bucket_section(dist: Rows, month: dt.date | None) -> dict[str, Any]:
    rows = [r for r in dist if r["month"] == month]
    if not rows:
        return {"chart": None, "table": None}
    by_bucket = {r["bucket"]: r for r in rows}
    order = fmt.bucket_order(by_bucket)
    divisor, unit = fmt.chart_unit(max(r["balance"] for r in rows))
    bars = [
        {
            "bucket": b,
            "label": fmt.bucket_title(b),
            "value": float(by_bucket[b]["balance"] / divisor),
            "share_text": fmt.pct(by_bucket[b]["balance_share"], 1),
        }
        for b in order
    ]
    description = f"Bar chart of balance by delinquency bucket, {fmt.month_label(rows[0]['month'])}"
    table = Table(
        head=["Bucket", "Loans", "Share of loans", "Balance", "Share of balance"],
        rows=[
            [fmt.bucket_title(b), fmt.count(r["loans"]), fmt.pct(r["loans_share"]),
             fmt.mxn(r["balance"]), fmt.pct(r["balance_share"])]
            for b in order for r in [by_bucket[b]]
        ],
        total=["Total", fmt.count(sum(r["loans"] for r in rows)),
               fmt.pct(sum(r["loans_share"] or 0.0 for r in rows)),
               fmt.mxn(_sum([r["balance"] for r in rows])),
               fmt.pct(sum(r["balance_share"] or 0.0 for r in rows))],
    )  # fmt: skip
    chart = charts.to_svg(
        charts.bucket_bars(bars, order, unit), name="buckets", description=description
    )
    return {"chart": chart, "table": table}


def _cell_text(share: float | None) -> str:
    if share is None:
        return ""
    if 0 < share < 0.001:
        return "<0.1%"  # "0.0%" would read as "never happens"
    return fmt.pct(share, 1)


def _roll_section(matrix: Rows) -> dict[str, Any]:
    if not matrix:
        return {"charts": [], "table": None}
    from_order = fmt.bucket_order(r["from_bucket"] for r in matrix)
    to_order = fmt.bucket_order(r["to_bucket"] for r in matrix)
    short = {b: fmt.bucket_title(b).removesuffix(" dpd") for b in {*from_order, *to_order}}
    figures = []
    for key, name, legend, what in (
        ("loans_share", "roll-count", "Share of loans", "number of loans"),
        ("balance_share", "roll-balance", "Share of balance", "balance"),
    ):
        found = {(r["from_bucket"], r["to_bucket"]): r[key] for r in matrix}
        # Every pair gets a cell, so the grid reads as a matrix; pairs no loan made stay blank.
        cells = [
            {"from": short[f], "to": short[t], "share": found.get((f, t)) or 0.0,
             "share_text": _cell_text(found.get((f, t)))}
            for f in from_order for t in to_order
        ]  # fmt: skip
        chart = charts.roll_heatmap(
            cells, [short[b] for b in from_order], [short[b] for b in to_order], legend=legend
        )
        svg = charts.to_svg(chart, name=name, description=f"Roll-rate heatmap by {what}")
        figures.append(Chart(svg, f"By {what}"))
    return {"charts": figures, "table": _roll_summary(matrix, from_order)}


_DIRECTIONS = ("better", "same", "worse", PAID_OFF, WRITTEN_OFF)


def _direction(frm: str, to: str) -> str:
    """How a move reads: ``better``, ``same``, ``worse`` or the closed state it ends in."""
    if to in (PAID_OFF, WRITTEN_OFF):
        return to
    if to == frm:
        return "same"
    return "better" if fmt.bucket_key(to) < fmt.bucket_key(frm) else "worse"


def _roll_summary(matrix: Rows, from_order: Sequence[str]) -> Table:
    """Per from-bucket: where its loans went, grouped as better / same / worse / closed."""
    open_order = fmt.bucket_order(
        b for r in matrix for b in (r["from_bucket"], r["to_bucket"]) if fmt.bucket_key(b)[0] < 2
    )
    rows = []
    for b in from_order:
        out = [r for r in matrix if r["from_bucket"] == b]
        shares = dict.fromkeys(_DIRECTIONS, 0.0)
        for r in out:
            shares[_direction(b, r["to_bucket"])] += r["loans_share"] or 0.0
        text = {k: fmt.pct(v, 1) for k, v in shares.items()}
        # Nothing is better than the best bucket or worse than the worst: "—", not "0.0%".
        if b == open_order[0]:
            text["better"] = fmt.DASH
        if b == open_order[-1]:
            text["worse"] = fmt.DASH
        loans = fmt.count(sum(r["loans"] for r in out))
        rows.append([fmt.bucket_title(b), loans, *(text[k] for k in _DIRECTIONS)])
    head = ["From bucket", "Loans", "Improved", "Stayed", "Rolled forward", "Paid off",
            "Written off"]  # fmt: skip
    return Table(head=head, rows=rows)


def _vintage_section(vintages: Rows) -> dict[str, Any]:
    points = [r for r in vintages if r["ever_30_rate"] is not None]
    if not points:
        return {"chart": None, "cohorts": 0}
    months = sorted({r["origination_month"] for r in points})
    cohorts = [fmt.month_label(m) for m in months]
    rows = [
        {"cohort": fmt.month_label(r["origination_month"]), "mob": r["months_on_book"],
         "rate": r["ever_30_rate"]}
        for r in sorted(points, key=lambda r: (r["origination_month"], r["months_on_book"]))
    ]  # fmt: skip
    description = f"Ever 30+ dpd rate by months on book for {len(cohorts)} origination cohorts"
    svg = charts.to_svg(charts.vintage_curves(rows, cohorts), name="vintages",
                        description=description)  # fmt: skip
    return {"chart": svg, "cohorts": len(cohorts), "first": cohorts[0], "last": cohorts[-1]}


def _trend_section(kpis: Rows, dist: Rows) -> dict[str, Any]:
    if not kpis and not dist:
        return {"chart": None, "table": None}
    months = sorted({r["month"] for r in (*kpis, *dist)})
    labels = {m: fmt.month_label(m) for m in months}
    order = fmt.bucket_order(r["bucket"] for r in dist)
    totals = {m: _sum([r["balance"] for r in dist if r["month"] == m]) for m in months}
    divisor, unit = fmt.chart_unit(max(totals.values(), default=Decimal(0)))
    balance_rows = [
        {"month": labels[r["month"]], "bucket": r["bucket"], "label": fmt.bucket_title(r["bucket"]),
         "rank": order.index(r["bucket"]), "value": float(r["balance"] / divisor)}
        for r in dist
    ]  # fmt: skip
    imor_rows = [
        {"month": labels[r["month"]], "imor": r["imor"], "imor_text": fmt.pct(r["imor"])}
        for r in kpis
        if r["imor"] is not None
    ]
    chart = charts.kpi_trend(
        balance_rows, imor_rows, [labels[m] for m in months], order, unit,
        label_of={b: fmt.bucket_title(b) for b in order},
    )  # fmt: skip
    svg = charts.to_svg(chart, name="trend", description="Balance by bucket and IMOR by month")
    table = Table(
        head=["Month", "Active loans", "Balance", "30+ dpd share", "IMOR", "Written off",
              "Written-off balance", "Paid off"],
        rows=[
            [fmt.month_label(r["month"]), fmt.count(r["loans"]), fmt.mxn(r["balance"]),
             fmt.pct(_share_30(r)), fmt.pct(r["imor"]), fmt.count(r["written_off_loans"]),
             fmt.mxn(r["written_off_balance"]), fmt.count(r["paid_off_loans"])]
            for r in sorted(kpis, key=lambda r: r["month"], reverse=True)
        ],
    )  # fmt: skip
    return {"chart": svg, "table": table}


def _cure_section(cures: Rows | None) -> dict[str, Any] | None:
    """None when the run produced no cure rates: the section is then left out entirely."""
    if not cures:
        return None
    months = sorted({r["to_month"] for r in cures})
    latest = months[-1]
    order = fmt.bucket_order(r["from_bucket"] for r in cures)
    label_of = {b: fmt.bucket_title(b) for b in order}
    rows = [
        {"month": fmt.month_label(r["to_month"]), "label": label_of[r["from_bucket"]],
         "rate": r["cure_rate"]}
        for r in cures if r["cure_rate"] is not None
    ]  # fmt: skip
    chart = charts.cure_lines(rows, [fmt.month_label(m) for m in months], order, label_of=label_of)
    svg = charts.to_svg(chart, name="cures", description="Cure rate by month and from-bucket")
    by_bucket = {r["from_bucket"]: r for r in cures if r["to_month"] == latest}
    table = Table(
        head=["From bucket", "Loans", "Cured", "Cure rate", "Balance", "Cured balance",
              "Balance cure rate"],
        rows=[
            [label_of[b], fmt.count(r["loans"]), fmt.count(r["cured_loans"]),
             fmt.pct(r["cure_rate"], 1), fmt.mxn(r["balance"]), fmt.mxn(r["cured_balance"]),
             fmt.pct(r["balance_cure_rate"], 1)]
            for b in order if (r := by_bucket.get(b))
        ],
    )  # fmt: skip
    start = min(r["from_month"] for r in by_bucket.values())
    period = f"{fmt.month_label(start)} \N{RIGHTWARDS ARROW} {fmt.month_label(latest)}"
    return {"chart": svg, "table": table, "period": period}


# --- page ----------------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("cobranza.reports", "templates"),
        autoescape=True,  # the template is .html.j2, which select_autoescape would not match
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_run_report(
    rows: Mapping[str, Rows],
    *,
    as_of: dt.date,
    engine: str,
    portfolio: str,
    generated_at: dt.datetime,
    sections: Sequence[str] = (),
) -> str:
    """The HTML of the page from validated rows (see :func:`write_run_report`)."""
    kpis, dist = rows["kpis"], rows["bucket_distribution"]
    month = _latest_on_or_before([r["month"] for r in kpis] or [r["month"] for r in dist], as_of)
    cards, prev = _cards(kpis, month)
    context = {
        "portfolio": portfolio,
        "engine": engine,
        "as_of": fmt.long_date(as_of),
        "as_of_iso": as_of.isoformat(),
        "month": fmt.month_label(month) if month else fmt.DASH,
        "month_end": fmt.long_date(month) if month else fmt.DASH,
        "stale": month is not None and not _covers(month, as_of),
        "generated_at": fmt.timestamp(generated_at),
        "generated_iso": generated_at.isoformat(timespec="seconds"),
        "version": __version__,
        "cards": cards,
        "compared_with": fmt.month_label(prev) if prev else None,
        "buckets": _bucket_section(dist, month),
        "rolls": _roll_section(rows["roll_rate_matrix"]),
        "vintages": _vintage_section(rows["vintages"]),
        "trend": _trend_section(kpis, dist),
        "cures": _cure_section(rows.get("cure_rates")),
        "sections": [markupsafe.Markup(section) for section in sections],
    }
    return _environment().get_template("run_report.html.j2").render(context)
