"""Stable champion/challenger assignment: the same customer keeps its arm from day to day.

    bucket = int(md5_hex(experiment_id + ":" + customer_id)[:7], 16) mod 10000
    arm    = the first arm whose cumulative share (in basis points) exceeds bucket

The same formula runs as SQL (DuckDB and Spark both have ``md5`` returning lower-case hex;
the seven hex digits are turned into a number digit by digit — below 2**31, so no engine's
integer arithmetic can overflow — which both dialects compile identically) and in Python with
:mod:`hashlib`.
"""

from __future__ import annotations

import hashlib

import ibis
import ibis.expr.types as ir

from cobranza.strategy._model import Experiment

__all__ = ["arm_bucket", "assign_arm", "arm_expr", "bucket_expr", "hash_expr"]

BUCKETS = 10_000
_HEX = "0123456789abcdef"
_DIGITS = 7


def arm_bucket(experiment_id: str, customer_id: str) -> int:
    """The customer's bucket 0…9999 in an experiment."""
    digest = hashlib.md5(f"{experiment_id}:{customer_id}".encode(), usedforsecurity=False)
    return int(digest.hexdigest()[:_DIGITS], 16) % BUCKETS


def assign_arm(experiment: Experiment, customer_id: str) -> str:
    """The arm of ``customer_id`` in ``experiment``."""
    bucket = arm_bucket(experiment.id, customer_id)
    cumulative = 0
    for arm in experiment.arms:
        cumulative += arm.basis_points
        if bucket < cumulative:
            return arm.id
    return experiment.arms[-1].id  # unreachable: shares add up to 10000 basis points


def hash_expr(experiment_id: ir.StringValue, customer_id: ir.StringValue) -> ir.StringValue:
    """md5 hex of ``experiment_id:customer_id`` (compute it once per row, then bucket it)."""
    return experiment_id.concat(":", customer_id).hexdigest("md5")


def bucket_expr(hexed: ir.StringValue) -> ir.IntegerValue:
    """:func:`arm_bucket` as an Ibis expression over :func:`hash_expr`."""
    value: ir.IntegerValue = ibis.literal(0)
    for i in range(_DIGITS):
        value = value * 16 + ibis.literal(_HEX).find(hexed.substr(i, 1))
    return value % BUCKETS


def arm_expr(experiment: Experiment, hexed: ir.StringValue) -> ir.StringValue:
    """:func:`assign_arm` as an Ibis expression over :func:`hash_expr`."""
    bucket = bucket_expr(hexed)
    branches = []
    cumulative = 0
    for arm in experiment.arms[:-1]:
        cumulative += arm.basis_points
        branches.append((bucket < cumulative, arm.id))
    return ibis.cases(*branches, else_=experiment.arms[-1].id)
