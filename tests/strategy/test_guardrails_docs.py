"""docs/guardrails.md names every rule, every configuration section and every state's zones."""

from __future__ import annotations

from pathlib import Path

from cobranza.strategy._guardrails import DEFAULT_STATE_ZONES, RULE_ORDER, GuardrailPack

DOC = (Path(__file__).resolve().parents[2] / "docs" / "guardrails.md").read_text()


def test_every_rule_is_documented_in_order() -> None:
    positions = [DOC.index(f"| `{rule}` |") for rule in RULE_ORDER]
    assert positions == sorted(positions)


def test_every_configuration_section_is_documented() -> None:
    for name in GuardrailPack.model_fields:
        if name != "id":
            assert f"`{name}." in DOC, name


def test_every_state_zone_is_documented() -> None:
    for state, zones in DEFAULT_STATE_ZONES.items():
        for zone in zones:
            assert zone in DOC, (state, zone)
        if zones != ("America/Mexico_City",):
            assert f"`{state}`" in DOC, state
