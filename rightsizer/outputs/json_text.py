"""JSON text for large reports: exactly what `json.dumps` of the plain() value writes, faster.

`json.dumps(..., indent=2)` runs the standard library's pure-Python encoder (its C encoder
cannot indent): 8.4 s of a 72 MB report.json at 100,000 resources. Indenting is only a matter
of the item separator: a dict or list holding no other container, encoded by the C encoder
with `",\n"` plus its items' indent as separator, comes out as json.dumps indents it but for
its brackets. So the value is encoded one depth at a time, never a container at a time:
- the flat containers of a depth (100,000s of small dicts in a report) are encoded as one
  list in one C call and cut apart at the list's separators;
- dicts holding containers (findings) are taken column by column: dicts with the same keys
  have each key's values encoded together (a column of nested dicts is the next depth), and
  their texts are interleaved with the encoded keys in one `str.join`.
Encoded strings never hold a line break or another control character, so `},\n<indent>{`
only stands between two flat dicts of such a list, and "\x01" can mark where one text ends in
a string holding many.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from functools import lru_cache
from itertools import accumulate, chain
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from operator import itemgetter
from typing import Any

_ATOMS = frozenset({str, int, float, bool, type(None)})
_ATOMS_AND_CONTAINERS = _ATOMS | {dict, list}
_STR = frozenset({str})
_FLOAT = frozenset({float})
_DICT = frozenset({dict})
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


def indented_json(value: Any, end: str = "") -> str:
    """Exactly `json.dumps(plain(value), indent=2, ensure_ascii=False, allow_nan=False) + end`.

    Plain data (the usual case) is encoded as it is; anything plain() would change (NaN, a
    numpy scalar, a tuple, a non-str key) is plain()ed first, only where it occurs. `end` is
    joined in with the rest: adding it afterwards copies the whole text (70 MB of a large
    report.json, ~50 ms on a slow machine).
    """
    if type(value) is dict and value and _STR.issuperset(map(type, value)):
        pieces = _keyed_pieces([value], tuple(value), 0, "")
        pieces[-1] += end
        return "".join(pieces)
    return _texts([value], 0)[0] + end


def compact_plain_jsons(values: list[Any]) -> list[str]:
    """[compact_plain_json(value) for value in values], column-wise as indented_json works:
    the cells of a findings.csv column."""
    return _texts(values, None)


# A depth is an int in the indented document; None is the compact layout, the same at every
# depth: no line breaks, "," between items, ":" after a key.
Depth = int | None


def _texts(values: list[Any], depth: Depth) -> list[str]:
    """The text of each value as it stands at `depth` of the document."""
    kinds = set(map(type, values))
    if not kinds <= _ATOMS_AND_CONTAINERS:  # as plain() makes them, only where needed
        values = [value if type(value) in _ATOMS_AND_CONTAINERS else plain(value)
                  for value in values]
        kinds = set(map(type, values))
    if len(kinds) == 1 and (dict in kinds or list in kinds):
        return _container_texts(kinds.pop(), values, depth)
    if dict not in kinds and list not in kinds:
        return _atom_texts(values)
    return _merged(values, [type(value) for value in values],
                   lambda kind, part: _container_texts(kind, part, depth))


def _container_texts(kind: type, values: list[Any], depth: Depth) -> list[str]:
    if kind is dict:
        return _dict_texts(values, depth)
    if kind is list:
        return _list_texts(values, depth)
    return _atom_texts(values)


def _merged(values: list[Any], groups: list[Any],
            make: Callable[[Any, list[Any]], list[str]]) -> list[str]:
    """Each value's text, made group by group (`groups[i]` is value i's group, `make(group,
    values)` makes a group's texts), back in the values' order."""
    members: dict[Any, list[int]] = {}
    for index, group in enumerate(groups):
        members.setdefault(group, []).append(index)
    if len(members) == 1:
        return make(groups[0], values)
    texts: list[str] = [""] * len(values)
    for group, indexes in members.items():
        made = make(group, [values[index] for index in indexes])
        for index, text in zip(indexes, made, strict=True):
            texts[index] = text
    return texts


# groups of containers: one C call for the flat ones, the others taken apart
_FLAT, _NESTED = "flat", "nested"


def _dict_texts(dicts: list[dict[Any, Any]], depth: Depth) -> list[str]:
    """Dicts with the same keys (findings, their evidence...) are taken key by key: a key's
    values of all of them are encoded together, then interleaved with the key's text."""
    shapes = [tuple(value) for value in dicts]
    distinct = set(shapes)
    if len(distinct) == 1:
        return _keyed_texts(dicts, shapes[0], depth)
    if len(distinct) * 8 > len(dicts):  # mostly one-off key sets: flat ones a C call each
        shapes = [_FLAT if shape and _ATOMS.issuperset(map(type, value.values())) else shape
                  for shape, value in zip(shapes, dicts, strict=True)]
    return _merged(dicts, shapes, lambda shape, part: _flat_texts(part, depth)
                   if shape is _FLAT else _keyed_texts(part, shape, depth))


