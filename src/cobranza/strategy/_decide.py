"""Decisions: one strategy, two paths — SQL for the batch (any engine), Python for one account.

For every delinquent account (status ``active`` and dpd ≥ 1; current, paid-off and
written-off accounts get no row) the strategy picks, in order:

1. the **segment**: the first segment whose rule matches (none: ``no segment matched``);
2. the **experiment arm** when the segment is in an experiment (stable hash, see ``_arms``);
   the arm's path replaces the segment's path when it names one;
3. the **step** of that path whose dpd range holds the account's dpd (none: no action);
4. the step's **channel options** in order. An option is blocked by ``cadence`` (the last
   attempt on that channel was fewer than ``cadence_days`` local days ago), by
   ``max_attempts`` (the attempts on that channel since the account entered the step reached
   the maximum) or by a compliance guardrail (whose rule id wins when both block);
5. **capacity**: the first permitted option, unless its channel's daily capacity is used up
   (batch only; ``decide_one`` takes the full channels as an argument).

The decision names the chosen option (``suppressed_by`` null) or, when nothing may be sent,
the option that was blocked and the rule that blocked it (``capacity`` when every permitted
option was full). ``reason`` spells the path: the matching segment rule, the arm, the step and
the outcome of each option tried, e.g.
``segment early_low: dpd between 1 and 29 and past_due_amount < 3000; path early_digital step
reminder (dpd 1-10); 1 whatsapp: cadence; 2 sms: chosen``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from cobranza.engine import Engine
from cobranza.ledger._calendar import end_of_local_day
from cobranza.strategy import _seam
from cobranza.strategy._arms import arm_expr, assign_arm, hash_expr
from cobranza.strategy._guardrails import AccountContext
from cobranza.strategy._history import (
    HISTORY_COLUMNS,
    PROMISE_COLUMNS,
    account_history,
    account_history_py,
    channel_history,
    channel_history_py,
    promise_summary,
    promise_summary_py,
)
from cobranza.strategy._model import Step, Strategy, load_strategy

__all__ = [
    "CANDIDATE_COLUMNS",
    "DECISION_COLUMNS",
    "Decision",
    "candidate_actions",
    "decide",
    "decide_one",
]

#: Columns of ``decisions`` (issue #3 §3, then the expected value and the overflowed channel).
DECISION_COLUMNS = (
    "as_of", "loan_id", "customer_id", "segment", "step", "channel", "window_start_local",
    "window_end_local", "template", "offer", "experiment", "arm", "strategy_version", "reason",
    "suppressed_by", "expected_value", "overflow_from",
)  # fmt: skip
#: Columns of the candidate actions (INTERFACES.md §C).
CANDIDATE_COLUMNS = (
    "as_of", "loan_id", "customer_id", "segment", "step", "channel", "option_rank", "template",
    "offer", "experiment", "arm", "strategy_version", "reason", "expected_value",
)  # fmt: skip
#: Rule ids of the strategy's own checks (the guardrails pack has its own ids).
CADENCE, MAX_ATTEMPTS, CAPACITY = "cadence", "max_attempts", "capacity"
_OPEN_END = 1_000_000  # dpd upper bound standing for an open-ended step


@dataclass(frozen=True)
class Decision:
    """One account's decision: the columns of ``decisions``."""

    as_of: dt.date
    loan_id: str
    customer_id: str
    segment: str | None
    step: str | None
    channel: str | None
    window_start_local: str | None
    window_end_local: str | None
    template: str | None
    offer: str | None
    experiment: str | None
    arm: str | None
    strategy_version: str
    reason: str
    suppressed_by: str | None
    expected_value: float
    overflow_from: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def permitted(self) -> bool:
        """True when the decision is an action to send (nothing blocked it)."""
        return self.channel is not None and self.suppressed_by is None


# ---------------------------------------------------------------------------------------------
# Python: one account


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _step_for(steps: list[Step], dpd: int) -> Step | None:
    for step in steps:
        high = _OPEN_END if step.dpd[1] is None else step.dpd[1]
        if step.dpd[0] <= dpd <= high:
            return step
    return None


