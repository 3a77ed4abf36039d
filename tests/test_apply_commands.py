"""The apply test: every finding's `how_to_apply.cli` works as pasted, and does what it says.

A moto server holds the demo account plus the state that gives each rule under test a finding
(a swinging service without autoscaling, an over-sized gp2 database, an idle one, a bucket with
enabled rules, log groups that keep everything). `rightsizer analyze` runs against it as a
subprocess, exactly as a user would; then each finding's CLI text runs in
`bash -e -o pipefail -c` against the same server, must exit 0, and boto3 checks that the
account is now in the state the finding recommends, with nothing else lost on the way (a
bucket's existing lifecycle rules, a task definition's containers, images and roles).

Reservation purchases (rds-reserved-instance, elasticache-reserved-node) are checked for
presence only: moto implements neither DescribeReserved{DBInstances,CacheNodes}Offerings nor
PurchaseReserved{DBInstances,CacheNodes}Offering (its server answers 500), so there is no
offering id to look up, nothing to buy and no purchase to observe.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from rightsizer.demo.account import (
    DEMO_CLUSTER,
    MAX_DATUMS_PER_CALL,
    DemoAccount,
    build_demo_account,
)
from rightsizer.rules.findings import Finding
from rightsizer.rules.registry import REGISTRY
from tests.conftest import FAKE_CREDENTIALS, free_port
from tests.support.moto_server import moto_server_config

HOME = "ap-south-1"  # the demo account's region
# where the embedded tables price RDS storage and Logs storage (not ap-south-1). RDS is not in
# us-east-1 because AWS CLI v1 sends `aws rds` there to https://rds.amazonaws.com whatever
# AWS_ENDPOINT_URL says (awscli/customizations/overridesslcommonname.py: only --endpoint-url
# overrides it), which would send the commands past the moto server.
RDS_REGION, LOGS_REGION = "eu-west-1", "us-east-1"
ECS_RULES = ("ecs-rightsize", "ecs-fargate-spot", "ecs-autoscaling-missing")
RDS_RULES = ("rds-rightsize", "rds-storage-gp3", "rds-idle")
APPLIED_RULES = (*ECS_RULES, *RDS_RULES, "s3-lifecycle", "logs-retention")
PURCHASE_RULES = ("rds-reserved-instance", "elasticache-reserved-node")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what findings.csv neutralises

PORTAL_SERVICE = "edufly-portal"  # 2 vCPU / 4 GB at 15% CPU, containers with their own limits
SCALING_SERVICE = "edufly-sync"  # 4 tasks all day, CPU 6% at night and 70% in school hours
REPORTING_DB = "edufly-db-reporting"  # db.t3.medium on gp2, 12% CPU, 3 of 4 GiB free
LEGACY_DB = "edufly-db-legacy"  # nobody has connected for the whole window
AUDIT_BUCKET = "edufly-audit-logs"  # an enabled rule that expires tmp/, no transition
LOG_GROUPS = ("/ecs/edufly-reporting", "#edufly-audit")  # '#' would start a shell comment
SHELL_TIMEOUT = 120
PARALLEL_RESOURCES = 4  # resources whose commands run at once (each `aws` is a process)


@dataclass(frozen=True)
class Ran:
    """One finding's CLI text, run."""

    finding: dict[str, Any]
    returncode: int
    stdout: str
    stderr: str

    def failure(self) -> str:
        return (f"{self.finding['rule']} {self.finding['name']}: exit {self.returncode}\n"
                f"--- command\n{self.finding['how_to_apply']['cli']}\n"
                f"--- stderr\n{self.stderr}--- stdout\n{self.stdout}")


@dataclass
class Applied:
    account: DemoAccount
    report: dict[str, Any]
    out: Path
    before: dict[str, Any]  # state read with boto3 before any command ran
    runs: dict[str, Ran]  # by finding id

    def findings(self, rule: str) -> list[dict[str, Any]]:
        return [f for f in self.report["findings"] if f["rule"] == rule]


