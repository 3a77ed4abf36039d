"""Shared fixtures: fake credentials so no test can reach real AWS."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from tests.support import botocore_models, moto_metrics

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "ap-south-1",
}


@pytest.fixture(scope="session", autouse=True)
def _fast_moto_metrics() -> Iterator[None]:
    """moto's GetMetricData, with its answers, without its scan of every datum per period
    (tests/support/moto_metrics.py): in-process mocks and moto servers alike."""
    with moto_metrics.installed():
        yield


@pytest.fixture(scope="session", autouse=True)
def _botocore_models_parsed_once() -> Iterator[None]:
    """tests/support/botocore_models.py: each JSON model file parsed once per process."""
    with botocore_models.installed():
        yield


@pytest.fixture(autouse=True)
def _fake_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path_factory) -> None:
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    # Cost Explorer answers are cached on disk: keep each test session's cache to itself.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
    # Prices come from the embedded tables only, never from a developer's refreshed cache;
    # tests of the cache point RIGHTSIZER_PRICING_CACHE at their own directory.
    monkeypatch.setenv("RIGHTSIZER_PRICING_CACHE", "off")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
