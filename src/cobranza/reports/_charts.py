"""Charts for the run report: Altair specs rendered offline to inline SVG by vl-convert.

Chart builders take plain rows (floats for positions, preformatted strings for any text drawn
on the chart) so that money shown as text is formatted from ``Decimal`` by ``_format``, never
by Vega's float formatting.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import vl_convert as vlc

from cobranza.ledger import CURRENT, PAID_OFF, WRITTEN_OFF

Row = Mapping[str, Any]

FONT = "'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Liberation Sans', sans-serif"
INK = "#1f2933"
MUTED = "#52606d"
GRID = "#e4e7eb"
EMPTY = "#f3f5f8"
ACCENT = "#1d3557"  # the IMOR line: dark enough to read over any bucket colour

# Vega-Lite config shared by every chart; titles live in the HTML, not in the SVG.
CONFIG: dict[str, Any] = {
    "font": FONT,
    "background": "#ffffff",
    "padding": 4,
    "view": {"stroke": None},
    "axis": {
        "labelColor": MUTED,
        "titleColor": MUTED,
        "labelFontSize": 12,
        "titleFontSize": 12,
        "titleFontWeight": 600,
        "gridColor": GRID,
        "domainColor": "#cbd2d9",
        "tickColor": "#cbd2d9",
        "titlePadding": 8,
    },
    "legend": {
        "labelColor": MUTED,
        "titleColor": INK,
        "labelFontSize": 11,
        "titleFontSize": 11,
        "titleFontWeight": 600,
    },
    "text": {"font": FONT},
}

# Current is a calm blue; delinquency runs amber → wine so worse buckets read darker.
_CURRENT_COLOUR = "#9ab8d8"
_DELINQUENT_RAMP = ("#efbd45", "#ef8a3c", "#d6484f", "#8c1c3a")
_CLOSED_COLOURS = {PAID_OFF: "#7fb77e", WRITTEN_OFF: "#52606d"}
_COHORT_SCHEME = {"name": "blues", "extent": [0.3, 1.0]}  # the lightest blues vanish on white


def _vl_version() -> str | None:
    """The Vega-Lite version vl-convert should use: the one Altair writes specs for.

    Falls back to vl-convert's default when it does not ship that exact minor version.
    """
    major_minor = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return major_minor if major_minor in vlc.get_vegalite_versions() else None


def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in rgb)


def _interpolate(stops: Sequence[str], n: int) -> list[str]:
    """``n`` colours evenly spaced along a piecewise-linear RGB ramp through ``stops``."""
    rgb = [tuple(int(s[i : i + 2], 16) for i in (1, 3, 5)) for s in stops]
    if n == 1:
        return [stops[len(stops) // 2]]
    out = []
    for k in range(n):
        pos = k / (n - 1) * (len(rgb) - 1)
        i = min(int(pos), len(rgb) - 2)
        t = pos - i
        out.append(_hex([a + (b - a) * t for a, b in zip(rgb[i], rgb[i + 1], strict=True)]))
    return out


def bucket_colours(order: Sequence[str]) -> list[str]:
    """One colour per bucket in ``order`` (current, delinquent buckets, closed states)."""
    delinquent = [b for b in order if b != CURRENT and b not in _CLOSED_COLOURS]
    ramp = iter(_interpolate(_DELINQUENT_RAMP, len(delinquent)) if delinquent else [])
    return [
        _CURRENT_COLOUR if b == CURRENT else _CLOSED_COLOURS.get(b) or next(ramp) for b in order
    ]


_ID = re.compile(r'\bid="([^"]+)"')


def _namespace_ids(svg: str, prefix: str) -> str:
    """Prefix every id (and its references) so several inline SVGs can share one page.

    Inline SVGs share the document's id space: two charts that both define ``clip1`` would
    clip each other.
    """
    for old in set(_ID.findall(svg)):
        new = f"{prefix}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"')
        svg = svg.replace(f"url(#{old})", f"url(#{new})")
        svg = svg.replace(f'href="#{old}"', f'href="#{new}"')
    return svg


def to_svg(chart: alt.TopLevelMixin, *, name: str, description: str) -> str:
    """Render ``chart`` offline to SVG markup ready to inline in the page."""
    svg = vlc.vegalite_to_svg(
        chart.to_dict(),
        vl_version=_vl_version(),
        config=CONFIG,
        allowed_base_urls=[],  # data is inline; refuse any fetch rather than trust every spec
    )
    svg = _namespace_ids(svg, f"chart-{name}")
    # Screen readers get one sentence instead of hundreds of unlabelled paths.
    label = html.escape(description, quote=True)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def _data(rows: Sequence[Row]) -> alt.Data:
    return alt.Data(values=[dict(r) for r in rows])


def bucket_bars(rows: Sequence[Row], order: Sequence[str], unit: str) -> alt.LayerChart:
    """Horizontal bars of balance by bucket, best bucket on top, share of balance at the end.

    Rows: ``bucket``, ``label`` (axis text), ``value`` (balance in ``unit``), ``share_text``.
    """
    labels = [next(r["label"] for r in rows if r["bucket"] == b) for b in order]
    base = alt.Chart(_data(rows)).encode(
        y=alt.Y(
            "label:N",
            sort=labels,
            title=None,
            axis=alt.Axis(ticks=False, domain=False, labelPadding=6),
        ),
        x=alt.X("value:Q", title=f"Balance ({unit})", axis=alt.Axis(format=",.1~f", tickCount=5)),
    )
    bars = base.mark_bar(cornerRadiusEnd=2, height={"band": 0.7}).encode(
        color=alt.Color(
            "bucket:N",
            scale=alt.Scale(domain=list(order), range=bucket_colours(order)),
            legend=None,
        )
    )
    text = base.mark_text(align="left", dx=5, fontSize=12, color=INK).encode(text="share_text:N")
    return alt.layer(bars, text).properties(width=340, height=max(36 * len(order), 120))


def roll_heatmap(
    rows: Sequence[Row], from_order: Sequence[str], to_order: Sequence[str], *, legend: str
) -> alt.LayerChart:
    """From-bucket rows × to-bucket columns, coloured by share, each cell annotated.

    Rows: ``from``, ``to`` (axis text), ``share`` (0..1), ``share_text``. A square-root colour
    scale keeps 5-20% roll-forward cells visible next to a 95% current-to-current cell.
    """
    base = alt.Chart(_data(rows)).encode(
        x=alt.X(
            "to:N",
            sort=list(to_order),
            title="To bucket (next month-end)",
            # "Written off" is wider than a cell: break labels at spaces. At the bottom, since
            # extra lines grow downwards and would run into the first row from the top.
            axis=alt.Axis(
                orient="bottom",
                labelAngle=0,
                ticks=False,
                domain=False,
                labelExpr="split(datum.label, ' ')",
                labelLineHeight=13,
            ),
        ),
        y=alt.Y(
            "from:N",
            sort=list(from_order),
            title="From bucket",
            axis=alt.Axis(ticks=False, domain=False),
        ),
    )
    shade = alt.Color(
        "share:Q",
        scale=alt.Scale(type="sqrt", domain=[0, 1], scheme="blues"),
        legend=alt.Legend(title=legend, format=".0%", orient="bottom", gradientLength=220,
                          values=[0, 0.05, 0.25, 0.5, 1], direction="horizontal"),
    )  # fmt: skip
    # Pairs no loan took stay grey: the palest blue would read as "a few".
    cells = base.mark_rect(stroke="#ffffff", strokeWidth=1.5).encode(
        color=alt.condition("datum.share > 0", shade, alt.value(EMPTY))
    )
    text = base.mark_text(fontSize=11).encode(
        text="share_text:N",
        color=alt.condition("datum.share >= 0.35", alt.value("#ffffff"), alt.value(INK)),
    )
    return alt.layer(cells, text).properties(width=50 * len(to_order), height=32 * len(from_order))


def _trimmed(values: Sequence[str], keep: int) -> list[str]:
    """At most ``keep`` evenly spaced values, always with the first and the last."""
    if len(values) <= keep:
        return list(values)
    step = (len(values) - 1) / (keep - 1)
    return [values[round(i * step)] for i in range(keep)]


def vintage_curves(rows: Sequence[Row], cohorts: Sequence[str]) -> alt.Chart:
    """Ever-30+ rate by months on book, one line per origination month, older = lighter.

    Rows: ``cohort`` (label, sorted oldest first in ``cohorts``), ``mob``, ``rate``.
    """
    return (
        alt.Chart(_data(rows))
        .mark_line(strokeWidth=1.8, point=alt.OverlayMarkDef(size=14, filled=True))
        .encode(
            x=alt.X("mob:Q", title="Months on book", axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y("rate:Q", title="Ever 30+ dpd (share of loans)", axis=alt.Axis(format=".0%")),
            color=alt.Color(
                "cohort:O",
                sort=list(cohorts),
                scale=alt.Scale(domain=list(cohorts), scheme=_COHORT_SCHEME),
                legend=alt.Legend(
                    title="Origination month",
                    values=_trimmed(cohorts, 6),
                    symbolType="stroke",
                    symbolStrokeWidth=2,
                ),
            ),
            detail="cohort:N",
        )
        .properties(width=860, height=280)
    )


def kpi_trend(
    balance_rows: Sequence[Row],
    imor_rows: Sequence[Row],
    months: Sequence[str],
    order: Sequence[str],
    unit: str,
    *,
    label_of: Mapping[str, str],
) -> alt.VConcatChart:
    """Stacked balance by bucket per month over a strip with the IMOR line.

    ``balance_rows``: ``month``, ``bucket``, ``label``, ``rank``, ``value``; ``imor_rows``:
    ``month``, ``imor``, ``imor_text``. Two panels on one month axis instead of a dual-axis
    chart, where the line would cross the bars and either scale could be read for the other.
    """
    labels = [label_of[b] for b in order]
    month = alt.X("month:O", sort=list(months), title=None)
    bars = (
        alt.Chart(_data(balance_rows))
        .mark_bar(width={"band": 0.72})
        .encode(
            x=month.axis(labels=False, ticks=False, domain=False),
            y=alt.Y("value:Q", stack="zero", title=f"Balance ({unit})",
                    axis=alt.Axis(format=",.1~f", tickCount=5)),
            color=alt.Color("label:N", sort=labels,
                            scale=alt.Scale(domain=labels, range=bucket_colours(order)),
                            legend=alt.Legend(title="Bucket", orient="right")),
            # Current at the bottom of each stack, so delinquency piles up on top.
            order=alt.Order("rank:Q", sort="ascending"),
        )
        .properties(width=820, height=230)
    )  # fmt: skip
    imor = alt.Chart(_data(imor_rows)).encode(
        x=month.axis(labelAngle=0),
        y=alt.Y("imor:Q", title="IMOR", scale=alt.Scale(zero=False, padding=14),
                axis=alt.Axis(format=".1%", tickCount=3, titleColor=ACCENT)),
    )  # fmt: skip
    line = imor.mark_line(color=ACCENT, strokeWidth=2.2, point=alt.OverlayMarkDef(
        color=ACCENT, size=30, filled=True))  # fmt: skip
    values = imor.mark_text(dy=-11, fontSize=10.5, color=ACCENT).encode(text="imor_text:N")
    strip = alt.layer(line, values).properties(width=820, height=100)
    return alt.vconcat(bars, strip, spacing=10).resolve_scale(x="shared", color="independent")


def cure_lines(
    rows: Sequence[Row], months: Sequence[str], order: Sequence[str], *, label_of: Mapping[str, str]
) -> alt.Chart:
    """Cure rate per month by the bucket loans started in.

    Rows: ``month`` (to-month label), ``label`` (bucket text), ``rate``.
    """
    labels = [label_of[b] for b in order]
    colour = alt.Color(
        "label:N",
        sort=labels,
        title="From bucket",
        scale=alt.Scale(domain=labels, range=bucket_colours(order)),
    )
    y = alt.Y("rate:Q", title="Cure rate (share of loans)", axis=alt.Axis(format=".0%"))
    base = alt.Chart(_data(rows))
    if len(months) == 1:  # one transition: a line would be a lone dot, bars read better
        chart = base.mark_bar().encode(
            x=alt.X("label:N", sort=labels, title=None), y=y, color=colour
        )
    else:
        x = alt.X("month:O", sort=list(months), title=None, axis=alt.Axis(labelAngle=0))
        chart = base.mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=20, filled=True))
        chart = chart.encode(x=x, y=y, color=colour)
    return chart.properties(width=860, height=220)