# --- the account ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    # moto answers the APIs it lacks (reservation offerings, CE recommendations) with a 500 and
    # werkzeug logs a traceback each time: not this test's subject, keep failures readable
    quiet = logging.getLogger("werkzeug")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    server.start()
    url = f"http://127.0.0.1:{port}"
    # The server shares moto's process-wide state with in-process mocks: start from empty.
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
    yield url
    server.stop()
    quiet.setLevel(level)


def _env(endpoint: str) -> dict[str, str]:
    return {**os.environ, **FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint,
            "AWS_DEFAULT_REGION": HOME, "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_PAGER": ""}


class _Clients:
    def __init__(self, endpoint: str) -> None:
        self.session = boto3.Session(region_name=HOME, aws_access_key_id="testing",
                                     aws_secret_access_key="testing",
                                     aws_session_token="testing")
        self.endpoint = endpoint

    def __call__(self, service: str, region: str = HOME) -> Any:
        return self.session.client(service, region_name=region, endpoint_url=self.endpoint)


def _hours(end: datetime, days: int = 14) -> list[datetime]:
    return [end - timedelta(hours=hours) for hours in range(days * 24, 0, -1)]


def _busy(stamp: datetime) -> bool:
    """School hours in India (08:00-16:00 IST, weekdays)."""
    local = stamp + timedelta(hours=5, minutes=30)
    return local.weekday() < 5 and 8 <= local.hour < 16


def _datum(metric: str, dims: dict[str, str], stamp: datetime, average: float,
           maximum: float, minimum: float, unit: str = "Percent") -> dict[str, Any]:
    return {"MetricName": metric, "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            "Timestamp": stamp, "Unit": unit,
            "StatisticValues": {"SampleCount": 60, "Sum": average * 60, "Minimum": minimum,
                                "Maximum": maximum}}


def _publish(cloudwatch: Any, namespace: str, data: list[dict[str, Any]]) -> None:
    for offset in range(0, len(data), MAX_DATUMS_PER_CALL):
        cloudwatch.put_metric_data(Namespace=namespace,
                                   MetricData=data[offset:offset + MAX_DATUMS_PER_CALL])


@contextmanager
def _running_tasks(count: int) -> Iterator[None]:
    """moto starts a new service's deployment with MOTO_ECS_SERVICE_RUNNING tasks (default 0:
    rollout IN_PROGRESS, which ecs-rightsize waits out); a settled service runs them all."""
    saved = os.environ.get("MOTO_ECS_SERVICE_RUNNING")
    os.environ["MOTO_ECS_SERVICE_RUNNING"] = str(count)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("MOTO_ECS_SERVICE_RUNNING", None)
        else:
            os.environ["MOTO_ECS_SERVICE_RUNNING"] = saved


def _service(client: _Clients, end: datetime, name: str, *, containers: list[dict[str, Any]],
             desired: int, cpu: tuple[float, float], memory: float) -> None:
    """A Fargate service behind a load balancer (so no Spot finding) with 2 vCPU / 4 GB tasks
    and hourly CPU peaks of cpu[0] % in school hours and cpu[1] % otherwise."""
    ecs, ec2 = client("ecs"), client("ec2")
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    groups = [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]][:1]
    arn = ecs.register_task_definition(
        family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="2048",
        memory="4096", executionRoleArn="arn:aws:iam::123456789012:role/edufly-ecs-execution",
        taskRoleArn=f"arn:aws:iam::123456789012:role/{name}-task",
        containerDefinitions=containers)["taskDefinition"]["taskDefinitionArn"]
    with _running_tasks(desired):
        ecs.create_service(
            cluster=DEMO_CLUSTER, serviceName=name, taskDefinition=arn, desiredCount=desired,
            launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {
                "subnets": subnets, "securityGroups": groups}},
            loadBalancers=[{"targetGroupArn": "arn:aws:elasticloadbalancing:ap-south-1:"
                            f"123456789012:targetgroup/{name}-tg/6a4f3c2b1d0e00ff",
                            "containerName": containers[0]["name"], "containerPort": 8080}])
    dims = {"ClusterName": DEMO_CLUSTER, "ServiceName": name}
    data = []
    for stamp in _hours(end):
        peak = cpu[0] if _busy(stamp) else cpu[1]
        data.append(_datum("CPUUtilization", dims, stamp, peak * 0.7, peak, peak * 0.4))
        data.append(_datum("MemoryUtilization", dims, stamp, memory * 0.9, memory,
                           memory * 0.8))
    _publish(client("cloudwatch"), "AWS/ECS", data)


