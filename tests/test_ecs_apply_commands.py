"""The ECS rules' `how_to_apply["cli"]` runs as pasted in bash against a moto server and leaves
the account as the finding says.

Each test builds the service in moto, reads it with the real collector, judges it with the real
rule (flat, low utilization added as metrics), then runs the finding's CLI text with
`bash -c`, AWS_ENDPOINT_URL pointing at moto, and checks the result with boto3. moto keeps what
it is told (registered revisions, the service's task definition, task sets, CodeDeploy
deployments and, on UpdateService, the capacity provider strategy; CreateService drops the
strategy) but validates little, so the container fits are also asserted here, against the
RegisterTaskDefinition / ContainerDefinition constraints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from moto.server import ThreadedMotoServer

from rightsizer.aws.clients import AwsClients
from rightsizer.collect.collectors.base import ErrorLog, Target
from rightsizer.collect.collectors.ecs import collect_services
from rightsizer.rules import ecs_fargate_spot, ecs_rightsize
from rightsizer.rules.findings import Finding
from rightsizer.rules.support.fargate_sizes import is_valid_size
from tests.conftest import free_port
from tests.snapshot_factory import SnapshotBuilder, flat

REGION = "ap-south-1"
ACCOUNT = "123456789012"
TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/api-task"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecs-execution"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def endpoint(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset",
                                                  method="POST"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    return moto_endpoint


def client(name: str, endpoint: str) -> Any:
    return boto3.client(name, region_name=REGION, endpoint_url=endpoint)


def run_cli(cli: str, endpoint: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command text as a user pastes it: bash, awscli and python3 on the PATH."""
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "x",
           "AWS_SECRET_ACCESS_KEY": "x", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    env.pop("AWS_SESSION_TOKEN", None)
    return subprocess.run(["bash", "-c", cli], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def with_running_tasks(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    # moto takes a new service's running count from this variable (default 0: every rollout
    # IN_PROGRESS); a settled service runs its desired count
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", str(count))


def register_api(ecs: Any, family: str = "api") -> dict[str, Any]:
    """1 vCPU / 2 GB with an app container (hard and soft memory limits) and a sidecar, tagged."""
    return ecs.register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="1024", memory="2048", taskRoleArn=TASK_ROLE, executionRoleArn=EXECUTION_ROLE,
        containerDefinitions=[
            {"name": "app", "image": "123456789012.dkr.ecr.ap-south-1.amazonaws.com/api:4.2",
             "cpu": 768, "memory": 1800, "memoryReservation": 1500, "essential": True,
             "portMappings": [{"containerPort": 8080}]},
            {"name": "log-router", "image": "public.ecr.aws/aws-observability/fluent-bit:3",
             "cpu": 256, "memoryReservation": 256, "essential": False},
        ],
        tags=[{"key": "team", "value": "core"}],
    )["taskDefinition"]


def judged(endpoint: str, rule: Any, settings: Any) -> Any:
    """Collect ECS from moto, add 14 days of low hourly peaks for every service, run the rule."""
    errors = ErrorLog()
    rows = collect_services(Target(ACCOUNT, REGION, AwsClients(boto3.Session())), errors)
    assert errors.rows == []
    snap = SnapshotBuilder()
    for row in rows:
        snap.rows["ecs_services"].append(row)
        snap.ecs_usage(row["service"], cpu_max=flat(12), memory_max=flat(15),
                       cluster=row["cluster"], region=REGION)
    return rule.evaluate(snap.build(), settings)


def only_finding(result: Any, name: str) -> Finding:
    [finding] = [f for f in result.findings if f.name == name]
    return finding


def assert_containers_fit(task: dict[str, Any]) -> None:
    """ContainerDefinition: the containers' cpu and memory reservations fit in the task's, and
    memory (the hard limit) is greater than memoryReservation.
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html"""
    cpu, memory = int(task["cpu"]), int(task["memory"])
    containers = task["containerDefinitions"]
    assert sum(c.get("cpu") or 0 for c in containers) <= cpu
    assert sum(c.get("memoryReservation") or c.get("memory") or 0 for c in containers) <= memory
    for c in containers:
        assert (c.get("memory") or 0) <= memory
        if c.get("memory") and c.get("memoryReservation"):
            assert c["memory"] > c["memoryReservation"]


def test_rolling_update_service_registers_the_resized_revision_and_deploys_it(
        endpoint, monkeypatch, tmp_path):
    """ECS-controller service, old-format service ARN (arn:aws:ecs:region:account:service/name,
    no cluster in it): the CLI reads the revision that ran, registers a copy at the recommended
    size with containers that fit, keeps tags, roles and images, and points the service at it
    in the row's cluster. RegisterTaskDefinition / UpdateService:
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html"""
    ecs = client("ecs", endpoint)
    ecs.put_account_setting(name="serviceLongArnFormat", value="disabled")
    ecs.create_cluster(clusterName="edufly")
    first = register_api(ecs)
    with_running_tasks(monkeypatch, 2)
    service = ecs.create_service(cluster="edufly", serviceName="api", taskDefinition="api:1",
                                 desiredCount=2, launchType="FARGATE")["service"]
    assert service["serviceArn"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/api"

    finding = only_finding(judged(endpoint, ecs_rightsize, ecs_rightsize.Settings()), "api")
    assert finding.current == {"cpu": 1024, "memory": 2048}
    new_cpu, new_memory = finding.recommended["cpu"], finding.recommended["memory"]
    assert is_valid_size(new_cpu, new_memory)
    cli = ecs_rightsize.how_to_apply(finding)["cli"]
    assert "--cluster edufly" in cli and "jq" not in cli

    result = run_cli(cli, endpoint, tmp_path)
    assert result.returncode == 0, result.stderr

    now = ecs.describe_services(cluster="edufly", services=["api"])["services"][0]
    assert now["taskDefinition"].endswith("task-definition/api:2")
    described = ecs.describe_task_definition(taskDefinition="api:2", include=["TAGS"])
    task = described["taskDefinition"]
    assert (int(task["cpu"]), int(task["memory"])) == (new_cpu, new_memory)
    assert_containers_fit(task)
    assert [c["image"] for c in task["containerDefinitions"]] == \
        [c["image"] for c in first["containerDefinitions"]]
    assert (task["taskRoleArn"], task["executionRoleArn"]) == (TASK_ROLE, EXECUTION_ROLE)
    assert described["tags"] == [{"key": "team", "value": "core"}]
    # the revision that ran is left as it was
    old = ecs.describe_task_definition(taskDefinition="api:1")["taskDefinition"]
    assert (old["cpu"], old["memory"]) == ("1024", "2048")


def test_code_deploy_service_is_resized_through_a_codedeploy_deployment(
        endpoint, monkeypatch, tmp_path):
    """A blue/green (CODE_DEPLOY) service takes a new task definition only from a CodeDeploy
    deployment ("If the network configuration, platform version, task definition, or load
    balancer need to be updated, create a new CodeDeploy deployment", UpdateService API
    reference): the CLI registers the revision, finds the deployment group that deploys the
    service and creates a deployment whose AppSpec names the new revision and the load
    balancer's container and port; it never calls update-service.
    https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-resources.html"""
    ecs, codedeploy = client("ecs", endpoint), client("codedeploy", endpoint)
    ecs.create_cluster(clusterName="edufly")
    register_api(ecs, family="web")
    target_group = (f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/web/"
                    "0123456789abcdef")
    with_running_tasks(monkeypatch, 2)
    ecs.create_service(cluster="edufly", serviceName="web", taskDefinition="web:1",
                       desiredCount=2, launchType="FARGATE",
                       deploymentController={"type": "CODE_DEPLOY"},
                       loadBalancers=[{"targetGroupArn": target_group, "containerName": "app",
                                       "containerPort": 8080}])
    role = f"arn:aws:iam::{ACCOUNT}:role/codedeploy"
    codedeploy.create_application(applicationName="legacy", computePlatform="Server")
    codedeploy.create_deployment_group(applicationName="legacy", deploymentGroupName="ec2",
                                       serviceRoleArn=role)
    codedeploy.create_application(applicationName="AppECS-edufly-web", computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName="AppECS-edufly-web", deploymentGroupName="DgpECS-edufly-web",
        serviceRoleArn=role, ecsServices=[{"serviceName": "web", "clusterName": "edufly"}],
        deploymentStyle={"deploymentType": "BLUE_GREEN",
                         "deploymentOption": "WITH_TRAFFIC_CONTROL"})

    finding = only_finding(judged(endpoint, ecs_rightsize, ecs_rightsize.Settings()), "web")
    assert finding.evidence["deployment_controller"] == "CODE_DEPLOY"
    cli = ecs_rightsize.how_to_apply(finding)["cli"]
    assert "aws ecs update-service" not in cli
    assert "aws deploy create-deployment" in cli and "register-task-definition" in cli

    result = run_cli(cli, endpoint, tmp_path)
    assert result.returncode == 0, result.stderr

    [deployment_id] = codedeploy.list_deployments(
        applicationName="AppECS-edufly-web",
        deploymentGroupName="DgpECS-edufly-web")["deployments"]
    revision = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["revision"]
    assert revision["revisionType"] == "AppSpecContent"
    appspec = json.loads(revision["appSpecContent"]["content"])
    target = appspec["Resources"][0]["TargetService"]
    assert target["Type"] == "AWS::ECS::Service"
    assert target["Properties"]["TaskDefinition"].endswith("task-definition/web:2")
    assert target["Properties"]["LoadBalancerInfo"] == {"ContainerName": "app",
                                                        "ContainerPort": 8080}
    task = ecs.describe_task_definition(taskDefinition="web:2")["taskDefinition"]
    assert (int(task["cpu"]), int(task["memory"])) == (finding.recommended["cpu"],
                                                       finding.recommended["memory"])
    assert_containers_fit(task)
    # nothing but CodeDeploy moves the service: it still names the revision that ran
    service = ecs.describe_services(cluster="edufly", services=["web"])["services"][0]
    assert service["taskDefinition"].endswith("task-definition/web:1")


def test_external_controller_service_gets_the_new_revision_as_its_primary_task_set(
        endpoint, tmp_path):
    """An EXTERNAL-controller service changes task definition only through a task set
    (UpdateService: "If the launch type, load balancer, network configuration, platform
    version, or task definition need to be updated, create a new task set"): the CLI creates a
    task set like the PRIMARY one with the new revision and makes it primary
    (CreateTaskSet, UpdateServicePrimaryTaskSet). The original task set is at scale 0% here:
    moto starts the tasks of a task set and fails to start awsvpc ones."""
    ecs, ec2 = client("ecs", endpoint), client("ec2", endpoint)
    ecs.create_cluster(clusterName="edufly")
    register_api(ecs, family="ext")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="ext", Description="ext", VpcId=vpc)["GroupId"]
    network = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group],
                                       "assignPublicIp": "DISABLED"}}
    ecs.create_service(cluster="edufly", serviceName="ext", desiredCount=2,
                       deploymentController={"type": "EXTERNAL"})
    original = ecs.create_task_set(cluster="edufly", service="ext", taskDefinition="ext:1",
                                   launchType="FARGATE", networkConfiguration=network,
                                   scale={"value": 0.0, "unit": "PERCENT"})["taskSet"]
    ecs.update_service_primary_task_set(cluster="edufly", service="ext",
                                        primaryTaskSet=original["taskSetArn"])

    finding = only_finding(judged(endpoint, ecs_rightsize, ecs_rightsize.Settings()), "ext")
    assert finding.evidence["deployment_controller"] == "EXTERNAL"
    cli = ecs_rightsize.how_to_apply(finding)["cli"]
    assert "aws ecs update-service " not in cli

    result = run_cli(cli, endpoint, tmp_path)
    assert result.returncode == 0, result.stderr

    task_sets = ecs.describe_services(cluster="edufly", services=["ext"])["services"][0][
        "taskSets"]
    [primary] = [t for t in task_sets if t["status"] == "PRIMARY"]
    assert primary["taskDefinition"].endswith("task-definition/ext:2")
    assert primary["launchType"] == "FARGATE"
    assert primary["networkConfiguration"] == network
    assert {t["taskSetArn"] for t in task_sets if t["status"] == "ACTIVE"} == \
        {original["taskSetArn"]}
    assert original["taskSetArn"] in result.stdout  # the delete-task-set line names it


