"""report.json: the machine-readable contract (DESIGN.md "report.json", schema_version "1")."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from functools import lru_cache
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

# Schema order from DESIGN.md, so diffs between two months' reports line up key for key.
REPORT_KEYS = ("schema_version", "generated_at", "window", "accounts", "regions", "summary",
               "findings", "skipped", "errors")
FINDING_KEYS = ("id", "rule", "severity", "resource_type", "resource_id", "name", "account",
                "region", "current", "recommended", "monthly_cost_usd", "monthly_savings_usd",
                "evidence", "reason")
SKIPPED_KEYS = ("rule", "resource_type", "resource_id", "name", "account", "region", "reason",
                "detail")
ERROR_KEYS = ("account", "region", "service", "operation", "code", "message")


def render_json(report: dict[str, Any]) -> str:
    """Indent 2, schema key order (unknown keys after, sorted), UTF-8 text, trailing newline."""
    return indented_json(ordered_report(report)) + "\n"


def ordered_report(report: dict[str, Any]) -> dict[str, Any]:
    """A new top-level dict in schema order; rows already in schema order are reused as they
    are (Finding.to_dict builds them so), the others are reordered copies."""
    ordered = _ordered(report, REPORT_KEYS)
    for key, keys in (("findings", FINDING_KEYS), ("skipped", SKIPPED_KEYS),
                      ("errors", ERROR_KEYS)):
        if isinstance(ordered.get(key), list):
            ordered[key] = [row if type(row) is not dict or tuple(row) == keys
                            else _ordered(row, keys) for row in ordered[key]]
    return ordered


def finding_columns(findings: list[dict[str, Any]]) -> list[str]:
    """The JSON finding keys, in schema order, plus any extra key a newer rule added."""
    extra = sorted(set().union(*findings) - set(FINDING_KEYS))
    return [*FINDING_KEYS, *extra]


def compact_plain_json(value: Any) -> str:
    """Exactly `json.dumps(_plain(value), separators=(",", ":"), ensure_ascii=False)`; a
    value already plain (the usual case) skips the `_plain` copy."""
    if _is_plain(value):
        try:
            return _COMPACT.encode(value)
        except ValueError:  # NaN or infinity: null, as _plain makes them
            pass
    return _COMPACT.encode(_plain(value))


_COMPACT = json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False,
                            separators=(",", ":"))


def _is_plain(value: Any) -> bool:
    """Only JSON's own types and str keys, all the way down (floats are checked for NaN by
    the encoder, with allow_nan=False)."""
    kind = type(value)
    if kind is dict:
        if not _STR.issuperset(map(type, value)):
            return False
        values: Any = value.values()
    elif kind is list:
        values = value
    else:
        return kind in _ATOMS
    return _ATOMS.issuperset(map(type, values)) or all(map(_is_plain, values))


def _ordered(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    result = {key: row[key] for key in keys if key in row}
    result.update({key: row[key] for key in sorted(row, key=str) if key not in result})
    return result


def indented_json(value: Any) -> str:
    """Exactly `json.dumps(_plain(value), indent=2, ensure_ascii=False, allow_nan=False)`,
    several times faster on a large report.

    With `indent`, the standard library falls back to its pure-Python encoder (most of the
    time of a 70 MB report.json). Here every run of scalar items inside a dict or list goes
    through the C encoder in one call, its item separator set to the newline and indent of
    that depth, which yields the indented text; only the nesting is walked in Python. Values
    that are not plain JSON (NaN, numpy scalars, tuples, non-str keys) are passed through
    `_plain` first, as before, so the text is the same either way.
    """
    return _encode(value, 0)


_ATOMS = frozenset({str, int, float, bool, type(None)})
_STR = frozenset({str})
_INDENT = "  "


@lru_cache(maxsize=64)
def _run_encoder(level: int) -> Callable[[Any], str]:
    """Encodes a flat dict or list whose items sit at depth `level + 1`."""
    separator = ",\n" + _INDENT * (level + 1)
    if c_make_encoder is None:  # no C accelerator (e.g. PyPy): the same text, slower
        return json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False,
                                separators=(separator, ": ")).encode
    # The C encoder itself, made once: JSONEncoder.encode builds one per call, and that
    # overhead would be paid for every small dict of every finding.
    encoder = c_make_encoder(None, None, encode_basestring, None, ": ", separator,
                             False, False, False)
    return lambda value: "".join(encoder(value, 0))


def _encode(value: Any, level: int) -> str:
    kind = type(value)
    if kind is dict:
        return _encode_dict(value, level)
    if kind is list:
        return _encode_list(value, level)
    if isinstance(value, bool | int | float | str) or value is None:  # subclasses too
        return _atom(value)
    return _encode(_plain(value), level)


def _atom(value: Any) -> str:
    if type(value) is str:
        return encode_basestring(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "null"  # as _plain makes it
    return _run_encoder(0)(value)


def _run(items: dict[str, Any] | list[Any], level: int) -> str:
    """Flat items, without their brackets: `"a": 1,\n<indent>"b": 2`."""
    try:
        return _run_encoder(level)(items)[1:-1]
    except ValueError:  # NaN or infinity: null, as _plain makes them
        return _run_encoder(level)(_plain(items))[1:-1]


def _encode_dict(value: dict[Any, Any], level: int) -> str:
    if not value:
        return "{}"
    if not _STR.issuperset(map(type, value)):
        value = _plain(value)  # str keys, as before (json.dumps would write True as "true")
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
    return _bracketed("[", _separator(level).join([_encode(item, level + 1) for item in value]),
                      "]", level)


def _bracketed(opening: str, inner: str, closing: str, level: int) -> str:
    return f"{opening}\n{_INDENT * (level + 1)}{inner}\n{_INDENT * level}{closing}"


@lru_cache(maxsize=64)
def _separator(level: int) -> str:
    return ",\n" + _INDENT * (level + 1)


def _plain(value: Any) -> Any:
    """JSON-native values only: NaN/inf are not JSON (null instead), numpy scalars unwrapped."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy / pandas scalar
        return _plain(value.item())
    return str(value)
