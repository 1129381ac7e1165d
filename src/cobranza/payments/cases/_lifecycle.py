"""The status lifecycle of a case and its SLA flags.

    open ─► in_progress ─► waiting_customer ─┐
                 ▲  │  ◄──────────────────────┤
                 │  ├──► waiting_partner ─────┤
                 │  ▼                         ▼
                 └─ resolved ◄────────────────┘
                      │
                      ▼
                    closed

A case is *answered* once resolved: the SLA clock stops there and never pauses before (waiting
on the customer does not stop the legal 45-day clock of an aclaración, so it stops none).
``resolved → in_progress`` reopens a case whose resolution did not hold; ``closed`` is final.
"""

from __future__ import annotations

import datetime as dt

from cobranza.payments.cases._errors import IllegalTransition

__all__ = [
    "ACTIVE_STATUSES",
    "ANSWERED_STATUSES",
    "CASE_STATUSES",
    "TRANSITIONS",
    "check_transition",
    "sla_flags",
]

CASE_STATUSES = (
    "open", "in_progress", "waiting_customer", "waiting_partner", "resolved", "closed",
)  # fmt: skip

#: status -> statuses it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress"}),
    "in_progress": frozenset({"waiting_customer", "waiting_partner", "resolved"}),
    "waiting_customer": frozenset({"in_progress", "resolved"}),
    "waiting_partner": frozenset({"in_progress", "resolved"}),
    "resolved": frozenset({"closed", "in_progress"}),
    "closed": frozenset(),
}

#: Statuses in which someone still owes an answer (the case holds collection contact).
ACTIVE_STATUSES = ("open", "in_progress", "waiting_customer", "waiting_partner")
ANSWERED_STATUSES = ("resolved", "closed")


def check_transition(case_id: int, current: str, new: str) -> None:
    """Raise :class:`IllegalTransition` unless the lifecycle allows ``current → new``."""
    if new not in TRANSITIONS:
        raise IllegalTransition(f"{new!r} is not a case status; use one of {CASE_STATUSES}")
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (it is final)"
        raise IllegalTransition(
            f"case {case_id} is {current}: it cannot become {new}; it can become {allowed}"
        )


def sla_flags(
    *,
    opened_on: dt.date,
    due_on: dt.date,
    resolved_on: dt.date | None,
    at_risk_on: dt.date,
    as_of: dt.date,
) -> tuple[bool, bool]:
    """``(breached, at_risk)`` of a case seen on ``as_of``.

    breached: answered after ``due_on``, or not answered by ``as_of`` and ``as_of > due_on``.
    at_risk:  not answered by ``as_of``, not breached, and ``as_of ≥ at_risk_on``.
    A resolution dated after ``as_of`` is not known on ``as_of``.
    """
    answered = resolved_on is not None and resolved_on <= as_of
    if answered:
        assert resolved_on is not None
        return resolved_on > due_on, False
    breached = as_of > due_on
    return breached, not breached and as_of >= at_risk_on and as_of >= opened_on
