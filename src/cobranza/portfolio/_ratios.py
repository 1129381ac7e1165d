"""The credit ratios of Mexican consumer-credit reporting: IMOR, IMORA and ICOR.

    IMOR  = balance 90+ dpd ÷ total balance                          (índice de morosidad)
    IMORA = (balance 90+ + write-offs of the last 12 months)
            ÷ (total balance + the same write-offs)                  (morosidad ajustada)
    ICOR  = reserves ÷ balance 90+                                   (índice de cobertura)

Amounts are exact (``Decimal`` or ``int``; a binary ``float`` is refused, as everywhere money
is handled). The quotient is a ``Decimal`` computed in a fixed context (28 significant digits,
half-even), so the result does not depend on the caller's decimal context.

A zero denominator gives ``None``: the ratio is undefined, and reports show "n/a". IMOR and
IMORA of an empty book are undefined, not 0 %; ICOR with no balance 90+ is undefined (there is
nothing non-performing to cover), whatever the reserves. Negative amounts, and a balance 90+
larger than the total balance, are errors.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal

_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)

Amount = Decimal | int


def _amount(name: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal or int amount, got {value!r}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    if result < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return result


def _quotient(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if denominator == 0:
        return None
    return _CONTEXT.divide(numerator, denominator)


def _part_of_total(balance_90_plus: Decimal, total_balance: Decimal) -> None:
    if balance_90_plus > total_balance:
        raise ValueError(
            f"balance_90_plus ({balance_90_plus}) cannot exceed total_balance ({total_balance}): "
            "the 90+ balance is part of the total"
        )


def imor(balance_90_plus: Amount, total_balance: Amount) -> Decimal | None:
    """IMOR = balance_90_plus ÷ total_balance; None when total_balance is 0.

    ``imor(Decimal("150.00"), Decimal("1000.00")) == Decimal("0.15")``.
    """
    b90 = _amount("balance_90_plus", balance_90_plus)
    total = _amount("total_balance", total_balance)
    _part_of_total(b90, total)
    return _quotient(b90, total)


def icor(reserves: Amount, balance_90_plus: Amount) -> Decimal | None:
    """ICOR = reserves ÷ balance_90_plus; None when balance_90_plus is 0.

    Above 1 (100 %) when reserves exceed the non-performing balance.
    """
    return _quotient(_amount("reserves", reserves), _amount("balance_90_plus", balance_90_plus))


def imora(balance_90_plus: Amount, total_balance: Amount, write_offs_12m: Amount) -> Decimal | None:
    """IMORA = (balance_90_plus + write_offs_12m) ÷ (total_balance + write_offs_12m); None
    when the denominator is 0 (no balance and no write-offs)."""
    b90 = _amount("balance_90_plus", balance_90_plus)
    total = _amount("total_balance", total_balance)
    written = _amount("write_offs_12m", write_offs_12m)
    _part_of_total(b90, total)
    return _quotient(b90 + written, total + written)
