"""Property tests: over generated portfolios and candidate actions,

* no permitted action breaks any rule — an independent checker written here from the rules'
  wording (not from the implementation) re-verifies every permitted row, including the caps
  after each loan sends one of its permitted actions;
* a blocked action reports the first account rule it breaks (caps come last);
* ``check_one`` gives every candidate the verdict of ``guardrail_verdicts``, on both engines.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import hypothesis.strategies as st
from guardrail_cases import candidate, context_for, register_case
from hypothesis import HealthCheck, given, settings

from builders import money
from cobranza.engine import DuckDBEngine, Engine
from cobranza.strategy._guardrails import (
    RULE_ORDER,
    VERDICT_COLUMNS,
    GuardrailPack,
    check_one,
    guardrail_verdicts,
)

Row = dict[str, Any]
MEXICO_CITY = ZoneInfo("America/Mexico_City")
CHANNELS = ("sms", "email", "whatsapp", "push", "ivr", "call", "field", "letter", "agency",
            "legal")  # fmt: skip
CONTACT_CHANNELS = CHANNELS[:-1]

# The checker's own copy of the facts (tzdata zone1970.tab; LFT art. 74 rest days of 2026).
STATE_ZONES = {
    "CMX": ["America/Mexico_City"], "JAL": ["America/Mexico_City"],
    "ROO": ["America/Cancun"], "SON": ["America/Hermosillo"], "BCN": ["America/Tijuana"],
    "NAY": ["America/Mazatlan", "America/Bahia_Banderas"],
    "TAM": ["America/Monterrey", "America/Matamoros"],
    "CHH": ["America/Chihuahua", "America/Ciudad_Juarez", "America/Ojinaga"],
}  # fmt: skip
HOLIDAYS_2026 = {dt.date(2026, 1, 1), dt.date(2026, 2, 2), dt.date(2026, 3, 16),
                 dt.date(2026, 5, 1), dt.date(2026, 9, 16), dt.date(2026, 11, 16),
                 dt.date(2026, 12, 25)}  # fmt: skip
DATES = [
    dt.date(2026, 3, 8),  # border zones spring forward; a Sunday
    dt.date(2026, 7, 1),
    dt.date(2026, 7, 4),  # Saturday
    dt.date(2026, 9, 16),  # Independence Day
    dt.date(2026, 11, 1),  # border zones fall back; a Sunday
    dt.date(2026, 12, 1),
]
PACKS = {
    "default": {},
    "tight": {
        "caps": {"daily_total": 1, "weekly_total": 3, "daily": {"call": 1, "sms": 1},
                 "weekly": {"call": 2, "field": 1}, "exempt_channels": []},
    },
    "custom": {
        "contact_window": {"start": "08:00", "end": "21:00",
                           "channel_hours": {"field": ["09:00", "19:00"]}},
        "business_days": {"channels": ["field", "call"], "weekdays": ["mon", "tue", "wed",
                                                                      "thu", "fri"]},
        "promise_open": {"through_grace": True, "grace_days": 1},
        "recent_payment": {"days": 5, "statuses": ["settled"]},
        "caps": {"daily_total": 2, "weekly_total": None, "daily": {}, "weekly": {"sms": 1}},
    },
}  # fmt: skip


def zones_of(customer: Row | None) -> list[str] | None:
    if customer is None:
        return None
    cp = customer.get("postal_code") or ""
    if customer["state"] == "CHH" and cp[:4] in ("3288", "3289"):
        return ["America/Ojinaga"]
    if customer["state"] == "CHH" and cp.startswith("32"):
        return ["America/Ciudad_Juarez", "America/Chihuahua"]
    return STATE_ZONES[customer["state"]]


@dataclass
class Case:
    as_of: dt.date
    pack_name: str
    customers: list[Row] = field(default_factory=list)
    loans: list[Row] = field(default_factory=list)
    candidates: list[Row] = field(default_factory=list)
    contacts: list[Row] = field(default_factory=list)
    payments: list[Row] = field(default_factory=list)
    promises: list[Row] = field(default_factory=list)
    holds: list[Row] = field(default_factory=list)

    @property
    def pack(self) -> GuardrailPack:
        return GuardrailPack.model_validate(PACKS[self.pack_name])


def random_case(rnd: random.Random) -> Case:
    """A small portfolio around one as-of date, dense in edge cases."""
    as_of = rnd.choice(DATES)
    case = Case(as_of, rnd.choice(list(PACKS)))

    def instant(days_back: int, days_ahead: int = 1) -> dt.datetime:
        start = dt.datetime.combine(as_of - dt.timedelta(days_back), dt.time(), MEXICO_CITY)
        minutes = rnd.randrange((days_back + days_ahead) * 24 * 60)
        return (start + dt.timedelta(minutes=minutes)).astimezone(dt.UTC)

    for i in range(rnd.randint(1, 5)):
        state = rnd.choice(list(STATE_ZONES))
        cp = rnd.choice([None, "32310", "32885", "87300", "06600"]) if state != "CMX" else None
        opted = [c for c in CONTACT_CHANNELS if rnd.random() < 0.15]
        case.customers.append(dict(
            customer_id=f"C{i}", state=state, postal_code=cp,
            opt_out_channels=",".join(opted) or None, do_not_contact=rnd.random() < 0.1,
        ))  # fmt: skip
        for j in range(rnd.randint(1, 3)):
            case.loans.append(dict(
                loan_id=f"L{i}{j}", customer_id=f"C{i}", product="installment",
                opened_on=dt.date(2025, 1, 1), principal=money(1000),
                annual_rate=Decimal("0.45"), frequency="monthly", term=12,
            ))  # fmt: skip
    evs = [None, 1.0, 50.0, 50.0, 100.0, math.nan]
    for lo in case.loans:
        customer_id = lo["customer_id"]
        if rnd.random() < 0.08:  # addressed to someone else: another customer or a stranger
            customer_id = rnd.choice([c["customer_id"] for c in case.customers] + ["CX"])
        for rank, channel in enumerate(rnd.sample(CHANNELS, rnd.randint(1, 3)), start=1):
            case.candidates.append(candidate(lo["loan_id"], customer_id, channel, as_of, rank,
                                             rnd.choice(evs)))  # fmt: skip
    loan_ids = [lo["loan_id"] for lo in case.loans]
    for k in range(rnd.randint(0, 15)):
        case.contacts.append(dict(
            contact_id=f"K{k:03d}", loan_id=rnd.choice(loan_ids),
            channel=rnd.choice(CONTACT_CHANNELS), attempted_at=instant(8),
            outcome=rnd.choice(["no_answer", "right_party", "delivered"]),
        ))  # fmt: skip
    for k in range(rnd.randint(0, 8)):
        case.payments.append(dict(
            payment_id=f"P{k:03d}", loan_id=rnd.choice(loan_ids), paid_at=instant(7),
            amount=money(rnd.randint(1, 300)), channel="spei",
            status=rnd.choice(["settled", "settled", "pending", "reversed"]),
        ))  # fmt: skip
    for k in range(rnd.randint(0, 5)):
        case.promises.append(dict(
            promise_id=f"PR{k:03d}", loan_id=rnd.choice(loan_ids), made_at=instant(10),
            due_on=as_of + dt.timedelta(rnd.randint(-5, 5)), amount=money(rnd.randint(1, 300)),
        ))  # fmt: skip
    for _ in range(rnd.randint(0, 3)):
        since = as_of + dt.timedelta(rnd.randint(-5, 2))
        until = None if rnd.random() < 0.4 else since + dt.timedelta(rnd.randint(0, 5))
        case.holds.append(dict(loan_id=rnd.choice(loan_ids), reason="open_case",
                               source_id="X", since=since, until=until))  # fmt: skip
    return case


#: Compiled SQL per (engine, as-of date, pack): the expression reads the tables by name, so
#: it only depends on those, and compiling once keeps a hundred examples fast.
_SQL: dict[tuple[str, dt.date, str], str] = {}


def verdicts(engine: Engine, case: Case) -> list[Row]:
    t = register_case(engine, candidates=case.candidates, holds=case.holds,
                      customers=case.customers, loans=case.loans, contacts=case.contacts,
                      payments=case.payments, promises=case.promises)  # fmt: skip
    key = (engine.name, case.as_of, case.pack_name)
    if key not in _SQL or engine.name != "duckdb":
        expr = guardrail_verdicts(
            t["candidates"], customers=t["customers"], contacts=t["contacts"],
            payments=t["payments"], promises=t["promises"], holds=t["payment_holds"],
            as_of=case.as_of, pack=case.pack, loans=t["loans"],
        )  # fmt: skip
        if engine.name != "duckdb":
            return _sorted(engine.fetch(expr).to_pylist(), case)
        _SQL[key] = engine.to_sql(expr)
    assert isinstance(engine, DuckDBEngine)
    return _sorted(engine.con.sql(_SQL[key]).to_arrow_table().to_pylist(), case)


def _sorted(rows: list[Row], case: Case) -> list[Row]:
    assert len(rows) == len(case.candidates)
    return sorted(rows, key=lambda r: (r["loan_id"], r["option_rank"]))


def assert_check_one_agrees(case: Case, rows: list[Row]) -> None:
    for row in rows:
        context = context_for(row["customer_id"], candidates=case.candidates,
                              customers=case.customers, loans=case.loans,
                              contacts=case.contacts, payments=case.payments,
                              promises=case.promises, holds=case.holds)  # fmt: skip
        cand = {k: v for k, v in row.items() if k not in VERDICT_COLUMNS}
        verdict = check_one(cand, context, case.pack)
        assert tuple(getattr(verdict, c) for c in VERDICT_COLUMNS) == tuple(
            row[c] for c in VERDICT_COLUMNS), row  # fmt: skip


# ---------------------------------------------------------------- the independent checker


def local(instant: dt.datetime, zone: str) -> dt.datetime:
    return instant.astimezone(ZoneInfo(zone))


def account_rules_broken(case: Case, row: Row) -> list[str]:
    """Every account rule ``row`` breaks, by the rules' wording, in RULE_ORDER."""
    cfg = PACKS[case.pack_name]
    day, channel, loan_id = case.as_of, row["channel"], row["loan_id"]
    customer = next((c for c in case.customers if c["customer_id"] == row["customer_id"]), None)
    owner = next(lo["customer_id"] for lo in case.loans if lo["loan_id"] == loan_id)
    broken = []
    if customer is not None and customer["do_not_contact"]:
        broken.append("do_not_contact")
    if customer is not None and channel in (customer["opt_out_channels"] or "").split(","):
        broken.append("opt_out")
    if customer is None or owner != row["customer_id"]:
        broken.append("third_party")
    if any(h["loan_id"] == loan_id and h["since"] <= day
           and (h["until"] is None or day <= h["until"]) for h in case.holds):  # fmt: skip
        broken.append("payment_hold")
    promise_cfg = cfg.get("promise_open", {})
    grace = promise_cfg.get("grace_days", 2)
    for p in case.promises:
        made_on = local(p["made_at"], "America/Mexico_City").date()
        if p["loan_id"] != loan_id or made_on > day:
            continue
        deadline = p["due_on"] + dt.timedelta(grace)
        paid = sum(
            (q["amount"] for q in case.payments
             if q["loan_id"] == loan_id and q["status"] == "settled"
             and made_on <= local(q["paid_at"], "America/Mexico_City").date()
             <= min(deadline, day)),
            Decimal(0),
        )  # fmt: skip
        last_day = deadline if promise_cfg.get("through_grace") else p["due_on"]
        if paid < p["amount"] and day <= last_day:
            broken.append("promise_open")
            break
    pay_cfg = cfg.get("recent_payment", {})
    days, statuses = pay_cfg.get("days", 3), pay_cfg.get("statuses", ["settled", "pending"])
    if any(
        q["loan_id"] == loan_id and q["status"] in statuses
        and 0 <= (day - local(q["paid_at"], "America/Mexico_City").date()).days < days
        for q in case.payments
    ):  # fmt: skip
        broken.append("recent_payment")
    biz = cfg.get("business_days", {})
    weekdays = biz.get("weekdays", ["mon", "tue", "wed", "thu", "fri", "sat"])
    business = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][day.weekday()] in weekdays
    business &= day not in HOLIDAYS_2026
    if channel in biz.get("channels", ["field", "agency", "legal"]) and not business:
        broken.append("holiday")
    if channel not in ("letter", "legal") and not window_ok(case, row, customer):
        broken.append("contact_window")
    return [r for r in RULE_ORDER if r in broken]


