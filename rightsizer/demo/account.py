"""An EduFly-like AWS account built inside moto, for `rightsizer analyze --demo` and the tests.

Everything is created through boto3 clients made from the given session, so the same builder
works in-process (inside `moto.mock_aws()`) and against a moto server (`endpoint_url=`). The only
other call is moto's own HTTP API, to queue the Cost Explorer results moto cannot compute.

The account follows /work/shared/REFERENCE-STACK.md (the "Scale" phase, ~$500/month): five
Fargate services with the metric shapes each rule should see, RDS PostgreSQL primary + read
replica + a stopped staging DB, one Redis node, four S3 buckets and three months of costs.
Random noise comes from a fixed seed, so a given `now` always builds the same account.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import requests

from rightsizer.demo.metrics import DemoMetrics
from rightsizer.demo.usage import usage_results
from rightsizer.rules.support import sizing_history, year_ago

DEMO_REGION = "ap-south-1"
DEMO_CLUSTER = "edufly"
SEED = 42
CE_RESULTS_PATH = "/moto-api/static/ce/cost-and-usage-results"
MOTO_API_URL = "http://motoapi.amazonaws.com"  # intercepted by mock_aws in-process
# moto hands queued Cost Explorer results to the first distinct request bodies, one each: queue
# several copies so retries and differently-shaped requests also get data.
CE_RESULT_COPIES = 5
MAX_DATUMS_PER_CALL = 1000  # PutMetricData's documented limit (moto itself does not enforce one)
IST = timedelta(hours=5, minutes=30)  # the schools' clock: load follows Indian school hours
GB = 1024**3
DAY = timedelta(days=1)
COMMON_TAGS = {"project": "edufly", "env": "production"}


@dataclass
class DemoAccount:
    """Names the builder created, for tests and the demo to assert on."""

    cluster: str
    services: dict[str, str]
    databases: dict[str, str]
    buckets: dict[str, str]
    cache_cluster: str
    window_end: datetime
    metrics: DemoMetrics = field(repr=False, compare=False)


@dataclass(frozen=True)
class _Service:
    role: str
    name: str
    cpu: int
    memory: int
    desired: int
    behind_alb: bool
    team: str
    port: int | None


SERVICES = (
    _Service("api", "edufly-api", 1024, 2048, 2, True, "platform", 3000),
    _Service("worker", "edufly-report-worker", 512, 1024, 1, False, "data", None),
    _Service("admin", "edufly-admin", 2048, 4096, 1, True, "platform", 3000),
    _Service("notifications", "edufly-notifications", 256, 512, 1, False, "engagement", None),
    # Report-card PDFs, rendered on demand while schools are open: pinned at its 0.25 vCPU
    # (ecs-underprovisioned)
    _Service("report-cards", "edufly-report-cards", 256, 512, 1, False, "data", None),
)
# Last month's report advised the worker down from 1 vCPU / 2 GB (demo/last_month.py); the team
# applied it this many days ago: revision 1 had the old size, revision 2 runs the new one.
WORKER_RESIZED_DAYS_AGO = 20
WORKER_SIZE_BEFORE = (1024, 2048)
DATABASES = {"primary": "edufly-db", "replica": "edufly-db-analytics",
             "staging": "edufly-staging-db"}
BUCKETS = {"documents": "edufly-student-documents", "assets": "edufly-static-assets",
           "exports": "edufly-data-exports", "logos": "edufly-school-logos"}
CACHE_CLUSTER = "edufly-cache"
NOTIFICATIONS_AGE = timedelta(days=2)  # deployed two days ago: too little data to judge
STAGING_METRIC_DAYS = 3  # the staging DB ran for the first 3 days of the window, then stopped

# Monthly UnblendedCost by service three months ago; each later month grows by MONTHLY_GROWTH.
# Keys are the SERVICE names GetCostAndUsage groups by (public IPv4 addresses bill under
# Amazon Virtual Private Cloud, NAT gateways under EC2 - Other); the amounts are made up.
BASE_MONTHLY_COST = {
    "Amazon Elastic Container Service": 204.80,
    "Amazon Relational Database Service": 118.40,
    "EC2 - Other": 37.90,  # NAT gateway hours and data processing
    "Amazon Elastic Load Balancing": 21.60,
    "Amazon CloudFront": 17.30,
    "Amazon ElastiCache": 14.60,
    "AmazonCloudWatch": 11.70,
    "Amazon Simple Storage Service": 9.40,
    "Amazon Route 53": 2.10,
    "Amazon Virtual Private Cloud": 6.60,  # the NAT gateway's and the old bastion's IPv4
    "Amazon EC2 Container Registry (ECR)": 1.20,
    "AWS Secrets Manager": 0.80,
    "Tax": 80.35,  # a tax line as Cost Explorer lists one (made up, near 18% of the rest)
}
MONTHLY_GROWTH = 0.055
COST_MONTHS = 3


# A year ago the product carried this share of today's load (the reference stack grew 10x).
LAST_YEAR_LOAD = 0.6


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def floor_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def build_demo_account(session: boto3.Session, *, now: datetime, days: int = 14,
                       endpoint_url: str | None = None, period_seconds: int = 3600,
                       history_days: int | None = None) -> DemoAccount:
    """Create the EduFly account in moto; metrics cover [floor_hour(now) - days, end hour),
    the ECS services' from `history_days` back (the sizing history) when that is longer.
    Every datum put is also kept in DemoAccount.metrics (served by rightsizer.demo.metrics)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    now = now.astimezone(UTC)
    window_end = floor_hour(now)
    window_start = window_end - timedelta(days=days)

    published = DemoMetrics()

    def client(name: str, region: str = DEMO_REGION) -> Any:
        made = session.client(name, region_name=region, endpoint_url=endpoint_url)
        return published.recorder(made) if name == "cloudwatch" else made

    account_id = client("sts").get_caller_identity()["Account"]
    _ecs(client, account_id)
    _worker_resized(session, now)
    _api_autoscaling(client)
    _databases(client)
    _cache(client)
    _buckets(client)
    _registry_and_staging(client, session, now)
    _leftovers(client, session, now)
    _nat_and_addresses(client, window_start, window_end, period_seconds)
    _edge_and_logs(client, window_start, window_end, period_seconds)
    series = _Series(window_start, window_end, period_seconds,
                     sizing_history.history_start(window_start, window_end,
                                                  history_days or days))
    _publish(client("cloudwatch"), series.all_metrics())
    _queue_costs(now.date(), account_id, endpoint_url)
    return DemoAccount(
        cluster=DEMO_CLUSTER,
        services={spec.role: spec.name for spec in SERVICES},
        databases=dict(DATABASES),
        buckets=dict(BUCKETS),
        cache_cluster=CACHE_CLUSTER,
        window_end=window_end,
        metrics=published,
    )