def _list_texts(lists: list[list[Any]], depth: Depth) -> list[str]:
    shapes = [_FLAT if value and depth is not None and _ATOMS.issuperset(map(type, value))
              else _NESTED if value else () for value in lists]
    return _merged(lists, shapes, lambda shape, part: _flat_texts(part, depth)
                   if shape is _FLAT else _nested_list_texts(part, depth)
                   if shape is _NESTED else ["[]"] * len(part))


def _flat_texts(containers: list[Any], depth: Depth) -> list[str]:
    """Non-empty dicts (or lists) of atoms only. Indented, encoded as one list in one C call:
    the list's separator is the containers' own, so it stands only between two containers as
    `},\n<indent>{` (`],\n<indent>[`), since an atom never ends in a bracket nor holds a line
    break. Compact, `},{` can be inside a string: a C call each."""
    if depth is None:
        return list(map(compact_plain_json, containers))
    if type(containers[0]) is dict and \
            not _STR.issuperset(map(type, chain.from_iterable(containers))):
        # keys as str(key), as json.dumps(plain()) writes them (it would write True as "true")
        containers = [value if _STR.issuperset(map(type, value)) else plain(value)
                      for value in containers]
    encode, separator = _run_encoder(depth), _separator(depth)
    try:
        text = encode(containers)
    except ValueError:  # NaN or infinity: null, as plain() makes them
        text = encode([plain(value) for value in containers])
    opening, closing = ("{", "}") if type(containers[0]) is dict else ("[", "]")
    before, after = _brackets(opening, closing, depth)
    text = text[2:-2].replace(f"{closing}{separator}{opening}", f"{after}\x01{before}")
    return f"{before}{text}{after}".split("\x01")


def _keyed_texts(dicts: list[dict[Any, Any]], keys: tuple[Any, ...], depth: Depth
                 ) -> list[str]:
    """Dicts that all have these keys, in this order."""
    if not keys:
        return ["{}"] * len(dicts)
    if not _STR.issuperset(map(type, keys)):
        # keys as str(key), as json.dumps(plain()) writes them (it would write True as "true")
        return _dict_texts([plain(value) for value in dicts], depth)
    return _one_or_split("".join(_keyed_pieces(dicts, keys, depth, "\x01")), len(dicts))


def _keyed_pieces(dicts: list[dict[str, Any]], keys: tuple[str, ...], depth: Depth,
                  between: str) -> list[str]:
    """The dicts' texts in pieces, `between` between two dicts: key 1, value 1, ..., key n,
    value n for each, their values encoded key by key for all of them at once."""
    separator, colon = _separator(depth), ":" if depth is None else ": "
    opening, closing = _brackets("{", "}", depth)
    stride = 2 * len(keys) + 1  # key 1, value 1, ..., key n, value n, what follows the dict
    pieces: list[str] = [f"{closing}{between}{opening}"] * (stride * len(dicts) + 1)
    pieces[0] = opening
    for at, key in enumerate(keys):
        pieces[2 * at + 1::stride] = \
            [f"{separator if at else ''}{encode_basestring(key)}{colon}"] * len(dicts)
        pieces[2 * at + 2::stride] = _texts(list(map(itemgetter(key), dicts)), _below(depth))
    pieces[-1] = closing
    return pieces