def expected_value(account: Mapping[str, Any], strategy: Strategy) -> float:
    """past_due_amount × propensity score (past due alone without a score), as float."""
    past_due = account.get("past_due_amount")
    value = float(past_due) if past_due is not None else 0.0
    score = account.get(strategy.scores.propensity) if strategy.scores.propensity else None
    return value * (float(score) if score is not None else 1.0)


def decide_one(
    account: Mapping[str, Any],
    strategy: Strategy | str,
    *,
    full_channels: Collection[str] = (),
    context: AccountContext | None = None,
) -> Decision:
    """The decision for one account, in pure Python; the same as :func:`decide`'s row.

    ``account`` holds the account-state columns (``as_of``, ``loan_id``, ``customer_id``,
    ``status``, ``dpd``, ``past_due_amount`` …), the strategy's score and feature columns, and
    ``contacts``: that loan's contacts as dicts with ``channel``, ``attempted_at`` and
    ``outcome``; ``promises`` and ``payments``: that loan's rows (contact-history and
    promise columns absent from ``account`` are computed from them). The guardrails read
    ``context`` (an ``AccountContext``: the customer row, the contacts, payments, promises and
    holds of ALL the customer's loans, and ``today``: the customer's other candidate actions),
    or, without one, the account's ``customer`` (the customers row; an unknown customer is
    never contacted), ``contacts``, ``payments``, ``promises``, ``holds`` and ``today``.
    ``full_channels`` are channels whose daily capacity is used up (capacity is a batch
    notion; in real time nothing is full).
    """
    strategy = load_strategy(strategy)
    as_of = _as_date(account["as_of"])
    contacts = list(account.get("contacts") or ())
    row = dict(account)
    missing = [c for c in HISTORY_COLUMNS if c not in row]
    if missing:
        history = account_history_py(contacts, as_of)
        row.update({c: history[c] for c in missing})
    if any(c not in row for c in PROMISE_COLUMNS):
        summary = promise_summary_py(
            account.get("promises") or (), account.get("payments") or (), as_of,
            strategy.pack.promise_open.grace_days,
        )  # fmt: skip
        row.update({c: v for c, v in summary.items() if c not in row})
    if context is None:
        context = _seam.context_of(account)
    dpd = int(row.get("dpd") or 0)
    ev = expected_value(row, strategy)
    empty: dict[str, Any] = dict(
        as_of=as_of, loan_id=str(row["loan_id"]), customer_id=str(row["customer_id"]),
        segment=None, step=None, channel=None, window_start_local=None,
        window_end_local=None, template=None, offer=None, experiment=None, arm=None,
        strategy_version=strategy.strategy_version, suppressed_by=None,
        expected_value=ev, overflow_from=None,
    )  # fmt: skip
    if row.get("status") != "active" or dpd < 1:
        reason = f"not delinquent: status {row.get('status')}, dpd {dpd}"
        return Decision(**empty, reason=reason)
    segment = next((s for s in strategy.segments if strategy.rules[s.id].evaluate(row)), None)
    if segment is None:
        return Decision(**empty, reason="no segment matched")
    parts = [f"segment {segment.id}: {strategy.rules[segment.id].text}"]
    empty["segment"] = segment.id
    path = segment.path
    experiment = strategy.experiment_of(segment.id)
    if experiment is not None:
        arm_id = assign_arm(experiment, empty["customer_id"])
        arm = next(a for a in experiment.arms if a.id == arm_id)
        path = arm.path or path
        empty.update(experiment=experiment.id, arm=arm_id)
        parts.append(f"experiment {experiment.id} arm {arm_id}")
    step = _step_for(strategy.paths[path], dpd)
    if step is None:
        parts.append(f"path {path}: no step for dpd {dpd}")
        return Decision(**empty, reason="; ".join(parts))
    parts.append(f"path {path} {step.text}")
    empty.update(step=step.id, offer=step.offer.to_json() if step.offer else None)
    step_start = as_of - dt.timedelta(days=dpd - step.dpd[0])
    options = []
    for rank, action in enumerate(step.actions, start=1):
        last_on, attempts = channel_history_py(contacts, action.channel, step_start, as_of)
        own = None
        if last_on is not None and (as_of - last_on).days < action.cadence_days:
            own = CADENCE
        elif attempts >= action.max_attempts:
            own = MAX_ATTEMPTS
        candidate = dict(
            as_of=as_of, loan_id=empty["loan_id"], customer_id=empty["customer_id"],
            segment=segment.id, step=step.id, channel=action.channel, option_rank=rank,
            template=action.template, offer=empty["offer"], experiment=empty["experiment"],
            arm=empty["arm"], strategy_version=strategy.strategy_version,
            reason="; ".join(parts), expected_value=ev,
        )  # fmt: skip
        verdict = _seam.check_one(candidate, context, strategy)
        blocked = verdict.suppressed_by or own
        options.append((rank, action, blocked, verdict))
    permitted = [o for o in options if o[2] is None]
    chosen = next((o for o in permitted if o[1].channel not in full_channels), None)
    if chosen is not None:
        shown, suppressed = chosen, None
    elif permitted:
        shown, suppressed = permitted[0], CAPACITY
    else:
        shown, suppressed = options[0], options[0][2]
    for rank, action, blocked, _ in options:
        if chosen is not None and rank > chosen[0]:
            break
        status = "chosen" if chosen is not None and rank == chosen[0] else blocked or CAPACITY
        parts.append(f"{rank} {action.channel}: {status}")
    overflow = permitted[0][1].channel if permitted and permitted[0] is not chosen else None
    empty.update(
        suppressed_by=suppressed,
        overflow_from=overflow,
        channel=shown[1].channel,
        template=shown[1].template,
        window_start_local=shown[3].window_start_local,
        window_end_local=shown[3].window_end_local,
    )
    return Decision(**empty, reason="; ".join(parts))