# ---------------------------------------------------------------------------------- resources

def _tags(team: str, **extra: str) -> dict[str, str]:
    return {**COMMON_TAGS, "team": team, **extra}


def _kv(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in tags.items()]


# moto's ECS does not check target groups (and no rightsizer read needs the ALB): well-formed ARNs.
TARGET_GROUP_ARN = ("arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/"
                    "{name}-tg/{suffix}")


def _target_groups(account_id: str) -> dict[str, str]:
    """The ALB's target groups (/ -> API, /admin/* -> admin), as ECS records them."""
    return {spec.role: TARGET_GROUP_ARN.format(region=DEMO_REGION, account=account_id,
                                               name=spec.name, suffix=f"{index:016x}")
            for index, spec in enumerate(SERVICES, start=0x6a4f3c2b1d0e0001)
            if spec.behind_alb}


@dataclass(frozen=True)
class _Network:
    subnets: list[str]
    security_group: str


def _network(client: Callable[..., Any]) -> _Network:
    """Two subnets of the default VPC moto creates, and a task security group: moto's ECS
    checks that awsvpc subnets exist."""
    ec2 = client("ec2")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0][
        "VpcId"]
    subnets = sorted(
        ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"],
        key=lambda subnet: subnet["AvailabilityZone"])
    group = ec2.create_security_group(GroupName="edufly-tasks", VpcId=vpc_id,
                                      Description="EduFly Fargate tasks")["GroupId"]
    return _Network([subnet["SubnetId"] for subnet in subnets[:2]], group)


def _container(spec: _Service, account_id: str) -> dict[str, Any]:
    log_group = f"/ecs/{spec.name}"
    container: dict[str, Any] = {
        "name": spec.name,
        "image": f"{account_id}.dkr.ecr.{DEMO_REGION}.amazonaws.com/{spec.name}:"
                 f"{API_IMAGE_TAG}",
        "essential": True,
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": log_group, "awslogs-region": DEMO_REGION,
            "awslogs-stream-prefix": "ecs"}},
        "secrets": [{"name": "DATABASE_URL", "valueFrom":
                     f"arn:aws:secretsmanager:{DEMO_REGION}:{account_id}:secret:"
                     "edufly/database-url-AbCdEf"}],
    }
    if spec.port is not None:
        container["portMappings"] = [{"containerPort": spec.port, "protocol": "tcp"}]
        container["healthCheck"] = {
            "command": ["CMD-SHELL", f"curl -f http://localhost:{spec.port}/health || exit 1"],
            "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 60}
    return container


def _ecs(client: Callable[..., Any], account_id: str) -> None:
    ecs, logs = client("ecs"), client("logs")
    network = _network(client)
    target_groups = _target_groups(account_id)
    # Container Insights off and no default capacity-provider strategy: services say FARGATE.
    # FARGATE and FARGATE_SPOT are associated with the cluster, as the console does for a
    # Fargate cluster, so a service can take its own Spot strategy (ecs-fargate-spot).
    ecs.create_cluster(clusterName=DEMO_CLUSTER,
                       settings=[{"name": "containerInsights", "value": "disabled"}],
                       capacityProviders=["FARGATE", "FARGATE_SPOT"],
                       tags=_kv(_tags("platform"), "key", "value"))
    for spec in SERVICES:
        logs.create_log_group(logGroupName=f"/ecs/{spec.name}", tags=_tags(spec.team))
        if spec.role == "worker":  # the size before last month's advice (revision 1)
            cpu, memory = WORKER_SIZE_BEFORE
            ecs.register_task_definition(
                family=spec.name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                cpu=str(cpu), memory=str(memory),
                executionRoleArn=f"arn:aws:iam::{account_id}:role/edufly-ecs-execution",
                taskRoleArn=f"arn:aws:iam::{account_id}:role/{spec.name}-task",
                containerDefinitions=[_container(spec, account_id)])
        task_def = ecs.register_task_definition(
            family=spec.name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
            cpu=str(spec.cpu), memory=str(spec.memory),
            executionRoleArn=f"arn:aws:iam::{account_id}:role/edufly-ecs-execution",
            taskRoleArn=f"arn:aws:iam::{account_id}:role/{spec.name}-task",
            containerDefinitions=[_container(spec, account_id)],
        )["taskDefinition"]["taskDefinitionArn"]
        kwargs: dict[str, Any] = {}
        if spec.role in target_groups:
            kwargs["loadBalancers"] = [{"targetGroupArn": target_groups[spec.role],
                                        "containerName": spec.name,
                                        "containerPort": spec.port}]
        with _moto_running_tasks(spec.desired):
            ecs.create_service(
                cluster=DEMO_CLUSTER, serviceName=spec.name, taskDefinition=task_def,
                desiredCount=spec.desired, launchType="FARGATE", platformVersion="LATEST",
                networkConfiguration={"awsvpcConfiguration": {
                    "subnets": network.subnets, "securityGroups": [network.security_group],
                    "assignPublicIp": "DISABLED"}},
                propagateTags="SERVICE", tags=_kv(_tags(spec.team), "key", "value"), **kwargs)


def _worker_resized(session: boto3.Session, now: datetime) -> None:
    """moto stamps every deployment "created now": the worker's gets back the day its resize
    rolled out, before the metric window (so the window ran the new size only)."""
    worker = next(spec.name for spec in SERVICES if spec.role == "worker")
    rolled_out = now - timedelta(days=WORKER_RESIZED_DAYS_AGO)

    def created(parsed: dict[str, Any], **_: Any) -> None:
        for service in parsed.get("services", []):
            if service.get("serviceName") == worker:
                for deployment in service.get("deployments", []):
                    deployment["createdAt"] = rolled_out

    session.events.register("after-call.ecs.DescribeServices", created)


@contextmanager
def _moto_running_tasks(count: int) -> Iterator[None]:
    """A service the demo creates runs its desired tasks, its rollout COMPLETED, as a settled
    service's does: moto takes the running count from MOTO_ECS_SERVICE_RUNNING (default 0, which
    leaves every deployment IN_PROGRESS and ecs-rightsize waiting for the rollout). Read by an
    in-process moto (mock_aws, ThreadedMotoServer) at CreateService."""
    name = "MOTO_ECS_SERVICE_RUNNING"
    saved = os.environ.get(name)
    os.environ[name] = str(count)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


def _api_autoscaling(client: Callable[..., Any]) -> None:
    """The API scales as the reference stack does: min 2 / max 6 tasks, CPU 70% and memory 75%
    target tracking, scale-in cooldown 300 s, scale-out 60 s."""
    autoscaling = client("application-autoscaling")
    api = next(spec for spec in SERVICES if spec.role == "api")
    resource_id = f"service/{DEMO_CLUSTER}/{api.name}"
    dimension = "ecs:service:DesiredCount"
    autoscaling.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource_id,
                                         ScalableDimension=dimension, MinCapacity=2,
                                         MaxCapacity=6)
    for name, metric, target in (("cpu70", "ECSServiceAverageCPUUtilization", 70.0),
                                 ("memory75", "ECSServiceAverageMemoryUtilization", 75.0)):
        autoscaling.put_scaling_policy(
            PolicyName=f"{api.name}-{name}", ServiceNamespace="ecs", ResourceId=resource_id,
            ScalableDimension=dimension, PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": target,
                "PredefinedMetricSpecification": {"PredefinedMetricType": metric},
                "ScaleInCooldown": 300, "ScaleOutCooldown": 60})


