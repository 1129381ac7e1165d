"""The demo's pay-propensity model, signed off by a clearly labelled demo approver."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from cobranza.models._artefact import Model
from cobranza.models._registry import Registry
from cobranza.models._spec import Thresholds, TrainingSpec
from cobranza.models._train import train_from_table

__all__ = ["DEMO_APPROVER", "demo_pay_model"]

#: Never a person: a reader of the registry must not mistake the demo's sign-off for a real one.
DEMO_APPROVER = "cobranza demo (automatic, NOT a real sign-off)"


def demo_pay_model(
    table: pa.Table,
    registry: str | Path,
    *,
    development: Sequence[dt.date],
    out_of_time: Sequence[dt.date],
    target: str = "pay",
) -> Model:
    """Train the demo scorecard on ``table`` (features + ``target``), approve it, make it live.

    The synthetic book is small and young, so the checks use demo thresholds (AUC ≥ 0.55,
    relaxed stability); a model that still fails them is left as a draft and the error says
    which check failed.
    """
    spec = TrainingSpec(
        name=f"{target}_propensity",
        target=target,
        development=list(development),
        out_of_time=list(out_of_time),
        lightgbm=None,
        thresholds=Thresholds(
            auc_min=0.55,
            ks_min=0.05,
            gini_drop_max=0.5,
            score_psi_max=0.5,
            csi_max=1.0,
            calibration_error_max=0.2,
        ),
        description="Demo pay-propensity scorecard trained on the synthetic portfolio.",
    )
    reg = Registry(registry)
    model = reg.add(train_from_table(spec, table))
    if model.status == "draft":
        model = reg.validate(model.model_id)
    if model.status == "validated":
        model = reg.approve(
            model.model_id, DEMO_APPROVER, "demo: approved automatically so the demo strategy "
            "can use it; a real model needs a named approver who read its validation report",
        )  # fmt: skip
    if model.status == "approved":
        model = reg.promote(model.model_id, by=DEMO_APPROVER)
    return model
