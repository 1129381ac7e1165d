"""Helpers every reader shares: money, currencies, CLABEs, time zones, located JSON/YAML."""

from __future__ import annotations

import bisect
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from json import decoder as json_decoder
from json import scanner as json_scanner
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from clabe import validate_clabe
from pydantic import BaseModel, ValidationError

from cobranza._errors import ConfigError
from cobranza.payments._errors import PartnerFileError

#: The platform's home zone: times a partner gives without an offset are Mexico City time.
MEXICO_CITY = ZoneInfo("America/Mexico_City")

#: Key in a table's schema metadata listing the problems a reader noticed but did not reject.
WARNINGS_KEY = "cobranza.warnings"

#: ISO 4217 currencies whose minor unit is not 2 (all others, MXN among them, have 2).
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}  # fmt: skip

_CURRENCY = re.compile(r"[A-Z]{3}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: decimal128(20, 5) holds 15 integer digits.
_MAX_AMOUNT = Decimal(10) ** 15


def fail(
    path: Path, reason: str, *, line: int | None = None, element: str | None = None
) -> NoReturn:
    """Raise the :class:`PartnerFileError` that rejects ``path``."""
    raise PartnerFileError(path.name, reason, line=line, element=element)


def currency_code(
    path: Path, value: object, *, line: int | None = None, element: str | None = None
) -> str:
    """Return ``value`` as an ISO 4217 code, or reject the file."""
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        fail(path, f"currency {value!r} is not an ISO 4217 code", line=line, element=element)
    return value


def money(
    path: Path, value: object, currency: str, *, line: int | None = None, element: str | None = None
) -> Decimal:
    """Return ``value`` as an exact Decimal, or reject the file.

    Never rounds: an amount with more significant decimals than ``currency`` has (MXN 10.005) is
    malformed, and so is one too large for the table; trailing zeros (EUR 8.850) are fine.
    """
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        fail(path, f"amount {value!r} is not a number", line=line, element=element)
    if isinstance(value, (bool, float)) or not amount.is_finite():
        fail(path, f"amount {value!r} is not a number", line=line, element=element)
    minor = _MINOR_UNITS.get(currency, 2)
    if amount != amount.quantize(Decimal(1).scaleb(-minor), rounding="ROUND_DOWN"):
        fail(
            path,
            f"amount {value} has more decimals than {currency} allows ({minor})",
            line=line,
            element=element,
        )
    if abs(amount) >= _MAX_AMOUNT:
        fail(path, f"amount {value} is too large", line=line, element=element)
    return amount


def clabe_check(account: str | None, *, declared: bool = False) -> bool | None:
    """Whether ``account`` is a valid CLABE; None when it is not meant to be one.

    An account is taken for a CLABE when the source declares it (``declared``) or when it has the
    CLABE's 18 digits. An invalid CLABE does not reject the file: the row records it.
    """
    if not account:
        return None
    if declared or (len(account) == 18 and account.isdigit()):
        return bool(validate_clabe(account))
    return None


def zone(name: str) -> ZoneInfo:
    """Return the IANA time zone ``name`` (ValueError when unknown)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def to_utc(moment: datetime, local: ZoneInfo = MEXICO_CITY) -> datetime:
    """Convert ``moment`` to UTC; a naive one is read as ``local`` time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local)
    return moment.astimezone(UTC)


def from_epoch(value: object, *, millis: bool) -> datetime:
    """UTC datetime from a Unix epoch in seconds or milliseconds (TypeError/ValueError if not)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"epoch {value!r} is not an integer")
    # Integer arithmetic: going through a float would shift milliseconds by rounding.
    return _EPOCH + (timedelta(milliseconds=value) if millis else timedelta(seconds=value))


def optional_text(value: object) -> str | None:
    """Text of a scalar, with empty strings as None (partners use both for 'absent')."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class Located(dict[str, Any]):
    """A JSON object or YAML mapping that remembers the line it starts on."""

    line: int = 0
    key_lines: dict[str, int]


class LocatedList(list[Any]):
    """A JSON array or YAML sequence that remembers the line each item starts on."""

    line: int = 0
    item_lines: list[int]


class DuplicateKeyError(ValueError):
    """A mapping repeats a key: which value the partner meant is unknown."""

    def __init__(self, key: str, line: int) -> None:
        self.key = key
        self.line = line
        super().__init__(f"key {key!r} appears twice in one object")