def _databases(client: Callable[..., Any]) -> None:
    rds = client("rds")
    common: dict[str, Any] = {
        "Engine": "postgres", "EngineVersion": "15.7", "AllocatedStorage": 20,
        "StorageType": "gp2", "BackupRetentionPeriod": 7, "MasterUsername": "edufly",
        "MasterUserPassword": "demo-password-not-secret", "DBName": "edufly",
        "PubliclyAccessible": False, "StorageEncrypted": True,
    }
    rds.create_db_instance(DBInstanceIdentifier=DATABASES["primary"],
                           DBInstanceClass="db.t3.small", MultiAZ=True,
                           Tags=_kv(_tags("platform")), **common)
    # Analytics dashboards read from a same-region replica, off the primary.
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier=DATABASES["replica"],
        SourceDBInstanceIdentifier=DATABASES["primary"], DBInstanceClass="db.t3.micro",
        MultiAZ=False, Tags=_kv(_tags("data")))
    rds.create_db_instance(DBInstanceIdentifier=DATABASES["staging"],
                           DBInstanceClass="db.t3.micro", MultiAZ=False,
                           Tags=_kv(_tags("platform", env="staging")), **common)
    rds.stop_db_instance(DBInstanceIdentifier=DATABASES["staging"])


def _cache(client: Callable[..., Any]) -> None:
    client("elasticache").create_cache_cluster(
        CacheClusterId=CACHE_CLUSTER, Engine="redis", EngineVersion="7.1",
        CacheNodeType="cache.t3.micro", NumCacheNodes=1, Tags=_kv(_tags("platform")))


def _buckets(client: Callable[..., Any]) -> None:
    s3 = client("s3")
    for role, name in BUCKETS.items():
        s3.create_bucket(Bucket=name,
                         CreateBucketConfiguration={"LocationConstraint": DEMO_REGION})
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _kv(_tags("platform",
                                                                        data=role))})
    # The team's policy: one Enabled rule, IA at 90 days, Glacier at 365 (no finding due).
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKETS["assets"], LifecycleConfiguration={"Rules": [{
            "ID": "archive-old-assets", "Status": "Enabled", "Filter": {"Prefix": ""},
            "Transitions": [{"Days": 90, "StorageClass": "STANDARD_IA"},
                            {"Days": 365, "StorageClass": "GLACIER"}]}]})
    # A rule someone switched off: the bucket is effectively without lifecycle.
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKETS["exports"], LifecycleConfiguration={"Rules": [{
            "ID": "expire-old-exports", "Status": "Disabled", "Filter": {"Prefix": "exports/"},
            "Expiration": {"Days": 30}}]})


def _nat_and_addresses(client: Callable[..., Any], start: datetime, end: datetime,
                       period_seconds: int) -> None:
    """A NAT gateway in the EduFly VPC with no S3 gateway endpoint, carrying the tasks'
    S3 and API traffic (hourly BytesOutToDestination Sum, ActiveConnectionCount Maximum), and
    an Elastic IP left over from an old bastion host, attached to nothing."""
    ec2 = client("ec2")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0][
        "VpcId"]
    ec2.create_tags(Resources=[vpc_id], Tags=_kv({"Name": "edufly-vpc", **COMMON_TAGS}))
    subnet = sorted(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
        "Subnets"], key=lambda item: item["AvailabilityZone"])[0]["SubnetId"]
    eip = ec2.allocate_address(Domain="vpc")
    nat_id = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip["AllocationId"])[
        "NatGateway"]["NatGatewayId"]
    table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_tags(Resources=[table], Tags=_kv({"Name": "edufly-private", **COMMON_TAGS}))
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id)
    bastion = ec2.allocate_address(Domain="vpc")
    ec2.create_tags(Resources=[bastion["AllocationId"]],
                    Tags=_kv({"Name": "edufly-bastion-old", **COMMON_TAGS}))
    rng = random.Random(SEED + 7)
    step = timedelta(seconds=period_seconds)
    data, stamp = [], start
    while stamp < end:
        local = (stamp + IST).hour
        level = 1.0 if 8 <= local < 16 else 0.35 if 6 <= local < 21 else 0.08
        gb = 0.9 * level * rng.uniform(0.8, 1.2) * period_seconds / 3600  # ~13 GB a day
        connections = round(40 + 260 * level * rng.uniform(0.8, 1.2))
        dims = [{"Name": "NatGatewayId", "Value": nat_id}]
        value = float(round(gb * GB))
        data.append({"MetricName": "BytesOutToDestination", "Dimensions": dims,
                     "Timestamp": stamp, "Unit": "Bytes",
                     "StatisticValues": {"SampleCount": 60.0, "Sum": value,
                                         "Minimum": 0.0, "Maximum": value / 20}})
        data.append({"MetricName": "ActiveConnectionCount", "Dimensions": dims,
                     "Timestamp": stamp, "Unit": "Count",
                     "StatisticValues": {"SampleCount": 60.0, "Sum": connections * 45.0,
                                         "Minimum": connections * 0.4,
                                         "Maximum": float(connections)}})
        stamp += step
    _publish(client("cloudwatch"), {"AWS/NATGateway": data})


