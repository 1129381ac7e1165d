"""Guardrail verdicts on hand-made cases; every row is also checked with ``check_one`` on the
same customer's context (the two paths must agree).

The cases that exercise the SQL's joins and windows (zones, suppressions, caps) run on both
engines; those that vary only literals resolved in Python (dates, packs, holidays) run on
DuckDB, Spark being slow to plan each query.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import pytest
from guardrail_cases import candidate, context_for, register_case

from builders import MX, money
from cobranza.engine import Engine
from cobranza.strategy._guardrails import (
    RULE_ORDER,
    VERDICT_COLUMNS,
    GuardrailPack,
    check_one,
    guardrail_verdicts,
)

D = dt.date
Row = dict[str, Any]
_ids = itertools.count(1)
AS_OF = D(2026, 7, 1)  # a Wednesday, no holiday; border zones on summer time


def customer(cid: str, state: str = "CMX", **kw: Any) -> Row:
    return {"customer_id": cid, "state": state, "do_not_contact": False, **kw}


def loan(lid: str, cid: str) -> Row:
    return dict(loan_id=lid, customer_id=cid, product="installment", opened_on=D(2026, 1, 1),
                principal=money(1000), annual_rate=Decimal("0.45"), frequency="monthly",
                term=12)  # fmt: skip


def at(day: dt.date, hour: int = 12, minute: int = 0, tz: dt.tzinfo = MX) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)


def contact(lid: str, when: dt.datetime, channel: str = "call") -> Row:
    return dict(contact_id=f"K{next(_ids):05d}", loan_id=lid, channel=channel,
                attempted_at=when, outcome="no_answer")  # fmt: skip


def pay(lid: str, when: dt.datetime, amount: str = "100", status: str = "settled") -> Row:
    return dict(payment_id=f"P{next(_ids):05d}", loan_id=lid, paid_at=when,
                amount=money(amount), channel="spei", status=status)  # fmt: skip


def run(
    engine: Engine,
    *,
    candidates: list[Row],
    customers: list[Row],
    loans: list[Row] | None,
    as_of: dt.date = AS_OF,
    pack: GuardrailPack | None = None,
    contacts: list[Row] = (),  # type: ignore[assignment]
    payments: list[Row] = (),  # type: ignore[assignment]
    promises: list[Row] = (),  # type: ignore[assignment]
    holds: list[Row] | None = None,
) -> dict[tuple[str, int], Row]:
    """Verdicts keyed by (loan_id, option_rank); asserts check_one agrees on every row."""
    t = register_case(engine, candidates=candidates, holds=holds, customers=customers,
                      loans=loans or [], contacts=list(contacts), payments=list(payments),
                      promises=list(promises))  # fmt: skip
    expr = guardrail_verdicts(
        t["candidates"], customers=t["customers"], contacts=t["contacts"],
        payments=t["payments"], promises=t["promises"], holds=t.get("payment_holds"),
        as_of=as_of, pack=pack, loans=t["loans"] if loans is not None else None,
    )  # fmt: skip
    assert list(expr.columns) == [*t["candidates"].columns, *VERDICT_COLUMNS]
    rows = engine.fetch(expr).to_pylist()
    assert len(rows) == len(candidates)
    out = {}
    for row in rows:
        assert row["suppressed_by"] is None or row["suppressed_by"] in RULE_ORDER
        cand = {k: row[k] for k in t["candidates"].columns}
        context = context_for(row["customer_id"], candidates=candidates, customers=customers,
                              loans=loans, contacts=list(contacts), payments=list(payments),
                              promises=list(promises), holds=holds or [])  # fmt: skip
        verdict = check_one(cand, context, pack)
        assert tuple(getattr(verdict, c) for c in VERDICT_COLUMNS) == tuple(
            row[c] for c in VERDICT_COLUMNS), row  # fmt: skip
        out[row["loan_id"], row["option_rank"]] = row
    return out


def test_time_zones_and_windows(engine: Engine) -> None:
    people = [
        customer("C_CMX", "CMX"),
        customer("C_ROO", "ROO"),  # Cancún: UTC-5 all year
        customer("C_SON", "SON"),  # Sonora: UTC-7 all year
        customer("C_BCN", "BCN"),  # Tijuana: US daylight saving, UTC-7 in July
        customer("C_JRZ", "CHH", postal_code="32310"),  # Ciudad Juárez
        customer("C_OJI", "CHH", postal_code="32880"),  # Ojinaga: UTC-5 in summer
        customer("C_CHH", "CHH"),  # no postal code: every Chihuahua zone must agree
        customer("C_TAM", "TAM", postal_code="87000"),  # Monterrey or Matamoros
    ]
    loans = [loan(f"L_{c['customer_id'][2:]}", c["customer_id"]) for c in people]
    loans.append(loan("L_NONE", "C_NONE"))
    cands = [candidate(lo["loan_id"], lo["customer_id"], "sms", AS_OF) for lo in loans]
    cands.append(candidate("L_CMX", "C_CMX", "letter", AS_OF, rank=2))
    got = run(engine, candidates=cands, customers=people, loans=loans)
    window = {lid: (r["time_zone"], r["window_start_local"], r["window_end_local"])
              for (lid, rank), r in got.items() if rank == 1}  # fmt: skip
    day = "2026-07-01T"
    assert window == {
        "L_CMX": ("America/Mexico_City", day + "07:00:00-06:00", day + "22:00:00-06:00"),
        "L_ROO": ("America/Cancun", day + "07:00:00-05:00", day + "22:00:00-05:00"),
        "L_SON": ("America/Hermosillo", day + "07:00:00-07:00", day + "22:00:00-07:00"),
        "L_BCN": ("America/Tijuana", day + "07:00:00-07:00", day + "22:00:00-07:00"),
        "L_JRZ": ("America/Ciudad_Juarez", day + "07:00:00-06:00", day + "22:00:00-06:00"),
        "L_OJI": ("America/Ojinaga", day + "07:00:00-05:00", day + "22:00:00-05:00"),
        # Ojinaga is at UTC-5 in summer: 22:00 there is 21:00 in Chihuahua city
        "L_CHH": ("America/Chihuahua", day + "07:00:00-06:00", day + "21:00:00-06:00"),
        # Matamoros is at UTC-5 in summer too
        "L_TAM": ("America/Monterrey", day + "07:00:00-06:00", day + "21:00:00-06:00"),
        "L_NONE": (None, None, None),
    }
    assert all(r["suppressed_by"] is None for (lid, _), r in got.items() if lid != "L_NONE")
    # an unknown customer is not the debtor: blocked before the window is even considered
    assert got["L_NONE", 1]["suppressed_by"] == "third_party"
    # a letter is not timed by us: no window, still the zone
    letter = got["L_CMX", 2]
    assert (letter["window_start_local"], letter["time_zone"]) == (None, "America/Mexico_City")


def test_window_offsets_follow_each_date(duckdb_engine: Engine) -> None:
    """Tijuana's offset on the day it springs forward, the day before, and in winter."""
    people = [customer("C1", "BCN"), customer("C2", "CHH", postal_code="32000")]
    loans = [loan("L1", "C1"), loan("L2", "C2")]
    expected = {
        D(2026, 3, 7): ("2026-03-07T07:00:00-08:00", "2026-03-07T07:00:00-07:00"),
        D(2026, 3, 8): ("2026-03-08T07:00:00-07:00", "2026-03-08T07:00:00-06:00"),
        D(2026, 12, 1): ("2026-12-01T07:00:00-08:00", "2026-12-01T07:00:00-07:00"),
    }
    for day, (tijuana, juarez) in expected.items():
        cands = [candidate("L1", "C1", "call", day), candidate("L2", "C2", "call", day)]
        got = run(duckdb_engine, candidates=cands, customers=people, loans=loans, as_of=day)
        assert got["L1", 1]["window_start_local"] == tijuana
        assert got["L2", 1]["window_start_local"] == juarez
    # in winter Ciudad Juárez (UTC-7) and the rest of Chihuahua (UTC-6) share CP 32xxx:
    # 22:00 in Chihuahua city is 21:00 in Juárez
    assert got["L2", 1]["window_end_local"] == "2026-12-01T21:00:00-07:00"


