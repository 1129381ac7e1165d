"""Text formatting for the report: MXN amounts, counts, rates, dates and bucket order.

Digits are en-US (``1,234,567.89``) everywhere and every amount says MXN, so a reader never
has to guess the currency or the decimal mark. Money is formatted from ``Decimal`` only:
going through ``float`` could print a centavo that is not in the data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from cobranza.ledger import CURRENT, PAID_OFF, WRITTEN_OFF

DASH = "—"
MINUS = "\N{MINUS SIGN}"

# (divisor, suffix) from smallest; "B" is the en-US billion (mil millones).
_SCALES = ((Decimal(1), ""), (Decimal("1e3"), "K"), (Decimal("1e6"), "M"), (Decimal("1e9"), "B"))


def _half_up(value: Decimal, digits: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)


def _sign(negative: bool, *, explicit: bool) -> str:
    if negative:
        return MINUS
    return "+" if explicit else ""


def mxn(value: Decimal | None, *, signed: bool = False) -> str:
    """An exact amount: ``$1,234,567.89 MXN`` (``signed`` adds ``+`` to gains)."""
    if value is None:
        return DASH
    amount = _half_up(value, 2)
    sign = _sign(amount < 0, explicit=signed and amount != 0)
    return f"{sign}${abs(amount):,.2f} MXN"


def mxn_short(value: Decimal | None, *, signed: bool = False) -> str:
    """A headline amount: ``MXN 1.2 M`` (K, M, B with one decimal; centavos below 1,000)."""
    if value is None:
        return DASH
    magnitude = abs(value)
    level = max(i for i, (divisor, _) in enumerate(_SCALES) if i == 0 or magnitude >= divisor)
    scaled = _half_up(magnitude / _SCALES[level][0], 1 if level else 2)
    if scaled >= 1000 and level + 1 < len(_SCALES):
        # 999,960 rounds to "1,000.0 K"; a reader expects "1.0 M".
        level += 1
        scaled = _half_up(magnitude / _SCALES[level][0], 1)
    suffix = _SCALES[level][1]
    text = f"{scaled:,.1f} {suffix}" if suffix else f"{scaled:,.2f}"
    return f"{_sign(value < 0, explicit=signed and value != 0)}MXN {text}"


def count(value: int | None, *, signed: bool = False) -> str:
    """A count: ``12,345``."""
    if value is None:
        return DASH
    return f"{_sign(value < 0, explicit=signed and value != 0)}{abs(value):,}"


def pct(value: float | Decimal | None, digits: int = 2) -> str:
    """A ratio as a percentage: ``0.04371`` → ``4.37%``."""
    if value is None:
        return DASH
    percent = _half_up(Decimal(str(value)) * 100, digits)
    return f"{_sign(percent < 0, explicit=False)}{abs(percent):.{digits}f}%"


def pct_change(new: Decimal | int, old: Decimal | int) -> str:
    """Relative change ``(+2.4%)``; empty when the base is zero (no meaningful ratio)."""
    if not old:
        return ""
    change = _half_up((Decimal(new) - Decimal(old)) / abs(Decimal(old)) * 100, 1)
    return f"({_sign(change < 0, explicit=change != 0)}{abs(change):.1f}%)"


def pp(delta: float | Decimal | None, digits: int = 2) -> str:
    """A change of a rate in percentage points: ``+0.12 pp``."""
    if delta is None:
        return DASH
    points = _half_up(Decimal(str(delta)) * 100, digits)
    return f"{_sign(points < 0, explicit=points != 0)}{abs(points):.{digits}f} pp"


def month_label(month: dt.date) -> str:
    """``Sep 2025``."""
    return month.strftime("%b %Y")


def long_date(day: dt.date) -> str:
    """``September 30, 2025``."""
    return f"{day:%B} {day.day}, {day.year}"


def timestamp(moment: dt.datetime) -> str:
    """``2025-10-01 08:15 CST (UTC−06:00)`` from an aware datetime: the zone name alone is
    ambiguous (CST is also Central US and China), so the offset is spelled out too."""
    offset = moment.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}".replace("-", MINUS)
    return f"{moment:%Y-%m-%d %H:%M %Z} (UTC{offset})"


_LEADING_NUMBER = re.compile(r"\d+")
_CLOSED = (PAID_OFF, WRITTEN_OFF)


def bucket_key(label: str) -> tuple[int, int, str]:
    """Sort key best to worst: ``current``, delinquent buckets by their lower dpd edge, then
    ``paid_off`` and ``written_off``.

    Derived from the label because the edges are configurable per run.
    """
    if label == CURRENT:
        return (0, 0, label)
    if label in _CLOSED:
        return (2, _CLOSED.index(label), label)
    match = _LEADING_NUMBER.match(label)
    if match:
        return (1, int(match.group()), label)
    return (3, 0, label)  # unknown labels: keep them visible, after everything known


def bucket_order(labels: Iterable[str]) -> list[str]:
    """Distinct labels sorted with :func:`bucket_key`."""
    return sorted(set(labels), key=bucket_key)


def bucket_title(label: str) -> str:
    """How a bucket reads on the page: ``1-29`` → ``1–29 dpd``, ``paid_off`` → ``Paid off``."""
    if label == CURRENT:
        return "Current"
    if label in _CLOSED:
        return label.replace("_", " ").capitalize()
    if _LEADING_NUMBER.match(label):
        return f"{label.replace('-', '–')} dpd"
    return label


def chart_unit(largest: Decimal) -> tuple[Decimal, str]:
    """Divisor and axis wording for chart amounts: ``(1e6, "MXN millions")`` and so on.

    Axes read better in one unit than with SI suffixes (d3 writes billions as "G").
    """
    for divisor, words in (("1e9", "billions"), ("1e6", "millions"), ("1e3", "thousands")):
        if abs(largest) >= Decimal(divisor):
            return Decimal(divisor), f"MXN {words}"
    return Decimal(1), "MXN"