def _services(client: _Clients, end: datetime) -> None:
    app = {"name": "app", "image": "edufly/app:1", "essential": True,
           "portMappings": [{"containerPort": 8080}]}
    # ecs-rightsize: containers that set their own limits, as Terraform-written task
    # definitions often do (an app and a log sidecar taking the whole task): a smaller task
    # must shrink them too
    _service(client, end, PORTAL_SERVICE, desired=1, cpu=(15.0, 5.0), memory=20.0, containers=[
        {**app, "cpu": 1792, "memory": 3584, "memoryReservation": 2048,
         "environment": [{"name": "PORT", "value": "8080"}]},
        {"name": "log-router", "image": "public.ecr.aws/aws-observability/"
         "aws-for-fluent-bit:stable", "essential": False, "cpu": 256, "memory": 512,
         "firelensConfiguration": {"type": "fluentbit"}}])
    # ecs-autoscaling-missing: a fixed 4-task service whose CPU swings ~12x a day, busy
    # enough at its peak that it is not right-sized
    _service(client, end, SCALING_SERVICE, desired=4, cpu=(70.0, 6.0), memory=60.0,
             containers=[app])


def _databases(client: _Clients, end: datetime) -> None:
    """rds-rightsize + rds-storage-gp3 on one over-sized gp2 instance; rds-idle on another."""
    rds = client("rds", RDS_REGION)
    common: dict[str, Any] = {"Engine": "postgres", "EngineVersion": "15.7",
                              "AllocatedStorage": 20, "StorageType": "gp2", "MultiAZ": False,
                              "MasterUsername": "edufly", "MasterUserPassword": "not-a-secret"}
    rds.create_db_instance(DBInstanceIdentifier=REPORTING_DB, DBInstanceClass="db.t3.medium",
                           **common)
    rds.create_db_instance(DBInstanceIdentifier=LEGACY_DB, DBInstanceClass="db.t3.micro",
                           **common)
    gib, data = 1024**3, []
    for stamp in _hours(end):
        reporting = {"DBInstanceIdentifier": REPORTING_DB}
        data.append(_datum("CPUUtilization", reporting, stamp, 6.0, 12.0, 2.0))
        data.append(_datum("FreeableMemory", reporting, stamp, 3.2 * gib, 3.4 * gib, 3.0 * gib,
                           "Bytes"))
        data.append(_datum("DatabaseConnections", reporting, stamp, 4.0, 8.0, 1.0, "Count"))
        data.append(_datum("DatabaseConnections", {"DBInstanceIdentifier": LEGACY_DB}, stamp,
                           0.0, 0.0, 0.0, "Count"))
    _publish(client("cloudwatch", RDS_REGION), "AWS/RDS", data)


def _bucket_with_enabled_rules(client: _Clients) -> None:
    """s3-lifecycle "no-transition": rules the team relies on that a put must not drop."""
    s3 = client("s3")
    s3.create_bucket(Bucket=AUDIT_BUCKET, CreateBucketConfiguration={"LocationConstraint": HOME})
    s3.put_bucket_lifecycle_configuration(Bucket=AUDIT_BUCKET, LifecycleConfiguration={"Rules": [
        {"ID": "expire-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
         "Expiration": {"Days": 7}},
        {"ID": "old-versions", "Status": "Enabled", "Filter": {"Prefix": "audit/"},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 400}}]})