# ---------------------------------------------------------------------------------------------
# SQL: the batch


def _null(kind: str) -> ir.Value:
    return ibis.null(kind)


def _delinquent(states: ir.Table) -> ir.Table:
    """The accounts the strategy acts on: active and at least 1 dpd."""
    return states.filter((states.status == "active") & (states.dpd >= 1))


def _customer_tables(tables: Mapping[str, ir.Table], delinquent: ir.Table) -> dict[str, ir.Table]:
    """The contract tables cut to the loans of customers with a delinquent account: all the
    guardrails read (caps count a customer's contacts on every loan)."""
    loans = tables["loans"].semi_join(delinquent.select("customer_id"), "customer_id")
    keys = loans.select("loan_id")
    cut = dict(tables)
    for name in ("contacts", "payments", "promises"):
        cut[name] = tables[name].semi_join(keys, "loan_id")
    cut["loans"] = loans
    cut["customers"] = tables["customers"].semi_join(
        delinquent.select("customer_id"), "customer_id"
    )
    return cut


def _accounts(
    tables: Mapping[str, ir.Table],
    states: ir.Table,
    as_of: dt.date,
    strategy: Strategy,
    scores: ir.Table | None,
) -> ir.Table:
    """Delinquent accounts with history, scores, segment, experiment, arm, path, value."""
    st = _delinquent(states)
    # Histories of the delinquent loans only: most of a book is current.
    keys = st.select("loan_id")
    hist = account_history(tables["contacts"].semi_join(keys, "loan_id"), as_of)
    acc = st.left_join(hist, "loan_id").select(
        st,
        attempts_7d=hist.attempts_7d.fill_null(0),
        attempts_30d=hist.attempts_30d.fill_null(0),
        rpc_7d=hist.rpc_7d.fill_null(0),
        rpc_30d=hist.rpc_30d.fill_null(0),
        days_since_last_contact=hist.days_since_last_contact,
        last_contact_outcome=hist.last_contact_outcome,
    )
    promised = tables["promises"].semi_join(keys, "loan_id")
    promises = promise_summary(
        promised,
        tables["payments"].semi_join(promised.select("loan_id"), "loan_id"),
        as_of,
        strategy.pack.promise_open.grace_days,
    )
    acc = acc.left_join(promises, "loan_id").select(
        acc,
        open_promise=promises.open_promise.fill_null(False),
        broken_promises_90d=promises.broken_promises_90d.fill_null(0),
        kept_promises_90d=promises.kept_promises_90d.fill_null(0),
    )
    inputs = strategy.input_columns()
    if inputs:
        if scores is None:
            acc = acc.mutate(**{c: _null("float64") for c in inputs})
        else:
            missing = [c for c in inputs if c not in scores.columns]
            if missing:
                raise ValueError(f"scores lack the columns the strategy reads: {missing}")
            sc = scores.select("loan_id", *inputs)
            acc = acc.left_join(sc, "loan_id").select(acc, *[sc[c] for c in inputs])
    acc = acc.view()
    segment = ibis.cases(
        *[(strategy.rules[s.id].to_ibis(acc), s.id) for s in strategy.segments],
        else_=_null("string"),
    )
    acc = acc.mutate(segment=segment)
    if strategy.experiments:
        experiment = ibis.cases(
            *[(acc.segment.isin(e.segments), e.id) for e in strategy.experiments],
            else_=_null("string"),
        )
        acc = acc.mutate(experiment=experiment)
        acc = acc.mutate(arm_hash=hash_expr(acc.experiment, acc.customer_id))
        arm = ibis.cases(
            *[(acc.experiment == e.id, arm_expr(e, acc.arm_hash)) for e in strategy.experiments],
            else_=_null("string"),
        )
        acc = acc.mutate(arm=arm).drop("arm_hash")
    else:
        acc = acc.mutate(experiment=_null("string"), arm=_null("string"))
    overrides = [
        ((acc.experiment == e.id) & (acc.arm == a.id), a.path)
        for e in strategy.experiments
        for a in e.arms
        if a.path is not None
    ]
    by_segment = [(acc.segment == s.id, s.path) for s in strategy.segments]
    path = ibis.cases(*overrides, *by_segment, else_=_null("string"))
    seg_text = ibis.cases(
        *[(acc.segment == s.id, f"segment {s.id}: {strategy.rules[s.id].text}")
          for s in strategy.segments],
        else_="no segment matched",
    )  # fmt: skip
    arm_text = ibis.ifelse(
        acc.experiment.notnull(),
        ibis.literal("; experiment ").concat(acc.experiment, " arm ", acc.arm),
        "",
    )
    past_due = acc.past_due_amount.cast("float64").fill_null(0.0)
    propensity = strategy.scores.propensity
    ev = past_due * acc[propensity].cast("float64").fill_null(1.0) if propensity else past_due
    return acc.mutate(
        path=path, prefix=seg_text.concat(arm_text), expected_value=ev.cast("float64")
    )


