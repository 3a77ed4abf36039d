"""The one place AWS clients are built: retries, timeouts, and a record of every call made.

Every client of a run comes from an AwsClients, so the read-only promise and the run's own API
bill can be checked from its CallRecorder.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config as BotoConfig

# botocore's endpoint prefix -> the IAM service prefix, where they differ.
_IAM_PREFIX = {"monitoring": "cloudwatch", "tagging": "tag", "api.pricing": "pricing"}


class CallRecorder:
    """Counts API operations as `iam-prefix:Operation` (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.metric_queries = 0  # GetMetricData is billed per metric requested

    def attach(self, session: boto3.Session) -> None:
        # Registered on the session before any client exists, so every client inherits it;
        # before-parameter-build fires for every call, even one a before-call hook answers.
        session.events.register("before-parameter-build", self._before_call)

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        prefix = model.service_model.endpoint_prefix
        name = f"{_IAM_PREFIX.get(prefix, prefix)}:{model.name}"
        with self._lock:
            self.calls[name] += 1
            if name == "cloudwatch:GetMetricData":
                self.metric_queries += len(params.get("MetricDataQueries", []))

    @property
    def total(self) -> int:
        return sum(self.calls.values())


class AwsClients:
    """Clients for one account's credentials, cached per (service, region)."""

    def __init__(self, session: boto3.Session, *, max_attempts: int = 8,
                 connect_timeout: float = 5, read_timeout: float = 30) -> None:
        self.session = session
        self._config = BotoConfig(
            # adaptive mode adds client-side rate limiting on top of standard retries, which is
            # what keeps a large organization's collection under the account's API quotas.
            retries={"mode": "adaptive", "max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=32,
        )
        self._clients: dict[tuple[str, str], BaseClient] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                # boto3 honours AWS_ENDPOINT_URL itself (e.g. a moto server for tests).
                self._clients[key] = self.session.client(service, region_name=region,
                                                         config=self._config)
            return self._clients[key]
