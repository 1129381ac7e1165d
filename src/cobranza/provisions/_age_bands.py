"""Age-band reserves: a percentage by days past due (e.g. the SOCAP "Nivel Básico" table)."""

from __future__ import annotations

from decimal import Decimal

from cobranza.provisions._checks import money, non_negative_int
from cobranza.provisions._money import reserve_amount
from cobranza.provisions._params import AgeBandTable


def age_band_reserve(
    days_past_due: int, balance: Decimal | int, interest: Decimal | int, table: AgeBandTable
) -> Decimal:
    """reserve = rate(dpd) × base, rounded to centavos (half-even).

    base = balance + interest when the table's ``base`` is ``balance_plus_interest`` (the SOCAP
    table), the balance alone when it is ``balance``; rate(dpd) is the rate of the band
    from_dpd ≤ dpd ≤ to_dpd. The rates are exact decimals, so the product is exact.
    """
    dpd = non_negative_int("days_past_due", days_past_due)
    base = money("balance", balance)
    if table.base == "balance_plus_interest":
        base += money("interest", interest)
    return reserve_amount(base, table.band(dpd).rate)
