"""Compliance guardrails for collection actions: the Mexico pack, on by default.

    verdicts = guardrail_verdicts(candidates, customers=..., contacts=..., payments=...,
                                  promises=..., holds=..., as_of=day, pack=GuardrailPack())
    verdict = check_one(candidate, AccountContext(customer=row, ...), pack)

Every rule, its default and its configuration key: docs/guardrails.md.
"""

from cobranza.strategy._guardrails._calendar import closed_channels, is_business_day
from cobranza.strategy._guardrails._check import AccountContext, Verdict, check_one
from cobranza.strategy._guardrails._pack import (
    DEFAULT_POSTAL_CODE_ZONES,
    DEFAULT_STATE_ZONES,
    BusinessDays,
    Caps,
    ContactWindow,
    GuardrailPack,
    PaymentHold,
    PostalCodeZone,
    PromiseOpen,
    RecentPayment,
    Switch,
    TimeZones,
)
from cobranza.strategy._guardrails._rules import ACCOUNT_RULES, CAP_RULES, CHANNELS, RULE_ORDER
from cobranza.strategy._guardrails._verdicts import VERDICT_COLUMNS, guardrail_verdicts
from cobranza.strategy._guardrails._zones import permitted_window, resolve_zones

__all__ = [
    "ACCOUNT_RULES",
    "CAP_RULES",
    "CHANNELS",
    "DEFAULT_POSTAL_CODE_ZONES",
    "DEFAULT_STATE_ZONES",
    "RULE_ORDER",
    "VERDICT_COLUMNS",
    "AccountContext",
    "BusinessDays",
    "Caps",
    "ContactWindow",
    "GuardrailPack",
    "PaymentHold",
    "PostalCodeZone",
    "PromiseOpen",
    "RecentPayment",
    "Switch",
    "TimeZones",
    "Verdict",
    "check_one",
    "closed_channels",
    "guardrail_verdicts",
    "is_business_day",
    "permitted_window",
    "resolve_zones",
]
