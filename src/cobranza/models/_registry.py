"""The model registry: a folder of JSON artefacts and the sign-off life cycle.

    draft ──validate──▶ validated ──approve──▶ approved ──promote──▶ live
      └──────────────────────┴──────────retire─────┴───────────────────┴──▶ retired

``validate`` needs every validation check passed; ``approve`` needs a named approver and a
note; only ``approved`` and ``live`` models may be used by a strategy
(:meth:`Registry.require_usable`). Each artefact is replaced atomically (a temporary file
renamed over it) under an exclusive lock on the registry folder, so concurrent writers
serialise and readers never see a half-written file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cobranza.models._artefact import Model
from cobranza.models._errors import IllegalTransition, ModelError, ModelNotFound, ModelNotUsable

__all__ = ["USABLE", "Registry"]

#: Statuses a strategy may score with.
USABLE = ("approved", "live")

#: status → statuses it may move to.
_NEXT: dict[str, tuple[str, ...]] = {
    "draft": ("validated", "retired"),
    "validated": ("approved", "retired"),
    "approved": ("live", "retired"),
    "live": ("retired",),
    "retired": (),
}


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class Registry:
    """A folder of model artefacts, ``<model_id>.json`` each."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _file(self, model_id: str) -> Path:
        if not model_id or "/" in model_id or model_id.startswith("."):
            raise ModelNotFound(f"not a model id: {model_id!r}")
        return self.path / f"{model_id}.json"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        with (self.path / ".lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _write(self, model: Model) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{model.model_id}.", suffix=".tmp", dir=self.path)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(model.to_json())
                fh.flush()
                os.fsync(fh.fileno())
            Path(tmp).chmod(0o644)
            Path(tmp).replace(self._file(model.model_id))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def add(self, model: Model) -> Model:
        """Store a new artefact; storing the same content again keeps the stored record."""
        with self._locked():
            if self._file(model.model_id).exists():
                return self.get(model.model_id)
            self._write(model)
            return model

    def get(self, model_id: str) -> Model:
        path = self._file(model_id)
        if not path.exists():
            known = ", ".join(m.model_id for m in self.list()) or "none"
            raise ModelNotFound(f"no model {model_id!r} in {self.path} (known: {known})")
        return Model.load(path)

    def list(self) -> list[Model]:
        """Every model in the registry, by name and then id."""
        if not self.path.is_dir():
            return []
        models = [Model.load(p) for p in sorted(self.path.glob("*.json"))]
        return sorted(models, key=lambda m: (m.name, m.model_id))

    def _move(self, model_id: str, status: str, *, by: str, note: str = "", **extra: str) -> Model:
        with self._locked():
            model = self.get(model_id)
            if status not in _NEXT[model.status]:
                allowed = ", ".join(_NEXT[model.status]) or "nothing (it is final)"
                raise IllegalTransition(
                    f"model {model_id} is {model.status}: it cannot become {status}; "
                    f"from {model.status} it may become {allowed}"
                )
            if status == "validated":
                failed = [c["check"] for c in model.checks if not c["passed"]]
                if failed:
                    raise IllegalTransition(
                        f"model {model_id} cannot be validated: checks failed: "
                        f"{', '.join(failed)} (see its validation report)"
                    )
            data = dict(model.data)
            governance = dict(data["governance"])
            entry = {"status": status, "at": _now(), "by": by, "note": note, **extra}
            governance["history"] = [*governance["history"], entry]
            governance["status"] = status
            if status == "approved":
                governance["approval"] = {
                    "approver": by, "note": note, "date": extra["date"],
                }  # fmt: skip
            data["governance"] = governance
            moved = Model(data)
            self._write(moved)
            return moved

    def validate(self, model_id: str, by: str = "cobranza") -> Model:
        """draft → validated, only when every validation check passed."""
        return self._move(model_id, "validated", by=by, note="all validation checks passed")

    def approve(
        self, model_id: str, approver: str, note: str, *, date: dt.date | None = None
    ) -> Model:
        """validated → approved by a named approver, with a note and a date (today)."""
        if not approver.strip():
            raise ModelError("an approval needs the approver's name")
        if not note.strip():
            raise ModelError("an approval needs a note (what was reviewed, any conditions)")
        day = (date or dt.datetime.now(dt.UTC).date()).isoformat()
        return self._move(model_id, "approved", by=approver.strip(), note=note, date=day)

    def promote(self, model_id: str, by: str = "cobranza") -> Model:
        """approved → live; a model that was never approved is refused."""
        return self._move(model_id, "live", by=by, note="promoted to live")

    def retire(self, model_id: str, by: str = "cobranza", note: str = "") -> Model:
        """Any status but retired → retired (final)."""
        return self._move(model_id, "retired", by=by, note=note or "retired")

    def require_usable(self, model_id: str) -> Model:
        """The model if it is approved or live; :class:`ModelNotUsable` otherwise."""
        model = self.get(model_id)
        if model.status not in USABLE:
            raise ModelNotUsable(
                f"model {model_id} is {model.status}; a strategy may only use an approved or "
                "live model (approve it with `cobranza model approve`)"
            )
        return model