def _plan(strategy: Strategy) -> pa.Table:
    """Every (path, step, option) of the strategy as a small Arrow table."""
    rows: list[dict[str, Any]] = []
    for path, steps in strategy.paths.items():
        for step in steps:
            for rank, action in enumerate(step.actions, start=1):
                rows.append(
                    dict(
                        plan_path=path, step=step.id, dpd_from=step.dpd[0],
                        dpd_to=_OPEN_END if step.dpd[1] is None else step.dpd[1],
                        step_text=f"path {path} {step.text}", option_rank=rank,
                        channel=action.channel, template=action.template,
                        cadence_days=action.cadence_days, max_attempts=action.max_attempts,
                        offer=step.offer.to_json() if step.offer else None,
                    )
                )  # fmt: skip
    schema = pa.schema(
        [("plan_path", pa.string()), ("step", pa.string()), ("dpd_from", pa.int32()),
         ("dpd_to", pa.int32()), ("step_text", pa.string()), ("option_rank", pa.int32()),
         ("channel", pa.string()), ("template", pa.string()), ("cadence_days", pa.int32()),
         ("max_attempts", pa.int32()), ("offer", pa.string())]
    )  # fmt: skip
    return pa.Table.from_pylist(rows, schema=schema)


def _lookback_days(strategy: Strategy) -> int | None:
    """Days of contact history the cadence and attempt checks can read (None: all of it,
    when a step is open-ended)."""
    days = 0
    for steps in strategy.paths.values():
        for step in steps:
            if step.dpd[1] is None:
                return None
            days = max(days, step.dpd[1] - step.dpd[0], *(a.cadence_days for a in step.actions))
    return days


def _prefix(strategy: Strategy) -> str:
    return f"_strategy_{strategy.content_hash[:10]}"