def _log_groups(client: _Clients) -> None:
    logs = client("logs", LOGS_REGION)
    for name in LOG_GROUPS:
        logs.create_log_group(logGroupName=name)
        logs.create_log_stream(logGroupName=name, logStreamName="app")
        now = int(time.time() * 1000)
        logs.put_log_events(logGroupName=name, logStreamName="app", logEvents=[
            {"timestamp": now - index, "message": f"report {index} rendered " + "x" * 200}
            for index in range(50, 0, -1)])


def _snapshot_state(client: _Clients, account: DemoAccount) -> dict[str, Any]:
    s3 = client("s3")
    lifecycle = {}
    for bucket in s3.list_buckets()["Buckets"]:
        try:
            lifecycle[bucket["Name"]] = s3.get_bucket_lifecycle_configuration(
                Bucket=bucket["Name"])["Rules"]
        except s3.exceptions.ClientError:
            lifecycle[bucket["Name"]] = []
    ecs = client("ecs")
    services = {}
    for service in ecs.describe_services(cluster=DEMO_CLUSTER, services=[
            *account.services.values(), PORTAL_SERVICE, SCALING_SERVICE])["services"]:
        services[service["serviceName"]] = ecs.describe_task_definition(
            taskDefinition=service["taskDefinition"])["taskDefinition"]
    return {"lifecycle": lifecycle, "task_definitions": services}


def _run_cli(command: str, endpoint: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", command], cwd=cwd,
                          env=_env(endpoint), capture_output=True, text=True,
                          timeout=SHELL_TIMEOUT, check=False)


@pytest.fixture(scope="module")
def applied(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Applied:
    client = _Clients(endpoint)
    old = {key: os.environ.get(key) for key in FAKE_CREDENTIALS}
    os.environ.update(FAKE_CREDENTIALS)
    try:
        account = build_demo_account(client.session, now=datetime.now(UTC), days=14,
                                     endpoint_url=endpoint)
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    _services(client, account.window_end)
    _databases(client, account.window_end)
    _bucket_with_enabled_rules(client)
    _log_groups(client)
    before = _snapshot_state(client, account)

    out = tmp_path_factory.mktemp("apply")
    result = subprocess.run(
        [sys.executable, "-m", "rightsizer", "analyze", "--output", str(out),
         "--format", "json,csv,md", "--region", HOME, "--region", RDS_REGION,
         "--region", LOGS_REGION, "--quiet",
         "--config", str(moto_server_config(tmp_path_factory.mktemp("config")))],
        cwd=out, env=_env(endpoint), capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))

    # Each finding's command, as a user pastes it. A resource's findings run one after another
    # in the report's order (largest first); different resources' commands touch nothing in
    # common, so they run side by side, each resource in a directory of its own.
    by_resource: dict[str, list[dict[str, Any]]] = {}
    for finding in report["findings"]:
        if finding["rule"] in APPLIED_RULES:
            by_resource.setdefault(finding["resource_id"], []).append(finding)
    work = tmp_path_factory.mktemp("shell")

    def run_in_order(index: int, findings: list[dict[str, Any]]) -> list[Ran]:
        cwd = work / str(index)
        cwd.mkdir()
        ran = []
        for finding in findings:
            done = _run_cli(finding["how_to_apply"]["cli"], endpoint, cwd)
            ran.append(Ran(finding, done.returncode, done.stdout, done.stderr))
        return ran

    groups = list(by_resource.values())
    with ThreadPoolExecutor(max_workers=PARALLEL_RESOURCES) as pool:
        ran = [run for runs in pool.map(run_in_order, range(len(groups)), groups)
               for run in runs]
    runs = {run.finding["id"]: run for run in ran}
    return Applied(account, report, out, before, runs)


@pytest.fixture(scope="module")
def boto(endpoint: str) -> _Clients:
    return _Clients(endpoint)


