"""The WCR / MCR / QCR as one self-contained HTML page and its PDF (WeasyPrint).

The page never reaches the network: CSS is inline, charts are SVG rendered offline by
vl-convert and inlined, there is no JavaScript, and WeasyPrint is given a URL fetcher that
refuses every URL, so the PDF is made from exactly the HTML written beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import altair as alt
import jinja2
from markdown_it import MarkdownIt

from cobranza._atomic import atomic_directory
from cobranza._errors import CobranzaError
from cobranza._version import __version__
from cobranza.contract import discover, load_valid
from cobranza.engine import Engine, connect
from cobranza.provisions import WALK_LINES, ParameterFile
from cobranza.reports import _charts as charts
from cobranza.reports import _format as fmt
from cobranza.reports.credit_results._data import CreditResultsData, credit_results_data
from cobranza.reports.credit_results._periods import PERIODS, period_label

ZONE = ZoneInfo("America/Mexico_City")
#: Section ids of the page, in order (the tests look for each).
SECTIONS = (
    "headline",
    "trend",
    "roll-rates",
    "vintages",
    "provisions",
    "allowance-walk",
    "collections",
    "commentary",
)
WALK_TITLES = {
    "opening": "Opening allowance",
    "new_loans": "New loans",
    "repayments": "Repayments (change of exposure)",
    "transfers_out": "Transfers out of the stage",
    "transfers_in": "Transfers into the stage",
    "write_offs": "Write-offs",
    "remeasurement": "Remeasurement",
    "closing": "Closing allowance",
}
VINTAGE_MOBS = (1, 3, 6, 9)
CHANNEL_TITLES = {
    "spei": "SPEI", "oxxo": "OXXO", "card": "Card", "direct_debit": "Direct debit",
    "codi": "CoDi", "cash": "Cash", "other": "Other",
}  # fmt: skip


def channel_title(channel: str) -> str:
    """How a payment channel reads on the page."""
    return CHANNEL_TITLES.get(channel, channel.replace("_", " ").capitalize())


def _bucket_name(bucket: str) -> str:
    return "Opened in the period" if bucket == "new" else fmt.bucket_title(bucket)


class CommentaryError(CobranzaError, ValueError):
    """The commentary file cannot be read."""


@dataclass
class CreditResultsResult:
    """Where the report was written."""

    out: Path
    html: Path
    pdf: Path
    code: str


def _money_delta(new: Decimal | None, old: Decimal | None) -> str:
    if new is None or old is None:
        return fmt.DASH
    return f"{fmt.mxn_short(new - old, signed=True)} {fmt.pct_change(new, old)}".strip()


def _rate_delta(new: Any, old: Any) -> str:
    if new is None or old is None:
        return fmt.DASH
    return fmt.pp(Decimal(str(new)) - Decimal(str(old)))


def _count_delta(new: int | None, old: int | None) -> str:
    if new is None or old is None:
        return fmt.DASH
    return f"{fmt.count(new - old, signed=True)} {fmt.pct_change(new, old)}".strip()


# (key, label, kind, higher_is_worse) of the headline rows
HEADLINE = (
    ("balance", "Balance (open book)", "money", None),
    ("loans", "Open loans", "count", None),
    ("balance_90_plus", "Balance 90+ dpd", "money", True),
    ("imor", "IMOR (90+ ÷ balance)", "rate", True),
    ("imora", "IMORA (90+ and 12-month write-offs)", "rate", True),
    ("reserves", "Reserves (allowance)", "money", None),
    ("icor", "ICOR (reserves ÷ 90+)", "rate", False),
    ("write_offs", "Write-offs in the period", "money", True),
    ("roll_forward_rate", "Roll-forward rate", "rate", True),
    ("cure_rate", "Cure rate", "rate", False),
    ("collected", "Collected", "money", False),
    ("promise_kept_rate", "Promise kept rate", "rate", False),
    ("cost_to_collect", "Cost to collect (per peso collected)", "rate", True),
)


def _value(kind: str, value: Any) -> str:
    if kind == "money":
        return fmt.mxn(value)
    if kind == "count":
        return fmt.count(value)
    return fmt.pct(value)


def _delta(kind: str, new: Any, old: Any) -> str:
    if kind == "money":
        return _money_delta(new, old)
    if kind == "count":
        return _count_delta(new, old)
    return _rate_delta(new, old)


def _tone(new: Any, old: Any, worse_up: bool | None) -> str:
    if worse_up is None or new is None or old is None or new == old:
        return "flat"
    return "bad" if (new > old) == worse_up else "good"


def _headline(kpis: list[dict[str, Any]]) -> list[dict[str, str]]:
    current = kpis[-1]
    previous = kpis[-2] if len(kpis) > 1 else None
    out = []
    for key, label, kind, worse_up in HEADLINE:
        new = current[key]
        old = previous[key] if previous else None
        out.append(
            {
                "label": label,
                "current": _value(kind, new),
                "previous": _value(kind, old) if previous else fmt.DASH,
                "change": _delta(kind, new, old) if previous else fmt.DASH,
                "tone": _tone(new, old, worse_up),
            }
        )
    return out


def _trend(data: CreditResultsData) -> dict[str, Any]:
    labels = [period_label(data.period, k["start"], k["end"]) for k in data.kpis]
    columns = (
        ("balance", "Balance", "money"), ("imor", "IMOR", "rate"), ("imora", "IMORA", "rate"),
        ("icor", "ICOR", "rate"), ("roll_forward_rate", "Roll fwd", "rate"),
        ("cure_rate", "Cure", "rate"), ("collected", "Collected", "money"),
        ("promise_kept_rate", "Promises kept", "rate"),
    )  # fmt: skip
    rows = [
        {
            "label": label,
            "cells": [
                fmt.mxn_short(k[key]) if kind == "money" else fmt.pct(k[key])
                for key, _, kind in columns
            ],
        }
        for label, k in zip(labels, data.kpis, strict=True)
    ]
    points = [
        {"period": label, "series": name, "rate": float(k[key])}
        for label, k in zip(labels, data.kpis, strict=True)
        for key, name in (("imor", "IMOR"), ("imora", "IMORA"))
        if k[key] is not None
    ]
    chart = None
    if points:
        spec = (
            alt.Chart(alt.Data(values=points))
            .mark_line(strokeWidth=2.2, point=alt.OverlayMarkDef(size=30, filled=True))
            .encode(
                x=alt.X("period:O", sort=labels, title=None, axis=alt.Axis(labelAngle=0)),
                y=alt.Y("rate:Q", title="Share of balance", axis=alt.Axis(format=".1%")),
                color=alt.Color(
                    "series:N",
                    scale=alt.Scale(domain=["IMOR", "IMORA"], range=[charts.ACCENT, "#d6484f"]),
                    legend=alt.Legend(title=None, orient="top"),
                ),
            )
            .properties(width=820, height=200)
        )
        chart = charts.to_svg(spec, name="trend", description="IMOR and IMORA per period")
    return {"headers": [c[1] for c in columns], "rows": rows, "chart": chart}


def _rolls(data: CreditResultsData) -> dict[str, Any] | None:
    if not data.roll_matrix:
        return None
    from_order = fmt.bucket_order(r["from_bucket"] for r in data.roll_matrix)
    to_order = fmt.bucket_order(r["to_bucket"] for r in data.roll_matrix)
    cells = {(r["from_bucket"], r["to_bucket"]): r["loans_share"] for r in data.roll_matrix}
    rows = [
        {
            "from": fmt.bucket_title(f),
            "to": fmt.bucket_title(t),
            "share": cells.get((f, t)) or 0.0,
            "share_text": fmt.pct(cells[(f, t)], 0) if (f, t) in cells else "",
        }
        for f in from_order
        for t in to_order
    ]
    chart = charts.roll_heatmap(
        rows,
        [fmt.bucket_title(b) for b in from_order],
        [fmt.bucket_title(b) for b in to_order],
        legend="Share of the from-bucket's loans",
    )
    svg = charts.to_svg(chart, name="rolls", description="Roll-rate matrix of the last period")
    start = data.ends[-2]
    return {"chart": svg, "start": fmt.long_date(start), "end": fmt.long_date(data.as_of)}


def _vintages(data: CreditResultsData) -> dict[str, Any] | None:
    if not data.vintages:
        return None
    cohorts = sorted({r["origination_month"] for r in data.vintages})
    labels = [fmt.month_label(c) for c in cohorts]
    points = [
        {"cohort": fmt.month_label(r["origination_month"]), "mob": r["months_on_book"],
         "rate": r["ever_30_rate"]}
        for r in data.vintages if r["ever_30_rate"] is not None
    ]  # fmt: skip
    svg = charts.to_svg(
        charts.vintage_curves(points, labels),
        name="vintages",
        description="Ever 30+ dpd by months on book per origination month",
    )
    by_key = {(r["origination_month"], r["months_on_book"]): r for r in data.vintages}
    rows = []
    for cohort in cohorts:
        cells = []
        for mob in VINTAGE_MOBS:
            r = by_key.get((cohort, mob))
            cells.append(
                f"{fmt.pct(r['ever_30_rate'], 1)} / {fmt.pct(r['ever_90_rate'], 1)}"
                if r else fmt.DASH
            )  # fmt: skip
        loans = by_key.get((cohort, 0), {}).get("loans")
        rows.append({"cohort": fmt.month_label(cohort), "loans": fmt.count(loans), "cells": cells})
    return {"chart": svg, "mobs": VINTAGE_MOBS, "rows": rows}


def _provisions(data: CreditResultsData) -> dict[str, Any]:
    stages = [
        {"stage": f"Stage {r['value']}", "loans": fmt.count(r["loans"]), "ei": fmt.mxn(r["ei"]),
         "reserve": fmt.mxn(r["reserve"]), "coverage": fmt.pct(r["coverage"])}
        for r in data.stages
    ]  # fmt: skip
    total_ei = sum((r["ei"] for r in data.stages), Decimal("0.00"))
    total_reserve = sum((r["reserve"] for r in data.stages), Decimal("0.00"))
    total = {
        "stage": "Total",
        "loans": fmt.count(sum(r["loans"] for r in data.stages)),
        "ei": fmt.mxn(total_ei),
        "reserve": fmt.mxn(total_reserve),
        "coverage": fmt.pct(total_reserve / total_ei if total_ei else None),
    }
    by_stage = {r["stage"]: r for r in data.walk}
    columns = [s for s in ("1", "2", "3", "total") if s in by_stage]
    walk = [
        {
            "line": WALK_TITLES[line],
            "strong": line in ("opening", "closing"),
            "cells": [fmt.mxn(by_stage[s][line]) for s in columns],
        }
        for line in WALK_LINES
    ]
    transfers = [
        {"from": r["from_stage"], "to": r["to_stage"], "loans": fmt.count(r["loans"]),
         "amount": fmt.mxn(r["amount"])}
        for r in data.transfers
    ]  # fmt: skip
    return {
        "stages": stages,
        "total": total,
        "walk_columns": ["Total" if s == "total" else f"Stage {s}" for s in columns],
        "walk": walk,
        "transfers": transfers,
        "walk_from": fmt.long_date(data.ends[-2]) if len(data.ends) > 1 else fmt.DASH,
        "walk_to": fmt.long_date(data.as_of),
    }


def _collections(data: CreditResultsData) -> dict[str, Any]:
    current, previous = data.ends[-1], data.ends[-2] if len(data.ends) > 2 else None

    def table(rows: list[dict[str, Any]], key: str, order: Sequence[str]) -> list[dict[str, str]]:
        now = {r[key]: r for r in rows if r["period_end"] == current}
        before = {r[key]: r for r in rows if r["period_end"] == previous}
        out = []
        for name in order:
            new = now.get(name, {}).get("amount", Decimal("0.00"))
            old = before.get(name, {}).get("amount", Decimal("0.00")) if previous else None
            out.append(
                {
                    "name": _bucket_name(name) if key == "bucket" else channel_title(name),
                    "payments": fmt.count(now.get(name, {}).get("payments", 0)),
                    "amount": fmt.mxn(new),
                    "previous": fmt.mxn(old) if old is not None else fmt.DASH,
                    "change": _money_delta(new, old),
                }
            )
        return out

    channels = sorted({r["channel"] for r in data.collections_by_channel})
    buckets = fmt.bucket_order(
        r["bucket"] for r in data.collections_by_bucket if r["bucket"] != "new"
    )
    if any(r["bucket"] == "new" for r in data.collections_by_bucket):
        buckets.append("new")
    now_rows = [r for r in data.collections_by_channel if r["period_end"] == current]
    chart = None
    if now_rows:
        largest = max(r["amount"] for r in now_rows)
        divisor, unit = fmt.chart_unit(largest)
        spec = alt.Chart(
            alt.Data(
                values=[
                    {
                        "channel": channel_title(r["channel"]),
                        "value": float(r["amount"] / divisor),
                        "text": fmt.mxn_short(r["amount"]),
                    }
                    for r in now_rows
                ]
            )
        ).encode(
            y=alt.Y("channel:N", sort="-x", title=None, axis=alt.Axis(minExtent=110)),
            x=alt.X("value:Q", title=f"Collected ({unit})", axis=alt.Axis(format=",.1~f")),
        )
        layered = alt.layer(
            spec.mark_bar(color=charts.ACCENT, cornerRadiusEnd=2),
            spec.mark_text(align="left", dx=5, fontSize=11, color=charts.INK).encode(text="text:N"),
        ).properties(width=520, height=max(28 * len(now_rows), 100))
        chart = charts.to_svg(layered, name="channels", description="Collected by channel")
    return {
        "by_channel": table(data.collections_by_channel, "channel", channels),
        "by_bucket": table(data.collections_by_bucket, "bucket", buckets),
        "chart": chart,
    }


def _commentary(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommentaryError(f"{path}: cannot read the commentary: {exc}") from exc
    # Raw HTML is off: commentary is text, and must not bring scripts or remote images along.
    md = MarkdownIt("commonmark", {"html": False}).disable("image")
    return md.render(text)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("cobranza.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_credit_results(
    data: CreditResultsData,
    *,
    portfolio: str,
    engine: str,
    generated_at: dt.datetime,
    commentary: Path | None = None,
) -> str:
    """The HTML of the WCR / MCR / QCR from :func:`credit_results_data`."""
    code, title, _ = PERIODS[data.period]
    current = data.kpis[-1]
    params: ParameterFile = data.params
    context = {
        "code": code,
        "title": title,
        "period": period_label(data.period, current["start"], current["end"]),
        "start": fmt.long_date(current["start"] + dt.timedelta(days=1)),
        "end": fmt.long_date(current["end"]),
        "compared_with": (
            period_label(data.period, data.kpis[-2]["start"], data.kpis[-2]["end"])
            if len(data.kpis) > 1
            else None
        ),
        "portfolio": portfolio,
        "engine": engine,
        "method": data.method,
        "params": f"{params.name} {params.version}",
        "example": params.example,
        "generated_at": fmt.timestamp(generated_at),
        "version": __version__,
        "headline": _headline(data.kpis),
        "trend": _trend(data),
        "rolls": _rolls(data),
        "vintages": _vintages(data),
        "provisions": _provisions(data),
        "collections": _collections(data),
        "commentary": _commentary(commentary),
    }
    return _environment().get_template("credit_results.html.j2").render(context)


def _no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    raise ValueError(f"the credit results PDF fetches nothing; refused {url}")


def html_to_pdf(html: str, path: Path) -> None:
    """Write the PDF of ``html`` with WeasyPrint, refusing any external resource."""
    import weasyprint

    weasyprint.HTML(string=html, url_fetcher=_no_fetch).write_pdf(path)


def write_credit_results(
    data: str | Path,
    period: str,
    as_of: dt.date | str,
    out: str | Path,
    engine: str | Engine = "duckdb",
    *,
    method: str = "ifrs9",
    params: str | Path | ParameterFile | None = None,
    commentary: str | Path | None = None,
    periods: int | None = None,
) -> CreditResultsResult:
    """Validate the portfolio in ``data`` and write ``<code>_<as_of>.html`` and ``.pdf``
    (e.g. ``MCR_2026-10-31.html``) into ``out``, atomically (``out`` is replaced)."""
    as_of = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}")
    note = Path(commentary) if commentary is not None else None
    if note is not None and not note.is_file():
        raise CommentaryError(f"{note}: no such commentary file")
    files = discover(data)
    eng = connect(engine)
    try:
        tables = load_valid(eng, files)
        numbers = credit_results_data(
            eng, tables, period, as_of, method=method, params=params, periods=periods
        )
        html = render_credit_results(
            numbers,
            portfolio=files.root.name,
            engine=eng.name,
            generated_at=dt.datetime.now(ZONE),
            commentary=note,
        )
        code = PERIODS[period][0]
        stem = f"{code}_{as_of.isoformat()}"
        with atomic_directory(out, replace=True) as staging:
            (staging / f"{stem}.html").write_text(html, encoding="utf-8")
            html_to_pdf(html, staging / f"{stem}.pdf")
        out_path = Path(out).resolve()
        return CreditResultsResult(
            out=out_path, html=out_path / f"{stem}.html", pdf=out_path / f"{stem}.pdf", code=code
        )
    finally:
        if not isinstance(engine, Engine):
            eng.close()
