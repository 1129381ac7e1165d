"""Mexico City calendar days as instants, so engines compare timestamps instead of converting
every payment's time zone (a per-row conversion costs more than the rest of the ledger)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

MEXICO_CITY = ZoneInfo("America/Mexico_City")


def end_of_local_day(day: dt.date, zone: ZoneInfo = MEXICO_CITY) -> dt.datetime:
    """The UTC instant at which ``day`` ends in ``zone`` (the start of the next local day).

    A payment counts for ``day`` exactly when ``paid_at < end_of_local_day(day)``; zoneinfo
    applies the daylight-saving rules Mexico used until October 2022.
    """
    next_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return next_day.astimezone(dt.UTC)
