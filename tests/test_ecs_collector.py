"""The ECS collector on answers shaped after the ECS API reference, through botocore's Stubber
(which checks every request and response against the service model).

The cluster holds the shapes that decide what ecs-rightsize may size:
- `api`: an old-format service ARN (arn:aws:ecs:region:account:service/name, no cluster in
  it, as in the DescribeServices CLI example) in the middle of a rollout: PRIMARY api:8 and
  ACTIVE api:7 both running tasks (Deployment: "ACTIVE: A service deployment that still has
  running tasks, but are in the process of being replaced with a new PRIMARY deployment");
- `web`: a CODE_DEPLOY service, which lists taskSets and no deployments;
- `iis`: Windows Server 2022 Core whose PRIMARY deployment started inside the window and whose
  previous revision was deleted (DescribeTaskDefinition answers ClientException);
- `batch`: ARM64 on a capacity provider strategy with a base, no launchType, no tags key and no
  deployments key (optional fields missing).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from rightsizer.aws.clients import AwsClients
from rightsizer.collect.collectors.base import ErrorLog, Target
from rightsizer.collect.collectors.ecs import collect_services
from rightsizer.rules import ecs_fargate_spot, ecs_rightsize
from rightsizer.snapshot.store import TABLE_COLUMNS
from tests.snapshot_factory import SnapshotBuilder, flat

REGION = "us-east-1"
ACCOUNT = "123456789012"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/edufly"
WINDOW_START = datetime(2026, 10, 18, tzinfo=UTC)  # SnapshotBuilder's: 14 days to 2026-11-01


def td(name: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{name}"


def service_arn(path: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{path}"


SERVICES = [
    {
        "serviceArn": service_arn("api"), "serviceName": "api", "clusterArn": CLUSTER_ARN,
        "loadBalancers": [], "status": "ACTIVE", "desiredCount": 3, "runningCount": 3,
        "pendingCount": 0, "launchType": "FARGATE", "platformVersion": "LATEST",
        "taskDefinition": td("api:8"), "schedulingStrategy": "REPLICA",
        "deploymentController": {"type": "ECS"},
        "deployments": [
            {"id": "ecs-svc/9223370608528463088", "status": "PRIMARY",
             "taskDefinition": td("api:8"), "desiredCount": 3, "pendingCount": 2,
             "runningCount": 1, "failedTasks": 0, "createdAt": datetime(2026, 10, 31, 9, 0,
                                                                        tzinfo=UTC),
             "updatedAt": datetime(2026, 10, 31, 9, 5, tzinfo=UTC), "launchType": "FARGATE",
             "platformVersion": "1.4.0", "rolloutState": "IN_PROGRESS",
             "rolloutStateReason": "ECS deployment ecs-svc/9223370608528463088 in progress."},
            {"id": "ecs-svc/9223370608528463011", "status": "ACTIVE",
             "taskDefinition": td("api:7"), "desiredCount": 0, "pendingCount": 0,
             "runningCount": 2, "failedTasks": 0, "createdAt": datetime(2026, 9, 1,
                                                                        tzinfo=UTC),
             "updatedAt": datetime(2026, 10, 31, 9, 5, tzinfo=UTC), "launchType": "FARGATE",
             "rolloutState": "COMPLETED",
             "rolloutStateReason": "ECS deployment ecs-svc/9223370608528463011 completed."},
        ],
        "tags": [{"key": "team", "value": "core"}],
        "createdAt": datetime(2025, 1, 1, tzinfo=UTC),
    },
    {
        "serviceArn": service_arn("edufly/web"), "serviceName": "web",
        "clusterArn": CLUSTER_ARN, "status": "ACTIVE", "desiredCount": 2, "runningCount": 2,
        "pendingCount": 0, "launchType": "FARGATE", "taskDefinition": td("web:3"),
        "loadBalancers": [{"targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:"
                           f"{ACCOUNT}:targetgroup/web-1/0123456789abcdef",
                           "containerName": "web", "containerPort": 8080}],
        "deploymentController": {"type": "CODE_DEPLOY"},
        "taskSets": [
            {"id": "ecs-svc/1234567890123456789",
             "taskSetArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-set/edufly/web/"
                           "ecs-svc/1234567890123456789",
             "serviceArn": service_arn("edufly/web"), "clusterArn": CLUSTER_ARN,
             "startedBy": "CodeDeploy", "externalId": "d-ABCDEF123", "status": "PRIMARY",
             "taskDefinition": td("web:3"), "computedDesiredCount": 2, "pendingCount": 0,
             "runningCount": 2, "createdAt": datetime(2026, 8, 1, tzinfo=UTC),
             "launchType": "FARGATE", "platformVersion": "1.4.0",
             "scale": {"value": 100.0, "unit": "PERCENT"}, "stabilityStatus": "STEADY_STATE"},
        ],
        "createdAt": datetime(2025, 6, 1, tzinfo=UTC),
    },
    {
        "serviceArn": service_arn("edufly/iis"), "serviceName": "iis",
        "clusterArn": CLUSTER_ARN, "status": "ACTIVE", "desiredCount": 1, "runningCount": 1,
        "pendingCount": 0, "launchType": "FARGATE", "taskDefinition": td("iis:4"),
        "deployments": [
            {"id": "ecs-svc/5555", "status": "PRIMARY", "taskDefinition": td("iis:4"),
             "desiredCount": 1, "pendingCount": 0, "runningCount": 1,
             "createdAt": datetime(2026, 10, 25, tzinfo=UTC),
             "updatedAt": datetime(2026, 10, 25, 0, 10, tzinfo=UTC),
             "launchType": "FARGATE", "rolloutState": "COMPLETED"},
        ],
        "createdAt": datetime(2025, 6, 1, tzinfo=UTC),
    },
    {
        "serviceArn": service_arn("edufly/batch"), "serviceName": "batch",
        "clusterArn": CLUSTER_ARN, "status": "ACTIVE", "desiredCount": 4, "runningCount": 4,
        "pendingCount": 0, "taskDefinition": td("batch:2"),
        "capacityProviderStrategy": [
            {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
            {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0},
        ],
    },
]

TASK_DEFINITIONS = {
    "api:8": {"cpu": "512", "memory": "1024"},
    "api:7": {"cpu": "1024", "memory": "2048"},
    "web:3": {"cpu": "1024", "memory": "2048"},
    "iis:4": {"cpu": "2048", "memory": "4096",
              "runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE",
                                  "cpuArchitecture": "X86_64"}},
    "batch:2": {"cpu": "2048", "memory": "4096",
                "runtimePlatform": {"cpuArchitecture": "ARM64",
                                    "operatingSystemFamily": "LINUX"}},
}


def described(name: str) -> dict:
    family, revision = name.split(":")
    return {"taskDefinition": {
        "taskDefinitionArn": td(name), "family": family, "revision": int(revision),
        "status": "ACTIVE", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
        "compatibilities": ["EC2", "FARGATE"],
        "containerDefinitions": [{"name": family, "image": f"{family}:latest",
                                  "essential": True}],
        **TASK_DEFINITIONS[name],
    }}


@pytest.fixture
def collected() -> tuple[list[dict], ErrorLog]:
    clients = AwsClients(boto3.Session(region_name=REGION))
    ecs = clients.client("ecs", REGION)
    with Stubber(ecs) as stub:
        stub.add_response("list_clusters", {"clusterArns": [CLUSTER_ARN]}, {})
        stub.add_response("describe_clusters", {"clusters": [{
            "clusterArn": CLUSTER_ARN, "clusterName": "edufly", "status": "ACTIVE",
            "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
            "defaultCapacityProviderStrategy": [],
            "settings": [{"name": "containerInsights", "value": "enabled"}]}],
            "failures": []}, {"clusters": [CLUSTER_ARN], "include": ["SETTINGS"]})
        arns = [service["serviceArn"] for service in SERVICES]
        stub.add_response("list_services", {"serviceArns": arns},
                          {"cluster": CLUSTER_ARN, "maxResults": 100})
        stub.add_response("describe_services", {"services": SERVICES, "failures": []},
                          {"cluster": CLUSTER_ARN, "services": arns, "include": ["TAGS"]})
        # each task definition a service, deployment or task set names, once
        for name in ("api:8", "api:7", "web:3", "iis:4", "batch:2"):
            stub.add_response("describe_task_definition", described(name),
                              {"taskDefinition": td(name)})
        # iis:4 started inside the window with no other deployment listed: the revision
        # before it is read, and was deleted
        stub.add_client_error("describe_task_definition", "ClientException",
                              "Unable to describe task definition.",
                              expected_params={"taskDefinition": td("iis:3")})
        errors = ErrorLog()
        rows = collect_services(Target(ACCOUNT, REGION, clients), errors, since=WINDOW_START)
        stub.assert_no_pending_responses()
    return rows, errors


def by_name(rows: list[dict]) -> dict[str, dict]:
    return {row["service"]: row for row in rows}


def test_rows_have_every_snapshot_column_and_no_error_rows(collected):
    """A deleted previous revision is an answer (ClientException), not a failed read."""
    rows, errors = collected
    assert errors.rows == []
    assert [set(row) for row in rows] == [set(TABLE_COLUMNS["ecs_services"])] * 4


def test_old_format_service_arn_keeps_its_cluster_from_the_cluster_it_was_listed_in(collected):
    """DescribeServices example: serviceArn arn:aws:ecs:<region>:<account>:service/my-http-service
    (the pre-2018 format without the cluster name). The cluster column comes from the cluster
    the service was listed under, not from the ARN."""
    api = by_name(collected[0])["api"]
    assert api["service_arn"] == service_arn("api")
    assert api["cluster"] == "edufly"


def test_both_running_deployments_are_recorded_with_their_own_task_size(collected):
    """Deployment: each carries its own taskDefinition, runningCount, rolloutState, createdAt.
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html"""
    api = by_name(collected[0])["api"]
    deployments = json.loads(api["deployments"])
    assert [(d["status"], d["task_definition"], d["running_count"], d["rollout_state"],
             d["cpu"], d["memory"]) for d in deployments] == [
        ("PRIMARY", td("api:8"), 1, "IN_PROGRESS", "512", "1024"),
        ("ACTIVE", td("api:7"), 2, "COMPLETED", "1024", "2048"),
    ]
    assert deployments[0]["created_at"] == "2026-10-31T09:00:00+00:00"
    # the service-level definition already names the new revision
    assert (api["task_definition"], api["cpu_units"], api["memory_mib"]) == \
        (td("api:8"), "512", "1024")


def test_code_deploy_service_records_its_task_sets(collected):
    """TaskSet: status PRIMARY/ACTIVE/DRAINING, computedDesiredCount, stabilityStatus.
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskSet.html"""
    web = by_name(collected[0])["web"]
    assert web["deployment_controller"] == "CODE_DEPLOY"
    [task_set] = json.loads(web["deployments"])
    assert (task_set["kind"], task_set["status"], task_set["running_count"],
            task_set["desired_count"], task_set["rollout_state"], task_set["launch_type"]) == \
        ("task_set", "PRIMARY", 2, 2, "STEADY_STATE", "FARGATE")


def test_runtime_platform_is_recorded_and_absent_fields_stay_empty(collected):
    """RuntimePlatform operatingSystemFamily / cpuArchitecture as ECS returns them; a definition
    without runtimePlatform gives "" (ECS reads it as LINUX / X86_64).
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html"""
    rows = by_name(collected[0])
    assert (rows["iis"]["os_family"], rows["iis"]["cpu_architecture"]) == \
        ("WINDOWS_SERVER_2022_CORE", "X86_64")
    assert (rows["batch"]["os_family"], rows["batch"]["cpu_architecture"]) == \
        ("LINUX", "ARM64")
    assert (rows["api"]["os_family"], rows["api"]["cpu_architecture"]) == ("", "")


def test_previous_revision_of_a_recent_primary_is_looked_up(collected):
    iis = by_name(collected[0])["iis"]
    [primary] = json.loads(iis["deployments"])
    assert primary["previous"] == {"task_definition": td("iis:3"), "unavailable": True}


def test_missing_optional_fields_give_empty_values(collected):
    """No launchType (a capacity provider strategy instead), no tags, no deployments key."""
    batch = by_name(collected[0])["batch"]
    assert batch["launch_type"] == ""
    assert json.loads(batch["tags"]) == {}
    assert json.loads(batch["deployments"]) == []
    assert batch["deployment_controller"] == "" and batch["scheduling_strategy"] == ""


def rules_on(rows: list[dict]):
    snap = SnapshotBuilder()
    for row in rows:
        snap.rows["ecs_services"].append(row)
        snap.ecs_usage(row["service"], cpu_max=flat(10), memory_max=flat(12), region=REGION)
    snapshot = snap.build()
    return (ecs_rightsize.evaluate(snapshot, ecs_rightsize.Settings()),
            ecs_fargate_spot.evaluate(snapshot, ecs_fargate_spot.Settings()))


def test_collected_shapes_through_the_rules(collected):
    """The rollout and the unreadable previous revision are skipped as insufficient data with
    both revisions named; the blue/green service and the ARM64 one are sized; Windows gets no
    Spot recommendation; every service is a finding or a skipped row of each rule."""
    rightsize, spot = rules_on(collected[0])
    skipped = {row.name: row for row in rightsize.skipped}
    assert skipped["api"].reason == "insufficient-data"
    assert skipped["api"].detail.startswith(
        "rollout in progress: PRIMARY api:8 (0.5 vCPU / 1 GB, 1 running) and ACTIVE api:7 "
        "(1 vCPU / 2 GB, 2 running)")
    assert skipped["iis"].reason == "insufficient-data"
    assert "iis:3" in skipped["iis"].detail and "could not be read" in skipped["iis"].detail
    found = {finding.name: finding for finding in rightsize.findings}
    assert set(found) == {"web", "batch"}
    assert found["web"].evidence["deployment_controller"] == "CODE_DEPLOY"
    assert found["batch"].evidence["platform"] == "Linux/ARM64"

    spot_skipped = {row.name: row for row in spot.skipped}
    assert "Windows" in spot_skipped["iis"].detail
    assert "CODE_DEPLOY" in spot_skipped["web"].detail
    # batch already uses FARGATE_SPOT: judged, nothing to recommend; api gets its finding
    assert {f.name for f in spot.findings} == {"api"}
    assert set(spot_skipped) | {f.name for f in spot.findings} | {"batch"} == \
        {"api", "web", "iis", "batch"}
