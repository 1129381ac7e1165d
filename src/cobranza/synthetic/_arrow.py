"""Conversions from the generator's integer arrays to exact Arrow columns."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MX_TZ = "America/Mexico_City"
MONEY = pa.decimal128(18, 2)
RATE = pa.decimal128(9, 4)
UTC_US = pa.timestamp("us", tz="UTC")
SECONDS_PER_DAY = 86_400


def decimal_from_units(
    units: np.ndarray, type_: pa.Decimal128Type = MONEY, valid: np.ndarray | None = None
) -> pa.Array:
    """Exact ``decimal128`` array from integer minor units (centavos for money).

    The unscaled integer *is* the storage of a decimal, so the 128-bit words are written
    directly: no float ever touches the value and the scale cannot drift the way it does
    with decimal division.
    """
    if sys.byteorder != "little":  # pragma: no cover - Arrow decimals are little-endian
        raise RuntimeError("decimal_from_units assumes a little-endian host")
    u = np.ascontiguousarray(units, dtype=np.int64)
    if u.size and np.abs(u).max() >= 10**type_.precision:
        raise OverflowError(f"value does not fit {type_}")
    words = np.empty((u.size, 2), dtype=np.int64)
    words[:, 0] = u
    words[:, 1] = u >> 63  # sign-extend into the high word
    bitmap, nulls = _validity(valid, u.size)
    return pa.Array.from_buffers(type_, u.size, [bitmap, pa.py_buffer(words)], null_count=nulls)


def dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """``date32`` array from days since 1970-01-01."""
    d = np.ascontiguousarray(days, dtype=np.int32)
    bitmap, nulls = _validity(valid, d.size)
    return pa.Array.from_buffers(pa.date32(), d.size, [bitmap, pa.py_buffer(d)], null_count=nulls)


def int32s(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """``int32`` array, optionally with nulls."""
    v = np.ascontiguousarray(values, dtype=np.int32)
    bitmap, nulls = _validity(valid, v.size)
    return pa.Array.from_buffers(pa.int32(), v.size, [bitmap, pa.py_buffer(v)], null_count=nulls)


def _validity(valid: np.ndarray | None, n: int) -> tuple[pa.Buffer | None, int]:
    if valid is None:
        return None, 0
    v = np.asarray(valid, dtype=bool)
    return pa.py_buffer(np.packbits(v, bitorder="little")), int(n - np.count_nonzero(v))


def padded(numbers: np.ndarray, width: int, prefix: str = "") -> pa.Array:
    """Strings ``prefix + zero-padded number``, e.g. ``padded([7], 7, "L") -> "L0000007"``."""
    digits = pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string())
    digits = pc.utf8_lpad(digits, width=width, padding="0")
    if not prefix:
        return digits
    return pc.binary_join_element_wise(prefix, digits, "")


def labels(codes: np.ndarray, names: Sequence[str | None]) -> pa.Array:
    """Plain ``string`` array by looking small integer codes up in ``names``."""
    return pa.array(list(names), pa.string()).take(pa.array(np.asarray(codes, dtype=np.int32)))


def local_to_utc_us(local_seconds: np.ndarray) -> np.ndarray:
    """UTC microseconds since epoch from Mexico City wall-clock seconds since the local epoch.

    Mexico City observed DST until October 2022, so the offset is resolved with the tz
    database rather than assumed to be -6. Repeated wall times are read as standard time and
    skipped ones are pushed forward, which only matters for the 01:00-02:00 hour twice a year.
    """
    local = np.asarray(local_seconds, dtype=np.int64).astype("datetime64[s]")
    idx = pd.DatetimeIndex(local).tz_localize(
        MX_TZ, ambiguous=np.zeros(local.size, dtype=bool), nonexistent="shift_forward"
    )
    return np.asarray(idx.as_unit("us").asi8, dtype=np.int64)


def timestamps(utc_us: np.ndarray) -> pa.Array:
    """``timestamp[us, tz=UTC]`` array from microseconds since epoch."""
    us = np.ascontiguousarray(utc_us, dtype=np.int64)
    return pa.Array.from_buffers(UTC_US, us.size, [None, pa.py_buffer(us)], null_count=0)