def test_fargate_spot_strategy_is_set_on_the_service_alone(endpoint, monkeypatch, tmp_path):
    """The Spot CLI gives the service its own capacity provider strategy with UpdateService and
    --force-new-deployment (the strategy parameter "doesn't trigger a new service deployment"
    by itself: UpdateService API reference), after a read-only check that the cluster has
    FARGATE_SPOT; never PutClusterCapacityProviders, which replaces the cluster's provider list
    and default strategy.
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PutClusterCapacityProviders.html"""
    ecs = client("ecs", endpoint)
    default = [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]
    ecs.create_cluster(clusterName="edufly", capacityProviders=["FARGATE", "FARGATE_SPOT"],
                       defaultCapacityProviderStrategy=default)
    ecs.register_task_definition(
        family="worker", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="512",
        memory="1024", containerDefinitions=[{"name": "w", "image": "worker:1"}])
    with_running_tasks(monkeypatch, 3)
    ecs.create_service(cluster="edufly", serviceName="worker", taskDefinition="worker:1",
                       desiredCount=3, launchType="FARGATE")

    settings = ecs_fargate_spot.Settings(on_demand_base=1)
    finding = only_finding(judged(endpoint, ecs_fargate_spot, settings), "worker")
    cli = ecs_fargate_spot.how_to_apply(finding)["cli"]
    assert "put-cluster-capacity-providers" not in cli
    assert "--force-new-deployment" in cli

    result = run_cli(cli, endpoint, tmp_path)
    assert result.returncode == 0, result.stderr

    service = ecs.describe_services(cluster="edufly", services=["worker"])["services"][0]
    assert service["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 4},
    ]
    cluster = ecs.describe_clusters(clusters=["edufly"])["clusters"][0]
    assert cluster["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert cluster["defaultCapacityProviderStrategy"] == default


def test_fargate_spot_command_changes_nothing_when_the_cluster_has_no_fargate_spot(
        endpoint, monkeypatch, tmp_path):
    """Precondition of a FARGATE_SPOT strategy: the provider is associated with the cluster
    (CapacityProviderStrategyItem: "Only capacity providers that are already associated with a
    cluster ... can be used"). Without it the CLI says so on stderr and leaves the service."""
    ecs = client("ecs", endpoint)
    ecs.create_cluster(clusterName="edufly", capacityProviders=["FARGATE"])
    ecs.register_task_definition(
        family="worker", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="512",
        memory="1024", containerDefinitions=[{"name": "w", "image": "worker:1"}])
    with_running_tasks(monkeypatch, 2)
    ecs.create_service(cluster="edufly", serviceName="worker", taskDefinition="worker:1",
                       desiredCount=2, launchType="FARGATE")
    finding = only_finding(judged(endpoint, ecs_fargate_spot, ecs_fargate_spot.Settings()),
                           "worker")

    result = run_cli(ecs_fargate_spot.how_to_apply(finding)["cli"], endpoint, tmp_path)

    assert result.returncode == 1  # not applied, and the status says so
    assert "has no FARGATE_SPOT capacity provider" in result.stderr
    service = ecs.describe_services(cluster="edufly", services=["worker"])["services"][0]
    assert service.get("capacityProviderStrategy", []) == []
    assert service["launchType"] == "FARGATE"


# --- the task definition rewrite on its own ------------------------------------------------

def fit(described: dict[str, Any], cpu: int, memory: int, tmp_path: Path) -> dict[str, Any]:
    """Run the CLI's python3 rewrite on a DescribeTaskDefinition answer."""
    source = tmp_path / "described.json"
    source.write_text(json.dumps(described))
    result = subprocess.run([sys.executable, "-", str(source), str(cpu), str(memory)],
                            input=ecs_rightsize.FIT_TASK_DEFINITION, capture_output=True,
                            text=True, check=True)
    return json.loads(result.stdout)


# DescribeTaskDefinition answer shaped after the API reference example
# (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTaskDefinition.html),
# on Windows Server 2022 Core, which Fargate runs at 1, 2 or 4 vCPU.
WINDOWS_DESCRIBED = {
    "taskDefinition": {
        "taskDefinitionArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/iis:3",
        "family": "iis", "revision": 3, "status": "ACTIVE", "networkMode": "awsvpc",
        "containerDefinitions": [
            {"name": "iis", "image": "mcr.microsoft.com/windows/servercore/iis", "cpu": 4096,
             "memory": 8192, "essential": True, "portMappings": [{"containerPort": 80}]},
        ],
        "volumes": [], "placementConstraints": [],
        "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
        "compatibilities": ["EC2", "FARGATE"], "requiresCompatibilities": ["FARGATE"],
        "runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE",
                            "cpuArchitecture": "X86_64"},
        "cpu": "4096", "memory": "8192",
        "registeredAt": "2026-10-01T09:00:00.000000+00:00",
        "registeredBy": f"arn:aws:iam::{ACCOUNT}:user/deployer",
    },
    "tags": [],
}


