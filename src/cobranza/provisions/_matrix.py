"""The provision matrix (IFRS 9 simplified approach): a loss rate per bucket × balances."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from cobranza.provisions._checks import ProvisionInputError, exact_decimal, money
from cobranza.provisions._money import RATE_PLACES, reserve_amount


@dataclass(frozen=True)
class MatrixProvision:
    """Reserve per bucket and their total (the total is the sum of the rounded parts)."""

    total: Decimal
    by_bucket: dict[str, Decimal]


def loss_rate(bucket: str, value: object) -> Decimal:
    """A bucket's loss rate as an exact Decimal in [0, 1] with at most 9 places."""
    rate = exact_decimal(f"loss rate of {bucket!r}", value)
    if not 0 <= rate <= 1:
        raise ProvisionInputError(f"loss rate of {bucket!r} must be in [0, 1], got {value!r}")
    if rate.as_tuple().exponent < -RATE_PLACES:  # type: ignore[operator]
        raise ProvisionInputError(
            f"loss rate of {bucket!r} has more than {RATE_PLACES} decimal places: {value!r}"
        )
    return rate


def provision_matrix(
    balances: Mapping[str, Decimal | int], loss_rates: Mapping[str, object]
) -> MatrixProvision:
    """reserve_b = balance_b × loss_rate_b per bucket b (each rounded to centavos, half-even);
    total = Σ_b reserve_b.

    Loss rates are exact (Decimal, int, str; a float is read by its repr, 0.05 → 0.05). A
    bucket with a balance and no loss rate is an error; loss rates without a balance give
    nothing.
    """
    missing = [bucket for bucket in balances if bucket not in loss_rates]
    if missing:
        raise ProvisionInputError(f"no loss rate for bucket(s) {', '.join(map(repr, missing))}")
    by_bucket = {
        bucket: reserve_amount(
            money(f"balance of {bucket!r}", balance), loss_rate(bucket, loss_rates[bucket])
        )
        for bucket, balance in balances.items()
    }
    return MatrixProvision(total=sum(by_bucket.values(), Decimal("0.00")), by_bucket=by_bucket)