def _ran(applied: Applied, rule: str) -> list[Ran]:
    """The rule's findings, each run; the test fails on the first command that did not exit 0,
    with its text and stderr."""
    found = applied.findings(rule)
    assert found, f"the account was built to give {rule} a finding: none in report.json"
    runs = [applied.runs[f["id"]] for f in found]
    failures = [run.failure() for run in runs if run.returncode != 0]
    assert not failures, "\n\n".join(failures)
    return runs


# --- every finding, every format --------------------------------------------------------------

def test_every_finding_has_commands_for_each_tool_that_survive_csv_and_markdown(
        applied: Applied) -> None:
    findings = applied.report["findings"]
    assert {f["rule"] for f in findings} >= {*APPLIED_RULES, *PURCHASE_RULES}
    rows = list(csv.DictReader(io.StringIO(
        (applied.out / "findings.csv").read_text(encoding="utf-8"), newline="")))
    markdown = (applied.out / "report.md").read_text(encoding="utf-8")
    fields = {field.name for field in dataclasses.fields(Finding)}
    for finding, row in zip(findings, rows, strict=True):
        commands = finding["how_to_apply"]
        # the rule itself answers in the three tools (no legacy {"cli", "iac"}), and
        # report.json carries exactly what it answered
        rule_output = REGISTRY[finding["rule"]].how_to_apply(
            Finding(**{key: value for key, value in finding.items() if key in fields}))
        assert set(rule_output) == {"cli", "terraform", "cdk"}, finding["rule"]
        assert commands == rule_output, finding["rule"]
        assert commands["cli"].strip(), finding["rule"]
        for tool, language in (("cli", "bash"), ("terraform", "hcl"), ("cdk", "ts")):
            text = commands[tool]
            # findings.csv neutralises a cell starting like a formula; no command does, so
            # every command cell is the exact text (pastable as is)
            assert not text.startswith(FORMULA_START), (finding["rule"], tool)
            assert row[f"how_to_apply_{tool}"] == text, (finding["rule"], tool)
            if text:
                assert f"```{language}\n{text}\n```" in markdown, (finding["rule"], tool)


@pytest.mark.parametrize("rule", PURCHASE_RULES)
def test_reservation_purchases_are_present_but_not_run(applied: Applied, rule: str) -> None:
    # moto has no offerings to buy (see the module docstring): presence and shape only
    for finding in applied.findings(rule):
        assert "purchase-reserved" in finding["how_to_apply"]["cli"]
        assert finding["how_to_apply"]["terraform"] or finding["how_to_apply"]["cdk"]


# --- ECS ------------------------------------------------------------------------------------------

def _described_service(boto: _Clients, finding: dict[str, Any]) -> dict[str, Any]:
    return boto("ecs", finding["region"]).describe_services(
        cluster=finding["resource_id"].rsplit("/", 2)[-2],
        services=[finding["name"]])["services"][0]


def test_ecs_rightsize_command_registers_the_size_and_every_container_fits(
        applied: Applied, boto: _Clients) -> None:
    runs = _ran(applied, "ecs-rightsize")
    assert {PORTAL_SERVICE, applied.account.services["admin"]} <= {r.finding["name"] for r in runs}
    for run in runs:
        finding = run.finding
        service = _described_service(boto, finding)
        task = boto("ecs").describe_task_definition(
            taskDefinition=service["taskDefinition"])["taskDefinition"]
        cpu, memory = finding["recommended"]["cpu"], finding["recommended"]["memory"]
        assert (int(task["cpu"]), int(task["memory"])) == (cpu, memory)
        # what ContainerDefinition requires of a task's containers: their cpu and their
        # reservations (memoryReservation, else memory) within the task's, each hard limit
        # within the task's memory and above its own reservation
        # (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html)
        containers = task["containerDefinitions"]
        assert sum(c.get("cpu") or 0 for c in containers) <= cpu
        assert sum(c.get("memoryReservation") or c.get("memory") or 0
                   for c in containers) <= memory
        for c in containers:
            assert c.get("memory", memory) <= memory
            if c.get("memory") and c.get("memoryReservation"):
                assert c["memoryReservation"] < c["memory"]
        # a new revision of the same task, nothing else changed: images, roles, network,
        # logging, secrets, ports and the containers themselves
        old = applied.before["task_definitions"][finding["name"]]
        assert task["taskDefinitionArn"] != old["taskDefinitionArn"]
        for key in ("family", "taskRoleArn", "executionRoleArn", "networkMode",
                    "requiresCompatibilities"):
            assert task.get(key) == old.get(key), key
        limits = {"cpu", "memory", "memoryReservation"}
        assert [{k: v for k, v in c.items() if k not in limits} for c in containers] == \
            [{k: v for k, v in c.items() if k not in limits} for c in old["containerDefinitions"]]