def test_who_may_be_contacted(duckdb_engine: Engine) -> None:
    people = [
        customer("C1", do_not_contact=True),
        customer("C2", opt_out_channels="sms, whatsapp"),
        customer("C3"),
    ]
    loans = [loan("L1", "C1"), loan("L2", "C2"), loan("L3", "C3")]
    cands = [
        candidate("L1", "C1", "letter", AS_OF),
        candidate("L2", "C2", "whatsapp", AS_OF),
        candidate("L2", "C2", "call", AS_OF, rank=2),
        # a reference or relative: C3 is a customer but not the owner of L2
        candidate("L2", "C3", "call", AS_OF, rank=3),
        candidate("L3", "C3", "email", AS_OF),
    ]
    got = run(duckdb_engine, candidates=cands, customers=people, loans=loans)
    verdicts = {key: r["suppressed_by"] for key, r in got.items()}
    assert verdicts == {
        ("L1", 1): "do_not_contact",
        ("L2", 1): "opt_out",
        ("L2", 2): None,
        ("L2", 3): "third_party",
        ("L3", 1): None,
    }


def test_without_loans_table_only_a_known_customer_is_required(duckdb_engine: Engine) -> None:
    people = [customer("C1")]
    cands = [candidate("L1", "C1", "sms", AS_OF), candidate("L2", "C9", "sms", AS_OF)]
    got = run(duckdb_engine, candidates=cands, customers=people, loans=None)
    assert got["L1", 1]["suppressed_by"] is None
    assert got["L2", 1]["suppressed_by"] == "third_party"


