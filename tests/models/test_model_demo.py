"""The demo model: trained per as-of windows, approved by a labelled demo approver, live."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
from test_model_scoring import _frame

from cobranza.models import DEMO_APPROVER, Registry, demo_pay_model


def test_demo_model_is_live_and_labelled(tmp_path: Path) -> None:
    days = [dt.date(2026, 7, 31), dt.date(2026, 8, 31), dt.date(2026, 9, 30)]
    frames = []
    for seed, day in enumerate(days):
        f = _frame(1000, seed=seed).drop(columns=["channel"])
        f["as_of"] = day
        f["roll"] = 1 - f["pay"]  # another target in the table: must never become a variable
        frames.append(f)
    table = pa.Table.from_pandas(pd.concat(frames), preserve_index=False)
    model = demo_pay_model(table, tmp_path, development=days[:2], out_of_time=days[2:])
    assert model.status == "live"
    assert "roll" not in model.variables and "pay" not in model.variables
    assert model.data["windows"]["out_of_time"] == ["2026-09-30"]
    assert model.data["windows"]["rows"] == {"development": 2000, "out_of_time": 1000}
    approval = Registry(tmp_path).require_usable(model.model_id).data["governance"]["approval"]
    assert approval["approver"] == DEMO_APPROVER
    assert "NOT a real sign-off" in approval["approver"]
