"""The validation report: self-contained HTML with the verdict, the checks and the points."""

from __future__ import annotations

import copy
import re
from pathlib import Path

from cobranza.models import Model, TrainingResult, write_validation_report
from cobranza.models._artefact import content_hash


def test_report_is_self_contained_and_shows_every_check(
    tmp_path: Path, uci_models: TrainingResult
) -> None:
    model = uci_models.scorecard
    page = write_validation_report(model, tmp_path / "report.html").read_text()
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["']?https?:""", page)  # nothing fetched
    assert page.count("<svg") >= 3  # ROC, calibration, score distribution
    assert "PASS: every check is within its threshold" in page
    for check in model.checks:
        assert check["label"].replace("→", "&rarr;") in page or check["label"] in page
    for var in model.data["scorecard"]["variables"][:3]:
        assert f'<th scope="row">{var["name"]}</th>' in page
    assert model.content_hash in page


def test_a_failed_check_turns_the_verdict(tmp_path: Path, uci_models: TrainingResult) -> None:
    data = copy.deepcopy(uci_models.challenger.data)  # type: ignore[union-attr]
    data["checks"][0]["passed"] = False
    data["content_hash"] = content_hash(data)
    page = write_validation_report(Model(data), tmp_path / "r.html").read_text()
    assert "FAIL: at least one check is outside its threshold" in page
    assert 'class="fail">fail<' in page
