"""Roll-rate (Markov) PD: the monthly transition matrix and its powers.

From the pooled month-to-month roll rates (``portfolio.roll_rate_matrix``: from_bucket,
to_bucket, loans) the matrix P has one row per open bucket, with

    P[i, j] = loans_{i→j} ÷ Σ_j loans_{i→j}

and two absorbing states: ``default`` (written off, and every bucket from ``default_from_dpd``
on, 90 dpd by default) and ``paid_off``. The cumulative PD to default within m months of an
account now in bucket i is (P^m)[i, default]; the lifetime PD is its limit as m → ∞. Either can
serve as the PI of a bucket in the IFRS 9 or CNBV formulas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from cobranza.ledger import DEFAULT_BUCKETS, PAID_OFF, WRITTEN_OFF, Buckets
from cobranza.provisions._checks import ProvisionInputError, finite_float

DEFAULT = "default"


@dataclass(frozen=True)
class TransitionMatrix:
    """A row-stochastic monthly transition matrix over ``states``.

    ``states`` lists the open buckets, then ``default`` and ``paid_off`` (absorbing);
    ``default_buckets`` are the bucket labels folded into ``default``.
    """

    states: tuple[str, ...]
    matrix: np.ndarray
    default_buckets: tuple[str, ...]

    @property
    def open_states(self) -> tuple[str, ...]:
        return self.states[:-2]

    def index(self, state: str) -> int:
        return self.states.index(state)


def _lower_edges(buckets: Buckets) -> dict[str, int]:
    return dict(zip(buckets.labels, (0, *buckets.edges), strict=True))


def transition_matrix(
    roll_rates_rows: Iterable[Mapping[str, object]],
    *,
    buckets: Buckets = DEFAULT_BUCKETS,
    default_from_dpd: int | None = 90,
    weight: str = "loans",
) -> TransitionMatrix:
    """The monthly transition matrix from roll-rate rows (from_bucket, to_bucket, ``weight``).

    ``default_from_dpd`` (a bucket edge, or None for "written off only") folds the buckets from
    that dpd on into the absorbing ``default`` state; rows leaving an absorbing state are
    ignored. Use ``weight="balance"`` for a balance-weighted matrix.
    """
    edges = _lower_edges(buckets)
    if default_from_dpd is not None and default_from_dpd not in buckets.edges:
        raise ProvisionInputError(
            f"default_from_dpd={default_from_dpd} is not a bucket edge {buckets.edges}"
        )
    defaulted = tuple(
        label for label, low in edges.items()
        if default_from_dpd is not None and low >= default_from_dpd
    )  # fmt: skip
    open_states = tuple(label for label in buckets.labels if label not in defaulted)
    states = (*open_states, DEFAULT, PAID_OFF)
    target = {label: label for label in open_states}
    target.update({label: DEFAULT for label in (*defaulted, WRITTEN_OFF)})
    target[PAID_OFF] = PAID_OFF
    counts = np.zeros((len(states), len(states)))
    for row in roll_rates_rows:
        source, to = row["from_bucket"], row["to_bucket"]
        if source not in target or to not in target:
            unknown = source if source not in target else to
            raise ProvisionInputError(f"unknown bucket {unknown!r} in the roll rates")
        if source not in open_states:
            continue  # absorbing: whatever the data says, default and paid-off stay put
        amount = finite_float(weight, row[weight])
        if amount < 0:
            raise ProvisionInputError(f"negative {weight} {amount} from {source!r} to {to!r}")
        counts[states.index(source), states.index(target[to])] += amount
    totals = counts.sum(axis=1)
    empty = [s for i, s in enumerate(open_states) if totals[i] == 0]
    if empty:
        raise ProvisionInputError(
            f"no transitions observed from bucket(s) {', '.join(map(repr, empty))}: their row "
            "of the matrix cannot be estimated"
        )
    matrix = np.zeros_like(counts)
    n = len(open_states)
    matrix[:n] = counts[:n] / totals[:n, None]
    matrix[n, n] = matrix[n + 1, n + 1] = 1.0
    return TransitionMatrix(states=states, matrix=matrix, default_buckets=defaulted)


def _by_bucket(tm: TransitionMatrix, to_default: np.ndarray) -> dict[str, float]:
    pd = {state: float(to_default[i]) for i, state in enumerate(tm.open_states)}
    pd.update({label: 1.0 for label in (*tm.default_buckets, WRITTEN_OFF)})
    return pd


def cumulative_pd(matrix: TransitionMatrix, months: int) -> dict[str, float]:
    """PD_m(i) = (P^m)[i, default]: the probability that an account now in bucket i defaults
    within ``months`` months, per bucket (1 for the buckets folded into default)."""
    if isinstance(months, bool) or not isinstance(months, int) or months < 0:
        raise ProvisionInputError(f"months must be a non-negative integer, got {months!r}")
    power = np.linalg.matrix_power(matrix.matrix, months)
    return _by_bucket(matrix, power[:, matrix.index(DEFAULT)])


def lifetime_pd(
    matrix: TransitionMatrix, tolerance: float = 1e-12, max_months: int = 100_000
) -> dict[str, float]:
    """PD_∞(i) = lim_{m→∞} (P^m)[i, default], by iterating d_{m+1} = P d_m from d_0 = e_default
    until no entry moves more than ``tolerance`` (the sequence only grows)."""
    d = np.zeros(len(matrix.states))
    d[matrix.index(DEFAULT)] = 1.0
    for _ in range(max_months):
        following = matrix.matrix @ d
        if np.max(np.abs(following - d)) <= tolerance:
            return _by_bucket(matrix, following)
        d = following
    raise ProvisionInputError(f"lifetime PD did not converge within {max_months} months")