def load_json(path: Path, text: str) -> Any:
    """Parse JSON keeping line numbers; floats become exact Decimals. Rejects bad JSON."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_of(offset: int) -> int:
        return bisect.bisect_right(line_starts, offset)

    def pairs_hook(pairs: list[tuple[str, Any]]) -> Located:
        obj = Located()
        for key, value in pairs:
            if key in obj:
                raise DuplicateKeyError(key, 0)
            obj[key] = value
        return obj

    dec = json.JSONDecoder(parse_float=Decimal, object_pairs_hook=pairs_hook)

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Located, int]:
        start = s_and_end[1] - 1
        try:
            obj, end = json_decoder.JSONObject(s_and_end, *args)
        except DuplicateKeyError as exc:
            raise DuplicateKeyError(exc.key, exc.line or line_of(start)) from None
        obj.line = line_of(start)
        return obj, end

    def parse_array(s_and_end: tuple[str, int], scan_once: Any) -> tuple[LocatedList, int]:
        values, end = json_decoder.JSONArray(s_and_end, scan_once)
        located = LocatedList(values)
        located.line = line_of(s_and_end[1] - 1)
        located.item_lines = [getattr(v, "line", located.line) for v in values]
        return located, end

    # The C scanner ignores these hooks; the pure-Python one honours them.
    dec.parse_object = parse_object  # type: ignore[assignment]
    dec.parse_array = parse_array  # type: ignore[assignment]
    dec.scan_once = json_scanner.py_make_scanner(dec)
    try:
        return dec.decode(text)
    except json.JSONDecodeError as exc:
        fail(path, f"not valid JSON: {exc.msg}", line=exc.lineno)
    except DuplicateKeyError as exc:
        fail(path, str(exc), line=exc.line)


class _LineLoader(yaml.SafeLoader):
    """Safe YAML loader building :class:`Located` mappings; no Python object tags."""


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> Any:
    data = Located()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in data:
            raise DuplicateKeyError(str(key), key_node.start_mark.line + 1)
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[str(key)] = key_node.start_mark.line + 1


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> Any:
    data = LocatedList()
    data.line = node.start_mark.line + 1
    data.item_lines = [child.start_mark.line + 1 for child in node.value]
    yield data
    data.extend(loader.construct_object(child, deep=True) for child in node.value)


def _construct_float(loader: _LineLoader, node: yaml.ScalarNode) -> Decimal:
    # Money must stay exact: read the digits as written, never through a binary float.
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        return Decimal("NaN")


def _construct_int(loader: _LineLoader, node: yaml.ScalarNode) -> int | str:
    # YAML 1.1 reads 0012345 as octal and 1:30 as base 60: a reference or a time would change
    # silently. Only plain decimal integers are numbers; anything else stays the text written.
    text = str(loader.construct_scalar(node))
    if re.fullmatch(r"[-+]?(0|[1-9][0-9_]*)", text):
        return int(text.replace("_", ""))
    return text


def _construct_bool(loader: _LineLoader, node: yaml.ScalarNode) -> bool | str:
    # YAML 1.1 reads yes/no/on/off as booleans, so a status value NO would become False.
    text = str(loader.construct_scalar(node))
    return {"true": True, "false": False}.get(text.lower(), text)


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_LineLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_LineLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def load_yaml(path: Path, text: str, *, error: type[Exception] | None = None) -> Any:
    """Parse one YAML document keeping line numbers; floats become exact Decimals.

    Malformed YAML rejects the file (``error`` chooses the exception for configuration files).
    """
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        _raise(path, f"not valid YAML: {exc.problem or exc}", line, error)
    except yaml.YAMLError as exc:
        _raise(path, f"not valid YAML: {exc}", None, error)
    except DuplicateKeyError as exc:
        _raise(path, str(exc), exc.line, error)


def _raise(path: Path, reason: str, line: int | None, error: type[Exception] | None) -> NoReturn:
    if error is None:
        fail(path, reason, line=line)
    where = f"{path.name}, line {line}" if line else path.name
    raise error(f"{where}: {reason}")


def read_text(path: Path, encoding: str = "utf-8-sig") -> str:
    """Read ``path`` as text, or reject it naming the line of the first undecodable byte."""
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        fail(
            path,
            f"not {encoding} text (byte {exc.start})",
            line=data.count(b"\n", 0, exc.start) + 1,
        )


# --- user-owned YAML validated by pydantic (case rules, partner contracts, CSV mappings,
# reconciliation rules): one loader, so every file's errors name its lines the same way.

M = TypeVar("M", bound=BaseModel)


def line_of(data: Any, loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest key or item of ``loc`` found in ``data``; for a key that is
    missing, the first line of the mapping that lacks it."""
    line = getattr(data, "line", None) or None
    node = data
    for part in loc:
        if isinstance(node, Located) and str(part) in node.key_lines:
            line = node.key_lines[str(part)]
            node = node.get(str(part))
        elif isinstance(node, LocatedList) and isinstance(part, int) and part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            if isinstance(node, Located) and node.line:
                line = node.line
            break
    return line


def load_model(path: Path, model: type[M], *, what: str, empty_ok: bool = False) -> M:
    """Read ``path`` and validate it as ``model``; :class:`ConfigError` names file and line.

    Every problem pydantic finds is listed, each with its line and dotted field path. An empty
    file is an error unless ``empty_ok``, when it means every default of ``model``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: cannot read the {what}: {exc}") from exc
    data = load_yaml(path, text, error=ConfigError)
    if data is None:
        if not empty_ok:
            raise ConfigError(f"{path.name}, line 1: the {what} is empty")
        data = Located()
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
