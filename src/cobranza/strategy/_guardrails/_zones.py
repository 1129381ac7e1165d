"""A debtor's time zone and permitted contact window, in Python and as SQL literals.

Both paths share these functions: the batch resolves every (zone set, hours) pair in Python
for the as-of date and compiles the answers into CASE expressions, so no time-zone arithmetic
runs per row and the strings are byte-identical to those of :func:`check_one`.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import ibis
import ibis.expr.types as ir

from cobranza.ledger._calendar import end_of_local_day
from cobranza.strategy._guardrails._pack import GuardrailPack, TimeZones

Zones = tuple[str, ...]


def resolve_zones(state: str | None, postal_code: str | None, config: TimeZones) -> Zones | None:
    """The zones a debtor may be in (reported zone first); ``None`` when the state is unknown."""
    if state is None:
        return None
    best: tuple[int, Zones] | None = None
    if postal_code is not None:
        for rule in config.postal_codes:
            matches = rule.state == state and postal_code.startswith(rule.prefix)
            if matches and (best is None or len(rule.prefix) > best[0]):
                best = (len(rule.prefix), rule.zones)
    if best is not None:
        return best[1]
    return config.states.get(state)


def zone_key(state: ir.StringValue, postal_code: ir.StringValue, config: TimeZones) -> ir.Value:
    """SQL twin of :func:`resolve_zones`: a key into :func:`zone_sets` (null: unknown)."""
    keys = zone_sets(config)
    index = {zones: key for key, zones in keys.items()}
    branches = []
    for rule in sorted(config.postal_codes, key=lambda r: -len(r.prefix)):
        condition = (state == rule.state) & postal_code.notnull()
        condition &= postal_code.substr(0, len(rule.prefix)) == rule.prefix
        branches.append((condition, index[rule.zones]))
    by_set: dict[str, list[str]] = {}
    for state_code, zones in config.states.items():
        by_set.setdefault(index[zones], []).append(state_code)
    for key, states in by_set.items():
        branches.append((state.isin(states), key))
    return ibis.cases(*branches, else_=ibis.null("string"))


def zone_sets(config: TimeZones) -> dict[str, Zones]:
    """Every distinct zone set of the configuration under a short stable key."""
    distinct: list[Zones] = []
    for zones in [*config.states.values(), *(r.zones for r in config.postal_codes)]:
        if zones not in distinct:
            distinct.append(zones)
    return {f"z{i}": zones for i, zones in enumerate(distinct)}


@lru_cache(maxsize=4096)
def permitted_window(
    zones: Zones, day: dt.date, start: dt.time, end: dt.time
) -> tuple[str | None, str | None]:
    """The part of ``day`` that is within [start, end) local time in EVERY zone of ``zones``,
    as ISO-8601 local date-times of the first zone with the offset valid at each instant;
    ``(None, None)`` when that part is empty."""
    from zoneinfo import ZoneInfo

    opens = max(dt.datetime.combine(day, start, tzinfo=ZoneInfo(z)).astimezone(dt.UTC)
                for z in zones)  # fmt: skip
    closes = min(dt.datetime.combine(day, end, tzinfo=ZoneInfo(z)).astimezone(dt.UTC)
                 for z in zones)  # fmt: skip
    if opens >= closes:
        return None, None
    home = ZoneInfo(zones[0])
    return (
        opens.astimezone(home).isoformat(timespec="seconds"),
        closes.astimezone(home).isoformat(timespec="seconds"),
    )


@lru_cache(maxsize=4096)
def local_day_bounds(zone: str, day: dt.date, days: int = 1) -> tuple[dt.datetime, dt.datetime]:
    """UTC instants [start, end) of the ``days`` local days of ``zone`` ending with ``day``."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    first = day - dt.timedelta(days=days - 1)
    return end_of_local_day(first - dt.timedelta(days=1), tz), end_of_local_day(day, tz)


#: Local days of a debtor whose zone is unknown are Mexico City days.
FALLBACK_ZONE = "America/Mexico_City"


def window_columns(
    key: ir.Value, channel: ir.StringValue, as_of: dt.date, pack: GuardrailPack
) -> dict[str, ir.Value]:
    """``time_zone``, ``window_start_local``, ``window_end_local`` and ``window_empty`` (a
    window-bound channel whose window is empty or whose zone is unknown) as CASE literals."""
    sets = zone_sets(pack.time_zones)
    rule = pack.contact_window
    bound = channel.isin(rule.channels) if rule.enabled else ibis.literal(False)
    hours = {(rule.start, rule.end)} | set(rule.channel_hours.values())
    tz = ibis.cases(*[(key == k, zones[0]) for k, zones in sets.items()], else_=None)
    start_cases, end_cases, empty_cases = [], [], []
    for k, zones in sets.items():
        for start, end in sorted(hours):
            opens, closes = permitted_window(zones, as_of, start, end)
            channels = [c for c in rule.channels if rule.hours(c) == (start, end)]
            if not channels:
                continue
            condition = (key == k) & channel.isin(channels)
            if opens is None:
                empty_cases.append(condition)
            else:
                start_cases.append((condition, opens))
                end_cases.append((condition, closes))
    window_start = ibis.cases(*start_cases, else_=None) if start_cases else ibis.null("string")
    window_end = ibis.cases(*end_cases, else_=None) if end_cases else ibis.null("string")
    if not rule.enabled:
        window_start, window_end = ibis.null("string"), ibis.null("string")
    empty = key.isnull()
    for condition in empty_cases:
        empty |= condition
    return {
        "time_zone": tz.cast("string"),
        "window_start_local": ibis.ifelse(bound, window_start, ibis.null("string")),
        "window_end_local": ibis.ifelse(bound, window_end, ibis.null("string")),
        "window_empty": bound & empty,
    }


def day_bound_columns(key: ir.Value, as_of: dt.date, pack: GuardrailPack) -> dict[str, ir.Value]:
    """``day_start``, ``week_start`` and ``day_end`` instants of the debtor's reported zone."""
    sets = zone_sets(pack.time_zones)
    by_zone: dict[str, list[str]] = {}
    for k, zones in sets.items():
        by_zone.setdefault(zones[0], []).append(k)

    def literal_case(pick: int, days: int) -> ir.Value:
        fallback = local_day_bounds(FALLBACK_ZONE, as_of, days)[pick]
        branches = [
            (key.isin(keys), ibis.literal(local_day_bounds(zone, as_of, days)[pick]))
            for zone, keys in by_zone.items()
        ]
        return ibis.cases(*branches, else_=ibis.literal(fallback))

    return {"day_start": literal_case(0, 1), "week_start": literal_case(0, 7),
            "day_end": literal_case(1, 1)}  # fmt: skip
