"""Experiment arms: the same bucket in SQL (both engines) and Python, stable and on share."""

from __future__ import annotations

import hashlib

import ibis
import pyarrow as pa

from cobranza.engine import Engine
from cobranza.strategy import arm_bucket, assign_arm, load_strategy
from cobranza.strategy._arms import arm_expr, bucket_expr, hash_expr


def test_bucket_is_md5_prefix() -> None:
    digest = hashlib.md5(b"exp1:C000123").hexdigest()
    assert arm_bucket("exp1", "C000123") == int(digest[:7], 16) % 10_000


def test_sql_and_python_assign_the_same_arm(engine: Engine) -> None:
    experiment = load_strategy("mx_default").experiments[0]
    ids = [f"C{i:07d}" for i in range(4000)] + ["", "Ñandú-7", "x" * 40]
    engine.register_arrow("arm_ids", pa.table({"customer_id": ids}))
    t = engine.table("arm_ids")
    hexed = hash_expr(ibis.literal(experiment.id), t.customer_id)
    got = engine.fetch(
        t.select("customer_id", bucket=bucket_expr(hexed), arm=arm_expr(experiment, hexed))
    ).to_pylist()
    assert len(got) == len(ids)
    for row in got:
        assert row["bucket"] == arm_bucket(experiment.id, row["customer_id"])
        assert row["arm"] == assign_arm(experiment, row["customer_id"])
    challenger = sum(r["arm"] != experiment.arms[0].id for r in got) / len(got)
    assert abs(challenger - float(experiment.arms[1].share)) < 0.03


def test_assignment_depends_on_experiment_not_on_day() -> None:
    strategy = load_strategy("mx_default")
    experiment = strategy.experiments[0]
    first = [assign_arm(experiment, f"C{i}") for i in range(500)]
    assert first == [assign_arm(experiment, f"C{i}") for i in range(500)]
    other = experiment.model_copy(update={"id": "another_test"})
    assert first != [assign_arm(other, f"C{i}") for i in range(500)]
