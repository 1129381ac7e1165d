"""The guardrails for one account in plain Python (``decide_one``): the same rules, order and
strings as :func:`guardrail_verdicts`, tested to agree on every candidate."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cobranza.ledger._calendar import MEXICO_CITY, end_of_local_day
from cobranza.ledger._promises import promise_status_rows
from cobranza.strategy._guardrails._calendar import closed_channels
from cobranza.strategy._guardrails._pack import GuardrailPack
from cobranza.strategy._guardrails._rules import ACCOUNT_RULES
from cobranza.strategy._guardrails._verdicts import LOWEST
from cobranza.strategy._guardrails._zones import (
    FALLBACK_ZONE,
    local_day_bounds,
    permitted_window,
    resolve_zones,
)

Row = Mapping[str, Any]


@dataclass(frozen=True)
class AccountContext:
    """What the guardrails need to know about one customer, as plain Python values.

    customer:    the customer row (``customer_id``, ``state``, ``postal_code``,
                 ``opt_out_channels``, ``do_not_contact``); ``None`` if the customer is unknown.
    loan_owners: ``loan_id → customer_id`` for the loans of the candidates (from ``loans``);
                 ``None`` when ownership is unknown (then only a known customer is required).
    contacts, payments, promises, holds: contract rows of the customer's loans (contacts of
                 ALL the customer's loans: the caps are per customer).
    today:       the other candidate actions of the same customer decided the same day (their
                 loans compete for the same caps); empty when only one account is decided.
    """

    customer: Row | None
    loan_owners: Mapping[str, str] | None = None
    contacts: Sequence[Row] = ()
    payments: Sequence[Row] = ()
    promises: Sequence[Row] = ()
    holds: Sequence[Row] = ()
    today: Sequence[Row] = ()
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Verdict:
    """The guardrails' answer for one candidate action."""

    suppressed_by: str | None
    window_start_local: str | None
    window_end_local: str | None
    time_zone: str | None

    @property
    def permitted(self) -> bool:
        return self.suppressed_by is None


def check_one(
    candidate: Row, context: AccountContext, pack: GuardrailPack | None = None
) -> Verdict:
    """The verdict :func:`guardrail_verdicts` gives ``candidate`` (a row of INTERFACES §C)."""
    pack = pack if pack is not None else GuardrailPack()
    as_of: dt.date = candidate["as_of"]
    zones = _zones(context, pack)
    start, end, empty = _window(zones, candidate["channel"], as_of, pack)
    blocked = _account_rule(candidate, context, zones, empty, as_of, pack)
    if blocked is None and pack.caps.enabled:
        blocked = _cap_rule(candidate, context, zones, as_of, pack)
    return Verdict(blocked, start, end, zones[0] if zones else None)


def _zones(context: AccountContext, pack: GuardrailPack) -> tuple[str, ...] | None:
    customer = context.customer
    if customer is None:
        return None
    return resolve_zones(customer.get("state"), customer.get("postal_code"), pack.time_zones)


def _window(
    zones: tuple[str, ...] | None, channel: str, as_of: dt.date, pack: GuardrailPack
) -> tuple[str | None, str | None, bool]:
    rule = pack.contact_window
    if not rule.enabled or channel not in rule.channels:
        return None, None, False
    if zones is None:
        return None, None, True
    start, end = permitted_window(zones, as_of, *rule.hours(channel))
    return start, end, start is None


def _account_rule(
    candidate: Row,
    context: AccountContext,
    zones: tuple[str, ...] | None,
    window_empty: bool,
    as_of: dt.date,
    pack: GuardrailPack,
) -> str | None:
    """The first account rule (``ACCOUNT_RULES`` order) that blocks ``candidate``."""
    channel, loan_id = candidate["channel"], candidate["loan_id"]
    customer = context.customer or {}
    owner = (
        candidate["customer_id"] if context.loan_owners is None
        else context.loan_owners.get(loan_id)
    )  # fmt: skip
    opted = {s.strip() for s in (customer.get("opt_out_channels") or "").split(",")}
    checks = {
        "do_not_contact": pack.do_not_contact.enabled and bool(customer.get("do_not_contact")),
        "opt_out": pack.opt_out.enabled and channel in opted,
        "third_party": pack.third_party.enabled
        and (context.customer is None or owner != candidate["customer_id"]),
        "payment_hold": pack.payment_hold.enabled
        and channel in pack.payment_hold.channels
        and loan_id in _held(context, as_of),
        "promise_open": pack.promise_open.enabled
        and channel in pack.promise_open.channels
        and loan_id in _promised(context, as_of, pack),
        "recent_payment": pack.recent_payment.enabled
        and channel in pack.recent_payment.channels
        and loan_id in _paid(context, as_of, pack),
        "holiday": channel in closed_channels(as_of, pack.business_days),
        "contact_window": window_empty,
    }
    return next((rule for rule in ACCOUNT_RULES if checks[rule]), None)


