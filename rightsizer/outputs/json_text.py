"""JSON text for large reports: exactly what `json.dumps` of the plain() value writes, faster.

`json.dumps(..., indent=2)` runs the standard library's pure-Python encoder (its C encoder
cannot indent), and plain() copied the whole report first: 8.4 s of a 72 MB report.json at
100,000 resources, now 2.2 s. Indenting is only a matter of the item separator: a dict or list
holding no other container, encoded by the C encoder with `",\n"` plus its items' indent as
separator, comes out exactly as json.dumps would indent it. `indented_json` walks the nesting
in Python and hands every such flat run of items to the C encoder; plain data is not copied.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from functools import lru_cache
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

_ATOMS = frozenset({str, int, float, bool, type(None)})
_ATOMS_AND_CONTAINERS = _ATOMS | {dict, list}
_STR = frozenset({str})
_INDENT = "  "


def plain(value: Any) -> Any:
    """JSON-native values only: NaN/inf are not JSON (null instead), numpy scalars unwrapped."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy / pandas scalar
        return plain(value.item())
    return str(value)


def indented_json(value: Any) -> str:
    """Exactly `json.dumps(plain(value), indent=2, ensure_ascii=False, allow_nan=False)`.

    Plain data (the usual case) is encoded as it is; anything plain() would change (NaN, a
    numpy scalar, a tuple, a non-str key) is plain()ed first, only where it occurs.
    """
    return _encode(value, 0)


def compact_plain_json(value: Any) -> str:
    """Exactly `json.dumps(plain(value), separators=(",", ":"), ensure_ascii=False)`; a value
    that is plain already (the usual case) is not copied first."""
    if _is_plain(value):
        try:
            return _compact(value)
        except ValueError:  # NaN or infinity
            pass
    return _compact(plain(value))


def _is_plain(value: Any) -> bool:
    """Only JSON's own types and str keys, all the way down (the encoder rejects NaN)."""
    kind = type(value)
    if kind is dict:
        if not _STR.issuperset(map(type, value)):
            return False
        values: Any = value.values()
    elif kind is list:
        values = value
    else:
        return kind in _ATOMS
    if _ATOMS.issuperset(map(type, values)):
        return True
    return _ATOMS_AND_CONTAINERS.issuperset(map(type, values)) and all(
        map(_is_plain, [item for item in values if type(item) is dict or type(item) is list]))


def _encode(value: Any, level: int) -> str:
    kind = type(value)
    if kind is dict:
        return _encode_dict(value, level)
    if kind is list:
        return _encode_list(value, level)
    if isinstance(value, bool | int | float | str) or value is None:  # subclasses too
        return _atom(value)
    return _encode(plain(value), level)


def _atom(value: Any) -> str:
    if type(value) is str:
        return encode_basestring(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "null"  # as plain() makes it
    return _run_encoder(0)(value)


def _encode_dict(value: dict[Any, Any], level: int) -> str:
    if not value:
        return "{}"
    if not _STR.issuperset(map(type, value)):
        value = plain(value)  # keys as str(key), as before (json.dumps writes True as "true")
    if _ATOMS.issuperset(map(type, value.values())):
        return _bracketed("{", _run(value, level), "}", level)
    parts: list[str] = []
    run: dict[str, Any] = {}
    for key, item in value.items():
        if type(item) in _ATOMS:
            run[key] = item
            continue
        if run:
            parts.append(_run(run, level))
            run = {}
        parts.append(f"{encode_basestring(key)}: {_encode(item, level + 1)}")
    if run:
        parts.append(_run(run, level))
    return _bracketed("{", _separator(level).join(parts), "}", level)


def _encode_list(value: list[Any], level: int) -> str:
    if not value:
        return "[]"
    if _ATOMS.issuperset(map(type, value)):
        return _bracketed("[", _run(value, level), "]", level)
    items = _separator(level).join([_encode(item, level + 1) for item in value])
    return _bracketed("[", items, "]", level)


def _run(items: dict[str, Any] | list[Any], level: int) -> str:
    """Flat items without their brackets, `"a": 1,\n<indent>"b": 2`, in one C call."""
    try:
        return _run_encoder(level)(items)[1:-1]
    except ValueError:  # NaN or infinity: null, as plain() makes them
        return _run_encoder(level)(plain(items))[1:-1]


def _bracketed(opening: str, inner: str, closing: str, level: int) -> str:
    return f"{opening}\n{_INDENT * (level + 1)}{inner}\n{_INDENT * level}{closing}"


@lru_cache(maxsize=64)
def _separator(level: int) -> str:
    return ",\n" + _INDENT * (level + 1)


@lru_cache(maxsize=64)
def _run_encoder(level: int) -> Callable[[Any], str]:
    """Encodes a flat dict or list whose items sit at depth `level + 1`."""
    return _encoder(_separator(level), ": ")


def _encoder(item_separator: str, key_separator: str) -> Callable[[Any], str]:
    """json.dumps(ensure_ascii=False, allow_nan=False) with these separators, for plain data.

    The C encoder itself, made once: JSONEncoder.encode builds a new one on every call, a cost
    otherwise paid for every small dict of every finding.
    """
    if c_make_encoder is None:  # no C accelerator (e.g. PyPy): the same text, slower
        return json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False,
                                separators=(item_separator, key_separator)).encode
    encoder = c_make_encoder(None, None, encode_basestring, None, key_separator,
                             item_separator, False, False, False)
    return lambda value: "".join(encoder(value, 0))


_compact = _encoder(",", ":")