@pytest.mark.parametrize(
    ("day", "closed"),
    [
        (D(2026, 9, 16), True),  # Independence Day, a Wednesday
        (D(2026, 11, 16), True),  # Revolution Day (third Monday of November)
        (D(2026, 7, 5), True),  # a Sunday
        (D(2026, 7, 4), False),  # a Saturday is a business day for field visits
        (D(2026, 9, 15), False),
    ],
)
def test_business_day_channels(duckdb_engine: Engine, day: dt.date, closed: bool) -> None:
    people = [customer("C1"), customer("C2"), customer("C3")]
    loans = [loan("L1", "C1"), loan("L2", "C2"), loan("L3", "C3")]
    cands = [candidate("L1", "C1", "field", day), candidate("L2", "C2", "agency", day),
             candidate("L3", "C3", "call", day)]  # fmt: skip
    got = run(duckdb_engine, candidates=cands, customers=people, loans=loans, as_of=day)
    expected = "holiday" if closed else None
    assert got["L1", 1]["suppressed_by"] == expected
    assert got["L2", 1]["suppressed_by"] == expected
    assert got["L3", 1]["suppressed_by"] is None  # calls are not business-day bound


def test_account_suppressions(engine: Engine) -> None:
    people = [customer(f"C{i}") for i in range(1, 10)]
    loans = [loan(f"L{i}", f"C{i}") for i in range(1, 10)]
    promise = lambda pid, lid, due, amount="100": dict(  # noqa: E731
        promise_id=pid, loan_id=lid, made_at=at(D(2026, 6, 25)), due_on=due,
        amount=money(amount))  # fmt: skip
    promises = [
        promise("PR1", "L1", D(2026, 7, 3)),  # open, due in two days: suppressed
        promise("PR2", "L2", D(2026, 6, 30)),  # due yesterday, in grace: contact allowed
        promise("PR3", "L3", D(2026, 7, 1), amount="50"),  # kept already (paid 6-26)
    ]
    payments = [
        pay("L3", at(D(2026, 6, 26)), "50"),
        pay("L4", at(D(2026, 6, 29), 0, 1)),  # 3rd day back, first minute: suppressed
        pay("L5", at(D(2026, 6, 28), 23, 59)),  # 4 days back: allowed
        pay("L6", at(D(2026, 7, 1), 9), status="pending"),  # in flight: suppressed
        pay("L7", at(D(2026, 6, 30)), status="reversed"),  # reversed: allowed
    ]
    holds = [
        dict(loan_id="L8", reason="open_case", source_id="CASE1", since=D(2026, 6, 1),
             until=None),
        dict(loan_id="L9", reason="unapplied_credit", source_id="EX1", since=D(2026, 6, 1),
             until=D(2026, 6, 30)),  # ended yesterday
    ]  # fmt: skip
    cands = [candidate(f"L{i}", f"C{i}", "call", AS_OF) for i in range(1, 10)]
    got = run(engine, candidates=cands, customers=people, loans=loans, promises=promises,
              payments=payments, holds=holds)  # fmt: skip
    verdicts = {lid: r["suppressed_by"] for (lid, _), r in got.items()}
    assert verdicts == {
        "L1": "promise_open", "L2": None, "L3": None, "L4": "recent_payment", "L5": None,
        "L6": "recent_payment", "L7": None, "L8": "payment_hold", "L9": None,
    }  # fmt: skip
    # configured: suppress through the grace days, count only settled payments, 5 days back
    pack = GuardrailPack.model_validate(
        {"promise_open": {"through_grace": True},
         "recent_payment": {"days": 5, "statuses": ["settled"]}}
    )  # fmt: skip
    got = run(engine, candidates=cands, customers=people, loans=loans, promises=promises,
              payments=payments, holds=holds, pack=pack)  # fmt: skip
    verdicts = {lid: r["suppressed_by"] for (lid, _), r in got.items()}
    assert (verdicts["L2"], verdicts["L5"], verdicts["L6"]) == (
        "promise_open", "recent_payment", None)  # fmt: skip