def _held(context: AccountContext, as_of: dt.date) -> set[str]:
    if "held" not in context._cache:
        context._cache["held"] = {
            h["loan_id"] for h in context.holds
            if h["since"] <= as_of and (h.get("until") is None or as_of <= h["until"])
        }  # fmt: skip
    return context._cache["held"]


def _promised(context: AccountContext, as_of: dt.date, pack: GuardrailPack) -> set[str]:
    if "promised" not in context._cache:
        rule = pack.promise_open
        rows = promise_status_rows(context.promises, context.payments, as_of, rule.grace_days)
        context._cache["promised"] = {
            r["loan_id"] for r in rows
            if r["status"] == "open" and (rule.through_grace or as_of <= r["due_on"])
        }  # fmt: skip
    return context._cache["promised"]


def _paid(context: AccountContext, as_of: dt.date, pack: GuardrailPack) -> set[str]:
    if "paid" not in context._cache:
        rule = pack.recent_payment
        start = end_of_local_day(as_of - dt.timedelta(days=rule.days))
        end = end_of_local_day(as_of)
        context._cache["paid"] = {
            p["loan_id"] for p in context.payments
            if rule.days > 0 and (p.get("status") or "settled") in rule.statuses
            and start <= _aware(p["paid_at"]) < end
        }  # fmt: skip
    return context._cache["paid"]


def _cap_rule(
    candidate: Row,
    context: AccountContext,
    zones: tuple[str, ...] | None,
    as_of: dt.date,
    pack: GuardrailPack,
) -> str | None:
    caps = pack.caps
    channel = candidate["channel"]
    if channel in caps.exempt_channels:
        return None
    day_c, week_c, day_t, week_t = _history(context, zones, channel, as_of, pack)
    n_t, n_c = _competing(candidate, context, as_of, pack)
    daily_c, weekly_c = caps.daily.get(channel), caps.weekly.get(channel)  # type: ignore[call-overload]
    checks = {
        "cap_daily_channel": daily_c is not None and day_c + n_c + 1 > daily_c,
        "cap_daily_total": caps.daily_total is not None and day_t + n_t + 1 > caps.daily_total,
        "cap_weekly_channel": weekly_c is not None and week_c + n_c + 1 > weekly_c,
        "cap_weekly_total": caps.weekly_total is not None and week_t + n_t + 1 > caps.weekly_total,
    }
    return next((rule for rule, broken in checks.items() if broken), None)


def _history(
    context: AccountContext,
    zones: tuple[str, ...] | None,
    channel: str,
    as_of: dt.date,
    pack: GuardrailPack,
) -> tuple[int, int, int, int]:
    zone = zones[0] if zones else FALLBACK_ZONE
    day_start, day_end = local_day_bounds(zone, as_of, 1)
    day_end = min(day_end, end_of_local_day(as_of))  # the data's cut-off (see _verdicts)
    week_start = local_day_bounds(zone, as_of, 7)[0]
    day_c = week_c = day_t = week_t = 0
    for contact in context.contacts:
        if contact["channel"] in pack.caps.exempt_channels:
            continue
        at = _aware(contact["attempted_at"])
        in_day, in_week = day_start <= at < day_end, week_start <= at < day_end
        day_t += in_day
        week_t += in_week
        if contact["channel"] == channel:
            day_c += in_day
            week_c += in_week
    return day_c, week_c, day_t, week_t


def _ev(row: Row) -> float:
    value = row.get("expected_value")
    return LOWEST if value is None or math.isnan(value) else float(value)


def _competing(
    candidate: Row, context: AccountContext, as_of: dt.date, pack: GuardrailPack
) -> tuple[int, int]:
    """Other loans of the customer with an eligible action ranked before ``candidate``: in
    total and on the same channel (see ``_verdicts._competing``)."""
    best_t: dict[str, float] = {}
    best_c: dict[str, float] = {}
    zones = _zones(context, pack)
    for other in context.today:
        if (
            other["customer_id"] != candidate["customer_id"]
            or other["loan_id"] == candidate["loan_id"]
            or other["channel"] in pack.caps.exempt_channels
        ):
            continue
        empty = _window(zones, other["channel"], as_of, pack)[2]
        if _account_rule(other, context, zones, empty, as_of, pack) is not None:
            continue
        ev = _ev(other)
        best_t[other["loan_id"]] = max(ev, best_t.get(other["loan_id"], LOWEST))
        if other["channel"] == candidate["channel"]:
            best_c[other["loan_id"]] = max(ev, best_c.get(other["loan_id"], LOWEST))
    ev, loan = _ev(candidate), candidate["loan_id"]

    def ahead(best: dict[str, float]) -> int:
        return sum(b > ev or (b == ev and other < loan) for other, b in best.items())

    return ahead(best_t), ahead(best_c)


def _aware(instant: dt.datetime) -> dt.datetime:
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=MEXICO_CITY)