def _options(
    eng: Engine,
    tables: Mapping[str, ir.Table],
    accounts: ir.Table,
    as_of: dt.date,
    strategy: Strategy,
) -> ir.Table:
    """One row per (account, option of its step) with the strategy's own block."""
    plan_name = f"{_prefix(strategy)}_plan"
    eng.register_arrow(plan_name, _plan(strategy))
    plan = eng.table(plan_name)
    joined = accounts.join(
        plan,
        [
            accounts.path == plan.plan_path,
            accounts.dpd >= plan.dpd_from,
            accounts.dpd <= plan.dpd_to,
        ],
    )
    opts = joined.select(
        "loan_id", "customer_id", "segment", "experiment", "arm", "expected_value", "prefix",
        "step", "step_text", "option_rank", "channel", "template", "offer", "cadence_days",
        "max_attempts",
        step_start=ibis.date(as_of) - (joined.dpd - joined.dpd_from).cast("int32").as_interval(
            "D"
        ),
    )  # fmt: skip
    contacts = tables["contacts"]
    lookback = _lookback_days(strategy)
    if lookback is not None:
        # Older contacts can neither fall within a cadence nor inside the current step.
        since = end_of_local_day(as_of - dt.timedelta(days=lookback + 1))
        contacts = contacts.filter(contacts.attempted_at >= ibis.literal(since))
    hist = channel_history(contacts, opts, as_of)
    with_hist = opts.left_join(hist, ["loan_id", "channel"]).select(
        opts, last_attempt_on=hist.last_attempt_on, attempts_in_step=hist.attempts_in_step
    )
    since = ibis.date(as_of).delta(with_hist.last_attempt_on, unit="day")
    own = ibis.cases(
        (with_hist.last_attempt_on.notnull() & (since < with_hist.cadence_days), CADENCE),
        (with_hist.attempts_in_step.fill_null(0) >= with_hist.max_attempts, MAX_ATTEMPTS),
        else_=_null("string"),
    )
    return with_hist.mutate(own_block=own)


def candidate_actions(
    eng: Engine,
    tables: Mapping[str, ir.Table],
    states: ir.Table,
    as_of: dt.date,
    strategy: Strategy | str,
    *,
    scores: ir.Table | None = None,
) -> ir.Table:
    """Candidate actions (INTERFACES.md §C): one row per (loan_id, option_rank) of every
    delinquent account's current step, plus ``own_block`` (``cadence``/``max_attempts``
    or null), the strategy's own check of that option."""
    strategy = load_strategy(strategy)
    accounts = _accounts(tables, states, as_of, strategy, scores)
    return _candidates(_options(eng, tables, accounts, as_of, strategy), as_of, strategy)


def _candidates(opts: ir.Table, as_of: dt.date, strategy: Strategy) -> ir.Table:
    return opts.select(
        as_of=ibis.date(as_of),
        loan_id=opts.loan_id,
        customer_id=opts.customer_id,
        segment=opts.segment,
        step=opts.step,
        channel=opts.channel,
        option_rank=opts.option_rank.cast("int32"),
        template=opts.template,
        offer=opts.offer,
        experiment=opts.experiment,
        arm=opts.arm,
        strategy_version=ibis.literal(strategy.strategy_version),
        reason=opts.prefix.concat("; ", opts.step_text),
        expected_value=opts.expected_value,
        own_block=opts.own_block,
    )


