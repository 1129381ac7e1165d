"""Input checks shared by the scalar formulas: one error type, messages that name the input."""

from __future__ import annotations

import math
import numbers
import operator
from decimal import Decimal, InvalidOperation

from cobranza._errors import CobranzaError


class ProvisionInputError(CobranzaError, ValueError):
    """A provisions formula was given a value it cannot use (negative dpd, PD outside [0, 1], …)."""


def finite_float(name: str, value: object) -> float:
    """``value`` as a finite float (int, float or Decimal)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        raise ProvisionInputError(f"{name} must be a number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ProvisionInputError(f"{name} must be finite, got {value!r}")
    return result


def probability(name: str, value: object) -> float:
    """``value`` as a float in [0, 1]."""
    result = finite_float(name, value)
    if not 0.0 <= result <= 1.0:
        raise ProvisionInputError(f"{name} must be a probability in [0, 1], got {value!r}")
    return result


def money(name: str, value: object) -> Decimal:
    """A non-negative amount as an exact Decimal; binary floats are refused.

    0.1 as a float is 0.1000000000000000055…: accepting it would make centavos inexact.
    """
    if isinstance(value, (bool, float)):
        raise ProvisionInputError(f"{name} must be a Decimal or int amount, not {value!r}")
    if isinstance(value, int):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ProvisionInputError(f"{name} must be a finite Decimal amount, got {value!r}")
    if value < 0:
        raise ProvisionInputError(f"{name} must not be negative, got {value}")
    return value


def exact_decimal(name: str, value: object) -> Decimal:
    """A number as an exact Decimal: a float by its shortest repr (0.05 → Decimal('0.05'))."""
    if isinstance(value, bool):
        raise ProvisionInputError(f"{name} must be a number, got {value!r}")
    if isinstance(value, float):
        value = repr(value)
    try:
        result = Decimal(value) if isinstance(value, int | str) else value
    except InvalidOperation:
        raise ProvisionInputError(f"{name} must be a number, got {value!r}") from None
    if not isinstance(result, Decimal) or not result.is_finite():
        raise ProvisionInputError(f"{name} must be a finite number, got {value!r}")
    return result


def days(name: str, value: object) -> Decimal:
    """A non-negative number of days (int or Decimal; a float by its repr)."""
    result = exact_decimal(name, value)
    if result < 0:
        raise ProvisionInputError(f"{name} must not be negative, got {value!r}")
    return result


def non_negative_int(name: str, value: object) -> int:
    """A non-negative integer (bool refused: True is not a number of days)."""
    if isinstance(value, bool):
        raise ProvisionInputError(f"{name} must be an integer, got {value!r}")
    try:
        result = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ProvisionInputError(f"{name} must be an integer, got {value!r}") from None
    if result < 0:
        raise ProvisionInputError(f"{name} must not be negative, got {result}")
    return result