def window_ok(case: Case, row: Row, customer: Row | None) -> bool:
    """The row's window is inside [start, end) local time on the as-of date in every zone the
    debtor may be in, and not empty."""
    zones = zones_of(customer)
    if zones is None or row["window_start_local"] is None:
        return False
    cfg = PACKS[case.pack_name].get("contact_window", {})
    start, end = cfg.get("start", "07:00"), cfg.get("end", "22:00")
    start, end = cfg.get("channel_hours", {}).get(row["channel"], [start, end])
    opens = dt.datetime.fromisoformat(row["window_start_local"])
    closes = dt.datetime.fromisoformat(row["window_end_local"])
    assert row["time_zone"] == zones[0]
    assert opens.utcoffset() == local(opens, zones[0]).utcoffset()
    for zone in zones:
        a, b = local(opens, zone), local(closes, zone)
        if not (a.date() == b.date() == case.as_of and a < b):
            return False
        if not (
            dt.time.fromisoformat(start) <= a.time() and b.time() <= dt.time.fromisoformat(end)
        ):
            return False
    return True


def assert_caps_hold(case: Case, rows: list[Row], pick: str) -> None:
    """Each loan sends one permitted action (its first or its last permitted option): no
    customer goes over a cap, counting their contacts of the day and week."""
    cfg = PACKS[case.pack_name].get("caps", {})
    daily_total, weekly_total = cfg.get("daily_total", 3), cfg.get("weekly_total", 10)
    daily = cfg.get("daily", {"sms": 1, "email": 1, "whatsapp": 1, "push": 1, "ivr": 1,
                              "call": 2, "field": 1, "letter": 1, "agency": 2})  # fmt: skip
    weekly = cfg.get("weekly", {"sms": 3, "email": 3, "whatsapp": 3, "push": 3, "ivr": 3,
                                "call": 7, "field": 2, "letter": 1, "agency": 7})  # fmt: skip
    exempt = cfg.get("exempt_channels", ["legal"])
    sent: dict[str, Row] = {}
    for row in rows if pick == "first" else reversed(rows):
        if row["suppressed_by"] is None and row["loan_id"] not in sent:
            sent[row["loan_id"]] = row
    owner = {lo["loan_id"]: lo["customer_id"] for lo in case.loans}
    for customer in case.customers:
        cid = customer["customer_id"]
        zone = zones_of(customer)[0]
        today, week = Counter(), Counter()
        for k in case.contacts:
            if owner[k["loan_id"]] != cid or k["channel"] in exempt:
                continue
            back = (case.as_of - local(k["attempted_at"], zone).date()).days
            if back == 0:
                today[k["channel"]] += 1
            if 0 <= back < 7:
                week[k["channel"]] += 1
        for row in sent.values():
            if row["customer_id"] == cid and row["channel"] not in exempt:
                today[row["channel"]] += 1
                week[row["channel"]] += 1
        for channel, n in today.items():
            assert n <= daily.get(channel, n) or not any(
                r["channel"] == channel for r in sent.values() if r["customer_id"] == cid
            )
        for channel, n in week.items():
            assert n <= weekly.get(channel, n) or not any(
                r["channel"] == channel for r in sent.values() if r["customer_id"] == cid
            )
        if any(r["customer_id"] == cid and r["channel"] not in exempt for r in sent.values()):
            assert daily_total is None or today.total() <= daily_total
            assert weekly_total is None or week.total() <= weekly_total