def decide(
    eng: Engine,
    tables: Mapping[str, ir.Table],
    states: ir.Table,
    as_of: dt.date,
    strategy: Strategy | str,
    *,
    holds: ir.Table | None = None,
    scores: ir.Table | None = None,
) -> ir.Table:
    """The ``decisions`` of every delinquent account as of ``as_of`` (one row per account).

    ``tables`` are the contract tables (``customers``, ``contacts``, ``payments``,
    ``promises`` are read), ``states`` the account states at ``as_of``
    (:func:`cobranza.ledger.account_states`), ``holds`` the payment holds (INTERFACES.md §E;
    None: no holds), ``scores`` a table keyed by ``loan_id`` with the score and feature
    columns the strategy names (None: those columns are null). The compliance guardrails
    (``strategy.pack``) judge every option between the candidates and capacity: a suppressed
    option is skipped and capacity is spent on permitted options only. Intermediate tables are
    materialized in ``eng`` under names starting with ``_strategy_``; the result is an
    expression over them, to write with ``eng.write_parquet``.
    """
    strategy = load_strategy(strategy)
    prefix = _prefix(strategy)
    eng.materialize(f"{prefix}_states", _delinquent(states))
    states = eng.table(f"{prefix}_states")
    eng.materialize(f"{prefix}_accounts", _accounts(tables, states, as_of, strategy, scores))
    accounts = eng.table(f"{prefix}_accounts")
    opts = _options(eng, tables, accounts, as_of, strategy)
    candidates = _candidates(opts, as_of, strategy)
    eng.materialize(f"{prefix}_candidates", candidates)
    candidates = eng.table(f"{prefix}_candidates")
    verdicts = _seam.verdicts(
        candidates,
        tables=_customer_tables(tables, states),
        holds=holds,
        as_of=as_of,
        strategy=strategy,
    )
    blocked = ibis.coalesce(verdicts.suppressed_by, verdicts.own_block)
    eng.materialize(f"{prefix}_options", verdicts.mutate(blocked=blocked))
    options = eng.table(f"{prefix}_options")
    wide = _pivot(options, strategy.max_options())
    step_cols = ["step", "offer", "step_reason"]
    joined = accounts.left_join(wide, "loan_id").select(
        accounts.drop(*[c for c in step_cols if c in accounts.columns]),
        *[wide[c] for c in wide.columns if c != "loan_id"],
    )
    eng.materialize(f"{prefix}_wide", joined)
    table = eng.table(f"{prefix}_wide")
    table = _capacity(eng, table, strategy, prefix)
    return _final(table, as_of, strategy)


def _pivot(options: ir.Table, k_max: int) -> ir.Table:
    """One row per loan: step, offer, reason so far, and per option k = 1 … k_max its channel
    ch_k, template tpl_k, block blk_k and contact window ws_k, we_k."""
    aggs: dict[str, ir.Value] = {
        "step": options.step.max(),
        "offer": options.offer.max(),
        "step_reason": options.reason.max(),
    }
    for k in range(1, k_max + 1):
        at = options.option_rank == k
        aggs[f"ch_{k}"] = options.channel.max(where=at)
        aggs[f"tpl_{k}"] = options.template.max(where=at)
        aggs[f"blk_{k}"] = options.blocked.max(where=at)
        aggs[f"ws_{k}"] = options.window_start_local.max(where=at)
        aggs[f"we_{k}"] = options.window_end_local.max(where=at)
    return options.group_by("loan_id").aggregate(**aggs)


def _k_max(table: ir.Table) -> int:
    return sum(1 for c in table.columns if c.startswith("ch_"))


def _pick(table: ir.Table, k: ir.IntegerValue, stem: str) -> ir.Value:
    kinds = {"ch": "string", "tpl": "string", "blk": "string", "ws": "string", "we": "string"}
    return ibis.cases(
        *[(k == i, table[f"{stem}_{i}"]) for i in range(1, _k_max(table) + 1)],
        else_=_null(kinds[stem]),
    )