def _nested_list_texts(lists: list[list[Any]], depth: Depth) -> list[str]:
    """Lists holding containers (or any lists, compact): all their items encoded together,
    then joined list by list."""
    separator = _separator(depth)
    opening, closing = _brackets("[", "]", depth)
    if len(lists) == 1:  # report["findings"]: its 10,000s of texts are never cut apart
        pieces = _joined_pieces(lists[0], _below(depth), separator)
    else:
        items = _texts(list(chain.from_iterable(lists)), _below(depth))
        pieces = [separator] * (2 * len(items) - 1)
        pieces[::2] = items
        between = f"{closing}\x01{opening}"
        for end in list(accumulate(map(len, lists)))[:-1]:  # after each list but the last
            pieces[2 * end - 1] = between
    pieces[0] = opening + pieces[0]
    pieces[-1] += closing  # the same piece when there is one
    return _one_or_split("".join(pieces), len(lists))


def _joined_pieces(values: list[Any], depth: Depth, separator: str) -> list[str]:
    """separator.join(_texts(values, depth)), in pieces; dicts with the same keys are never
    cut apart."""
    if _DICT.issuperset(map(type, values)):
        shapes = set(map(tuple, values))
        if len(shapes) == 1:
            keys = shapes.pop()
            if keys and _STR.issuperset(map(type, keys)):
                return _keyed_pieces(values, keys, depth, separator)
    texts = _texts(values, depth)
    pieces = [separator] * (2 * len(texts) - 1)
    pieces[::2] = texts
    return pieces


def _one_or_split(text: str, count: int) -> list[str]:
    """`count` texts joined by "\x01", apart again; one is returned as it is (a split would
    scan it all for nothing: a large report's findings list is 60 MB)."""
    return [text] if count == 1 else text.split("\x01")


def _atom_texts(values: list[Any]) -> list[str]:
    """Strings, numbers, booleans and None (or their subclasses): one C call for them all."""
    if _STR.issuperset(map(type, values)):
        distinct = set(values)
        if len(distinct) * 4 < len(values):  # rule, severity, account...: each encoded once
            encoded = {value: encode_basestring(value) for value in distinct}
            return list(map(encoded.__getitem__, values))
        return list(map(encode_basestring, values))
    if _FLOAT.issuperset(map(type, values)):
        distinct = set(values)
        if len(distinct) * 2 < len(values) and all(map(math.isfinite, distinct)):
            return _repeated_float_texts(values, distinct)
    try:
        text = _atoms_encoder(values)
    except ValueError:  # NaN or infinity: null, as plain() makes them
        text = _atoms_encoder([plain(value) for value in values])
    return text[1:-1].split("\x01")


def _repeated_float_texts(values: list[float], distinct: set[float]) -> list[str]:
    """Finite floats, each distinct one repr()ed once (thresholds, prices, rounded percents:
    23,000 distinct among 300,000 in a large report's evidence). 0.0 and -0.0 are one key of
    a dict, so zeros get their own repr."""
    encoded = {value: float.__repr__(value) for value in distinct}
    texts = list(map(encoded.__getitem__, values))
    if 0.0 in encoded:
        for index, value in enumerate(values):
            if value == 0.0:
                texts[index] = float.__repr__(value)
    return texts


def _below(depth: Depth) -> Depth:
    return None if depth is None else depth + 1


@lru_cache(maxsize=256)
def _brackets(opening: str, closing: str, depth: Depth) -> tuple[str, str]:
    """A container's text before its first item and after its last one."""
    if depth is None:
        return opening, closing
    return f"{opening}\n{_INDENT * (depth + 1)}", f"\n{_INDENT * depth}{closing}"


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


@lru_cache(maxsize=64)
def _separator(depth: Depth) -> str:
    return "," if depth is None else ",\n" + _INDENT * (depth + 1)


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
_atoms_encoder = _encoder("\x01", ":")  # a list of atoms, "\x01" between their texts
