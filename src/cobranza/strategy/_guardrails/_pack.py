"""The guardrails pack: every rule's parameters, with the Mexico defaults (docs/guardrails.md).

The strategy file's ``guardrails:`` mapping is validated by :class:`GuardrailPack`; a key left
out keeps its default, an unknown key is an error. ``GuardrailPack()`` is the Mexico pack.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cobranza.contract._schema import PAYMENT_STATUSES, STATES
from cobranza.strategy._guardrails._rules import CHANNELS

Channel = Literal[
    "sms", "email", "whatsapp", "push", "ivr", "call", "field", "letter", "agency", "legal"
]  # fmt: skip
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: State (ISO 3166-2:MX without ``MX-``) → the IANA zones its debtors may be in, the zone
#: reported first. Where a state spans several zones and the postal code does not settle it,
#: the permitted window is the part of the day that is inside the window in every one of them.
#: Source: tzdata 2026 zone1970.tab (MX lines) and the Ley de los Husos Horarios en los
#: Estados Unidos Mexicanos (DOF 2022-10-28, amended 2022-11-30 for Chihuahua's border).
DEFAULT_STATE_ZONES: dict[str, tuple[str, ...]] = {
    **{state: ("America/Mexico_City",) for state in STATES},
    "BCN": ("America/Tijuana",),
    "BCS": ("America/Mazatlan",),
    "SIN": ("America/Mazatlan",),
    "NAY": ("America/Mazatlan", "America/Bahia_Banderas"),
    "SON": ("America/Hermosillo",),
    "CHH": ("America/Chihuahua", "America/Ciudad_Juarez", "America/Ojinaga"),
    "COA": ("America/Monterrey", "America/Matamoros"),
    "NLE": ("America/Monterrey", "America/Matamoros"),
    "TAM": ("America/Monterrey", "America/Matamoros"),
    "DUR": ("America/Monterrey",),
    "CAM": ("America/Merida",),
    "YUC": ("America/Merida",),
    "ROO": ("America/Cancun",),
}


def _check_zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {zone!r}") from exc
    return zone


class PostalCodeZone(BaseModel):
    """Debtors of ``state`` whose postal code starts with ``prefix`` are in ``zones``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: str
    prefix: str = Field(pattern=r"^[0-9]{1,5}$")
    zones: tuple[str, ...] = Field(min_length=1)

    @field_validator("zones")
    @classmethod
    def _known_zones(cls, zones: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_zone(z) for z in zones)


#: Longest prefix wins. CP 32xxx is Ciudad Juárez's postal district (with its border
#: neighbours, but also a few towns that keep Chihuahua time, hence both zones); Ojinaga is
#: 32880–32897 (INEGI 08052).
DEFAULT_POSTAL_CODE_ZONES: tuple[PostalCodeZone, ...] = (
    PostalCodeZone(state="CHH", prefix="32", zones=("America/Ciudad_Juarez", "America/Chihuahua")),
    PostalCodeZone(state="CHH", prefix="3288", zones=("America/Ojinaga",)),
    PostalCodeZone(state="CHH", prefix="3289", zones=("America/Ojinaga",)),
)


class Switch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True


