"""The monthly partner scorecard: one self-contained HTML page with inline SVG charts.

Like the run report, the page never reaches the network: CSS inline, charts rendered offline
by vl-convert from Altair specs, no JavaScript. Money is formatted from ``Decimal`` only.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from statistics import NormalDist
from typing import Any
from zoneinfo import ZoneInfo

import altair as alt
import ibis.expr.types as ir
import jinja2
import pyarrow as pa
import vl_convert as vlc

from cobranza._version import __version__
from cobranza.engine import Engine
from cobranza.payments.partners._contracts import (
    PartnerContracts,
    fee_terms_table,
    partner_terms_table,
)
from cobranza.payments.partners._kpis import defect_pareto, partner_kpis

__all__ = [
    "ROOT_CAUSE_LABELS",
    "partner_scorecard",
    "render_scorecard",
    "scorecard_tables",
    "sigma_level",
    "write_scorecard",
]

ZONE = ZoneInfo("America/Mexico_City")
DASH = "—"
ROOT_CAUSE_LABELS = {
    "unapplied_credit": "Credit received, not applied",
    "unsettled_payment": "Payment applied, never settled",
    "amount_mismatch": "Amount mismatch",
    "duplicate": "Duplicate",
    "reversal": "Reversal or chargeback",
    "late_settlement": "Settled later than contract",
    "unknown_reference": "Unknown reference",
}
_CHART_CONFIG: dict[str, Any] = {
    "font": "'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Liberation Sans', sans-serif",
    "background": "#ffffff",
    "padding": 4,
    "view": {"stroke": None},
    "axis": {"labelColor": "#52606d", "titleColor": "#52606d", "labelFontSize": 12,
             "titleFontSize": 12, "gridColor": "#e4e7eb", "domainColor": "#cbd2d9"},
    "legend": {"labelColor": "#52606d", "titleColor": "#1f2933", "labelFontSize": 11},
}  # fmt: skip


def sigma_level(dpmo: float | None) -> float | None:
    """Short-term sigma level of a DPMO: Φ⁻¹(1 − DPMO/10⁶) + 1.5 (None at 0 or 10⁶)."""
    if dpmo is None or not 0 < dpmo < 1_000_000:
        return None
    return NormalDist().inv_cdf(1 - dpmo / 1_000_000) + 1.5


def _month_start(month: dt.date) -> dt.date:
    return month.replace(day=1)


def _months_back(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


def scorecard_tables(
    engine: Engine,
    *,
    month: dt.date,
    transactions: ir.Table,
    exceptions: ir.Table,
    contracts: PartnerContracts,
    matches: ir.Table | None = None,
    payments: ir.Table | None = None,
) -> dict[str, pa.Table]:
    """The small tables the scorecard shows, computed by the engine and fetched.

    ``kpis``: :func:`partner_kpis` rows of the 13 months ending with ``month`` (the same month
    a year earlier included, for the year-over-year DPMO); ``pareto``: :func:`defect_pareto`
    of ``month`` across partners. The contract terms are registered on the engine as
    ``_partner_terms`` and ``_fee_terms``.
    """
    month = _month_start(month)
    engine.register_arrow("_partner_terms", partner_terms_table(contracts))
    engine.register_arrow("_fee_terms", fee_terms_table(contracts))
    kpis = partner_kpis(transactions, exceptions, engine.table("_partner_terms"),
                        engine.table("_fee_terms"), matches=matches, payments=payments)  # fmt: skip
    kpis = kpis.filter((kpis.month >= _months_back(month, 12)) & (kpis.month <= month))
    pareto = defect_pareto(transactions, exceptions)
    pareto = pareto.filter(pareto.month == month)
    return {"kpis": engine.fetch(kpis), "pareto": engine.fetch(pareto)}


def partner_scorecard(
    engine: Engine,
    path: Path,
    *,
    month: dt.date,
    transactions: ir.Table,
    exceptions: ir.Table,
    contracts: PartnerContracts,
    matches: ir.Table | None = None,
    payments: ir.Table | None = None,
) -> Path:
    """Compute the month's tables on ``engine`` and write the scorecard page to ``path``."""
    tables = scorecard_tables(engine, month=month, transactions=transactions,
                              exceptions=exceptions, contracts=contracts, matches=matches,
                              payments=payments)  # fmt: skip
    return write_scorecard(path, tables["kpis"], tables["pareto"], month=month)


def write_scorecard(
    path: Path,
    kpis: pa.Table,
    pareto: pa.Table,
    *,
    month: dt.date,
    generated_at: dt.datetime | None = None,
) -> Path:
    """Write the page to ``path`` atomically (a temporary file renamed into place)."""
    page = render_scorecard(kpis.to_pylist(), pareto.to_pylist(), month=month,
                            generated_at=generated_at or dt.datetime.now(ZONE))  # fmt: skip
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        Path(tmp).chmod(0o644)  # mkstemp makes it private; the page is for people
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --- formatting ----------------------------------------------------------------------------


