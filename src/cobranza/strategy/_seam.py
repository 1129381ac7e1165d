"""The seam between the strategy and the compliance guardrails (INTERFACES.md §D): the one
place that calls the guardrails pack, for the batch and for one account."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir

from cobranza.strategy._guardrails import AccountContext, Verdict, guardrail_verdicts
from cobranza.strategy._guardrails import check_one as _check_one

if TYPE_CHECKING:
    from cobranza.strategy._model import Strategy


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
    return guardrail_verdicts(
        candidates,
        customers=tables["customers"],
        contacts=tables.get("contacts"),
        payments=tables["payments"],
        promises=tables.get("promises"),
        holds=holds,
        as_of=as_of,
        pack=strategy.pack,
        loans=tables.get("loans"),
    )


def context_of(account: Mapping[str, Any]) -> AccountContext:
    """The compliance context of one account dict (``customer``, ``contacts``, ``payments``,
    ``promises``, ``holds``, ``today``; absent keys are empty)."""
    return AccountContext(
        customer=account.get("customer"),
        contacts=tuple(account.get("contacts") or ()),
        payments=tuple(account.get("payments") or ()),
        promises=tuple(account.get("promises") or ()),
        holds=tuple(account.get("holds") or ()),
        today=tuple(account.get("today") or ()),
    )


def check_one(candidate: Mapping[str, Any], context: AccountContext, strategy: Strategy) -> Verdict:
    """The guardrails' verdict on one candidate action of one account."""
    return _check_one(candidate, context, strategy.pack)