class TimeZones(BaseModel):
    """Where each debtor's local time comes from: the state, refined by the postal code."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    states: dict[str, tuple[str, ...]] = Field(default_factory=lambda: dict(DEFAULT_STATE_ZONES))
    postal_codes: tuple[PostalCodeZone, ...] = DEFAULT_POSTAL_CODE_ZONES

    @field_validator("states")
    @classmethod
    def _known(cls, states: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for state, zones in states.items():
            if not zones:
                raise ValueError(f"state {state}: at least one time zone is needed")
            for zone in zones:
                _check_zone(zone)
        return states


class ContactWindow(Switch):
    """Contact only between ``start`` and ``end`` in the debtor's local time.

    Applies to the channels that reach a person at a moment we choose; a letter or a legal
    filing is not timed by us. ``channel_hours`` narrows the window for some channels.
    """

    start: dt.time = dt.time(7, 0)
    end: dt.time = dt.time(22, 0)
    channels: tuple[Channel, ...] = (
        "sms", "email", "whatsapp", "push", "ivr", "call", "field", "agency",
    )  # fmt: skip
    channel_hours: dict[Channel, tuple[dt.time, dt.time]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> ContactWindow:
        hours = {"default": (self.start, self.end), **self.channel_hours}
        for name, (start, end) in hours.items():
            if not start < end:
                raise ValueError(f"contact window of {name}: start {start} must be before {end}")
        return self

    def hours(self, channel: str) -> tuple[dt.time, dt.time]:
        return self.channel_hours.get(channel, (self.start, self.end))  # type: ignore[call-overload]


class BusinessDays(Switch):
    """``channels`` act on business days only: ``weekdays`` that are not public holidays."""

    channels: tuple[Channel, ...] = ("field", "agency", "legal")
    weekdays: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat")
    #: Country code of the ``holidays`` package (statutory rest days, LFT art. 74); null: none.
    country: str | None = "MX"
    extra_holidays: tuple[dt.date, ...] = ()


DEFAULT_DAILY_CAPS = {
    "sms": 1, "email": 1, "whatsapp": 1, "push": 1, "ivr": 1, "call": 2, "field": 1,
    "letter": 1, "agency": 2,
}  # fmt: skip
DEFAULT_WEEKLY_CAPS = {
    "sms": 3, "email": 3, "whatsapp": 3, "push": 3, "ivr": 3, "call": 7, "field": 2,
    "letter": 1, "agency": 7,
}  # fmt: skip


class Caps(Switch):
    """Contacts per customer per local day and per 7 local days, per channel and in total.

    Counted: the customer's contacts in the ``contacts`` table plus the actions decided today
    (at most one per loan). ``exempt_channels`` neither count nor are capped. A missing
    channel in ``daily``/``weekly`` has no per-channel cap; a null total has none.
    """

    daily_total: int | None = Field(default=3, ge=0)
    weekly_total: int | None = Field(default=10, ge=0)
    daily: dict[Channel, int] = Field(default_factory=lambda: dict(DEFAULT_DAILY_CAPS))
    weekly: dict[Channel, int] = Field(default_factory=lambda: dict(DEFAULT_WEEKLY_CAPS))
    exempt_channels: tuple[Channel, ...] = ("legal",)

    @field_validator("daily", "weekly")
    @classmethod
    def _non_negative(cls, caps: dict[str, int]) -> dict[str, int]:
        for channel, cap in caps.items():
            if cap < 0:
                raise ValueError(f"cap of {channel} must be 0 or more, got {cap}")
        return caps


class PromiseOpen(Switch):
    """No collection action while a promise to pay is open and not yet due.

    ``through_grace``: keep suppressing during the grace days after ``due_on`` too.
    """

    grace_days: int = Field(default=2, ge=0)
    through_grace: bool = False
    channels: tuple[Channel, ...] = CHANNELS  # type: ignore[assignment]


class RecentPayment(Switch):
    """No collection action on a loan paid in the last ``days`` Mexico City days (today
    included): a payment in flight should not be chased."""

    days: int = Field(default=3, ge=0)
    statuses: tuple[Literal["settled", "pending", "reversed"], ...] = ("settled", "pending")
    channels: tuple[Channel, ...] = CHANNELS  # type: ignore[assignment]

    @field_validator("statuses")
    @classmethod
    def _known(cls, statuses: tuple[str, ...]) -> tuple[str, ...]:
        assert set(statuses) <= set(PAYMENT_STATUSES)
        return statuses


class PaymentHold(Switch):
    """No collection action while a payment-operations hold is active on the loan."""

    channels: tuple[Channel, ...] = CHANNELS  # type: ignore[assignment]


class GuardrailPack(BaseModel):
    """Compliance guardrails; the defaults are the Mexico pack (docs/guardrails.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = "mx"
    do_not_contact: Switch = Switch()
    opt_out: Switch = Switch()
    third_party: Switch = Switch()
    time_zones: TimeZones = TimeZones()
    contact_window: ContactWindow = ContactWindow()
    business_days: BusinessDays = BusinessDays()
    caps: Caps = Caps()
    promise_open: PromiseOpen = PromiseOpen()
    recent_payment: RecentPayment = RecentPayment()
    payment_hold: PaymentHold = PaymentHold()
