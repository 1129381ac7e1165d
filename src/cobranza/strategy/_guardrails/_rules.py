"""Rule ids of the guardrails and the fixed order in which a blocked action reports them."""

from __future__ import annotations

#: Channels a candidate action may use (INTERFACES.md §C).
CHANNELS = (
    "sms", "email", "whatsapp", "push", "ivr", "call", "field", "letter", "agency", "legal",
)  # fmt: skip

#: Every rule id, in the order a blocked action reports them: ``suppressed_by`` is the first
#: rule of this tuple that blocks it. Who may be contacted comes first, then the account's
#: situation (a hold, an open promise, a payment just made), then the calendar and the clock,
#: and the frequency caps last, so a cap only ever names actions that nothing else blocks.
RULE_ORDER = (
    "do_not_contact",
    "opt_out",
    "third_party",
    "payment_hold",
    "promise_open",
    "recent_payment",
    "holiday",
    "contact_window",
    "cap_daily_channel",
    "cap_daily_total",
    "cap_weekly_channel",
    "cap_weekly_total",
)

#: The rules that look only at the action and its own account; caps also look at the others.
ACCOUNT_RULES = RULE_ORDER[:8]
CAP_RULES = RULE_ORDER[8:]