def test_rule_order(duckdb_engine: Engine) -> None:
    """A customer blocked by many rules reports the first of RULE_ORDER."""
    people = [customer("C1", do_not_contact=True, opt_out_channels="field")]
    loans = [loan("L1", "C1")]
    promises = [dict(promise_id="PR1", loan_id="L1", made_at=at(D(2026, 6, 30)),
                     due_on=D(2026, 7, 5), amount=money(10))]  # fmt: skip
    holds = [dict(loan_id="L1", reason="open_case", source_id="X", since=AS_OF, until=None)]
    sunday = D(2026, 7, 5)
    cands = [candidate("L1", "C1", "field", sunday)]
    blocked_by = []
    for pack in (
        GuardrailPack(),
        GuardrailPack.model_validate({"do_not_contact": {"enabled": False}}),
        GuardrailPack.model_validate({"do_not_contact": {"enabled": False},
                                      "opt_out": {"enabled": False}}),
        GuardrailPack.model_validate({"do_not_contact": {"enabled": False},
                                      "opt_out": {"enabled": False},
                                      "payment_hold": {"enabled": False}}),
        GuardrailPack.model_validate({"do_not_contact": {"enabled": False},
                                      "opt_out": {"enabled": False},
                                      "payment_hold": {"enabled": False},
                                      "promise_open": {"enabled": False}}),
    ):  # fmt: skip
        got = run(duckdb_engine, candidates=cands, customers=people, loans=loans, as_of=sunday,
                  promises=promises, holds=holds, pack=pack)  # fmt: skip
        blocked_by.append(got["L1", 1]["suppressed_by"])
    assert blocked_by == ["do_not_contact", "opt_out", "payment_hold", "promise_open", "holiday"]