def _mxn(value: Decimal | None) -> str:
    if value is None:
        return DASH
    amount = Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP)
    sign = "\N{MINUS SIGN}" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f} MXN"


def _pct(value: float | None, digits: int = 1) -> str:
    if value is None:
        return DASH
    percent = (Decimal(repr(value)) * 100).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    return f"{percent:.{digits}f}%"


def _count(value: int | None) -> str:
    return DASH if value is None else f"{value:,}"


def _dpmo(value: float | None) -> str:
    return (
        DASH if value is None else f"{Decimal(repr(value)).quantize(Decimal(1), ROUND_HALF_UP):,}"
    )


def _sigma(value: float | None) -> str:
    level = sigma_level(value)
    return DASH if level is None else f"{level:.2f}σ"


def _days(value: int | None) -> str:
    return DASH if value is None else f"{value} d"


def _pill(text: str, ok: bool | None) -> dict[str, str]:
    return {"text": text, "tone": "flat" if ok is None else ("good" if ok else "bad")}


def _label(month: dt.date) -> str:
    return month.strftime("%b %Y")


@dataclass(frozen=True)
class _Table:
    head: list[str]
    rows: list[list[Any]]
    numeric_from: int = 1


# --- charts --------------------------------------------------------------------------------

_ID = re.compile(r'\bid="([^"]+)"')


def _svg(chart: alt.TopLevelMixin, *, name: str, description: str) -> str:
    svg = vlc.vegalite_to_svg(chart.to_dict(), config=_CHART_CONFIG, allowed_base_urls=[])
    for old in set(_ID.findall(svg)):  # inline SVGs share the page's id space
        new = f"{name}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"').replace(f"url(#{old})", f"url(#{new})")
        svg = svg.replace(f'href="#{old}"', f'href="#{new}"')
    label = html.escape(description, quote=True)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def _pareto_chart(rows: Sequence[Mapping[str, Any]]) -> alt.LayerChart:
    data = alt.Data(values=[
        {"cause": ROOT_CAUSE_LABELS.get(r["root_cause"], r["root_cause"]),
         "defects": r["defects"], "cumulative": r["cumulative_share"]}
        for r in rows
    ])  # fmt: skip
    order = [ROOT_CAUSE_LABELS.get(r["root_cause"], r["root_cause"]) for r in rows]
    most = max(r["defects"] for r in rows)
    # Whole defects only: d3 would otherwise tick 0.5 steps on a small month.
    ticks = alt.Axis(values=list(range(most + 1))) if most <= 10 else alt.Axis(format=",d")
    x = alt.X("cause:N", sort=order, title=None,
              axis=alt.Axis(labelAngle=0, labelExpr="split(datum.label, ' ')"))  # fmt: skip
    bars = (
        alt.Chart(data)
        .mark_bar(color="#d6484f", width={"band": 0.7})
        .encode(x=x, y=alt.Y("defects:Q", title="Defects", axis=ticks))
    )
    share = alt.Scale(domain=[0, 1])
    line = alt.Chart(data).mark_line(color="#1d3557", strokeWidth=2, point=True).encode(
        x=x, y=alt.Y("cumulative:Q", title="Cumulative share", scale=share,
                     axis=alt.Axis(format=".0%", orient="right"))
    )  # fmt: skip
    mark_80 = (
        alt.Chart(alt.Data(values=[{"share": 0.8}]))
        .mark_rule(color="#8a94a3", strokeDash=[4, 4])
        .encode(y=alt.Y("share:Q", scale=share))
    )
    return (
        alt.layer(bars, alt.layer(line, mark_80))
        .resolve_scale(y="independent")
        .properties(width=max(90 * len(rows), 360), height=260)
    )


def _trend_chart(rows: Sequence[Mapping[str, Any]], months: Sequence[str]) -> alt.Chart:
    return (
        alt.Chart(alt.Data(values=list(rows)))
        .mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=30, filled=True))
        .encode(
            x=alt.X(
                "month:O",
                title=None,
                scale=alt.Scale(domain=list(months)),
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y("dpmo:Q", title="DPMO", axis=alt.Axis(format=",d")),
            color=alt.Color("partner:N", title="Partner", scale=alt.Scale(scheme="tableau10")),
        )
        .properties(width=860, height=260)
    )


# --- page ----------------------------------------------------------------------------------


