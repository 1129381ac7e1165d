"""The strategy file: validation errors name the file, the line and the problem."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cobranza import ConfigError
from cobranza.strategy import bundled_strategies, load_strategy, parse_strategy

BASE = textwrap.dedent(
    """\
    id: tiny
    version: 1
    channels:
      sms: {cost: 0.35}
      call: {cost: 8.00, capacity: 10}
    segments:
      - id: early
        when: dpd between 1 and 29
        path: digital
      - id: late
        when: dpd >= 30
        path: agent
    paths:
      digital:
        - id: reminder
          dpd: [1, 29]
          actions:
            - {channel: sms, template: sms_1, cadence_days: 2, max_attempts: 3}
      agent:
        - id: calls
          dpd: [30, null]
          actions:
            - {channel: call, template: call_1}
            - {channel: sms, template: sms_2}
          offer: {type: discount, max_discount_pct: 20}
    """
)


def error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_strategy(text, "s.yaml")
    return str(info.value)


def test_valid_strategy_and_version_stamp() -> None:
    s = parse_strategy(BASE, "s.yaml")
    assert (
        s.strategy_version.startswith("tiny@1#") and len(s.strategy_version) == len("tiny@1#") + 12
    )
    assert list(s.rules) == ["early", "late"]
    assert s.paths["agent"][0].offer.to_json() == (
        '{"max_discount_pct":20,"type":"discount","valid_days":7}'
    )


def test_hash_ignores_comments_and_layout_but_not_content() -> None:
    a = parse_strategy(BASE, "a.yaml")
    b = parse_strategy("# a comment\n" + BASE.replace("{cost: 0.35}", "{ cost: 0.350 }"), "b")
    c = parse_strategy(BASE.replace("max_attempts: 3", "max_attempts: 4"), "c")
    assert a.content_hash == b.content_hash
    assert a.content_hash != c.content_hash


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "when: dpd >= 30",
            "when: dpd >= 30 and balance > 5",
            "s.yaml, line 11: segments.1.when: unknown column 'balance'",
        ),
        ("when: dpd >= 30", "when: dpd >=", "s.yaml, line 11: segments.1.when: expected a column"),
        (
            "path: agent\n",
            "path: agents\n",
            "s.yaml, line 12: segments.1.path: unknown path 'agents'",
        ),
        (
            "{channel: call, template: call_1}",
            "{channel: fax, template: call_1}",
            "s.yaml, line 23: paths.agent.0.actions.0.channel: Input should be",
        ),
        (
            "{channel: call, template: call_1}",
            "{channel: email, template: call_1}",
            "s.yaml, line 23: paths.agent.0.actions.0.channel: channel 'email' is not declared",
        ),
        (
            "  agent:\n",
            "  agent:\n    - id: early_calls\n      dpd: [25, 40]\n      actions:\n"
            "        - {channel: call, template: c0}\n",
            "s.yaml, line 25: paths.agent.1.dpd: step 'calls' overlaps step 'early_calls'",
        ),
        (
            "max_attempts: 3}",
            "max_attempts: 0}",
            "s.yaml, line 18: paths.digital.0.actions.0.max_attempts: Input should be greater",
        ),
        (
            "  sms: {cost: 0.35}\n",
            "  sms: {cost: 0.35, colour: red}\n",
            "s.yaml, line 4: channels.sms.colour: unknown key",
        ),
        (
            "offer: {type: discount, max_discount_pct: 20}",
            "offer: {type: discount}",
            "s.yaml, line 25: paths.agent.0.offer: a discount offer needs max_discount_pct",
        ),
        (
            "dpd: [1, 29]",
            "dpd: [0, 29]",
            "s.yaml, line 16: paths.digital.0.dpd: a step starts at 1 dpd or later",
        ),
        ("version: 1\n", "version: 1\nversion: 2\n", "s.yaml, line 3: version: duplicate key"),
        ("channels:", "channels: [", "s.yaml, line 5: not valid YAML"),
    ],
)
def test_errors_name_file_line_and_problem(old: str, new: str, expected: str) -> None:
    assert old in BASE
    assert expected in error(BASE.replace(old, new, 1))


def test_experiment_errors() -> None:
    exp = (
        "experiments:\n"
        "  - id: e1\n"
        "    segments: [early, nowhere]\n"
        "    arms:\n"
        "      - {id: champion, share: 0.7}\n"
        "      - {id: challenger, share: 0.2, path: digital}\n"
    )
    message = error(BASE + exp)
    assert (
        "s.yaml, line 30: experiments.0.arms: arm shares must add up to 1, they add up to 0.9"
        in message
    )
    fixed = exp.replace("0.2", "0.3")
    assert "s.yaml, line 28: experiments.0.segments.1: unknown segment 'nowhere'" in error(
        BASE + fixed
    )


def test_several_errors_reported_together_in_line_order() -> None:
    text = BASE.replace("when: dpd >= 30", "when: foo > 1").replace(
        "when: dpd between 1 and 29", "when: bar < 2"
    )
    lines = error(text).splitlines()
    assert [line.split(":")[0] for line in lines] == ["s.yaml, line 8", "s.yaml, line 11"]


def test_bundled_default_loads_without_warnings() -> None:
    assert "mx_default" in bundled_strategies()
    strategy = load_strategy("mx_default")
    assert strategy.warnings == []
    assert {a.channel for steps in strategy.paths.values() for s in steps for a in s.actions} == {
        "sms", "email", "whatsapp", "push", "ivr", "call", "field", "letter", "agency", "legal"
    }  # fmt: skip


def test_missing_file_and_unknown_bundle(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the strategy file"):
        load_strategy(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="no bundled strategy 'nope'"):
        load_strategy("nope")


def test_warnings_for_ambiguous_segments() -> None:
    text = BASE.replace(
        "  - id: late\n",
        "  - id: big\n    when: past_due_amount >= 5000 and dpd >= 20\n    path: agent\n"
        "  - id: late\n",
    )
    warnings = parse_strategy(text, "s.yaml").warnings
    assert len(warnings) == 2
    assert "s.yaml: segment 'big' overlaps earlier segment 'early'" in warnings[0]
    assert (
        "segment 'late' overlaps earlier segment 'big' (e.g. dpd=30, past_due_amount=5000)"
        in (warnings[1])
    )
