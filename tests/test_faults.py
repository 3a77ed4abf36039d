"""Faults: throttling, access denied, timeouts, 5xx, odd responses, bad credentials.

Every fault is injected into the synthetic AWS (tests.support.synthetic_aws), so the real
botocore stack (retries, parsing) and the real collectors run. The promise under test (DESIGN.md):
an API failure is an error row and the run goes on; a resource is never silently dropped.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.retries.adaptive
import botocore.retries.standard
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError
from typer.testing import CliRunner

from rightsizer.cli import app
from rightsizer.collect.collectors.costs import MonthlyCache
from rightsizer.collect.run import collect_snapshot
from rightsizer.config import Config
from rightsizer.report.build import analyze
from rightsizer.rules.registry import REGISTRY
from rightsizer.snapshot.store import Snapshot
from tests.support.synthetic_aws import SyntheticAws, SyntheticSpec

NOW = datetime(2026, 1, 15, 6, tzinfo=UTC)
ACCOUNT = "111111111111"
REGIONS = ("us-east-1", "ap-south-1")


@pytest.fixture(autouse=True)
def _no_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep botocore's retry *decisions* but not its sleeps: 30% throttling with real
    exponential backoff and adaptive rate limiting takes ~20 s even for a small account."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount",
                        lambda self, context: 0)
    monkeypatch.setattr(botocore.retries.adaptive.ClientRateLimiter, "on_sending_request",
                        lambda self, request, **kwargs: None)


def spec(**changes: Any) -> SyntheticSpec:
    values: dict[str, Any] = {"latency": 0, "accounts": (ACCOUNT,), "regions": REGIONS,
                              "ecs_services": 24, "rds_instances": 10, "buckets": 12,
                              "cache_clusters_per_region": 2, "log_groups_per_region": 3,
                              "services_per_cluster": 5, "suspended_accounts": ()}
    values.update(changes)
    return SyntheticSpec(**values)


def config(max_attempts: int = 8) -> Config:
    # no accounts and no organization: the credentials' own account, no AssumeRole
    return Config.model_validate({"aws": {"regions": list(REGIONS),
                                          "max_attempts": max_attempts}})


def collect(fake: SyntheticAws, cfg: Config | None = None,
            session: boto3.Session | None = None) -> Snapshot:
    return collect_snapshot(cfg or config(), session or fake.session(), now=NOW,
                            cost_cache=MonthlyCache(None, NOW.date()))


def inject(session: boto3.Session, service: str, operation: str,
           fault: Callable[..., AWSResponse | None]) -> None:
    """Run `fault` before the synthetic AWS answers (register_first: it goes ahead of the
    fake's own before-send handler); returning a response or raising replaces the answer."""
    session.events.register_first(f"before-send.{service}.{operation}", fault)


# --- the fake account's inventory, as the report names it ----------------------------------

def inventory(fake: SyntheticAws) -> list[tuple[str, str, str, str]]:
    """(resource_type, resource_id, region, collector service) of everything the fake holds."""
    rows: list[tuple[str, str, str, str]] = []
    for (account, region), clusters in fake.services.items():
        for cluster, services in clusters.items():
            rows += [("ecs-service", f"arn:aws:ecs:{region}:{account}:service/{cluster}/"
                      f"{s.name}", region, "ecs") for s in services]
    for (account, region), indexes in fake.databases.items():
        rows += [("rds-instance", f"arn:aws:rds:{region}:{account}:db:db-{i:05d}", region, "rds")
                 for i in indexes]
    for rows_of_account in fake.buckets.values():
        rows += [("s3-bucket", f"arn:aws:s3:::{name}", region, "s3")
                 for name, region, _ in rows_of_account]
    for account in fake.spec.accounts:
        for region in fake.spec.regions:
            rows += [("elasticache-cluster",
                      f"arn:aws:elasticache:{region}:{account}:cluster:cache-{account[-4:]}-"
                      f"{region}-{k}", region, "elasticache")
                     for k in range(fake.spec.cache_clusters_per_region)]
            rows += [("log-group", f"arn:aws:logs:{region}:{account}:log-group:/ecs/app-{k}",
                      region, "logs") for k in range(fake.spec.log_groups_per_region)]
    return rows


def judged(report: dict[str, Any]) -> set[tuple[str, str]]:
    """(rule, resource id) of every finding and skipped row (log group ARNs lose their ":*")."""
    return {(row["rule"], row["resource_id"].removesuffix(":*"))
            for row in report["findings"] + report["skipped"]}


@functools.cache
def clean_judgements() -> frozenset[tuple[str, str]]:
    """What the rules say about the default fake account when nothing fails."""
    fake = SyntheticAws(spec())
    with fake.installed():
        snapshot = collect(fake)
    report, _ = analyze(snapshot, config())
    assert report["errors"] == []
    return frozenset(judged(report))


def dropped(fake: SyntheticAws, report: dict[str, Any]) -> list[str]:
    """Judgements of the clean run missing from this one without an error row for their
    service where the resource lives (S3 lists every bucket from the home region).

    A rule judging a resource fine writes nothing (DESIGN.md: only a resource a rule *could
    not judge* must be a skipped row), so the clean run is the reference, not the inventory.
    """
    where = {resource_id: (region, service)
             for _, resource_id, region, service in inventory(fake)}
    failed = {(row["region"], row["service"]) for row in report["errors"]}
    missing = []
    for rule, resource_id in sorted(clean_judgements() - judged(report)):
        region, service = where[resource_id]
        if (region, service) in failed or (service == "s3" and (REGIONS[0], "s3") in failed):
            continue
        missing.append(f"{rule} {resource_id}")
    return missing


def test_the_inventory_helper_names_what_a_clean_run_collects():
    """Guards the reference: the helper's ids are the ids collectors and rules use."""
    fake = SyntheticAws(spec())
    with fake.installed():
        snapshot = collect(fake)
    collected = {str(arn).removesuffix(":*") for table, column in (
        ("ecs_services", "service_arn"), ("rds_instances", "arn"), ("s3_buckets", "arn"),
        ("elasticache_clusters", "arn"), ("log_groups", "arn"))
        for arn in snapshot.table(table)[column]}
    assert collected == {resource_id for _, resource_id, _, _ in inventory(fake)}
    assert len(collected) == 24 + 10 + 12 + 4 + 6
    # every rule over the kinds the synthetic organization holds judges something in it
    held = {"ecs-service", "rds-instance", "s3-bucket", "elasticache-cluster", "log-group",
            "savings-plan"}  # its Fargate spend: a Savings Plan is judged on it
    resource_types = {REGISTRY[rule].resource_type for rule, _ in clean_judgements()}
    assert resource_types == {rule.resource_type for rule in REGISTRY.values()} & held


# --- throttling ------------------------------------------------------------------------------

@pytest.mark.parametrize("max_attempts", [2, 8])
def test_30_percent_throttling_drops_nothing_silently(max_attempts: int):
    """With 2 attempts a call fails ~9% of the time (error rows); with 8 almost never."""
    fake = SyntheticAws(spec(throttle=0.3, seed=11))
    with fake.installed():
        snapshot = collect(fake, config(max_attempts))
    report, _ = analyze(snapshot, config(max_attempts))
    assert sum(fake.throttled.values()) > 20
    assert dropped(fake, report) == []
    codes = {row["code"] for row in report["errors"]}
    # every protocol's throttling code (EC2's is RequestLimitExceeded)
    assert codes <= {"ThrottlingException", "Throttling", "SlowDown", "RequestLimitExceeded"}, \
        codes
    if max_attempts == 2:
        assert report["errors"], "seed 11 should exhaust some calls' two attempts"


# --- access denied ---------------------------------------------------------------------------

def test_access_denied_for_one_service_in_one_region_is_one_error_row_and_exit_0(
        tmp_path: Path):
    fake = SyntheticAws(spec(deny=[(ACCOUNT, "ap-south-1", "ecs")]))
    config_file = tmp_path / "config.toml"
    config_file.write_text(f'[aws]\nregions = {json.dumps(list(REGIONS))}\n'
                           f'[report]\ndirectory = "{tmp_path / "reports"}"\n')
    with fake.installed():  # the CLI's own boto3.Session() is answered by the fake too
        result = CliRunner().invoke(app, ["analyze", "--config", str(config_file),
                                          "--output", str(tmp_path / "out"),
                                          "--format", "json", "--quiet"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [(e["region"], e["service"], e["operation"], e["code"])
            for e in report["errors"]] == [("ap-south-1", "ecs", "ListClusters",
                                            "AccessDeniedException")]
    regions_judged = {f["region"] for f in report["findings"] + report["skipped"]
                      if f["resource_type"] == "ecs-service"}
    assert regions_judged == {"us-east-1"}  # partial: the other region's services are there
    assert {f["resource_type"] for f in report["findings"] + report["skipped"]} >= {
        "rds-instance", "s3-bucket", "elasticache-cluster", "log-group"}
    assert dropped(fake, report) == []


# --- timeouts and broken responses -----------------------------------------------------------

def _timeout(**_: Any) -> None:
    raise ReadTimeoutError(endpoint_url="https://rds.ap-south-1.amazonaws.com/")


def test_a_read_timeout_is_an_error_row_and_the_run_goes_on():
    fake = SyntheticAws(spec())
    with fake.installed():
        session = fake.session()
        inject(session, "rds", "DescribeDBInstances",
               lambda request, **kw: _timeout() if "ap-south-1" in request.url else None)
        snapshot = collect(fake, config(max_attempts=2), session)
    report, _ = analyze(snapshot, config())
    assert [(e["region"], e["service"], e["operation"], e["code"])
            for e in report["errors"]] == [("ap-south-1", "rds", "DescribeDBInstances",
                                            "ReadTimeoutError")]
    assert set(snapshot.table("rds_instances")["region"]) == {"us-east-1"}
    assert len(snapshot.table("ecs_services")) == 24
    assert dropped(fake, report) == []


def test_a_read_timeout_on_the_first_attempt_only_is_retried_without_an_error():
    fake = SyntheticAws(spec())
    attempts: list[str] = []

    def first_times_out(request: Any, **_: Any) -> None:
        attempts.append(request.url)
        if len(attempts) == 1:
            _timeout()

    with fake.installed():
        session = fake.session()
        inject(session, "ecs", "ListClusters", first_times_out)
        snapshot = collect(fake, session=session)
    assert snapshot.table("errors").empty
    assert len(snapshot.table("ecs_services")) == 24 and len(attempts) == 3


def _server_error_with_a_broken_body(request: Any, **_: Any) -> AWSResponse | None:
    """A 500 whose body is cut off mid-XML (a proxy or load balancer failing)."""
    if "sts" not in request.url and "ap-south-1" not in request.url:
        return None
    raw = type("Raw", (), {"stream": lambda self, *a, **k: iter([b"<ErrorResponse><Error><Co"]),
                           "read": lambda self, *a: b"<ErrorResponse><Error><Co"})()
    return AWSResponse(request.url, 500, {"content-type": "text/xml"}, raw)


def test_a_500_surfacing_as_response_parser_error_is_an_error_row():
    fake = SyntheticAws(spec())
    with fake.installed():
        session = fake.session()
        # Checked first: botocore really does raise ResponseParserError for this body.
        inject(session, "rds", "DescribeDBInstances", _server_error_with_a_broken_body)
        with pytest.raises(ResponseParserError):
            session.client("rds", region_name="ap-south-1").describe_db_instances()
        snapshot = collect(fake, config(max_attempts=2), session)
    report, _ = analyze(snapshot, config())
    assert [(e["region"], e["service"], e["operation"], e["code"])
            for e in report["errors"]] == [("ap-south-1", "rds", "DescribeDBInstances",
                                            "ResponseParserError")]
    assert set(snapshot.table("rds_instances")["region"]) == {"us-east-1"}
    assert dropped(fake, report) == []


def test_a_broken_500_on_one_member_accounts_assume_role_is_an_error_row():
    """Account-level calls (AssumeRole) are outside recorded_failure: a ResponseParserError
    there used to end the whole run with "unexpected error" instead of skipping one account."""
    members = ("111111111111", "222222222222")
    fake = SyntheticAws(spec(accounts=members, ecs_services=8, rds_instances=4, buckets=4))
    cfg = Config.model_validate({"aws": {"regions": list(REGIONS), "accounts": list(members),
                                         "role_name": "R", "max_attempts": 2}})

    def broken_for_the_second(request: Any, **kwargs: Any) -> AWSResponse | None:
        if members[1] in request.body.decode() if isinstance(request.body, bytes) else \
                members[1] in str(request.body):
            return _server_error_with_a_broken_body(request, **kwargs)
        return None

    with fake.installed():
        session = fake.session("ap-south-1")
        inject(session, "sts", "AssumeRole", broken_for_the_second)
        snapshot = collect(fake, cfg, session)
    errors = snapshot.table("errors").to_dict("records")
    assert [(e["account"], e["service"], e["operation"], e["code"]) for e in errors] == [
        (members[1], "sts", "AssumeRole", "ResponseParserError")]
    assert snapshot.manifest["accounts"] == [members[0]]
    assert set(snapshot.table("ecs_services")["account"]) == {members[0]}


# --- responses missing optional fields -------------------------------------------------------

def _without(handler: Callable[..., dict[str, Any]], items_key: str, nested: str | None,
             fields: tuple[str, ...]) -> Callable[..., dict[str, Any]]:
    def stripped(account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        answer = handler(account, region, params)
        for item in answer.get(items_key, []):
            for target in (item.get(nested, []) if nested else [item]):
                for name in fields:
                    target.pop(name, None)
        return answer
    return stripped


def test_responses_missing_optional_fields_are_parsed_and_judged():
    fake = SyntheticAws(spec())
    # Instance attributes shadow the fake's handlers (it looks them up with getattr).
    fake._ecs_DescribeServices = _without(  # type: ignore[method-assign]
        fake._ecs_DescribeServices, "services", None,
        ("loadBalancers", "tags", "capacityProviderStrategy", "createdAt"))
    fake._rds_DescribeDBInstances = _without(  # type: ignore[method-assign]
        fake._rds_DescribeDBInstances, "DBInstances", None,
        ("MultiAZ", "TagList", "InstanceCreateTime"))
    fake._s3_GetBucketLifecycleConfiguration = _without(  # type: ignore[method-assign]
        fake._s3_GetBucketLifecycleConfiguration, "Rules", None, ("Filter", "ID"))
    original_costs = fake._ce_GetCostAndUsage

    def costs_without_metrics(account: str, region: str, params: dict[str, Any]
                              ) -> dict[str, Any]:
        answer = original_costs(account, region, params)
        for period in answer["ResultsByTime"]:
            period["Groups"][0].pop("Metrics")
        return answer

    fake._ce_GetCostAndUsage = costs_without_metrics  # type: ignore[method-assign]
    with fake.installed():
        snapshot = collect(fake)
    assert snapshot.table("errors").empty  # a KeyError would have become an error row
    services = snapshot.table("ecs_services")
    assert set(services["load_balancer_count"]) == {0} and set(services["tags"]) == {"{}"}
    assert not snapshot.table("rds_instances")["multi_az"].any()
    assert "present" in set(snapshot.table("s3_buckets")["lifecycle_state"])
    assert 0.0 in set(snapshot.table("costs")["amount_usd"])
    report, context = analyze(snapshot, config())
    # Without MultiAZ (false when absent) and TagList no database is a Multi-AZ non-production
    # one any more: rds-multi-az-nonprod rightly has nothing left to say about them.
    assert [line for line in dropped(fake, report)
            if not line.startswith("rds-multi-az-nonprod ")] == []
    assert context["cost_trend"]


# --- credentials -----------------------------------------------------------------------------

EXPIRED_RUNNER = """
import sys
from tests.support.synthetic_aws import SyntheticAws, SyntheticAwsError, SyntheticSpec

def expired(account, region, params):
    raise SyntheticAwsError("ExpiredToken",
                            "The security token included in the request is expired", 403)

fake = SyntheticAws(SyntheticSpec(latency=0))
fake._sts_GetCallerIdentity = expired
with fake.installed():
    from rightsizer.cli import main
    sys.argv = ["rightsizer", *sys.argv[1:]]
    main()
"""


def test_expired_credentials_are_one_line_and_exit_2(tmp_path: Path):
    """A subprocess through the real entry point (main), with the fake installed first."""
    runner = tmp_path / "run_expired.py"
    runner.write_text(EXPIRED_RUNNER)
    secret, token = "ExPiReDsEcReT0123456789", "ExPiReDsEsSiOnToKeN0123456789"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIAEXPIRED000000000",
           "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token,
           "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, str(runner), "analyze", "--region", "us-east-1",
                             "--output", str(tmp_path / "out")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "rightsizer: AWS credentials rejected (ExpiredToken): The security token included in "
        "the request is expired"]
    assert secret not in result.stderr + result.stdout
    assert token not in result.stderr + result.stdout
    assert not (tmp_path / "out").exists()



def test_no_network_is_named_as_such_not_as_rejected_credentials(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Nothing listens on the endpoint: EndpointConnectionError on sts:GetCallerIdentity."""
    from tests.conftest import free_port

    port = free_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    config_file = tmp_path / "config.toml"
    config_file.write_text("[aws]\nregions = [\"us-east-1\"]\nmax_attempts = 1\n")
    result = CliRunner().invoke(app, ["analyze", "--config", str(config_file), "--output",
                                      str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("rightsizer: cannot reach AWS (EndpointConnectionError): Could not "
                           f"connect to the endpoint URL: \"http://127.0.0.1:{port}/\"")
    assert "check the network" in line and "credentials" not in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("exc", "expected"), [
    (NoCredentialsError(), "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID, or "
     "try --demo"),
    (ProfileNotFound(profile="nope"), "AWS profile 'nope' not found"),
    (ClientError({"Error": {"Code": "InvalidClientTokenId", "Message": "The security token "
                            "included in the request is invalid."}}, "GetCallerIdentity"),
     "AWS credentials rejected (InvalidClientTokenId): The security token included"),
    (ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}},
                 "GetCallerIdentity"), "sts:GetCallerIdentity failed (Throttling): Rate exceeded"),
    (EndpointConnectionError(endpoint_url="https://sts.ap-south-1.amazonaws.com/"),
     "cannot reach AWS (EndpointConnectionError)"),
    (ConnectTimeoutError(endpoint_url="https://sts.ap-south-1.amazonaws.com/"),
     "cannot reach AWS (ConnectTimeoutError)"),
    (ReadTimeoutError(endpoint_url="https://sts.ap-south-1.amazonaws.com/"),
     "cannot reach AWS (ReadTimeoutError)"),
    (CredentialRetrievalError(provider="sso", error_msg="token expired"),
     "AWS credentials could not be loaded (CredentialRetrievalError)"),
], ids=["none", "profile", "rejected", "throttled", "no-route", "connect-timeout",
        "read-timeout", "sso"])
def test_first_call_failures_each_say_what_went_wrong(exc: Exception, expected: str):
    from rightsizer.aws.clients import caller_identity_failure

    message = str(caller_identity_failure(exc))
    assert message.startswith(expected) and "\n" not in message
    if "rejected" not in expected:
        assert "rejected" not in message


# --- an interrupted snapshot save ------------------------------------------------------------

def test_an_interrupted_snapshot_save_keeps_the_previous_snapshot(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fake = SyntheticAws(spec(ecs_services=6, rds_instances=2, buckets=2))
    with fake.installed():
        first = collect(fake)
        second = collect(fake, config(max_attempts=2))
    second.manifest["generated_at"] = "second run"
    second.tables["ecs_services"] = second.table("ecs_services").iloc[:1]
    directory = first.save(tmp_path / "snapshot")
    before = {path.name: path.read_bytes() for path in directory.iterdir()}

    real_write_bytes = Path.write_bytes
    calls: list[str] = []

    def fails_on_the_third(path: Path, data: bytes) -> int:
        calls.append(str(path))
        if len(calls) == 3:
            real_write_bytes(path, data[:10])  # the crash comes mid-write
            raise OSError(28, "No space left on device")
        return real_write_bytes(path, data)

    monkeypatch.setattr(Path, "write_bytes", fails_on_the_third)
    with pytest.raises(OSError, match="No space left"):
        second.save(directory)
    monkeypatch.undo()

    assert [path for path in tmp_path.rglob("*") if path.name.endswith(".tmp")
            or ".tmp" in path.parent.name] == []
    assert {path.name: path.read_bytes() for path in directory.iterdir()} == before
    loaded = Snapshot.load(directory)
    assert loaded.manifest == json.loads(json.dumps(first.manifest, default=str))
    assert len(loaded.table("ecs_services")) == 6
