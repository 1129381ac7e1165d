"""Delinquency buckets: configurable dpd edges and their labels."""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

CURRENT = "current"
PAID_OFF = "paid_off"
WRITTEN_OFF = "written_off"


@dataclass(frozen=True)
class Buckets:
    """Lower dpd edges of the delinquent buckets; dpd 0 is ``current``.

    The defaults give ``current``, ``1-29``, ``30-59``, ``60-89``, ``90-119``, ``120-179``,
    ``180+``.
    """

    edges: tuple[int, ...] = (1, 30, 60, 90, 120, 180)

    def __post_init__(self) -> None:
        if not self.edges or self.edges[0] < 1:
            raise ValueError("bucket edges must start at 1 dpd or later")
        if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError(f"bucket edges must increase strictly: {self.edges}")

    @property
    def labels(self) -> tuple[str, ...]:
        """Labels from best to worst, ``current`` first."""
        upper = [f"{lo}-{hi - 1}" for lo, hi in zip(self.edges, self.edges[1:], strict=False)]
        return (CURRENT, *upper, f"{self.edges[-1]}+")

    @property
    def states(self) -> tuple[str, ...]:
        """Every bucket an account can be in, ending with the closed states."""
        return (*self.labels, PAID_OFF, WRITTEN_OFF)

    def label(self, dpd: int) -> str:
        """The bucket of one dpd value (scalar twin of :meth:`expr`)."""
        if dpd < self.edges[0]:
            return CURRENT
        return self.labels[sum(1 for edge in self.edges if dpd >= edge)]

    def expr(self, dpd: ir.IntegerValue) -> ir.StringValue:
        """The bucket of a dpd column."""
        branches = [
            (dpd >= edge, label)
            for edge, label in zip(reversed(self.edges), reversed(self.labels[1:]), strict=True)
        ]
        return ibis.cases(*branches, else_=CURRENT)

    def order(self, bucket: str) -> int:
        """Position of a bucket from best (0) to worst; closed states come last."""
        return self.states.index(bucket)


DEFAULT_BUCKETS = Buckets()
