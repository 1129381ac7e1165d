"""Collection strategy as code: segments, treatment paths, experiments, capacity, decisions.

A strategy is a YAML file (see docs/strategy.md and ``strategies/mx_default.yaml``)::

    strategy = load_strategy("mx_default")
    decisions = decide(eng, tables, states, as_of, strategy)   # Ibis, any engine
    one = decide_one(account, strategy)                          # pure Python, same decision
"""

from cobranza.strategy._arms import arm_bucket, assign_arm
from cobranza.strategy._decide import (
    CANDIDATE_COLUMNS,
    DECISION_COLUMNS,
    Decision,
    candidate_actions,
    decide,
    decide_one,
)
from cobranza.strategy._model import (
    BUILTIN_COLUMNS,
    CHANNELS,
    Strategy,
    bundled_strategies,
    load_strategy,
    parse_strategy,
)
from cobranza.strategy._report import (
    SUMMARY_TABLES,
    decisions_summary,
    render_decisions_section,
)
from cobranza.strategy._rules import Rule, RuleError, overlap_report, parse_rule
from cobranza.strategy._run import DecideResult, decide_portfolio

__all__ = [
    "BUILTIN_COLUMNS",
    "CANDIDATE_COLUMNS",
    "CHANNELS",
    "DECISION_COLUMNS",
    "DecideResult",
    "Decision",
    "Rule",
    "RuleError",
    "SUMMARY_TABLES",
    "Strategy",
    "arm_bucket",
    "assign_arm",
    "bundled_strategies",
    "candidate_actions",
    "decide",
    "decide_one",
    "decide_portfolio",
    "decisions_summary",
    "load_strategy",
    "overlap_report",
    "parse_rule",
    "parse_strategy",
    "render_decisions_section",
]