def test_ecs_fargate_spot_command_sets_the_recommended_strategy(applied: Applied,
                                                               boto: _Clients) -> None:
    for run in _ran(applied, "ecs-fargate-spot"):
        finding = run.finding
        service = _described_service(boto, finding)
        strategy = {(item["capacityProvider"], item.get("weight", 0), item.get("base", 0))
                    for item in service.get("capacityProviderStrategy") or []}
        # exit 0 means applied: a command that chose not to act must say so with its status
        assert strategy == {(item["capacityProvider"], item["weight"], item.get("base", 0))
                            for item in finding["recommended"]["strategy"]}, run.failure()
        cluster = boto("ecs").describe_clusters(clusters=[DEMO_CLUSTER])["clusters"][0]
        assert {"FARGATE", "FARGATE_SPOT"} <= set(cluster.get("capacityProviders") or [])


def test_ecs_autoscaling_command_registers_target_and_cpu_tracking_policy(
        applied: Applied, boto: _Clients) -> None:
    runs = _ran(applied, "ecs-autoscaling-missing")
    assert [run.finding["name"] for run in runs] == [SCALING_SERVICE]
    for run in runs:
        finding, rec = run.finding, run.finding["recommended"]
        scaling = boto("application-autoscaling", finding["region"])
        resource_id = f"service/{finding['evidence']['cluster']}/{finding['name']}"
        [target] = scaling.describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=[resource_id])["ScalableTargets"]
        assert target["ScalableDimension"] == "ecs:service:DesiredCount"
        assert (target["MinCapacity"], target["MaxCapacity"]) == \
            (rec["min_capacity"], rec["max_capacity"])
        [policy] = scaling.describe_scaling_policies(
            ServiceNamespace="ecs", ResourceId=resource_id)["ScalingPolicies"]
        assert policy["PolicyType"] == "TargetTrackingScaling"
        config = policy["TargetTrackingScalingPolicyConfiguration"]
        assert config["TargetValue"] == rec["target_percent"]
        assert config["PredefinedMetricSpecification"]["PredefinedMetricType"] == rec["metric"]


# --- RDS ------------------------------------------------------------------------------------------

def _db(boto: _Clients, finding: dict[str, Any]) -> dict[str, Any] | None:
    rds = boto("rds", finding["region"])
    try:
        return rds.describe_db_instances(DBInstanceIdentifier=finding["name"])["DBInstances"][0]
    except rds.exceptions.DBInstanceNotFoundFault:
        return None


def test_rds_rightsize_command_moves_to_the_recommended_class(applied: Applied,
                                                             boto: _Clients) -> None:
    runs = _ran(applied, "rds-rightsize")
    assert REPORTING_DB in {run.finding["name"] for run in runs}
    for run in runs:
        db = _db(boto, run.finding)
        assert db is not None
        assert db["DBInstanceClass"] == run.finding["recommended"]["instance_class"]
        assert db["MultiAZ"] == run.finding["recommended"]["multi_az"]


def test_rds_storage_command_switches_to_gp3(applied: Applied, boto: _Clients) -> None:
    runs = _ran(applied, "rds-storage-gp3")
    assert REPORTING_DB in {run.finding["name"] for run in runs}
    for run in runs:
        db = _db(boto, run.finding)
        assert db is not None
        assert db["StorageType"] == "gp3"
        assert db["AllocatedStorage"] == run.finding["recommended"]["allocated_storage_gb"]


