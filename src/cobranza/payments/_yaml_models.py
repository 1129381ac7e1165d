"""User-owned YAML configuration validated by pydantic, errors naming the file and the line.

Shared by the case rules and the partner contracts. The YAML is read with the partner-file
loader, which keeps each key's line and reads numbers as exact decimals (a fee of ``0.10``
stays ``Decimal("0.10")``, never a binary float).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from cobranza._errors import ConfigError
from cobranza.payments.readers._common import Located, LocatedList, load_yaml

__all__ = ["line_of", "load_model"]

M = TypeVar("M", bound=BaseModel)


def line_of(data: Any, loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest key or item of ``loc`` found in ``data`` (its parent's if not)."""
    line = getattr(data, "line", None)
    node = data
    for part in loc:
        if isinstance(node, Located) and str(part) in node.key_lines:
            line = node.key_lines[str(part)]
            node = node.get(part)
        elif isinstance(node, LocatedList) and isinstance(part, int) and part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line


def load_model(path: Path, model: type[M], *, what: str) -> M:
    """Read ``path`` and validate it as ``model``; :class:`ConfigError` names file and line.

    Every problem pydantic finds is listed, each with its line and dotted field path.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: cannot read the {what}: {exc}") from exc
    data = load_yaml(path, text, error=ConfigError)
    if data is None:
        raise ConfigError(f"{path.name}, line 1: the {what} is empty")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            line = line_of(data, loc)
            where = f"line {line}: " if line else ""
            field = ".".join(str(p) for p in loc) or what
            problems.append(f"{where}{field}: {error['msg']}")
        raise ConfigError(f"{path.name}, " + "; ".join(problems)) from None
