"""botocore's JSON models parsed once per test process, not once per session.

Every boto3.Session has a loader of its own, and each loader parses the service models,
endpoint rule sets and paginators it needs from the installed JSON files: the tests make
hundreds of sessions (a fake account each, an assumed role each), so most of a small
collection is botocore reading the same files again. Within one session botocore already
hands every client the same parsed object, so sharing it across sessions is what a long-lived
session does; files are still found through each loader's own search paths.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore import loaders

ORIGINAL = loaders.JSONFileLoader.load_file
_parsed: dict[str, Any] = {}
_lock = threading.Lock()


def load_file(self: Any, file_path: str) -> Any:
    with _lock:
        if file_path in _parsed:
            return _parsed[file_path]
    data = ORIGINAL(self, file_path)
    if data is not None:
        with _lock:
            data = _parsed.setdefault(file_path, data)
    return data


@contextmanager
def installed() -> Iterator[None]:
    previous = loaders.JSONFileLoader.load_file
    loaders.JSONFileLoader.load_file = load_file
    try:
        yield
    finally:
        loaders.JSONFileLoader.load_file = previous
