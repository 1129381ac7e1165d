"""The seam between the strategy and the compliance guardrails (INTERFACES.md §D).

Until the guardrails pack (``cobranza.strategy._guardrails``) is present, every candidate is
permitted and carries no contact window; once it is, :func:`verdicts` calls
``guardrail_verdicts`` and :func:`check_one` calls ``check_one`` — the one place that wiring
lives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

if TYPE_CHECKING:
    from cobranza.strategy._model import Strategy


@dataclass(frozen=True)
class OpenVerdict:
    """The verdict without a guardrails pack: permitted, no window."""

    suppressed_by: str | None = None
    window_start_local: str | None = None
    window_end_local: str | None = None
    time_zone: str | None = None


def verdicts(
    candidates: ir.Table,
    *,
    tables: Mapping[str, ir.Table],
    holds: ir.Table | None,
    as_of: dt.date,
    strategy: Strategy,
) -> ir.Table:
    """Candidates plus ``window_start_local``, ``window_end_local``, ``time_zone`` and
    ``suppressed_by`` (the first guardrail that blocks the action, or null)."""
    return candidates.mutate(
        window_start_local=ibis.null("string"),
        window_end_local=ibis.null("string"),
        time_zone=ibis.null("string"),
        suppressed_by=ibis.null("string"),
    )


def check_one(
    candidate: Mapping[str, Any], account: Mapping[str, Any], context: Any, strategy: Strategy
) -> OpenVerdict:
    """The guardrails' verdict on one candidate action of one account."""
    return OpenVerdict()
