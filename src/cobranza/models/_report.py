"""The validation report: one self-contained HTML page per model, written from its artefact.

Everything the page shows is in the JSON artefact (metrics, checks, points table), so the
report of a registered model can be re-rendered at any time without the training data. CSS is
inline, charts are Altair specs rendered offline to SVG by vl-convert, and there is no
JavaScript, like the run report.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

import altair as alt
import jinja2
import vl_convert as vlc

from cobranza._version import __version__
from cobranza.models._artefact import Model

__all__ = ["render_validation_report", "write_validation_report"]

_COLOURS = {"development": "#1d3557", "out of time": "#e07a28"}
_WINDOW = {"development": "development", "out_of_time": "out of time"}


def _svg(chart: alt.TopLevelMixin, description: str, name: str) -> str:
    svg = vlc.vegalite_to_svg(chart.to_dict(), allowed_base_urls=[])
    # Inline SVGs share the page's ids: prefix them so two charts never clip each other.
    svg = svg.replace('id="', f'id="{name}-').replace("url(#", f"url(#{name}-")
    label = html.escape(description, quote=True)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def _colour() -> alt.Color:
    return alt.Color(
        "window:N",
        scale=alt.Scale(domain=list(_COLOURS), range=list(_COLOURS.values())),
        legend=alt.Legend(title=None, orient="bottom"),
    )


def _roc(metrics: dict[str, Any]) -> str:
    rows = [{**p, "window": _WINDOW[w]} for w, pts in metrics["roc"].items() for p in pts]
    line = (
        alt.Chart(alt.Data(values=rows))
        .mark_line()
        .encode(
            x=alt.X("fpr:Q", title="False positive rate", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("tpr:Q", title="True positive rate", scale=alt.Scale(domain=[0, 1])),
            color=_colour(),
        )
    )
    diagonal = (
        alt.Chart(alt.Data(values=[{"x": 0, "y": 0}, {"x": 1, "y": 1}]))
        .mark_line(strokeDash=[4, 4], color="#9aa5b1")
        .encode(x="x:Q", y="y:Q")
    )
    chart = alt.layer(diagonal, line).properties(width=300, height=260)
    return _svg(chart, "ROC curves of the development and out-of-time windows", "roc")


def _calibration(rows: list[dict[str, Any]], name: str, title: str) -> str:
    long = [
        {"group": r["group"], "rate": r[k], "series": k}
        for r in rows
        for k in ("predicted", "observed")
    ]
    chart = alt.Chart(alt.Data(values=long)).mark_bar().encode(
        x=alt.X("group:N", title=title, sort=[r["group"] for r in rows],
                axis=alt.Axis(labelAngle=0)),
        xOffset="series:N",
        y=alt.Y("rate:Q", title="Event rate", axis=alt.Axis(format="%")),
        color=alt.Color("series:N", scale=alt.Scale(domain=["predicted", "observed"],
                        range=["#9ab8d8", "#d6484f"]), legend=alt.Legend(title=None,
                        orient="bottom")),
    ).properties(width=360, height=220)  # fmt: skip
    return _svg(chart, f"Predicted and observed event rate by {title.lower()}", name)


def _distribution(metrics: dict[str, Any]) -> str:
    shares = metrics["score_shares"]
    rows = [
        {"bin": str(i + 1), "share": s, "window": _WINDOW[w]}
        for w, values in shares.items()
        for i, s in enumerate(values)
        if i < len(values) - 2  # the special and missing slots of a score are always empty
    ]
    chart = alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=alt.X("bin:N", title="Development score decile", sort=None,
                axis=alt.Axis(labelAngle=0)),
        xOffset="window:N",
        y=alt.Y("share:Q", title="Share of rows", axis=alt.Axis(format="%")),
        color=_colour(),
    ).properties(width=360, height=220)  # fmt: skip
    return _svg(chart, "Score distribution by development decile in both windows", "dist")


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render_validation_report(model: Model, *, generated_at: dt.datetime | None = None) -> str:
    """The HTML text of ``model``'s validation report."""
    data = model.data
    metrics = data["metrics"]
    checks = data.get("checks", [])
    card = data.get("scorecard")
    points = []
    if card is not None:
        for var in card["variables"]:
            for label, pts, count, rate in zip(
                var["labels"], var["points"], var["counts"], var["event_rates"], strict=True
            ):
                points.append((var["name"], label, f"{pts:.2f}", f"{count:,}", f"{rate:.2%}"))
    iv = sorted(metrics.get("iv", {}).items(), key=lambda kv: -kv[1])
    csi = metrics.get("csi", {})
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cobranza.models", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    when = generated_at or dt.datetime.now(dt.UTC)
    return env.get_template("validation_report.html.j2").render(
        model=model,
        data=data,
        version=__version__,
        generated=when.replace(microsecond=0).isoformat(),
        verdict=all(c["passed"] for c in checks) and bool(checks),
        checks=[
            (c["label"], _fmt(c["value"]), f"{c['rule']} {c['threshold']}", c["passed"])
            for c in checks
        ],
        windows=[
            (
                _WINDOW[w],
                _fmt(m["rows"]),
                _fmt(m["events"]),
                _fmt(m["event_rate"]),
                _fmt(m["auc"]),
                _fmt(m["gini"]),
                _fmt(m["ks"]),
            )
            for w, m in ((w, metrics[w]) for w in ("development", "out_of_time"))
        ],
        score_psi=_fmt(metrics["score_psi"]),
        variables=[(name, _fmt(value), _fmt(csi.get(name))) for name, value in iv]
        or [(name, "—", _fmt(value)) for name, value in csi.items()],
        points=points,
        charts={
            "roc": _roc(metrics),
            "calibration": _calibration(metrics["calibration"], "calib", "Decile"),
            "bucket": _calibration(metrics["calibration_by_bucket"], "bucket", "Bucket")
            if metrics.get("calibration_by_bucket")
            else None,
            "distribution": _distribution(metrics),
        },
    )


def write_validation_report(model: Model, path: str | Path) -> Path:
    """Write ``model``'s validation report to ``path`` (a ``.html`` file) and return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render_validation_report(model), encoding="utf-8")
    tmp.replace(path)
    return path