def test_caps_count_history_and_competing_actions(engine: Engine) -> None:
    """C1 owns L1, L2, L3; C2 owns L4. Caps: call 2 a day, 3 contacts a day, 4 a week."""
    pack = GuardrailPack.model_validate(
        {"caps": {"daily_total": 3, "weekly_total": 4, "daily": {"call": 2, "sms": 1},
                  "weekly": {"sms": 2}}}
    )  # fmt: skip
    people = [customer("C1", "ROO"), customer("C2")]
    loans = [loan("L1", "C1"), loan("L2", "C1"), loan("L3", "C1"), loan("L4", "C2")]
    cancun = dt.timezone(dt.timedelta(hours=-5))
    contacts = [
        # today in Cancún (00:30 local) although still yesterday in Mexico City
        contact("L1", at(AS_OF, 0, 30, tz=cancun), "call"),
        contact("L2", at(D(2026, 6, 27)), "sms"),  # this week
        contact("L3", at(D(2026, 6, 24)), "sms"),  # 8 days ago: not this week
        contact("L4", at(D(2026, 7, 2), 8), "call"),  # tomorrow: not read
    ]
    cands = [
        candidate("L1", "C1", "call", AS_OF, ev=300.0),
        candidate("L1", "C1", "sms", AS_OF, rank=2, ev=300.0),
        candidate("L2", "C1", "call", AS_OF, ev=200.0),  # tie with L3 on expected value:
        candidate("L3", "C1", "call", AS_OF, ev=200.0),  # L2 goes first (loan_id)
        candidate("L3", "C1", "sms", AS_OF, rank=2, ev=200.0),
        candidate("L3", "C1", "legal", AS_OF, rank=3, ev=200.0),  # exempt from caps
        candidate("L4", "C2", "call", AS_OF, ev=1.0),
        candidate("L4", "C2", "call", AS_OF, rank=2, ev=1.0),
    ]
    got = run(engine, candidates=cands, customers=people, loans=loans, contacts=contacts,
              pack=pack)  # fmt: skip
    verdicts = {key: r["suppressed_by"] for key, r in got.items()}
    assert verdicts == {
        # history today: 1 call; this week: 1 call + 1 sms. L1 first: 1 + 0 + 1 = 2 calls
        ("L1", 1): None,
        ("L1", 2): None,  # sms: 0 today + 0 ahead + 1 ≤ 1; week 1 + 0 + 1 ≤ 2
        # L2: calls 1 + 1 (L1) + 1 = 3 > 2
        ("L2", 1): "cap_daily_channel",
        ("L3", 1): "cap_daily_channel",
        # L3 sms: sms 0 + 1 (L1 sms) + 1 = 2 > 1
        ("L3", 2): "cap_daily_channel",
        ("L3", 3): None,
        # C2's own history is tomorrow's: nothing counts; L4's options are alternatives
        ("L4", 1): None,
        ("L4", 2): None,
    }
    # totals: L2 by email instead of call: 1 today + L1 ahead + 1 = 3 ≤ 3 a day, but the
    # week has 2 + 1 + 1 = 4 ≤ 4; L3 by email: 1 + 2 + 1 = 4 > 3 a day
    cands = [c for c in cands if c["channel"] != "call" or c["loan_id"] in ("L1", "L4")]
    cands += [candidate("L2", "C1", "email", AS_OF, ev=200.0),
              candidate("L3", "C1", "email", AS_OF, rank=4, ev=200.0)]  # fmt: skip
    got = run(engine, candidates=cands, customers=people, loans=loans, contacts=contacts,
              pack=pack)  # fmt: skip
    assert got["L2", 1]["suppressed_by"] is None
    assert got["L3", 4]["suppressed_by"] == "cap_daily_total"
    # one more contact earlier this week and L2 breaks the weekly total instead
    more = [*contacts, contact("L1", at(D(2026, 6, 26)), "letter")]
    got = run(engine, candidates=cands, customers=people, loans=loans, contacts=more,
              pack=pack)  # fmt: skip
    assert got["L2", 1]["suppressed_by"] == "cap_weekly_total"
    assert got["L1", 1]["suppressed_by"] is None  # 3 this week + itself = 4