def _capacity(eng: Engine, table: ir.Table, strategy: Strategy, prefix: str) -> ir.Table:
    """Assign each account its first permitted option with capacity left, best value first.

    Round r: every unassigned account proposes its first permitted option whose channel still
    has capacity; per channel, proposals are served in order of expected value (then loan_id)
    up to the capacity left. An account turned away proposes its next option in the next
    round, when that channel is full. A round either serves every proposal or fills a channel,
    so (number of capped channels + 1) rounds settle everything.
    """
    k_max = _k_max(table)
    used = {a.channel for steps in strategy.paths.values() for s in steps for a in s.actions}
    capped = {
        c: spec.capacity
        for c, spec in strategy.channels.items()
        if spec.capacity is not None and c in used
    }
    table = table.mutate(chosen=_null("int32"))
    if not capped:
        first = ibis.cases(
            *[(table[f"blk_{k}"].isnull() & table[f"ch_{k}"].notnull(), k)
              for k in range(1, k_max + 1)],
            else_=_null("int32"),
        )  # fmt: skip
        return table.mutate(chosen=first.cast("int32"))
    for r in range(len(capped) + 1):
        chosen_ch = _pick(table, table.chosen, "ch")
        usage = table.aggregate(
            **{f"used_{c}": (chosen_ch == c).cast("int64").sum() for c in capped}
        )
        rem = usage.select(
            **{f"rem_{c}": ibis.literal(cap, "int64") - usage[f"used_{c}"].fill_null(0)
               for c, cap in capped.items()}
        )  # fmt: skip
        t = table.cross_join(rem)

        def has_room(channel: ir.StringValue, t: ir.Table = t) -> ir.BooleanValue:
            return ibis.cases(*[(channel == c, t[f"rem_{c}"] > 0) for c in capped], else_=True)

        proposal = ibis.cases(
            *[(t.chosen.isnull() & t[f"blk_{k}"].isnull() & t[f"ch_{k}"].notnull()
               & has_room(t[f"ch_{k}"]), k) for k in range(1, k_max + 1)],
            else_=_null("int32"),
        ).cast("int32")  # fmt: skip
        t = t.mutate(proposal=proposal)
        t = t.mutate(prop_ch=_pick(t, t.proposal, "ch"))
        room = ibis.cases(*[(t.prop_ch == c, t[f"rem_{c}"]) for c in capped], else_=_null("int64"))
        order = ibis.window(group_by=t.prop_ch, order_by=[ibis.desc(t.expected_value), t.loan_id])
        rank = ibis.row_number().over(order)
        served = t.proposal.notnull() & (room.isnull() | (rank < room))
        nxt = t.mutate(
            chosen=ibis.coalesce(t.chosen, ibis.ifelse(served, t.proposal, None)),
            turned_away=t.proposal.notnull() & ~served,
        )
        nxt = nxt.drop("proposal", "prop_ch", *[f"rem_{c}" for c in capped])
        name = f"{prefix}_round_{r}"
        eng.materialize(name, nxt)
        table = eng.table(name)
        # Nobody turned away: later rounds would have no proposal to make.
        if not eng.fetch(table.turned_away.any().name("any").as_table()).column(0)[0].as_py():
            break
        table = table.drop("turned_away")
    return table.drop("turned_away") if "turned_away" in table.columns else table


def _final(table: ir.Table, as_of: dt.date, strategy: Strategy) -> ir.Table:
    k_max = _k_max(table)
    first = ibis.cases(
        *[(table[f"blk_{k}"].isnull() & table[f"ch_{k}"].notnull(), k)
          for k in range(1, k_max + 1)],
        else_=_null("int32"),
    )  # fmt: skip
    has_step = table.ch_1.notnull()
    shown = ibis.cases(
        (table.chosen.notnull(), table.chosen),
        (first.notnull(), first),
        (has_step, 1),
        else_=_null("int32"),
    )
    suppressed = ibis.cases(
        (table.chosen.notnull(), _null("string")),
        (first.notnull(), CAPACITY),
        (has_step, table.blk_1),
        else_=_null("string"),
    )
    overflow = ibis.ifelse(
        first.notnull() & (table.chosen.isnull() | (table.chosen != first)),
        _pick(table, first, "ch"),
        _null("string"),
    )
    reason = ibis.cases(
        (table.path.isnull(), table.prefix),
        (table.step.notnull(), table.step_reason),
        else_=table.prefix.concat(
            "; path ", table.path, ": no step for dpd ", table.dpd.cast("string")
        ),
    )
    for k in range(1, k_max + 1):
        ch, blk = table[f"ch_{k}"], table[f"blk_{k}"]
        status = ibis.cases((table.chosen == k, "chosen"), (blk.notnull(), blk), else_=CAPACITY)
        include = ch.notnull() & (table.chosen.isnull() | (table.chosen >= k))
        piece = ibis.ifelse(include, ibis.literal(f"; {k} ").concat(ch, ": ", status), "")
        reason = reason.concat(piece)
    return table.select(
        as_of=ibis.date(as_of),
        loan_id=table.loan_id,
        customer_id=table.customer_id,
        segment=table.segment,
        step=table.step,
        channel=_pick(table, shown, "ch"),
        window_start_local=_pick(table, shown, "ws"),
        window_end_local=_pick(table, shown, "we"),
        template=_pick(table, shown, "tpl"),
        offer=table.offer,
        experiment=table.experiment,
        arm=table.arm,
        strategy_version=ibis.literal(strategy.strategy_version),
        reason=reason,
        suppressed_by=suppressed,
        expected_value=table.expected_value,
        overflow_from=overflow,
    )