def test_rds_idle_command_stops_it_or_deletes_it_after_a_final_snapshot(
        applied: Applied, boto: _Clients) -> None:
    runs = _ran(applied, "rds-idle")
    assert [run.finding["name"] for run in runs] == [LEGACY_DB]
    for run in runs:
        db = _db(boto, run.finding)
        if db is not None:
            assert db["DBInstanceStatus"] == "stopped"
            continue
        snapshots = boto("rds", run.finding["region"]).describe_db_snapshots(
            DBInstanceIdentifier=run.finding["name"])["DBSnapshots"]
        assert snapshots, "deleted without a final snapshot"


# --- S3 and Logs ----------------------------------------------------------------------------------

def test_s3_lifecycle_command_adds_the_transitions_and_keeps_every_existing_rule(
        applied: Applied, boto: _Clients) -> None:
    runs = _ran(applied, "s3-lifecycle")
    states = {run.finding["name"]: run.finding["current"]["lifecycle"] for run in runs}
    # the three shapes: nothing yet, only disabled rules, enabled rules without a transition
    assert states[applied.account.buckets["exports"]] == "disabled"
    assert states[AUDIT_BUCKET] == "no-transition"
    assert "absent" in states.values()
    s3 = boto("s3")
    for run in runs:
        finding, rec = run.finding, run.finding["recommended"]
        rules = s3.get_bucket_lifecycle_configuration(Bucket=finding["name"])["Rules"]
        existing = applied.before["lifecycle"][finding["name"]]
        assert existing == [rule for rule in rules if rule in existing], "a rule was dropped"
        [added] = [rule for rule in rules if rule not in existing]
        assert added["Status"] == "Enabled"
        assert not any((added.get("Filter") or {}).values()) and not added.get("Prefix")
        assert [(t["Days"], t["StorageClass"]) for t in added["Transitions"]] == \
            [(t["days"], t["storage_class"]) for t in rec["transitions"]]
        assert added["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == \
            rec["abort_incomplete_multipart_upload_days"]


def test_s3_lifecycle_command_run_twice_changes_nothing(applied: Applied, boto: _Clients,
                                                       endpoint: str, tmp_path: Path) -> None:
    [finding] = [f for f in applied.findings("s3-lifecycle") if f["name"] == AUDIT_BUCKET]
    _ran(applied, "s3-lifecycle")
    s3 = boto("s3")
    once = s3.get_bucket_lifecycle_configuration(Bucket=AUDIT_BUCKET)["Rules"]
    again = _run_cli(finding["how_to_apply"]["cli"], endpoint, tmp_path)
    assert again.returncode == 0, again.stderr
    assert s3.get_bucket_lifecycle_configuration(Bucket=AUDIT_BUCKET)["Rules"] == once


def test_s3_lifecycle_command_writes_nothing_when_the_configuration_cannot_be_read(
        applied: Applied, endpoint: str, tmp_path: Path) -> None:
    [finding] = [f for f in applied.findings("s3-lifecycle") if f["name"] == AUDIT_BUCKET]
    command = finding["how_to_apply"]["cli"].replace(AUDIT_BUCKET, "edufly-no-such-bucket")
    failed = _run_cli(command, endpoint, tmp_path)
    assert failed.returncode != 0 and "NoSuchBucket" in failed.stderr


def test_logs_retention_command_sets_the_retention(applied: Applied, boto: _Clients) -> None:
    runs = _ran(applied, "logs-retention")
    assert {run.finding["name"] for run in runs} == set(LOG_GROUPS)
    for run in runs:
        finding = run.finding
        groups = boto("logs", finding["region"]).describe_log_groups(
            logGroupNamePrefix=finding["name"])["logGroups"]
        [group] = [g for g in groups if g["logGroupName"] == finding["name"]]
        assert group["retentionInDays"] == finding["recommended"]["retention_days"]