def test_blocked_competitors_do_not_count(duckdb_engine: Engine) -> None:
    """A loan whose actions are all blocked by an account rule takes no cap room."""
    pack = GuardrailPack.model_validate({"caps": {"daily": {"call": 1}}})
    people = [customer("C1")]
    loans = [loan("L1", "C1"), loan("L2", "C1")]
    holds = [dict(loan_id="L1", reason="open_case", source_id="X", since=AS_OF, until=None)]
    cands = [candidate("L1", "C1", "call", AS_OF, ev=900.0),
             candidate("L2", "C1", "call", AS_OF, ev=1.0)]  # fmt: skip
    got = run(
        duckdb_engine, candidates=cands, customers=people, loans=loans, holds=holds, pack=pack
    )
    assert got["L1", 1]["suppressed_by"] == "payment_hold"
    assert got["L2", 1]["suppressed_by"] is None
    got = run(duckdb_engine, candidates=cands, customers=people, loans=loans, holds=[], pack=pack)
    assert got["L2", 1]["suppressed_by"] == "cap_daily_channel"


def test_pack_validation_errors() -> None:
    with pytest.raises(ValueError, match="unknown IANA time zone"):
        GuardrailPack.model_validate({"time_zones": {"states": {"CMX": ["Mars/Olympus"]}}})
    with pytest.raises(ValueError, match="must be before"):
        GuardrailPack.model_validate({"contact_window": {"start": "22:00", "end": "07:00"}})
    with pytest.raises(ValueError, match="Extra inputs"):
        GuardrailPack.model_validate({"caps": {"dayly_total": 1}})
    with pytest.raises(ValueError):
        GuardrailPack.model_validate({"caps": {"daily": {"fax": 1}}})


def test_absent_tables_and_disabled_caps(duckdb_engine: Engine) -> None:
    """contacts, promises and holds may be None; with caps off only account rules remain."""
    people = [customer("C1"), customer("C2", do_not_contact=True)]
    loans = [loan("L1", "C1"), loan("L2", "C2")]
    cands = [candidate("L1", "C1", "call", AS_OF, rank=r) for r in (1, 2, 3)]
    cands.append(candidate("L2", "C2", "call", AS_OF))
    t = register_case(duckdb_engine, candidates=cands, customers=people, loans=loans,
                      payments=[pay("L1", at(D(2026, 6, 1)))])  # fmt: skip
    for pack in (GuardrailPack(), GuardrailPack.model_validate({"caps": {"enabled": False}})):
        expr = guardrail_verdicts(
            t["candidates"], customers=t["customers"], contacts=None, payments=t["payments"],
            promises=None, holds=None, as_of=AS_OF, pack=pack, loans=t["loans"],
        )  # fmt: skip
        rows = duckdb_engine.fetch(expr).to_pylist()
        assert sorted((r["loan_id"], r["option_rank"], r["suppressed_by"]) for r in rows) == [
            ("L1", 1, None), ("L1", 2, None), ("L1", 3, None), ("L2", 1, "do_not_contact"),
        ]  # fmt: skip


def test_a_contact_after_the_data_cut_off_is_not_counted_even_where_the_day_goes_on(
    engine: Engine,
) -> None:
    """Found by the point-in-time property: 23:30 in Tijuana is already the next day in Mexico
    City, after the as-of day ends, so the run must not see it, although the debtor's own day
    has not ended."""
    pack = GuardrailPack.model_validate({"caps": {"daily": {"call": 1}}})
    tijuana = dt.timezone(dt.timedelta(hours=-7))  # Pacific daylight time in July
    contacts = [contact("L1", at(AS_OF, 23, 30, tz=tijuana), "call")]
    cands = [candidate("L1", "C1", "call", AS_OF, ev=1.0)]
    got = run(engine, candidates=cands, customers=[customer("C1", "BCN")],
              loans=[loan("L1", "C1")], contacts=contacts, pack=pack)  # fmt: skip
    assert got[("L1", 1)]["suppressed_by"] is None
    earlier = [contact("L1", at(AS_OF, 20, 0, tz=tijuana), "call")]  # 21:00 in Mexico City
    got = run(engine, candidates=cands, customers=[customer("C1", "BCN")],
              loans=[loan("L1", "C1")], contacts=earlier, pack=pack)  # fmt: skip
    assert got[("L1", 1)]["suppressed_by"] == "cap_daily_channel"
