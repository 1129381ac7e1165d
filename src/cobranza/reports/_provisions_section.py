"""The provisions section of ``report.html``: reserves by stage, product and bucket, and the
movement of the allowance between the last month-end and the as-of date."""

from __future__ import annotations

import datetime as dt

import jinja2
import pyarrow as pa

from cobranza.reports import _format as fmt

__all__ = ["render_provisions_section"]

_DIMENSIONS = (("total", "Book"), ("stage", "By stage"), ("product", "By product"),
               ("bucket", "By bucket"))  # fmt: skip
_WALK = (
    ("opening", "Opening"),
    ("new_loans", "New loans"),
    ("repayments", "Repayments"),
    ("transfers_out", "Transfers out"),
    ("transfers_in", "Transfers in"),
    ("write_offs", "Write-offs"),
    ("remeasurement", "Remeasurement"),
    ("closing", "Closing"),
)

_TEMPLATE = jinja2.Environment(
    loader=jinja2.PackageLoader("cobranza.reports", "templates"), autoescape=True
).get_template("provisions_section.html.j2")


def render_provisions_section(
    summary: pa.Table, walk: pa.Table | None, *, method: str, opening: dt.date | None
) -> str:
    """An HTML ``<section>`` from ``provision_summary`` rows and ``allowance_walk`` rows."""
    rows = summary.to_pylist()
    tables = []
    for dimension, title in _DIMENSIONS:
        part = [r for r in rows if r["dimension"] == dimension]
        if dimension == "bucket":  # by dpd, not alphabetically ("120–179" before "30–59")
            part.sort(key=lambda r: fmt.bucket_key(r["value"]))
        tables.append(
            dict(
                title=title,
                head=["", "Loans", "Exposure", "Reserve", "Coverage"],
                rows=[
                    [_label(dimension, r["value"]), fmt.count(r["loans"]), fmt.mxn(r["ei"]),
                     fmt.mxn(r["reserve"]), fmt.pct(r["coverage"])]
                    for r in part
                ],
                empty="No open loan at the as-of date.",
            )
        )  # fmt: skip
    if walk is not None:
        stages = walk.to_pylist()
        tables.append(
            dict(
                title="Movement of the allowance",
                head=["", *[_label("stage", s["stage"]) for s in stages]],
                rows=[[label, *[fmt.mxn(s[line], signed=line not in ("opening", "closing"))
                                for s in stages]]
                      for line, label in _WALK],
                empty="No allowance to move.",
            )
        )  # fmt: skip
    return _TEMPLATE.render(
        tables=tables, method=method, opening=fmt.long_date(opening) if opening else None
    )


def _label(dimension: str, value: str) -> str:
    if dimension == "total" or value == "all":
        return "All loans"
    if dimension == "stage":
        return "Total" if value == "total" else f"Stage {value}"
    if dimension == "bucket":
        return fmt.bucket_title(value)
    return value