# A load balancer and a secret left behind by the move to ECS (idle-load-balancer,
# secrets-unused): the old EC2 stack's ALB, its target group emptied when the instances went,
# and the SMS gateway key nothing has read since the provider changed.
LEGACY_ALB = "edufly-legacy-alb"
SECRETS = {"database-url": "edufly/database-url", "legacy-sms": "edufly/legacy-sms-gateway-key"}
# (created, last accessed) days before now; None = never accessed. moto's ListSecrets always
# answers LastAccessedDate None and stamps CreatedDate "now", so the demo fills both in.
SECRET_HISTORY_DAYS: dict[str, tuple[int, int | None]] = {
    "edufly/database-url": (420, 1),  # read by every edufly-api task start
    "edufly/legacy-sms-gateway-key": (400, 210),
}


def _leftovers(client: Callable[..., Any], session: boto3.Session, now: datetime) -> None:
    elbv2, ec2 = client("elbv2"), client("ec2")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0][
        "VpcId"]
    subnets = sorted(
        ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"],
        key=lambda subnet: subnet["AvailabilityZone"])[:2]
    alb = elbv2.create_load_balancer(
        Name=LEGACY_ALB, Subnets=[subnet["SubnetId"] for subnet in subnets],
        Scheme="internet-facing", Type="application",
        Tags=_kv(_tags("platform", purpose="ec2-era-api")))["LoadBalancers"][0]
    group = elbv2.create_target_group(
        Name="edufly-legacy-ec2", Protocol="HTTP", Port=3000, VpcId=vpc_id,
        TargetType="instance", HealthCheckPath="/health")["TargetGroups"][0]
    elbv2.create_listener(LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                          DefaultActions=[{"Type": "forward",
                                           "TargetGroupArn": group["TargetGroupArn"]}])
    # No RequestCount is published for it: ALBs report RequestCount only when non-zero.
    secrets = client("secretsmanager")
    secrets.create_secret(Name=SECRETS["database-url"],
                          SecretString="postgresql://edufly@edufly-db:5432/edufly",
                          Tags=_kv(_tags("platform")))
    secrets.create_secret(Name=SECRETS["legacy-sms"], SecretString="demo-sms-key-not-secret",
                          Tags=_kv(_tags("engagement")))

    def history(parsed: dict[str, Any], **_: Any) -> None:
        for entry in parsed.get("SecretList", []):
            days = SECRET_HISTORY_DAYS.get(entry.get("Name", ""))
            if days is None:
                continue
            created, accessed = days
            entry["CreatedDate"] = now - timedelta(days=created)
            if accessed is None:
                entry.pop("LastAccessedDate", None)
            else:  # a date, truncated to midnight, as Secrets Manager reports it
                entry["LastAccessedDate"] = floor_day(now - timedelta(days=accessed))

    session.events.register("after-call.secrets-manager.ListSecrets", history)


# ECR and a second staging database (ecr-lifecycle, rds-multi-az-nonprod): the API's image
# repository has no lifecycle policy, so every CI build stays (re-pushing "staging" leaves the
# previous image untagged); the worker's repository has one. The staging copy of the database
# was created from the production module, Multi-AZ included.
ECR_REPOSITORIES = {"api": "edufly-api", "worker": "edufly-report-worker"}
STAGING_MULTI_AZ_DB = "edufly-db-staging-2"
ECR_API_RELEASES = 24  # tagged releases, one every 5 days
ECR_API_UNTAGGED = 16  # builds whose tag moved on, one every 7 days
ECR_IMAGE_MB = 300
API_IMAGE_TAG = "2025.06.1"  # the tag every demo task definition runs


def _api_image_mb(number: int) -> int:
    return ECR_IMAGE_MB + number % 7 * 10


def ecr_stored_gb() -> float:
    """What the API repository's pushed images store (the manifest list adds no layers)."""
    return sum(_api_image_mb(n) for n in range(ECR_API_RELEASES + ECR_API_UNTAGGED)) / 1024


def multi_arch_index(size: int) -> dict[str, Any]:
    """A Docker manifest list for linux/amd64 and linux/arm64, as `docker buildx build
    --platform linux/amd64,linux/arm64 --push` writes it
    (https://docs.docker.com/registry/spec/manifest-v2-2/#manifest-list)."""
    return {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [
            {"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
             "size": size, "digest": f"sha256:{index:064x}",
             "platform": {"architecture": arch, "os": "linux", **extra}}
            for index, (arch, extra) in enumerate(
                (("amd64", {}), ("arm64", {"variant": "v8"})), start=0xA1)],
    }