def test_rewrite_drops_what_register_task_definition_does_not_take(tmp_path):
    """DescribeTaskDefinition adds taskDefinitionArn, revision, status, requiresAttributes,
    compatibilities and registeredAt/By, which are not RegisterTaskDefinition request
    parameters (the CLI would reject --cli-input-json with them); runtimePlatform stays, so the
    new revision runs on the platform it was sized and priced for."""
    task = fit(WINDOWS_DESCRIBED, 2048, 4096, tmp_path)
    for key in ("taskDefinitionArn", "revision", "status", "requiresAttributes",
                "compatibilities", "registeredAt", "registeredBy", "deregisteredAt"):
        assert key not in task
    assert task["runtimePlatform"] == WINDOWS_DESCRIBED["taskDefinition"]["runtimePlatform"]
    assert "tags" not in task  # an empty tag list is left out, not sent
    assert (task["cpu"], task["memory"]) == ("2048", "4096")
    # Windows limits containers absolutely: the container now fits the smaller task
    assert task["containerDefinitions"][0]["cpu"] == 2048
    assert task["containerDefinitions"][0]["memory"] == 4096
    assert_containers_fit(task)


def test_rewrite_keeps_container_limits_that_already_fit(tmp_path):
    """Only what would not fit is changed: a sidecar's small limits and a container without any
    keep their values (RegisterTaskDefinition accepts them as long as the sums fit)."""
    described = {"taskDefinition": {
        "family": "api", "cpu": "2048", "memory": "4096", "revision": 9,
        "containerDefinitions": [
            {"name": "app", "image": "api:1"},
            {"name": "envoy", "image": "envoy:1", "cpu": 128, "memory": 256,
             "memoryReservation": 128},
        ]}, "tags": [{"key": "team", "value": "core"}]}
    task = fit(described, 1024, 2048, tmp_path)
    assert task["containerDefinitions"][0] == {"name": "app", "image": "api:1"}
    assert task["containerDefinitions"][1] == {"name": "envoy", "image": "envoy:1", "cpu": 128,
                                               "memory": 256, "memoryReservation": 128}
    assert task["tags"] == [{"key": "team", "value": "core"}]


@pytest.mark.parametrize(("cpu", "memory"), [(256, 512), (512, 1024), (1024, 3072)])
def test_rewrite_scales_reservations_that_would_not_fit(tmp_path, cpu, memory):
    """Reservations summing past the new task size shrink in proportion until they fit; a hard
    limit above the task's memory is capped at it, and stays above the soft limit."""
    described = {"taskDefinition": {
        "family": "api", "cpu": "2048", "memory": "4096",
        "containerDefinitions": [
            {"name": "app", "image": "api:1", "cpu": 1536, "memory": 4000,
             "memoryReservation": 3000},
            {"name": "agent", "image": "agent:1", "cpu": 512, "memoryReservation": 1024},
        ]}}
    task = fit(described, cpu, memory, tmp_path)
    assert_containers_fit(task)
    app, agent = task["containerDefinitions"]
    assert app["cpu"] / agent["cpu"] == pytest.approx(3, rel=0.05)
    assert np.isclose(app["memoryReservation"] / agent["memoryReservation"], 3000 / 1024,
                      rtol=0.05)