def _overall(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    transactions = sum(r["transactions"] for r in rows)
    settled = sum(r["settled"] for r in rows)
    final = settled + sum(r["failed"] for r in rows)
    defects = sum(r["exceptions"] for r in rows)
    opportunities = sum(r["opportunities"] for r in rows)
    return {
        "transactions": transactions,
        "success_rate": settled / final if final else None,
        "defects": defects,
        "opportunities": opportunities,
        "dpmo": defects * 1_000_000 / opportunities if opportunities else None,
        "unmatched": sum((r["unmatched_amount"] for r in rows), Decimal(0)),
        "settled_amount": sum((r["settled_amount"] for r in rows), Decimal(0)),
    }


def render_scorecard(
    kpis: Sequence[Mapping[str, Any]],
    pareto: Sequence[Mapping[str, Any]],
    *,
    month: dt.date,
    generated_at: dt.datetime,
) -> str:
    """The page's HTML from :func:`scorecard_tables` rows (as Python dicts)."""
    month = _month_start(month)
    current = sorted((r for r in kpis if r["month"] == month), key=lambda r: r["partner_id"])
    total = _overall(current)
    cards = [
        {"title": "Transactions", "value": _count(total["transactions"]),
         "detail": f"settled {_mxn(total['settled_amount'])}"},
        {"title": "Success rate", "value": _pct(total["success_rate"]),
         "detail": "settled of final transactions"},
        {"title": "DPMO", "value": _dpmo(total["dpmo"]),
         "detail": f"{_count(total['defects'])} defects in {_count(total['opportunities'])} "
                   f"opportunities · {_sigma(total['dpmo'])}"},
        {"title": "Unmatched", "value": _mxn(total["unmatched"]),
         "detail": "open exceptions leaving money unmatched"},
    ]  # fmt: skip
    partner_table = _Table(
        head=["Partner", "Transactions", "Settled", "Success rate", "Latency p50 / p95",
              "SLA compliance", "Exception rate", "DPMO", "Sigma", "Unmatched"],
        rows=[
            [r["partner_name"] or r["partner_id"], _count(r["transactions"]),
             _mxn(r["settled_amount"]),
             _pill(f"{_pct(r['success_rate'])} (min {_pct(r['min_success_rate'])})",
                   r["success_ok"]),
             f"{_days(r['latency_p50_days'])} / {_days(r['latency_p95_days'])}",
             _pill(f"{_pct(r['sla_compliance'])} within {_days(r['settlement_days'])}",
                   None if r["sla_compliance"] is None else r["sla_compliance"] >= 1),
             _pill(f"{_pct(r['exception_rate'], 2)} (max {_pct(r['max_exception_rate'], 2)})",
                   r["exception_ok"]),
             _dpmo(r["dpmo"]), _sigma(r["dpmo"]), _mxn(r["unmatched_amount"])]
            for r in current
        ],
    )  # fmt: skip
    fee_table = _Table(
        head=["Partner", "Charged", "Per contract", "Difference", "Settled without fee"],
        rows=[
            [r["partner_name"] or r["partner_id"], _mxn(r["fees_charged"]),
             _mxn(r["fees_expected"]),
             _pill(_mxn(r["fee_difference"]),
                   None if r["fee_difference"] is None else r["fee_difference"] <= 0),
             _count(r["fees_unreported"])]
            for r in current if r["fees_charged"] or r["fees_unreported"]
        ],
    )  # fmt: skip
    ordered = sorted(pareto, key=lambda r: r["rank"])
    pareto_section: dict[str, Any] = {"chart": None, "table": None}
    if ordered:
        pareto_section = {
            "chart": _svg(_pareto_chart(ordered), name="pareto",
                          description=f"Defects by root cause in {_label(month)}"),
            "table": _Table(
                head=["Root cause", "Defects", "Share", "Cumulative", "DPMO"],
                rows=[[ROOT_CAUSE_LABELS.get(r["root_cause"], r["root_cause"]),
                       _count(r["defects"]), _pct(r["share"]), _pct(r["cumulative_share"]),
                       _dpmo(r["dpmo"])] for r in ordered],
            ),
        }  # fmt: skip
    start = _months_back(month, 12)
    months = [_months_back(month, n) for n in range(12, -1, -1)]
    partners = sorted({r["partner_id"] for r in kpis})
    trend_rows = [
        {"month": _label(r["month"]), "partner": r["partner_name"] or r["partner_id"],
         "dpmo": r["dpmo"]}
        for r in kpis if r["dpmo"] is not None
    ]  # fmt: skip
    by_month = {m: _overall([r for r in kpis if r["month"] == m]) for m in months}
    trend: dict[str, Any] = {"chart": None, "table": None}
    if trend_rows:
        trend = {
            "chart": _svg(_trend_chart(trend_rows, [_label(m) for m in months]), name="trend",
                          description="DPMO by partner over thirteen months"),
            "table": _Table(
                head=["Month", "Opportunities", "Defects", "DPMO", "Sigma"],
                rows=[[_label(m), _count(by_month[m]["opportunities"]),
                       _count(by_month[m]["defects"]), _dpmo(by_month[m]["dpmo"]),
                       _sigma(by_month[m]["dpmo"])]
                      for m in (start, month)],
            ),
        }  # fmt: skip
    context = {
        "version": __version__,
        "month": _label(month),
        "month_iso": month.isoformat()[:7],
        "partners": len({r["partner_id"] for r in current}) or len(partners),
        "generated_at": f"{generated_at:%Y-%m-%d %H:%M %Z}",
        "generated_iso": generated_at.isoformat(timespec="seconds"),
        "trend_from": _label(start),
        "cards": cards,
        "partner_table": partner_table,
        "fee_table": fee_table,
        "pareto": pareto_section,
        "trend": trend,
    }
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cobranza.payments.partners", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("scorecard.html.j2").render(context)