def _registry_and_staging(client: Callable[..., Any], session: boto3.Session,
                          now: datetime) -> None:
    ecr = client("ecr")
    for name in ECR_REPOSITORIES.values():
        ecr.create_repository(repositoryName=name, tags=_kv(_tags("platform")))
    ecr.put_lifecycle_policy(repositoryName=ECR_REPOSITORIES["worker"], lifecyclePolicyText=(
        '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":'
        '"sinceImagePushed","countUnit":"days","countNumber":7},"action":{"type":"expire"}}]}'))
    pushed: dict[str, datetime] = {}
    images = [(f"v1.{ECR_API_RELEASES - n}", n * 5 + 1) for n in range(ECR_API_RELEASES)]
    images += [(None, n * 7 + 2) for n in range(ECR_API_UNTAGGED)]
    for number, (tag, days_ago) in enumerate(images):
        size = _api_image_mb(number) * 1024 * 1024
        digest = f"{number + 1:064x}"
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                       "size": size, "digest": f"sha256:{digest}"},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                        "size": size, "digest": f"sha256:{digest}"}]})
        kwargs = {"imageTag": tag} if tag else {}
        image = ecr.put_image(repositoryName=ECR_REPOSITORIES["api"], imageManifest=manifest,
                              **kwargs)["image"]
        pushed[image["imageId"]["imageDigest"]] = now - timedelta(days=days_ago)

    # The release the API runs (its task definition's image) is built for x86 and ARM64: a
    # manifest list (graviton-migration reads its platforms). The per-platform manifests it
    # names are not pushed: moto does not resolve them, and no rule reads them.
    ecr.put_image(repositoryName=ECR_REPOSITORIES["api"], imageTag=API_IMAGE_TAG,
                  imageManifest=json.dumps(multi_arch_index(size=ECR_IMAGE_MB * 1024 * 1024)))

    # moto stamps every image "pushed now": the demo gives each its push time back.
    def push_times(parsed: dict[str, Any], **_: Any) -> None:
        for detail in parsed.get("imageDetails", []):
            if detail.get("imageDigest") in pushed:
                detail["imagePushedAt"] = pushed[detail["imageDigest"]]

    session.events.register("after-call.ecr.DescribeImages", push_times)
    client("rds").create_db_instance(
        DBInstanceIdentifier=STAGING_MULTI_AZ_DB, DBInstanceClass="db.t3.micro", MultiAZ=True,
        Engine="postgres", EngineVersion="15.7", AllocatedStorage=20, StorageType="gp2",
        BackupRetentionPeriod=7, MasterUsername="edufly",
        MasterUserPassword="demo-password-not-secret", DBName="edufly",
        PubliclyAccessible=False, StorageEncrypted=True,
        Tags=_kv(_tags("platform", env="staging")))


# CloudFront, Route 53 and log ingestion (cloudfront-idle, route53-orphan-health-check,
# logs-ingestion): the static-assets CDN in use and the EC2-era web distribution nobody
# requests; a health check on the EC2-era web ALB, deleted since, beside one on the live API;
# the API's log group ingesting most of the account's logs.
CDN_COMMENTS = {"assets": "edufly static assets", "legacy": "edufly web (EC2 era)"}
DELETED_ALB = "edufly-web-ec2"
LIVE_API_HOST = "api.edufly.example"
LOG_GB_PER_DAY = {"/ecs/edufly-api": 0.35, "/ecs/edufly-report-worker": 0.04}
GLOBAL_METRICS_REGION = "us-east-1"  # CloudFront's and Route 53's series live there


def _distribution(cloudfront: Any, comment: str, origin: str) -> str:
    config = {
        "CallerReference": comment, "Comment": comment, "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "origin", "DomainName": origin,
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "origin", "ViewerProtocolPolicy": "redirect-to-https",
            "MinTTL": 0, "TrustedSigners": {"Enabled": False, "Quantity": 0},
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}},
    }
    created = cloudfront.create_distribution_with_tags(DistributionConfigWithTags={
        "DistributionConfig": config, "Tags": {"Items": _kv(_tags("platform"))}})
    return str(created["Distribution"]["Id"])


def _edge_and_logs(client: Callable[..., Any], start: datetime, end: datetime,
                   period_seconds: int) -> None:
    cloudfront = client("cloudfront", GLOBAL_METRICS_REGION)
    assets = _distribution(cloudfront, CDN_COMMENTS["assets"],
                           f"{BUCKETS['assets']}.s3.amazonaws.com")
    _distribution(cloudfront, CDN_COMMENTS["legacy"], "edufly-web-ec2.s3.amazonaws.com")
    elbv2, ec2 = client("elbv2"), client("ec2")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0][
        "VpcId"]
    subnets = sorted(
        ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"],
        key=lambda subnet: subnet["AvailabilityZone"])[:2]
    old = elbv2.create_load_balancer(Name=DELETED_ALB, Type="application",
                                     Subnets=[subnet["SubnetId"] for subnet in subnets])[
        "LoadBalancers"][0]
    route53 = client("route53", GLOBAL_METRICS_REGION)
    orphan = route53.create_health_check(CallerReference=DELETED_ALB, HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": old["DNSName"], "Port": 443,
        "ResourcePath": "/health", "RequestInterval": 30, "FailureThreshold": 3})[
        "HealthCheck"]["Id"]
    live = route53.create_health_check(CallerReference=LIVE_API_HOST, HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": LIVE_API_HOST, "Port": 443,
        "ResourcePath": "/health", "RequestInterval": 30, "FailureThreshold": 3})[
        "HealthCheck"]["Id"]
    for check, name in ((orphan, "edufly-web-ec2"), (live, "edufly-api")):
        route53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check,
                                         AddTags=_kv({"Name": name, **COMMON_TAGS}))
    elbv2.delete_load_balancer(LoadBalancerArn=old["LoadBalancerArn"])
    rng = random.Random(SEED + 11)
    step = timedelta(seconds=period_seconds)
    requests, status, logs = [], [], []
    stamp = start
    while stamp < end:
        local = (stamp + IST).hour
        level = 1.0 if 8 <= local < 16 else 0.35 if 6 <= local < 21 else 0.08
        requests.append(_sum("Requests", {"DistributionId": assets, "Region": "Global"}, stamp,
                             round(18_000 * level * rng.uniform(0.8, 1.2)), "None"))
        for check, healthy in ((orphan, 0.0), (live, 1.0)):
            status.append({"MetricName": "HealthCheckStatus",
                           "Dimensions": [{"Name": "HealthCheckId", "Value": check}],
                           "Timestamp": stamp, "Unit": "None",
                           "StatisticValues": {"SampleCount": 60.0, "Sum": 60 * healthy,
                                               "Minimum": healthy, "Maximum": healthy}})
        for group, gb_per_day in LOG_GB_PER_DAY.items():
            hourly = gb_per_day / 24 * level / 0.5 * rng.uniform(0.9, 1.1)  # 0.5: mean level
            logs.append(_sum("IncomingBytes", {"LogGroupName": group}, stamp,
                             round(hourly * GB * period_seconds / 3600), "Bytes"))
        stamp += step
    _publish(client("cloudwatch", GLOBAL_METRICS_REGION),
             {"AWS/CloudFront": requests, "AWS/Route53": status})
    _publish(client("cloudwatch"), {"AWS/Logs": logs})


