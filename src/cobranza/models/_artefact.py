"""A model as a plain JSON artefact: content, a content hash, and its governance record.

The content (kind, variables, points table or tree dump, metrics, data windows, monitoring
baselines) is hashed; the governance record (status and its history) is not, because signing a
model off must not change what was signed off. Loading checks the hash, so an edited artefact
is refused instead of silently scored.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

from cobranza.models._errors import ModelError

__all__ = ["FORMAT", "KINDS", "Model", "STATUSES"]

FORMAT = "cobranza.model/1"
KINDS = ("scorecard", "lightgbm")
#: The governance life cycle, in order.
STATUSES = ("draft", "validated", "approved", "live", "retired")
_UNHASHED = ("model_id", "content_hash", "governance")


def _finite(value: Any, where: str = "") -> Any:
    """Refuse NaN and infinities: JSON has no such numbers and SQL would compare them oddly."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ModelError(f"model artefact: {where or 'value'} is {value}, not a finite number")
    if isinstance(value, dict):
        return {k: _finite(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _canonical(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=False)


def content_hash(data: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of everything but the id and the governance record."""
    content = {k: v for k, v in data.items() if k not in _UNHASHED}
    return hashlib.sha256(_canonical(content).encode()).hexdigest()


class Model:
    """One model artefact: new ones from :meth:`create`, stored ones from :meth:`load`."""

    def __init__(self, data: dict[str, Any]) -> None:
        if data.get("format") != FORMAT:
            raise ModelError(f"not a cobranza model artefact (format {data.get('format')!r})")
        if data.get("kind") not in KINDS:
            raise ModelError(f"unknown model kind {data.get('kind')!r}; expected one of {KINDS}")
        expected = content_hash(data)
        if data.get("content_hash") != expected:
            raise ModelError(
                f"model {data.get('model_id')!r}: content hash mismatch (stored "
                f"{data.get('content_hash')}, computed {expected}): the artefact was edited"
            )
        self.data = data

    @classmethod
    def create(cls, content: dict[str, Any], *, at: str, by: str = "cobranza") -> Model:
        """A new draft model from its content (``name``, ``kind``, ``target``, ``variables`` …)."""
        data = _finite({"format": FORMAT, **content})
        digest = content_hash(data)
        data["content_hash"] = digest
        data["model_id"] = f"{data['name']}-{data['kind']}-{digest[:10]}"
        data["governance"] = {
            "status": "draft",
            "history": [{"status": "draft", "at": at, "by": by, "note": "trained"}],
        }
        return cls(data)

    @classmethod
    def from_json(cls, text: str, label: str = "model") -> Model:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelError(f"{label}: not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ModelError(f"{label}: a model artefact is a JSON object")
        return cls(data)

    @classmethod
    def load(cls, path: str | Path) -> Model:
        path = Path(path)
        return cls.from_json(path.read_text(encoding="utf-8"), str(path))

    def to_json(self) -> str:
        return json.dumps(self.data, indent=1, allow_nan=False) + "\n"

    @property
    def model_id(self) -> str:
        return str(self.data["model_id"])

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def kind(self) -> str:
        return str(self.data["kind"])

    @property
    def target(self) -> str:
        return str(self.data["target"])

    @property
    def variables(self) -> list[str]:
        return list(self.data["variables"])

    @property
    def status(self) -> str:
        return str(self.data["governance"]["status"])

    @property
    def content_hash(self) -> str:
        return str(self.data["content_hash"])

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self.data.get("metrics", {}))

    @property
    def checks(self) -> list[dict[str, Any]]:
        return list(self.data.get("checks", []))

    def __repr__(self) -> str:
        return f"Model({self.model_id!r}, status={self.status!r})"