def check_case(case: Case, rows: list[Row]) -> None:
    for row in rows:
        broken = account_rules_broken(case, row)
        if broken:
            assert row["suppressed_by"] == broken[0], (row, broken)
        else:
            assert row["suppressed_by"] is None or row["suppressed_by"].startswith("cap_"), row
    assert_caps_hold(case, rows, "first")
    assert_caps_hold(case, rows, "last")


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(rnd=st.randoms(use_true_random=False))
def test_no_permitted_action_breaks_a_rule(rnd: random.Random) -> None:
    case = random_case(rnd)
    with DuckDBEngine() as engine:
        rows = verdicts(engine, case)
    check_case(case, rows)
    assert_check_one_agrees(case, rows)


def test_both_engines_agree_with_check_one(engine: Engine) -> None:
    """A few generated cases, every pack, on each engine: same verdicts as check_one."""
    for seed, pack_name in ((7, "default"), (11, "tight"), (23, "custom")):
        case = random_case(random.Random(seed))
        case.pack_name = pack_name
        # the same case grown to several customers so every rule has work to do
        for extra in range(1, 3):
            more = random_case(random.Random(seed * 100 + extra))
            suffix = f"_{extra}"
            rename = lambda r, s=suffix: {  # noqa: E731
                k: (v + s if k in ("customer_id", "loan_id", "contact_id", "payment_id",
                                   "promise_id") and isinstance(v, str) else v)
                for k, v in r.items()
            }  # fmt: skip
            for name in ("customers", "loans", "contacts", "payments", "promises", "holds"):
                getattr(case, name).extend(rename(r) for r in getattr(more, name))
            case.candidates.extend({**rename(r), "as_of": case.as_of} for r in more.candidates)
        rows = verdicts(engine, case)
        assert_check_one_agrees(case, rows)
        check_case(case, rows)
        assert {r["suppressed_by"] for r in rows} - {None}, "the case should block something"


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(rnd=st.randoms(use_true_random=False))
def test_data_after_as_of_changes_nothing(rnd: random.Random) -> None:
    """Contacts, payments and promises made after the as-of day ends are never read."""
    case = random_case(rnd)
    with DuckDBEngine() as engine:
        before = verdicts(engine, case)
    after_day = dt.datetime.combine(case.as_of + dt.timedelta(1), dt.time(0, 1), MEXICO_CITY)
    loan_ids = [lo["loan_id"] for lo in case.loans]
    for k, lid in enumerate(loan_ids):
        later = after_day + dt.timedelta(hours=rnd.randrange(48))
        case.contacts.append(dict(contact_id=f"KL{k}", loan_id=lid, channel="call",
                                  attempted_at=later, outcome="right_party"))  # fmt: skip
        case.payments.append(dict(payment_id=f"PL{k}", loan_id=lid, paid_at=later,
                                  amount=money(999), channel="spei", status="settled"))  # fmt: skip
        due = case.as_of + dt.timedelta(5)
        case.promises.append(dict(promise_id=f"PRL{k}", loan_id=lid, made_at=later,
                                  due_on=due, amount=money(10)))  # fmt: skip
    with DuckDBEngine() as engine:
        after = verdicts(engine, case)
    # repr: a NaN expected value is not equal to itself
    assert [{**r, "expected_value": repr(r["expected_value"])} for r in after] == [
        {**r, "expected_value": repr(r["expected_value"])} for r in before
    ]
