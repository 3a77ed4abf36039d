"""What every collector shares: the target it reads and the way it records a failure."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from rightsizer.aws.clients import AwsClients

log = logging.getLogger("rightsizer")

GLOBAL_REGION = "global"
# What an AWS call can raise for a failure of AWS (not of rightsizer). ResponseParserError (a
# 5xx with a cut-off body) is a plain Exception in botocore, not a BotoCoreError.
AWS_FAILURES: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Target:
    """One account in one region, with the clients to read it."""

    account: str
    region: str
    clients: AwsClients
    # The run's pool for per-resource calls (one per bucket, per task definition): thousands of
    # 50 ms round trips in a row would dominate a run. Work mapped on it must not map again
    # (a task waiting on the pool it runs on can deadlock).
    fanout: Executor | None = field(default=None, repr=False, compare=False)

    def client(self, service: str, region: str | None = None) -> Any:
        return self.clients.client(service, region or self.region)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """fn over items, in parallel on the fan-out pool when there is one; results in order."""
        items = list(items)
        if self.fanout is None or len(items) < 2:
            return [fn(item) for item in items]
        return list(self.fanout.map(fn, items))


@dataclass
class ErrorLog:
    """Error rows of a run; collectors append and carry on (thread-safe)."""

    rows: list[dict[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, account: str, region: str, service: str, operation: str, code: str,
            message: str) -> None:
        row = {"account": account, "region": region, "service": service,
               "operation": operation, "code": code, "message": message[:500]}
        with self._lock:
            self.rows.append(row)
        log.warning("%s %s %s:%s failed: %s %s", account, region, service, operation, code,
                    message[:200])

    def add_exception(self, account: str, region: str, service: str, operation: str,
                      exc: BaseException) -> None:
        code, message = describe_exception(exc)
        self.add(account, region, service, operation, code, message)


def describe_exception(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return str(error.get("Code") or "ClientError"), str(error.get("Message") or exc)
    # A 5xx can surface as ResponseParserError (a BotoCoreError), not a ClientError.
    return type(exc).__name__, str(exc) or type(exc).__name__


@contextmanager
def recorded_failure(errors: ErrorLog, account: str, region: str, service: str,
                     operation: str) -> Iterator[None]:
    """Turn an API failure into an error row; the caller's loop goes on."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        errors.add_exception(account, region, service, operation, exc)
    except Exception as exc:  # noqa: BLE001 - an odd response must not end the run
        errors.add_exception(account, region, service, operation, exc)


def paginated_rows(target: Target, errors: ErrorLog, service: str, operation: str,
                   items_key: str, row: Callable[[dict[str, Any]], dict[str, Any]],
                   **params: Any) -> list[dict[str, Any]]:
    """One row per item of every page of `operation`; a failure is an error row, and the rows
    of the pages read before it are kept."""
    rows: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, target.region, service, operation):
        paginator = target.client(service).get_paginator(xform_name(operation))
        for page in paginator.paginate(**params):
            rows.extend(row(item) for item in page.get(items_key, []))
    return rows


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def to_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def tags_to_dict(tags: list[dict[str, Any]] | None, key: str = "Key",
                 value: str = "Value") -> dict[str, str]:
    return {str(item.get(key)): str(item.get(value, "")) for item in tags or [] if key in item}


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
