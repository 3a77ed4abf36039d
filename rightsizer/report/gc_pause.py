"""Pause CPython's cyclic garbage collector while a large report is built and rendered.

Used in two places only: `analysis.analyze` (rules, report, context) and
`outputs.write_outputs` (the renderers). Collection itself runs with the collector on: botocore
makes cyclic garbage.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collections inside the block (reference counting still frees everything).

    With 10,000s of findings, the report holds a million live dicts and lists; the objects
    made while building or rendering it trigger full collections that walk all of them and
    free nothing (the report's data holds no cycles). What that costs, paused or not, is in
    docs/benchmarks.md. The previous state is restored, so nesting and a caller that disabled
    collection itself are both fine.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
