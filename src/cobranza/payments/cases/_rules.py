"""Case rules: priority from amount and age, an SLA clock per priority, the at-risk threshold.

User-owned YAML validated by :class:`CaseRules` (see ``docs/payment-cases.md``)::

    version: 1
    priorities:                 # tried in order; the first whose conditions all hold wins
      - {name: P1, sla_days: 5, min_amount: 50000}
      - {name: P1, sla_days: 5, min_age_days: 30}
      - {name: P2, sla_days: 10, min_amount: 5000}
      - {name: P3, sla_days: 20, min_age_days: 8}
      - {name: P4, sla_days: 30}          # the last rule has no condition: the default
    at_risk_share: 0.75

Every SLA is in calendar days and at most :data:`ACLARACION_DAYS` (45): a payment case may be,
or become, a customer's clarification request (aclaración), which the law gives the lender at
most 45 days to answer (Ley para la Transparencia y Ordenamiento de los Servicios Financieros,
art. 23; see the docs for what is and is not sure about that source).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cobranza.payments._yaml_models import load_model

__all__ = ["ACLARACION_DAYS", "DEFAULT_RULES", "CaseRules", "PriorityRule", "load_case_rules"]

#: Calendar days a lender has to answer a customer's aclaración (LTOSF art. 23).
ACLARACION_DAYS = 45


class PriorityRule(BaseModel):
    """One line of the priority table: conditions (all must hold) and the SLA it gives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=16)]
    sla_days: Annotated[int, Field(ge=1, le=ACLARACION_DAYS)]
    min_amount: Annotated[Decimal, Field(ge=0)] | None = None
    min_age_days: Annotated[int, Field(ge=0)] | None = None

    def matches(self, amount: Decimal, age_days: int) -> bool:
        """True when ``|amount|`` and ``age_days`` meet every condition of the rule."""
        if self.min_amount is not None and abs(amount) < self.min_amount:
            return False
        return self.min_age_days is None or age_days >= self.min_age_days


class CaseRules(BaseModel):
    """How cases are prioritised and when their SLA is at risk."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    priorities: Annotated[tuple[PriorityRule, ...], Field(min_length=1)]
    at_risk_share: Annotated[float, Field(gt=0, le=1)] = 0.75

    @model_validator(mode="after")
    def _has_default(self) -> CaseRules:
        last = self.priorities[-1]
        if last.min_amount is not None or last.min_age_days is not None:
            raise ValueError("the last priority rule must have no condition (it is the default)")
        # A priority name means one SLA: the list and the CLI filter by name.
        sla: dict[str, int] = {}
        for rule in self.priorities:
            if sla.setdefault(rule.name, rule.sla_days) != rule.sla_days:
                raise ValueError(
                    f"priority {rule.name} has two SLAs ({sla[rule.name]} and {rule.sla_days} days)"
                )
        return self

    @property
    def order(self) -> tuple[str, ...]:
        """Priority names from most to least urgent (shortest SLA first, then first listed)."""
        names: dict[str, int] = {}
        for rule in self.priorities:
            names.setdefault(rule.name, rule.sla_days)
        return tuple(sorted(names, key=lambda n: (names[n], list(names).index(n))))

    def priority(self, amount: Decimal, age_days: int) -> PriorityRule:
        """The first rule that matches."""
        return next(r for r in self.priorities if r.matches(amount, age_days))

    def sla_days(self, name: str) -> int:
        return next(r.sla_days for r in self.priorities if r.name == name)

    def at_risk_on(self, opened_on: dt.date, due_on: dt.date) -> dt.date:
        """First day a still-unanswered case counts as at risk: when ``at_risk_share`` of its
        SLA has elapsed (rounded up to whole days)."""
        days = (due_on - opened_on).days
        return opened_on + dt.timedelta(days=math.ceil(days * self.at_risk_share))


DEFAULT_RULES = CaseRules(
    priorities=(
        PriorityRule(name="P1", sla_days=5, min_amount=Decimal(50_000)),
        PriorityRule(name="P1", sla_days=5, min_age_days=31),
        PriorityRule(name="P2", sla_days=10, min_amount=Decimal(5_000)),
        PriorityRule(name="P2", sla_days=10, min_age_days=16),
        PriorityRule(name="P3", sla_days=20, min_amount=Decimal(500)),
        PriorityRule(name="P3", sla_days=20, min_age_days=8),
        PriorityRule(name="P4", sla_days=30),
    ),
    at_risk_share=0.75,
)


def load_case_rules(path: Path) -> CaseRules:
    """Read case rules from YAML; :class:`~cobranza.ConfigError` names the file and line."""
    return load_model(path, CaseRules, what="case rules")