def _sum(metric: str, dims: dict[str, str], stamp: datetime, value: float,
         unit: str) -> dict[str, Any]:
    """One period's datum of a Sum-only metric (counts, bytes) as StatisticValues."""
    return {"MetricName": metric, "Dimensions": _kv(dims, "Name", "Value"), "Timestamp": stamp,
            "Unit": unit, "StatisticValues": {"SampleCount": 1.0, "Sum": float(value),
                                              "Minimum": float(value),
                                              "Maximum": float(value)}}


# ------------------------------------------------------------------------------------ metrics

class _Series:
    """Hourly (period_seconds) utilisation shaped by Indian school days, plus daily S3 sizes."""

    def __init__(self, start: datetime, end: datetime, period_seconds: int,
                 ecs_start: datetime | None = None) -> None:
        self.start, self.end = start, end
        self.ecs_start = ecs_start or start  # the ECS series reach back over the sizing history
        self.period = timedelta(seconds=period_seconds)
        self.samples = max(1, period_seconds // 60)  # one-minute samples behind each datum
        self.rng = random.Random(SEED)
        # Exam week: the 7 IST days ending 2 days before the window end (always 5 weekdays).
        last_day = (end + IST).date() - timedelta(days=2)
        self.exam_days = {last_day - timedelta(days=offset) for offset in range(7)}

    def stamps(self, since: datetime | None = None, start: datetime | None = None
               ) -> list[datetime]:
        start = start or self.start
        first = start if since is None else max(start, floor_hour(since))
        count = int((self.end - first) / self.period)
        return [first + index * self.period for index in range(count)]

    def load(self, stamp: datetime) -> tuple[float, bool]:
        """Relative traffic in [0, 1] at an hour (IST), and whether it is an exam day."""
        local = stamp + IST
        hour, weekend = local.hour, local.weekday() >= 5
        if 8 <= hour < 16:
            level = 0.35 if weekend else 1.0
        elif 6 <= hour < 8 or 16 <= hour < 21:
            level = 0.25 if weekend else 0.45
        elif 21 <= hour < 23:
            level = 0.15
        else:
            level = 0.05
        return level, local.date() in self.exam_days and not weekend

    def all_metrics(self) -> dict[str, list[dict[str, Any]]]:
        metrics = {
            "AWS/ECS": self.ecs(),
            "AWS/RDS": self.rds(),
            "AWS/ElastiCache": self.cache(),
            "AWS/S3": self.s3(),
        }
        # drawn last, so this window's series are the same with or without it
        metrics["AWS/ECS"] += self.ecs_year_ago()
        # added after the others, so theirs are drawn as before it existed
        metrics["AWS/ECS"] += self.report_cards()
        return metrics

    def report_cards(self) -> list[dict[str, Any]]:
        spec = next(spec for spec in SERVICES if spec.role == "report-cards")
        dims = {"ClusterName": DEMO_CLUSTER, "ServiceName": spec.name}
        data = []
        for stamp in self.stamps():
            cpu_avg, cpu_max, mem_avg, mem_max = self._report_cards(*self.load(stamp))
            data.append(self._datum("CPUUtilization", dims, stamp, cpu_avg, cpu_max))
            data.append(self._datum("MemoryUtilization", dims, stamp, mem_avg, mem_max))
        return data

    def ecs_year_ago(self) -> list[dict[str, Any]]:
        """One datum a day (its peak) over the weeks ecs-rightsize reads a year back.

        A year ago EduFly had 60% of today's load; admin's term-end fortnight (staff entering
        marks and printing report cards) came three weeks after today's date, at 1.6x a
        normal day's peak. Notifications did not exist yet.
        """
        start, end = year_ago.window(self.ecs_start, self.end)
        season = self.end - year_ago.YEAR + timedelta(days=21)
        shapes = {"api": self._api, "worker": self._worker, "admin": self._admin}
        data = []
        day = floor_day(start)
        while day < end:
            weekend = (day + IST).weekday() >= 5
            for spec in SERVICES:
                if spec.role not in shapes:
                    continue
                cpu_avg, cpu_max, mem_avg, mem_max = shapes[spec.role](
                    0.35 if weekend else 1.0, False)
                cpu_avg, cpu_max = cpu_avg * LAST_YEAR_LOAD, cpu_max * LAST_YEAR_LOAD
                if spec.role == "admin" and not weekend and \
                        season <= day < season + timedelta(days=14):
                    cpu_max *= 1.6
                dims = {"ClusterName": DEMO_CLUSTER, "ServiceName": spec.name}
                data.append(self._datum("CPUUtilization", dims, day, cpu_avg, cpu_max))
                data.append(self._datum("MemoryUtilization", dims, day, mem_avg, mem_max))
            day += timedelta(days=1)
        return data

    def _datum(self, metric: str, dims: dict[str, str], stamp: datetime, average: float,
               maximum: float, unit: str = "Percent") -> dict[str, Any]:
        average = round(min(max(average, 0.1), 100.0), 2)
        maximum = round(min(max(maximum, average), 100.0), 2)
        minimum = round(average * self.rng.uniform(0.35, 0.75), 2)
        return {
            "MetricName": metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            "Timestamp": stamp,
            "StatisticValues": {"SampleCount": self.samples,
                                "Sum": round(average * self.samples, 2),
                                "Minimum": minimum, "Maximum": maximum},
            "Unit": unit,
        }

    def ecs(self) -> list[dict[str, Any]]:
        data = []
        shapes: dict[str, Callable[[float, bool], tuple[float, float, float, float]]] = {
            "api": self._api, "worker": self._worker, "admin": self._admin,
            "notifications": self._notifications}
        for spec in SERVICES:
            if spec.role not in shapes:
                continue
            dims = {"ClusterName": DEMO_CLUSTER, "ServiceName": spec.name}
            since = self.end - NOTIFICATIONS_AGE if spec.role == "notifications" else None
            for stamp in self.stamps(since, self.ecs_start):
                level, exam = self.load(stamp)
                cpu_avg, cpu_max, mem_avg, mem_max = shapes[spec.role](level, exam)
                data.append(self._datum("CPUUtilization", dims, stamp, cpu_avg, cpu_max))
                data.append(self._datum("MemoryUtilization", dims, stamp, mem_avg, mem_max))
        return data

    def _api(self, level: float, exam: bool) -> tuple[float, float, float, float]:
        # Exam weeks bring ~3x requests; the average rises less than the login-rush peaks.
        rng = self.rng
        effective = level * (1.75 if exam else 1.0)
        cpu_avg = (6 + 20 * effective) * rng.uniform(0.9, 1.1)
        burst = rng.uniform(1.95, 2.25) if exam and level >= 1 else rng.uniform(1.5, 2.0)
        cpu_max = min(cpu_avg * burst, 91.0)
        mem_avg = (46 + 9 * effective) * rng.uniform(0.97, 1.03)
        mem_max = min(mem_avg + rng.uniform(3, 8), 70.0)
        return cpu_avg, cpu_max, mem_avg, mem_max

    def _worker(self, level: float, exam: bool) -> tuple[float, float, float, float]:
        # Report/export jobs arrive in bursts at any hour; more report cards in exam weeks.
        rng = self.rng
        cpu_avg = rng.uniform(20, 32) + (3 if exam else 0)
        cpu_max = rng.uniform(60, 80)
        mem_avg = rng.uniform(44, 52)
        mem_max = min(mem_avg + rng.uniform(5, 10), 61.0)
        return cpu_avg, cpu_max, mem_avg, mem_max

    def _admin(self, level: float, exam: bool) -> tuple[float, float, float, float]:
        # A handful of school staff: the 2 vCPU / 4 GB task idles (should be downsized).
        rng = self.rng
        cpu_avg = (3 + 5 * level) * rng.uniform(0.85, 1.15)
        cpu_max = min(cpu_avg * rng.uniform(1.4, 2.1), 17.5)
        mem_avg = (16.5 + 2 * level) * rng.uniform(0.98, 1.02)
        mem_max = min(mem_avg + rng.uniform(0.5, 2.5), 21.5)
        return cpu_avg, cpu_max, mem_avg, mem_max

    def _report_cards(self, level: float, exam: bool) -> tuple[float, float, float, float]:
        # Each PDF keeps a vCPU busy for seconds: from the morning rush to the evening the
        # 0.25 vCPU task is pinned (hourly Maximum 97-100%), quiet only at night.
        rng = self.rng
        if level >= 0.45 or (exam and level >= 0.25):
            cpu_avg, cpu_max = rng.uniform(78, 92), rng.uniform(97, 100)
        else:
            cpu_avg = rng.uniform(6, 14)
            cpu_max = cpu_avg * rng.uniform(1.8, 2.6)
        mem_avg = rng.uniform(52, 60)
        mem_max = mem_avg + rng.uniform(4, 9)
        return cpu_avg, cpu_max, mem_avg, mem_max

    def _notifications(self, level: float, exam: bool) -> tuple[float, float, float, float]:
        rng = self.rng
        cpu_avg = (8 + 14 * level) * rng.uniform(0.9, 1.1)
        cpu_max = cpu_avg * rng.uniform(1.5, 2.2)
        mem_avg = rng.uniform(36, 42)
        mem_max = mem_avg + rng.uniform(2, 6)
        return cpu_avg, cpu_max, mem_avg, mem_max

    def rds(self) -> list[dict[str, Any]]:
        rng, data = self.rng, []
        for role, db_id in DATABASES.items():
            dims = {"DBInstanceIdentifier": db_id}
            for stamp in self.stamps():
                if role == "staging" and stamp >= self.start + STAGING_METRIC_DAYS * DAY:
                    break  # stopped: a stopped instance publishes nothing
                level, exam = self.load(stamp)
                if role == "primary":
                    avg = (7 + 22 * level * (1.6 if exam else 1.0)) * rng.uniform(0.9, 1.1)
                    peak = avg * rng.uniform(1.4, 1.8)
                elif role == "replica":
                    nightly = 1 <= (stamp + IST).hour < 3  # nightly analytics refresh
                    avg = rng.uniform(25, 35) if nightly else 4 + 6 * level * rng.uniform(0.8,
                                                                                          1.2)
                    peak = avg * rng.uniform(1.3, 1.7)
                else:
                    avg = rng.uniform(1.5, 3.5)
                    peak = avg * rng.uniform(1.5, 2.5)
                data.append(self._datum("CPUUtilization", dims, stamp, avg, peak))
                if role != "staging":
                    data.extend(self._rds_memory_and_connections(role, dims, stamp, level))
        return data

    def _rds_memory_and_connections(self, role: str, dims: dict[str, str], stamp: datetime,
                                    level: float) -> list[dict[str, Any]]:
        """FreeableMemory (bytes) and DatabaseConnections: the primary is busy, the replica
        only sees the nightly analytics job and a dashboard or two."""
        rng, gib = self.rng, 1024**3
        if role == "primary":  # db.t3.small, 2 GiB: ~0.7 GiB free, less under load
            free_min = (0.75 - 0.25 * level) * gib * rng.uniform(0.9, 1.05)
            connections = 12 + 45 * level * rng.uniform(0.8, 1.2)
        else:  # db.t3.micro replica, 1 GiB
            free_min = (0.35 - 0.1 * level) * gib * rng.uniform(0.9, 1.05)
            connections = 3 + 4 * level * rng.uniform(0.5, 1.5)
        return [
            self._raw_datum("FreeableMemory", dims, stamp, free_min * 1.15, free_min,
                            free_min * 1.3, "Bytes"),
            self._raw_datum("DatabaseConnections", dims, stamp, connections * 0.7,
                            connections * 0.4, round(connections), "Count"),
        ]

    def _raw_datum(self, metric: str, dims: dict[str, str], stamp: datetime, average: float,
                   minimum: float, maximum: float, unit: str) -> dict[str, Any]:
        return {
            "MetricName": metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            "Timestamp": stamp,
            "StatisticValues": {"SampleCount": self.samples,
                                "Sum": round(average * self.samples, 2),
                                "Minimum": round(minimum, 2), "Maximum": round(maximum, 2)},
            "Unit": unit,
        }

    def cache(self) -> list[dict[str, Any]]:
        rng, dims = self.rng, {"CacheClusterId": CACHE_CLUSTER}
        data = []
        for stamp in self.stamps():
            level, exam = self.load(stamp)
            avg = (1.5 + 5 * level * (1.5 if exam else 1.0)) * rng.uniform(0.9, 1.1)
            data.append(self._datum("CPUUtilization", dims, stamp, avg,
                                    avg * rng.uniform(1.3, 1.8)))
        return data

    def s3(self) -> list[dict[str, Any]]:
        """Daily storage datums stamped 00:00 UTC, as S3 publishes them."""
        # (Standard GB, Standard-IA GB, objects) today, and daily growth in Standard GB.
        sizes = {"documents": (180.0, 0.0, 412_000, 0.45),
                 "assets": (6.2, 14.8, 38_500, 0.01),
                 "exports": (40.0, 0.0, 9_800, 0.3),
                 "logos": (0.2, 0.0, 1_450, 0.0)}
        # moto also injects a 0-valued datum per bucket (its real, empty contents) at today
        # 00:00 with dimensions [StorageType, BucketName]; its dimension matching is order-
        # sensitive, so queries in our order [BucketName, StorageType] never see it.
        days = []
        day = floor_day(self.start)
        while day < self.end:
            days.append(day)
            day += DAY
        data = []
        for role, (standard, infrequent, objects, growth) in sizes.items():
            bucket = BUCKETS[role]
            for index, stamp in enumerate(days):
                back = len(days) - 1 - index
                values = [("BucketSizeBytes", "StandardStorage", (standard - growth * back) * GB,
                           "Bytes"),
                          ("NumberOfObjects", "AllStorageTypes",
                           float(round(objects * (1 - 0.002 * back))), "Count")]
                if infrequent:
                    values.append(("BucketSizeBytes", "StandardIAStorage", infrequent * GB,
                                   "Bytes"))
                for metric, storage, value, unit in values:
                    value = float(round(value))
                    data.append({
                        "MetricName": metric,
                        "Dimensions": [{"Name": "BucketName", "Value": bucket},
                                       {"Name": "StorageType", "Value": storage}],
                        "Timestamp": stamp,
                        "StatisticValues": {"SampleCount": 1.0,
                                            "Sum": value,
                                            "Minimum": value, "Maximum": value},
                        "Unit": unit,
                    })
        return data


def _publish(cloudwatch: Any, metrics: dict[str, list[dict[str, Any]]]) -> None:
    for namespace, data in metrics.items():
        for offset in range(0, len(data), MAX_DATUMS_PER_CALL):
            cloudwatch.put_metric_data(Namespace=namespace,
                                       MetricData=data[offset:offset + MAX_DATUMS_PER_CALL])


# -------------------------------------------------------------------------------------- costs

def _month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def cost_results(today: date) -> dict[str, Any]:
    """GetCostAndUsage (MONTHLY, GroupBy SERVICE, UnblendedCost) for the last 3 full months plus
    the current month to date, in AWS's response shape."""
    periods: list[tuple[date, date, float, bool]] = []
    for back in range(COST_MONTHS, 0, -1):
        growth = (1 + MONTHLY_GROWTH) ** (COST_MONTHS - back)
        periods.append((_month_start(today, back), _month_start(today, back - 1), growth, False))
    this_month = _month_start(today)
    if today > this_month:  # CE's End is exclusive: nothing to report on the 1st
        next_month = _month_start(today, -1)
        elapsed = (today - this_month).days / (next_month - this_month).days
        periods.append((this_month, today, (1 + MONTHLY_GROWTH) ** COST_MONTHS * elapsed, True))
    results = []
    for start, end, factor, estimated in periods:
        groups = [{"Keys": [service], "Metrics": {"UnblendedCost": {
            "Amount": f"{amount * factor:.10f}", "Unit": "USD"}}}
            for service, amount in BASE_MONTHLY_COST.items()]
        results.append({"TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
                        "Total": {}, "Groups": groups, "Estimated": estimated})
    return {"ResultsByTime": results, "DimensionValueAttributes": [],
            "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}]}


def _queue_costs(today: date, account_id: str, endpoint_url: str | None) -> None:
    """Queue the Cost Explorer answer through moto's API (moto cannot compute costs)."""
    base = (endpoint_url or MOTO_API_URL).rstrip("/")
    # moto answers distinct requests from the queue in order: by SERVICE (collected first),
    # then by USAGE_TYPE (after the inventory, beside compute-savings-plan's hourly request,
    # so twice: whichever comes first), then copies for any other request shape
    last_month = (1 + MONTHLY_GROWTH) ** (COST_MONTHS - 1)
    usage = usage_results(
        today, SERVICES, DATABASES, nat_month_usd=BASE_MONTHLY_COST["EC2 - Other"] * last_month,
        ecr=(ecr_stored_gb(), BASE_MONTHLY_COST["Amazon EC2 Container Registry (ECR)"]
             * last_month))
    results = [cost_results(today), usage, usage]
    body = {"account_id": account_id,
            "results": results + [results[0]] * (CE_RESULT_COPIES - len(results))}
    response = requests.post(f"{base}{CE_RESULTS_PATH}", json=body, timeout=30)
    response.raise_for_status()
