"""The registry: JSON artefacts, the sign-off life cycle, and concurrent writers."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
from pathlib import Path

import pytest

from cobranza.models import (
    IllegalTransition,
    Model,
    ModelError,
    ModelNotFound,
    ModelNotUsable,
    Registry,
)


def _model(name: str = "pay_propensity", *, passed: bool = True, tag: int = 0) -> Model:
    card = {
        "pdo": 20.0, "odds": 50.0, "base_points": 600.0, "factor": 28.85, "offset": 487.1,
        "intercept": 0.0,
        "variables": [{
            "name": "dpd", "dtype": "numerical", "splits": [15.5, 45.5 + tag],
            "special_codes": [], "points": [80.0, 60.0, 20.0, 0.0, 40.0],
        }],
    }  # fmt: skip
    return Model.create(
        {
            "name": name, "kind": "scorecard", "target": "pay", "variables": ["dpd"],
            "scorecard": card, "metrics": {"development": {"gini": 0.5}},
            "checks": [{"check": "auc", "value": 0.7, "threshold": 0.65, "passed": passed}],
        },
        at="2026-10-31T00:00:00+00:00",
    )  # fmt: skip


def test_life_cycle_draft_to_retired(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    model = reg.add(_model())
    assert reg.get(model.model_id).status == "draft"
    assert reg.validate(model.model_id).status == "validated"
    approved = reg.approve(model.model_id, "Ana López", "OOT report reviewed")
    assert approved.data["governance"]["approval"]["approver"] == "Ana López"
    assert approved.data["governance"]["approval"]["note"] == "OOT report reviewed"
    assert reg.require_usable(model.model_id).status == "approved"
    assert reg.promote(model.model_id).status == "live"
    assert reg.require_usable(model.model_id).status == "live"
    assert reg.retire(model.model_id, note="replaced").status == "retired"
    history = [h["status"] for h in reg.get(model.model_id).data["governance"]["history"]]
    assert history == ["draft", "validated", "approved", "live", "retired"]
    # The artefact is plain JSON, and signing off did not change what was signed off.
    stored = json.loads((tmp_path / f"{model.model_id}.json").read_text())
    assert stored["content_hash"] == model.content_hash


def test_illegal_transitions_are_refused(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    model = reg.add(_model())
    with pytest.raises(IllegalTransition, match="draft: it cannot become live"):
        reg.promote(model.model_id)
    with pytest.raises(IllegalTransition, match="cannot become approved"):
        reg.approve(model.model_id, "Ana", "looks fine")
    with pytest.raises(ModelNotUsable, match="draft"):
        reg.require_usable(model.model_id)
    reg.validate(model.model_id)
    with pytest.raises(IllegalTransition):
        reg.promote(model.model_id)  # validated but never approved
    with pytest.raises(ModelError, match="approver"):
        reg.approve(model.model_id, "  ", "note")
    with pytest.raises(ModelError, match="note"):
        reg.approve(model.model_id, "Ana", "")
    reg.retire(model.model_id)
    with pytest.raises(IllegalTransition, match="final"):
        reg.validate(model.model_id)
    with pytest.raises(ModelNotUsable):
        reg.require_usable(model.model_id)


def test_failed_checks_block_validation(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    model = reg.add(_model(passed=False))
    with pytest.raises(IllegalTransition, match="checks failed: auc"):
        reg.validate(model.model_id)
    assert reg.get(model.model_id).status == "draft"


def test_unknown_and_edited_models_are_refused(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    model = reg.add(_model())
    with pytest.raises(ModelNotFound, match="no model 'nope'"):
        reg.get("nope")
    path = tmp_path / f"{model.model_id}.json"
    data = json.loads(path.read_text())
    data["scorecard"]["variables"][0]["points"][0] = 999.0
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="content hash mismatch"):
        reg.get(model.model_id)


def _worker(args: tuple[str, int]) -> None:
    folder, i = args
    reg = Registry(folder)
    model = reg.add(_model(f"m{i % 3}", tag=i))
    reg.validate(model.model_id)
    reg.approve(model.model_id, f"approver {i}", f"note {i}")


def test_concurrent_writers_leave_every_artefact_whole(tmp_path: Path) -> None:
    shared = _model("shared")
    Registry(tmp_path).add(shared)

    jobs = [(str(tmp_path), i) for i in range(12)]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        pool.map(_worker, jobs)
        # Many writers on the same artefact: each transition is applied once, none is lost.
        pool.starmap(_touch, [(str(tmp_path), shared.model_id)] * 8)
    reg = Registry(tmp_path)
    models = reg.list()
    assert len(models) == 13
    assert {m.status for m in models if m.name != "shared"} == {"approved"}
    history = reg.get(shared.model_id).data["governance"]["history"]
    assert [h["status"] for h in history] == ["draft", "validated"]
    assert not list(tmp_path.glob(".*.tmp"))


def _touch(folder: str, model_id: str) -> None:
    with contextlib.suppress(IllegalTransition):  # another writer validated it first
        Registry(folder).validate(model_id)
