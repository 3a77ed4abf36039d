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
from botocore.exceptions import (
    ClientError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from rightsizer.errors import RightsizerError

# botocore's endpoint prefix -> the IAM service prefix, where they differ.
_IAM_PREFIX = {"monitoring": "cloudwatch", "tagging": "tag", "api.pricing": "pricing",
               "api.ecr": "ecr"}

# Who makes a call: the credentials rightsizer runs with, or a role it assumed in an account
# ([aws] accounts / organization). `rightsizer iam-policy --principal` prints each one's share.
CALLER = "caller"
ROLE = "role"


class CallRecorder:
    """Counts API operations as `iam-prefix:Operation` (thread-safe), in all and by principal
    (CALLER or ROLE)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.by_principal: dict[str, Counter[str]] = {CALLER: Counter(), ROLE: Counter()}
        self.metric_queries = 0  # GetMetricData is billed per metric requested
        # sts:AssumeRole's RoleArn of every call, so a test can check the policy's resources
        self.assumed_role_arns: list[str] = []

    def attach(self, session: boto3.Session, principal: str = CALLER) -> None:
        # Registered on the session before any client exists, so every client inherits it;
        # before-parameter-build fires for every call, even one a before-call hook answers.
        def handler(model: Any, params: dict[str, Any], **_: Any) -> None:
            self._before_call(model, params, principal)

        session.events.register("before-parameter-build", handler)

    def _before_call(self, model: Any, params: dict[str, Any], principal: str) -> None:
        prefix = model.service_model.endpoint_prefix
        name = f"{_IAM_PREFIX.get(prefix, prefix)}:{model.name}"
        with self._lock:
            self.calls[name] += 1
            self.by_principal[principal][name] += 1
            if name == "cloudwatch:GetMetricData":
                self.metric_queries += len(params.get("MetricDataQueries", []))
            elif name == "sts:AssumeRole":
                self.assumed_role_arns.append(str(params.get("RoleArn", "")))

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


# --- sessions and the failures that stop a run before it starts ---------------------------

def make_session(**kwargs: Any) -> boto3.Session:
    """boto3.Session(**kwargs), with a missing profile (AWS_PROFILE=nope) as one clear line."""
    try:
        return boto3.Session(**kwargs)
    except ProfileNotFound as exc:
        raise RightsizerError(profile_not_found_message(exc)) from None


def profile_not_found_message(exc: ProfileNotFound) -> str:
    profile = exc.kwargs.get("profile", "")
    return (f"AWS profile {profile!r} not found (set by AWS_PROFILE or the config file "
            "named by AWS_CONFIG_FILE)")


# Error codes AWS answers for credentials it does not accept (IAM, STS and the signing layer).
CREDENTIAL_ERROR_CODES = frozenset({
    "AccessDenied", "AuthFailure", "ExpiredToken", "ExpiredTokenException",
    "IncompleteSignature", "InvalidAccessKeyId", "InvalidClientTokenId", "InvalidToken",
    "MissingAuthenticationToken", "RequestExpired", "SignatureDoesNotMatch",
    "UnrecognizedClientException",
})


def caller_identity_failure(exc: BaseException, operation: str = "sts:GetCallerIdentity"
                            ) -> RightsizerError:
    """The one line for a failure of the run's first call: no credentials, credentials AWS
    rejects, a network that does not reach AWS (never called "credentials rejected"), or
    anything else with its own name."""
    if isinstance(exc, NoCredentialsError):
        return RightsizerError("no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID, "
                               "or try --demo")
    if isinstance(exc, ProfileNotFound):
        return RightsizerError(profile_not_found_message(exc))
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "ClientError")
        message = str(error.get("Message") or exc)
        if code in CREDENTIAL_ERROR_CODES:
            return RightsizerError(f"AWS credentials rejected ({code}): {message}")
        return RightsizerError(f"{operation} failed ({code}): {message}")
    name = type(exc).__name__
    if isinstance(exc, BotoConnectionError | HTTPClientError):  # no route, timeouts, TLS, proxy
        return RightsizerError(f"cannot reach AWS ({name}): {exc}; check the network, the "
                               "region, and AWS_ENDPOINT_URL if set")
    if isinstance(exc, PartialCredentialsError | CredentialRetrievalError | SSOError
                  | TokenRetrievalError):
        return RightsizerError(f"AWS credentials could not be loaded ({name}): {exc}")
    if isinstance(exc, NoRegionError):
        return RightsizerError("no AWS region: set [aws] regions in config.toml, or AWS_REGION")
    return RightsizerError(f"{operation} failed ({name}): {exc}")


# botocore's ValueError for an endpoint that is no URL (AWS_ENDPOINT_URL=localhost:5000).
_INVALID_ENDPOINT = "Invalid endpoint: "


def invalid_endpoint_message(exc: BaseException) -> str | None:
    """The one line for a malformed endpoint URL, or None when `exc` is another error."""
    text = str(exc)
    if not isinstance(exc, ValueError) or not text.startswith(_INVALID_ENDPOINT):
        return None
    return (f"invalid AWS endpoint {text.removeprefix(_INVALID_ENDPOINT)!r} (from "
            "AWS_ENDPOINT_URL or the profile's endpoint_url): expected a URL such as "
            "http://localhost:5000")


def aws_failure_text(exc: BaseException) -> str:
    """What went wrong with an AWS call made after the run's own (the Slack secret, the report
    upload), in the words caller_identity_failure uses, without its "try --demo" advice."""
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID)"
    if isinstance(exc, NoRegionError):
        return "no AWS region (set AWS_REGION, or name the resource by its ARN)"
    return invalid_endpoint_message(exc) or str(caller_identity_failure(exc))

