"""A fast, seeded, in-process fake AWS for tests and benchmarks.

moto is faithful but slow for thousands of resources (it stores and serialises everything);
this fake generates an organization of accounts on the fly and answers through botocore's own
event hooks, so the real client code runs end to end: parameter validation, serialisation,
signing (the access key says which account is calling), retries and response parsing.

How a call is answered:
- `before-parameter-build` keeps the API parameters in the request context;
- `before-send` sleeps `latency` seconds (one network round trip per attempt) and returns an
  `AWSResponse`: an error in the service's own protocol (throttling, access denied, a missing
  lifecycle configuration...) that botocore parses and retries exactly as it would AWS's, or a
  minimal 200 body that parses to an (almost) empty dict;
- `after-call` fills that parsed dict in place with the generated answer, which skips building
  and parsing large XML/CBOR bodies (that is what keeps it fast).

Use `with SyntheticAws(spec).installed() as fake: session = fake.session()`. The hooks are added
to botocore's built-in handlers while installed, so sessions created by the code under test (one
per assumed role) are answered too.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import botocore.handlers
import numpy as np
from botocore.awsrequest import AWSResponse

MANAGEMENT_KEY = "AKIASYNTHETICMGMT000"
_ASSUMED_KEY = re.compile(r"^ASIA(\d{12})")
_CREDENTIAL = re.compile(r"Credential=([A-Z0-9]+)/")
MAX_METRIC_QUERIES = 500  # GetMetricData per call
MAX_DATAPOINTS = 100_800  # GetMetricData default MaxDatapoints (a page)
MAX_STATISTICS_POINTS = 1_440  # GetMetricStatistics per call
FARGATE_SIZES = ((256, 512), (512, 1024), (1024, 2048), (2048, 4096), (4096, 8192))
DB_CLASSES = ("db.t3.micro", "db.t3.medium", "db.m6g.large", "db.r6g.large")


@dataclass
class SyntheticSpec:
    """What to generate and how AWS should behave."""

    seed: int = 7
    accounts: tuple[str, ...] = ("111111111111", "222222222222", "333333333333")
    regions: tuple[str, ...] = ("us-east-1", "ap-south-1", "eu-west-1", "us-west-2")
    ecs_services: int = 24
    rds_instances: int = 12
    buckets: int = 24
    cache_clusters_per_region: int = 1
    log_groups_per_region: int = 3
    services_per_cluster: int = 50
    insights_every: int = 10  # every Nth cluster has Container Insights on
    latency: float = 0.05  # seconds per attempt
    throttle: float = 0.0  # probability that an attempt is throttled
    # (account or None, region or None, service or None): AccessDenied where all given match
    deny: list[tuple[str | None, str | None, str | None]] = field(default_factory=list)
    unassumable: set[str] = field(default_factory=set)  # AssumeRole into these fails
    # extra organization members that are not ACTIVE (ListAccounts lists, rightsizer skips)
    suspended_accounts: tuple[str, ...] = ("999999999999",)
    management_account: str | None = None  # default: the first account
    # the account whose Cost Explorer sees every member's costs (default: the management one)
    payer_account: str | None = None
    metric_page_datapoints: int = MAX_DATAPOINTS  # GetMetricData page when MaxDatapoints unset


class SyntheticAwsError(Exception):
    """An AWS error the fake answers with (code, message, HTTP status)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status


def _stable(*parts: object) -> int:
    """A process-independent hash (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "big")


def _cbor_text(value: str) -> bytes:
    data = value.encode()
    if len(data) < 24:
        return bytes([0x60 + len(data)]) + data
    if len(data) < 256:
        return bytes([0x78, len(data)]) + data
    return bytes([0x79]) + len(data).to_bytes(2, "big") + data


def _cbor_map(values: dict[str, str]) -> bytes:
    # Just enough CBOR for an error body (CloudWatch speaks smithy-rpc-v2-cbor in botocore).
    out = bytes([0xA0 + len(values)])
    for key, value in values.items():
        out += _cbor_text(key) + _cbor_text(value)
    return out


@dataclass
class _Service:
    account: str
    region: str
    cluster: str
    name: str
    index: int


class SyntheticAws:
    """An organization of accounts answering the calls rightsizer makes (and a few more)."""

    def __init__(self, spec: SyntheticSpec | None = None) -> None:
        self.spec = spec or SyntheticSpec()
        self.management = self.spec.management_account or self.spec.accounts[0]
        self.calls: Counter[str] = Counter()  # attempts answered, by "service:Operation"
        self.throttled: Counter[str] = Counter()
        self.metric_queries = 0  # GetMetricData queries requested (the billed unit)
        self._lock = threading.Lock()
        self._random = random.Random(self.spec.seed)
        self._datetime_cache: dict[tuple[int, int, int], list[datetime]] = {}
        self._active = False
        self._handlers = [("before-parameter-build", self._keep_params),
                          ("before-send", self._send), ("after-call", self._fill)]
        self._build()

    # --- inventory -----------------------------------------------------------------------

    def _build(self) -> None:
        spec = self.spec
        places = [(a, r) for a in spec.accounts for r in spec.regions]
        self.services: dict[tuple[str, str], dict[str, list[_Service]]] = {p: {} for p in places}
        for i in range(spec.ecs_services):
            account, region = places[i % len(places)]
            clusters = self.services[(account, region)]
            position = sum(len(s) for s in clusters.values())
            cluster = f"cluster-{position // spec.services_per_cluster:03d}"
            clusters.setdefault(cluster, []).append(
                _Service(account, region, cluster, f"svc-{i:05d}", i))
        self.databases: dict[tuple[str, str], list[int]] = {p: [] for p in places}
        for i in range(spec.rds_instances):
            self.databases[places[i % len(places)]].append(i)
        self.buckets: dict[str, list[tuple[str, str, int]]] = {a: [] for a in spec.accounts}
        for i in range(spec.buckets):
            account = spec.accounts[i % len(spec.accounts)]
            region = spec.regions[(i // len(spec.accounts)) % len(spec.regions)]
            self.buckets[account].append((f"bucket-{account[-4:]}-{i:05d}", region, i))
        self._bucket_index = {name: (account, region, i) for account, rows in self.buckets.items()
                              for name, region, i in rows}

    def expected_counts(self) -> dict[str, int]:
        return {"ecs_services": self.spec.ecs_services, "rds_instances": self.spec.rds_instances,
                "s3_buckets": self.spec.buckets}

    # --- installation --------------------------------------------------------------------

    @contextmanager
    def installed(self) -> Iterator[SyntheticAws]:
        """Answer every boto3 session created inside the block (including assumed ones)."""
        for handler in self._handlers:
            botocore.handlers.BUILTIN_HANDLERS.append(handler)
        self._active = True
        try:
            yield self
        finally:
            self._active = False
            for handler in self._handlers:
                botocore.handlers.BUILTIN_HANDLERS.remove(handler)

    def session(self, region: str | None = None) -> boto3.Session:
        """A session with the management account's (fake) credentials."""
        return boto3.Session(aws_access_key_id=MANAGEMENT_KEY,
                             aws_secret_access_key="synthetic-secret",
                             region_name=region or self.spec.regions[0])

    def reset_counts(self) -> None:
        with self._lock:
            self.calls.clear()
            self.throttled.clear()
            self.metric_queries = 0

    # --- botocore hooks ------------------------------------------------------------------

    def _keep_params(self, params: dict[str, Any], model: Any, context: dict[str, Any],
                     **_: Any) -> None:
        if self._active:
            context["synthetic"] = (model.service_model.service_name, model.name, dict(params))

    def _send(self, request: Any, **_: Any) -> AWSResponse | None:
        if not self._active or "synthetic" not in (request.context or {}):
            return None
        service, operation, params = request.context["synthetic"]
        protocol = _protocol(service, request.headers)
        region = request.context.get("client_region") or "us-east-1"
        match = _CREDENTIAL.search(str(request.headers.get("Authorization", "")))
        key = match.group(1) if match else MANAGEMENT_KEY
        assumed = _ASSUMED_KEY.match(key)
        account = assumed.group(1) if assumed else self.management
        name = f"{service}:{operation}"
        if self.spec.latency:
            time.sleep(self.spec.latency)  # every attempt is one round trip
        with self._lock:
            self.calls[name] += 1
            if name == "cloudwatch:GetMetricData":
                self.metric_queries += len(params.get("MetricDataQueries", []))
            throttled = self.spec.throttle > 0 and self._random.random() < self.spec.throttle
            if throttled:
                self.throttled[name] += 1
        request.context.pop("synthetic_data", None)
        try:
            if throttled:
                raise self._throttle_error(protocol)
            self._check_access(account, region, service)
            handler = getattr(self, f"_{service.replace('-', '_')}_{operation}", None)
            if handler is None:
                raise SyntheticAwsError("InvalidAction",
                                        f"{operation} is not implemented by the fake")
            data = handler(account, region, params)
        except SyntheticAwsError as exc:
            return _error_response(protocol, operation, exc)
        request.context["synthetic_data"] = data
        return _empty_response(protocol, operation)

    def _fill(self, http_response: Any, parsed: dict[str, Any], context: dict[str, Any],
              **_: Any) -> None:
        data = context.pop("synthetic_data", None) if context else None
        if data is not None and http_response.status_code < 300:
            parsed.update(data)

    @staticmethod
    def _throttle_error(protocol: str) -> SyntheticAwsError:
        code, status = _THROTTLE.get(protocol, ("ThrottlingException", 400))
        return SyntheticAwsError(code, "Rate exceeded", status)

    def _check_access(self, account: str, region: str, service: str) -> None:
        for deny_account, deny_region, deny_service in self.spec.deny:
            if (deny_account in (None, account) and deny_region in (None, region)
                    and deny_service in (None, service)):
                code = "AccessDenied" if _PROTOCOLS.get(service) in (
                    "query", "ec2", "rest-xml") else "AccessDeniedException"
                raise SyntheticAwsError(code, f"User is not authorized to call {service} in "
                                        f"{region} (synthetic deny)", 403)

    # --- sts, organizations, ec2 -----------------------------------------------------------

    def _sts_GetCallerIdentity(self, account: str, region: str,
                               params: dict[str, Any]) -> dict[str, Any]:
        return {"Account": account, "UserId": "AIDASYNTHETIC",
                "Arn": f"arn:aws:iam::{account}:user/rightsizer"}

    def _sts_AssumeRole(self, account: str, region: str, params: dict[str, Any]
                        ) -> dict[str, Any]:
        target = params["RoleArn"].split(":")[4]
        if target in self.spec.unassumable or target not in self.spec.accounts:
            raise SyntheticAwsError("AccessDenied", f"User: arn:aws:iam::{account}:user/"
                                    f"rightsizer is not authorized to perform: sts:AssumeRole "
                                    f"on resource: {params['RoleArn']}", 403)
        return {
            "Credentials": {"AccessKeyId": f"ASIA{target}SYNT",
                            "SecretAccessKey": "synthetic-secret",
                            "SessionToken": f"synthetic-token-{target}",
                            "Expiration": datetime.now(UTC) + timedelta(hours=1)},
            "AssumedRoleUser": {"AssumedRoleId": f"AROASYNTHETIC:{params['RoleSessionName']}",
                                "Arn": f"arn:aws:sts::{target}:assumed-role/"
                                       f"{params['RoleArn'].split('/')[-1]}/"
                                       f"{params['RoleSessionName']}"},
        }

    def _organizations_ListAccounts(self, account: str, region: str,
                                    params: dict[str, Any]) -> dict[str, Any]:
        members = [(a, "ACTIVE") for a in self.spec.accounts] + \
            [(a, "SUSPENDED") for a in self.spec.suspended_accounts]
        page, token = _page(members, params.get("NextToken"), params.get("MaxResults"), 20, 20)
        result: dict[str, Any] = {"Accounts": [{
            "Id": a, "Arn": f"arn:aws:organizations::{self.management}:account/o-synth/{a}",
            "Name": f"account-{a}", "Email": f"aws+{a}@example.com", "Status": status,
            "State": status, "JoinedMethod": "CREATED",
            "JoinedTimestamp": datetime(2022, 1, 1, tzinfo=UTC),
        } for a, status in page]}
        if token:
            result["NextToken"] = token
        return result

    def _ec2_DescribeRegions(self, account: str, region: str,
                             params: dict[str, Any]) -> dict[str, Any]:
        return {"Regions": [{"RegionName": r, "Endpoint": f"ec2.{r}.amazonaws.com",
                             "OptInStatus": "opt-in-not-required"} for r in self.spec.regions]}

    # --- the rest of the bill: the synthetic organization holds none of these ---------------

    def _ec2_DescribeNatGateways(self, account: str, region: str,
                                 params: dict[str, Any]) -> dict[str, Any]:
        return {"NatGateways": []}

    def _ec2_DescribeAddresses(self, account: str, region: str,
                               params: dict[str, Any]) -> dict[str, Any]:
        return {"Addresses": []}

    def _ec2_DescribeNetworkInterfaces(self, account: str, region: str,
                                       params: dict[str, Any]) -> dict[str, Any]:
        return {"NetworkInterfaces": []}

    def _elbv2_DescribeLoadBalancers(self, account: str, region: str,
                                     params: dict[str, Any]) -> dict[str, Any]:
        return {"LoadBalancers": []}

    def _secretsmanager_ListSecrets(self, account: str, region: str,
                                    params: dict[str, Any]) -> dict[str, Any]:
        return {"SecretList": []}

    def _ecr_DescribeRepositories(self, account: str, region: str,
                                  params: dict[str, Any]) -> dict[str, Any]:
        return {"repositories": []}

    def _cloudfront_ListDistributions(self, account: str, region: str,
                                      params: dict[str, Any]) -> dict[str, Any]:
        # An empty list has no Items (API_ListDistributions.html)
        return {"DistributionList": {"Marker": "", "MaxItems": 100, "IsTruncated": False,
                                     "Quantity": 0}}

    def _route53_ListHealthChecks(self, account: str, region: str,
                                  params: dict[str, Any]) -> dict[str, Any]:
        return {"HealthChecks": [], "Marker": "", "IsTruncated": False, "MaxItems": "100"}

    # --- ecs -------------------------------------------------------------------------------

    def _clusters(self, account: str, region: str) -> dict[str, list[_Service]]:
        return self.services.get((account, region), {})

    def _cluster_arn(self, account: str, region: str, cluster: str) -> str:
        return f"arn:aws:ecs:{region}:{account}:cluster/{cluster}"

    def _ecs_ListClusters(self, account: str, region: str,
                          params: dict[str, Any]) -> dict[str, Any]:
        arns = [self._cluster_arn(account, region, c) for c in self._clusters(account, region)]
        page, token = _page(arns, params.get("nextToken"), params.get("maxResults"), 100, 100)
        return {"clusterArns": page, **({"nextToken": token} if token else {})}

    def _ecs_DescribeClusters(self, account: str, region: str,
                              params: dict[str, Any]) -> dict[str, Any]:
        names = params.get("clusters", [])
        if len(names) > 100:
            raise SyntheticAwsError("InvalidParameterException", "at most 100 clusters")
        clusters, failures = [], []
        known = self._clusters(account, region)
        for item in names:
            name = item.split("/")[-1]
            if name not in known:
                failures.append({"arn": item, "reason": "MISSING"})
                continue
            insights = bool(self.spec.insights_every) and \
                _stable(account, region, name) % self.spec.insights_every == 0
            clusters.append({
                "clusterArn": self._cluster_arn(account, region, name), "clusterName": name,
                "status": "ACTIVE", "activeServicesCount": len(known[name]),
                "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
                "defaultCapacityProviderStrategy": [],
                "settings": [{"name": "containerInsights",
                              "value": "enabled" if insights else "disabled"}],
            })
        return {"clusters": clusters, "failures": failures}

    def _services_of(self, account: str, region: str, cluster: str) -> list[_Service]:
        name = cluster.split("/")[-1]
        known = self._clusters(account, region)
        if name not in known:
            raise SyntheticAwsError("ClusterNotFoundException", "Cluster not found.")
        return known[name]

    def _ecs_ListServices(self, account: str, region: str,
                          params: dict[str, Any]) -> dict[str, Any]:
        services = self._services_of(account, region, params.get("cluster", "default"))
        arns = [f"arn:aws:ecs:{region}:{account}:service/{s.cluster}/{s.name}"
                for s in services]
        # ListServices: 10 results a page by default, 100 at most.
        page, token = _page(arns, params.get("nextToken"), params.get("maxResults"), 10, 100)
        return {"serviceArns": page, **({"nextToken": token} if token else {})}

    def _ecs_DescribeServices(self, account: str, region: str,
                              params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("services", [])
        if len(wanted) > 10:
            raise SyntheticAwsError("InvalidParameterException",
                                    "services can have at most 10 items.")
        by_name = {s.name: s for s in self._services_of(account, region, params["cluster"])}
        services, failures = [], []
        for item in wanted:
            service = by_name.get(item.split("/")[-1])
            if service is None:
                failures.append({"arn": item, "reason": "MISSING"})
                continue
            spot = service.index % 3 == 0
            services.append({
                "serviceArn": f"arn:aws:ecs:{region}:{account}:service/{service.cluster}/"
                              f"{service.name}",
                "serviceName": service.name,
                "clusterArn": self._cluster_arn(account, region, service.cluster),
                "status": "ACTIVE",
                "desiredCount": 1 + service.index % 4, "runningCount": 1 + service.index % 4,
                "pendingCount": 0,
                **({"capacityProviderStrategy": [
                    {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]}
                   if spot else {"launchType": "FARGATE"}),
                "taskDefinition": self._task_definition_arn(service),
                "loadBalancers": [] if service.index % 2 else [{
                    "targetGroupArn": f"arn:aws:elasticloadbalancing:{region}:{account}:"
                                      f"targetgroup/{service.name}/0123456789abcdef",
                    "containerName": "app", "containerPort": 8080}],
                "createdAt": datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=service.index),
                "tags": [{"key": "team", "value": f"team-{service.index % 5}"}],
                "deployments": [],
            })
        return {"services": services, "failures": failures}

    @staticmethod
    def _task_definition_arn(service: _Service) -> str:
        return (f"arn:aws:ecs:{service.region}:{service.account}:task-definition/"
                f"{service.name}:{1 + service.index % 7}")

    @staticmethod
    def _task_size(index: int) -> tuple[int, int]:
        return FARGATE_SIZES[_stable("size", index) % len(FARGATE_SIZES)]

    def _ecs_DescribeTaskDefinition(self, account: str, region: str,
                                    params: dict[str, Any]) -> dict[str, Any]:
        reference = params["taskDefinition"]
        family = reference.split("/")[-1].split(":")[0]
        if not family.startswith("svc-"):
            raise SyntheticAwsError("ClientException", "Unable to describe task definition.")
        index = int(family.removeprefix("svc-"))
        cpu, memory = self._task_size(index)
        return {"taskDefinition": {
            "taskDefinitionArn": reference if reference.startswith("arn:") else
            f"arn:aws:ecs:{region}:{account}:task-definition/{reference}",
            "family": family, "revision": 1 + index % 7, "status": "ACTIVE",
            "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc",
            "cpu": str(cpu), "memory": str(memory),
            "containerDefinitions": [{"name": "app", "image": f"example/{family}:latest",
                                      "essential": True}],
        }}

    # --- rds, elasticache, autoscaling, logs -------------------------------------------------

    def _rds_DescribeDBInstances(self, account: str, region: str,
                                 params: dict[str, Any]) -> dict[str, Any]:
        # MaxRecords: default 100, 20..100 (InvalidParameterValue outside).
        size = params.get("MaxRecords")
        if size is not None and not 20 <= size <= 100:
            raise SyntheticAwsError("InvalidParameterValue", "MaxRecords must be 20..100")
        page, marker = _page(self.databases.get((account, region), []), params.get("Marker"),
                             size, 100, 100)
        instances = []
        for i in page:
            name = f"db-{i:05d}"
            instances.append({
                "DBInstanceIdentifier": name,
                "DBInstanceArn": f"arn:aws:rds:{region}:{account}:db:{name}",
                "DBInstanceClass": DB_CLASSES[i % len(DB_CLASSES)], "Engine": "postgres",
                "EngineVersion": "16.3", "DBInstanceStatus": "available",
                "MultiAZ": i % 4 == 0, "StorageType": "gp3", "AllocatedStorage": 20 + i % 80,
                "InstanceCreateTime": datetime(2023, 6, 1, tzinfo=UTC) + timedelta(days=i % 300),
                "TagList": [{"Key": "env", "Value": "prod" if i % 2 else "staging"}],
            })
        return {"DBInstances": instances, **({"Marker": marker} if marker else {})}

    def _rds_DescribeReservedDBInstances(self, account: str, region: str,
                                         params: dict[str, Any]) -> dict[str, Any]:
        return {"ReservedDBInstances": []}

    def _elasticache_DescribeCacheClusters(self, account: str, region: str,
                                           params: dict[str, Any]) -> dict[str, Any]:
        ids = [f"cache-{account[-4:]}-{region}-{k}"
               for k in range(self.spec.cache_clusters_per_region)]
        page, marker = _page(ids, params.get("Marker"), params.get("MaxRecords"), 100, 100)
        return {"CacheClusters": [{
            "CacheClusterId": cid, "ARN": f"arn:aws:elasticache:{region}:{account}:cluster:{cid}",
            "CacheNodeType": "cache.t4g.small", "Engine": "redis", "EngineVersion": "7.1",
            "CacheClusterStatus": "available", "NumCacheNodes": 1,
            "CacheClusterCreateTime": datetime(2024, 3, 1, tzinfo=UTC),
        } for cid in page], **({"Marker": marker} if marker else {})}

    def _elasticache_DescribeReservedCacheNodes(self, account: str, region: str,
                                                params: dict[str, Any]) -> dict[str, Any]:
        return {"ReservedCacheNodes": []}

    def _application_autoscaling_DescribeScalableTargets(
            self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"ScalableTargets": []}

    def _application_autoscaling_DescribeScalingPolicies(
            self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"ScalingPolicies": []}

    def _logs_DescribeLogGroups(self, account: str, region: str,
                                params: dict[str, Any]) -> dict[str, Any]:
        names = [f"/ecs/app-{k}" for k in range(self.spec.log_groups_per_region)]
        page, token = _page(names, params.get("nextToken"), params.get("limit"), 50, 50)
        return {"logGroups": [{
            "logGroupName": name, "creationTime": 1_700_000_000_000,
            "retentionInDays": 30 if k % 2 else None, "storedBytes": 10_000_000 * (k + 1),
            "arn": f"arn:aws:logs:{region}:{account}:log-group:{name}:*",
            "logGroupClass": "STANDARD",
        } for k, name in enumerate(page)], **({"nextToken": token} if token else {})}

    # --- s3 --------------------------------------------------------------------------------

    def _s3_ListBuckets(self, account: str, region: str,
                        params: dict[str, Any]) -> dict[str, Any]:
        rows = self.buckets.get(account, [])
        page, token = _page(rows, params.get("ContinuationToken"), params.get("MaxBuckets"),
                            10_000, 10_000)
        result: dict[str, Any] = {
            "Buckets": [{"Name": name, "BucketRegion": bucket_region,
                         "CreationDate": datetime(2022, 1, 1, tzinfo=UTC) + timedelta(hours=i)}
                        for name, bucket_region, i in page],
            "Owner": {"ID": f"owner-{account}"},
        }
        if token:
            result["ContinuationToken"] = token
        return result

    def _bucket(self, account: str, params: dict[str, Any]) -> tuple[str, int]:
        found = self._bucket_index.get(params.get("Bucket", ""))
        if found is None or found[0] != account:
            raise SyntheticAwsError("NoSuchBucket", "The specified bucket does not exist", 404)
        return found[1], found[2]

    def _s3_GetBucketLocation(self, account: str, region: str,
                              params: dict[str, Any]) -> dict[str, Any]:
        bucket_region, _ = self._bucket(account, params)
        return {"LocationConstraint": None if bucket_region == "us-east-1" else bucket_region}

    def _s3_GetBucketLifecycleConfiguration(self, account: str, region: str,
                                            params: dict[str, Any]) -> dict[str, Any]:
        _, i = self._bucket(account, params)
        # two buckets in three (of each account) have no lifecycle rules
        if (i // len(self.spec.accounts)) % 3:
            raise SyntheticAwsError("NoSuchLifecycleConfiguration",
                                    "The lifecycle configuration does not exist", 404)
        return {"Rules": [{"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": ""},
                           "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}]}]}

    def _s3_GetBucketTagging(self, account: str, region: str,
                             params: dict[str, Any]) -> dict[str, Any]:
        _, i = self._bucket(account, params)
        tags = self._bucket_tags(account, i)
        if tags is None:
            raise SyntheticAwsError("NoSuchTagSet", "The TagSet does not exist", 404)
        return {"TagSet": tags}

    def _bucket_tags(self, account: str, i: int) -> list[dict[str, str]] | None:
        # every other bucket (of each account) is tagged
        return None if (i // len(self.spec.accounts)) % 2 else [
            {"Key": "team", "Value": f"team-{i % 5}"}]

    # --- resource groups tagging ----------------------------------------------------------

    def _resourcegroupstaggingapi_GetResources(self, account: str, region: str,
                                               params: dict[str, Any]) -> dict[str, Any]:
        if "s3" not in params.get("ResourceTypeFilters", []):
            return {"ResourceTagMappingList": []}
        # Regional, as AWS answers: the tagged buckets located in the endpoint's region.
        tagged = [(name, tags) for name, bucket_region, i in self.buckets.get(account, [])
                  if bucket_region == region and (tags := self._bucket_tags(account, i))]
        page, token = _page(tagged, params.get("PaginationToken") or None,
                            params.get("ResourcesPerPage"), 50, 100)
        return {"ResourceTagMappingList": [{"ResourceARN": f"arn:aws:s3:::{name}", "Tags": tags}
                                           for name, tags in page],
                "PaginationToken": token or ""}

    # --- cost explorer ---------------------------------------------------------------------

    def _ce_GetCostAndUsage(self, account: str, region: str,
                            params: dict[str, Any]) -> dict[str, Any]:
        if params.get("Granularity") == "HOURLY":  # off by default in Cost Explorer
            raise SyntheticAwsError("ValidationException",
                                    "Hourly granularity is not enabled for this account.")
        if any(group.get("Key") == "USAGE_TYPE" for group in params.get("GroupBy", [])):
            return self._ce_usage(account, params)
        start = date.fromisoformat(params["TimePeriod"]["Start"])
        end = date.fromisoformat(params["TimePeriod"]["End"])
        # As in AWS: the management account sees every member's costs, a member only its own.
        by_account = any(group.get("Key") == "LINKED_ACCOUNT"
                         for group in params.get("GroupBy", []))
        payer = self.spec.payer_account or self.management
        visible = self.spec.accounts if account == payer else [account]
        results = []
        cursor = start
        while cursor < end:
            following = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
            groups = [{"Keys": [service, member] if by_account else [service],
                       "Metrics": {"UnblendedCost": {
                           "Amount": f"{(_stable(member, service, cursor) % 50_000) / 100:.2f}",
                           "Unit": "USD"}}}
                      for member in (visible if by_account else [account])
                      for service in ("Amazon Elastic Container Service",
                                      "Amazon Relational Database Service",
                                      "Amazon Simple Storage Service")]
            results.append({"TimePeriod": {"Start": cursor.isoformat(),
                                           "End": min(following, end).isoformat()},
                            "Total": {}, "Groups": groups, "Estimated": following > end})
            cursor = following
        return {"ResultsByTime": results, "GroupDefinitions": params.get("GroupBy", []),
                "DimensionValueAttributes": []}

    def _ce_GetSavingsPlansCoverage(self, account: str, region: str,
                                    params: dict[str, Any]) -> dict[str, Any]:
        return {"SavingsPlansCoverages": []}

    def _ce_GetSavingsPlansUtilization(self, account: str, region: str,
                                       params: dict[str, Any]) -> dict[str, Any]:
        raise SyntheticAwsError("DataUnavailableException", "Data is not available.")

    def _ce_GetSavingsPlansPurchaseRecommendation(self, account: str, region: str,
                                                  params: dict[str, Any]) -> dict[str, Any]:
        return {"Metadata": {"RecommendationId": "synthetic"},
                "SavingsPlansPurchaseRecommendation": {}}

    def _savingsplans_DescribeSavingsPlansOfferingRates(self, account: str, region: str,
                                                        params: dict[str, Any]
                                                        ) -> dict[str, Any]:
        return {"searchResults": []}

    # A private discount on Fargate on-demand usage, as net amortized cost shows it (made up).
    FARGATE_DISCOUNT = 0.1

    def _ce_usage(self, account: str, params: dict[str, Any]) -> dict[str, Any]:
        """The month by USAGE_TYPE: each account's Fargate usage as its services run it all
        month, at list price (unblended) and after the discount (net amortized)."""
        from rightsizer import pricing
        from rightsizer.pricing.account import BILLING_CODES

        start = date.fromisoformat(params["TimePeriod"]["Start"])
        end = date.fromisoformat(params["TimePeriod"]["End"])
        hours = (end - start).days * 24
        wanted = params.get("Filter", {}).get("Dimensions", {}).get("Values", [])
        first = params["GroupBy"][0]["Key"]
        payer = self.spec.payer_account or self.management
        visible = self.spec.accounts if account == payer and first == "LINKED_ACCOUNT" else [
            account]
        codes = {name: code for code, name in BILLING_CODES.items() if code != "USE1"}
        groups = []
        ecs = "Amazon Elastic Container Service"
        for member in visible if ecs in wanted else []:
            for place_region in self.spec.regions:
                usage: Counter[tuple[str, bool]] = Counter()
                for services in self.services.get((member, place_region), {}).values():
                    for service in services:
                        cpu, memory = self._task_size(service.index)
                        tasks = 1 + service.index % 4
                        spot = service.index % 3 == 0
                        usage[("vCPU-Hours:perCPU", spot)] += cpu / 1024 * tasks * hours
                        usage[("GB-Hours", spot)] += memory / 1024 * tasks * hours
                prefix = f"{codes[place_region]}-" if place_region in codes else ""
                for (meter, spot), quantity in sorted(usage.items()):
                    vcpu, gb = pricing.fargate_prices(place_region, spot=spot)
                    rate = vcpu.usd if meter.startswith("vCPU") else gb.usd
                    paid = rate * (1 if spot else 1 - self.FARGATE_DISCOUNT)
                    metrics = {"UnblendedCost": quantity * rate, "NetAmortizedCost":
                               quantity * paid, "AmortizedCost": quantity * rate,
                               "UsageQuantity": quantity}
                    groups.append({
                        "Keys": [member if first == "LINKED_ACCOUNT" else ecs,
                                 f"{prefix}{'SpotUsage-' if spot else ''}Fargate-{meter}"],
                        "Metrics": {name: {"Amount": f"{value:.10f}",
                                           "Unit": "N/A" if name == "UsageQuantity" else "USD"}
                                    for name, value in metrics.items()}})
        return {"ResultsByTime": [{"TimePeriod": params["TimePeriod"], "Total": {},
                                   "Groups": groups, "Estimated": False}],
                "GroupDefinitions": params.get("GroupBy", []), "DimensionValueAttributes": []}

    def _ce_GetReservationUtilization(self, account: str, region: str,
                                      params: dict[str, Any]) -> dict[str, Any]:
        raise SyntheticAwsError("DataUnavailableException", "Data is not available.")

    def _ce_GetReservationPurchaseRecommendation(self, account: str, region: str,
                                                 params: dict[str, Any]) -> dict[str, Any]:
        return {"Metadata": {"RecommendationId": "synthetic"}, "Recommendations": []}

    # --- cloudwatch ------------------------------------------------------------------------

    @staticmethod
    def _level(namespace: str, metric: str, dimensions: tuple[tuple[str, str], ...]) -> float:
        """A per-series utilisation level (%): many services idle, some busy (findings)."""
        return 3.0 + (_stable(namespace, metric, dimensions) % 8_000) / 100

    def _series(self, namespace: str, metric: str, dimensions: tuple[tuple[str, str], ...],
                stat: str, stamps: np.ndarray) -> list[float]:
        level = self._level(namespace, metric, dimensions)
        if metric in ("BucketSizeBytes", "NumberOfObjects", "FreeableMemory"):
            level *= 1e7
        hours = (stamps // 3600) % 24
        values = level * (1 + 0.3 * np.sin(hours * (2 * math.pi / 24)))
        if stat == "Maximum":
            values = values * 1.3
        elif stat == "Minimum":
            values = values * 0.7
        return values.round(3).tolist()

    @staticmethod
    def _stamps(start: datetime, end: datetime, period: int) -> np.ndarray:
        first = math.ceil(start.timestamp() / period) * period
        return np.arange(first, end.timestamp(), period, dtype=np.int64)

    def _datetimes(self, stamps: np.ndarray) -> list[datetime]:
        # Most series of a call share their timestamps: build each distinct run of datetimes
        # once and hand out copies (the fake must not be what a benchmark measures).
        if not len(stamps):
            return []
        key = (int(stamps[0]), int(stamps[-1]), len(stamps))
        cached = self._datetime_cache.get(key)
        if cached is None:
            cached = [datetime.fromtimestamp(stamp, UTC) for stamp in stamps.tolist()]
            with self._lock:
                if len(self._datetime_cache) > 1_000:
                    self._datetime_cache.clear()
                self._datetime_cache[key] = cached
        return list(cached)

    def _cloudwatch_GetMetricData(self, account: str, region: str,
                                  params: dict[str, Any]) -> dict[str, Any]:
        queries = params.get("MetricDataQueries", [])
        if len(queries) > MAX_METRIC_QUERIES:
            raise SyntheticAwsError("ValidationError", "The collection MetricDataQueries must "
                                    f"not have a size greater than {MAX_METRIC_QUERIES}.")
        start, end = params["StartTime"], params["EndTime"]
        budget = int(params.get("MaxDatapoints") or self.spec.metric_page_datapoints)
        # The token is the flat position (query, point) where the previous page stopped.
        query_at, point_at = (int(x) for x in (params.get("NextToken") or "0:0").split(":"))
        results: list[dict[str, Any]] = []
        descending = params.get("ScanBy", "TimestampDescending") == "TimestampDescending"
        while query_at < len(queries) and budget > 0:
            query = queries[query_at]
            stat = query["MetricStat"]
            metric = stat["Metric"]
            dimensions = tuple((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
            stamps = self._stamps(start, end, int(stat["Period"]))
            if descending:
                stamps = stamps[::-1]
            take = stamps[point_at:point_at + budget]
            values = self._series(metric["Namespace"], metric["MetricName"], dimensions,
                                  stat["Stat"], take)
            budget -= len(take)
            point_at += len(take)
            complete = point_at >= len(stamps)
            results.append({
                "Id": query["Id"], "Label": metric["MetricName"],
                "Timestamps": self._datetimes(take),
                "Values": values, "StatusCode": "Complete" if complete else "PartialData",
            })
            if complete:
                query_at, point_at = query_at + 1, 0
        result: dict[str, Any] = {"MetricDataResults": results, "Messages": []}
        if query_at < len(queries):
            result["NextToken"] = f"{query_at}:{point_at}"
        return result

    def _cloudwatch_GetMetricStatistics(self, account: str, region: str,
                                        params: dict[str, Any]) -> dict[str, Any]:
        period = int(params["Period"])
        stamps = self._stamps(params["StartTime"], params["EndTime"], period)
        if len(stamps) > MAX_STATISTICS_POINTS:
            raise SyntheticAwsError("InvalidParameterCombination", "You have requested up to "
                                    f"{len(stamps)} datapoints, which exceeds the limit of "
                                    f"{MAX_STATISTICS_POINTS}.")
        dimensions = tuple((d["Name"], d["Value"]) for d in params.get("Dimensions", []))
        columns = {stat: self._series(params["Namespace"], params["MetricName"], dimensions,
                                      stat, stamps) for stat in params.get("Statistics", [])}
        points = [{"Timestamp": datetime.fromtimestamp(int(t), UTC), "Unit": "Percent",
                   **{stat: column[k] for stat, column in columns.items()}}
                  for k, t in enumerate(stamps)]
        return {"Label": params["MetricName"], "Datapoints": points}


# --- protocols ---------------------------------------------------------------------------

_PROTOCOLS = {"rds": "query", "elasticache": "query", "sts": "query", "ec2": "ec2",
              "s3": "rest-xml", "elbv2": "query", "cloudfront": "rest-xml",
              "route53": "rest-xml"}
_THROTTLE = {"json": ("ThrottlingException", 400), "query": ("Throttling", 400),
             "ec2": ("RequestLimitExceeded", 503), "rest-xml": ("SlowDown", 503),
             "cbor": ("ThrottlingException", 400)}


def _protocol(service: str, headers: Any) -> str:
    # botocore picks a service's protocol from several it supports (CloudWatch: CBOR, JSON or
    # query), so read the one it used from the request itself.
    if headers.get("Smithy-Protocol"):
        return "cbor"
    if headers.get("X-Amz-Target"):
        return "json"
    return _PROTOCOLS.get(service, "json")


def _page(items: list[Any], token: str | None, size: int | None, default: int,
          maximum: int) -> tuple[list[Any], str | None]:
    """One page and the token of the next, as AWS list calls page."""
    if size is not None and size > maximum:
        raise SyntheticAwsError("InvalidParameterException",
                                f"page size {size} exceeds the maximum {maximum}")
    size = size or default
    offset = int(token) if token else 0
    page = items[offset:offset + size]
    following = offset + size
    return page, (str(following) if following < len(items) else None)


def _response(status: int, headers: dict[str, str], body: bytes) -> AWSResponse:
    raw = _Raw(body)
    return AWSResponse("https://synthetic.invalid/", status,
                       {"x-amzn-requestid": "synthetic", **headers}, raw)


class _Raw:
    """The urllib3-like object AWSResponse reads its body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


def _empty_response(protocol: str, operation: str) -> AWSResponse:
    if protocol == "json":
        return _response(200, {"content-type": "application/x-amz-json-1.1"}, b"{}")
    if protocol == "cbor":
        return _response(200, {"smithy-protocol": "rpc-v2-cbor",
                               "content-type": "application/cbor"}, b"\xa0")
    if protocol == "query":
        body = (f"<{operation}Response><{operation}Result></{operation}Result>"
                f"<ResponseMetadata><RequestId>synthetic</RequestId></ResponseMetadata>"
                f"</{operation}Response>")
        return _response(200, {"content-type": "text/xml"}, body.encode())
    if protocol == "ec2":
        return _response(200, {"content-type": "text/xml"},
                         f"<{operation}Response></{operation}Response>".encode())
    if operation == "GetBucketLocation":  # botocore re-parses this body in its own hook
        return _response(200, {"content-type": "application/xml"},
                         b'<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>')
    return _response(200, {"content-type": "application/xml"}, b"")


def _error_response(protocol: str, operation: str, error: SyntheticAwsError) -> AWSResponse:
    if protocol == "json":
        body = json.dumps({"__type": error.code, "message": error.message}).encode()
        return _response(error.status, {"content-type": "application/x-amz-json-1.1",
                                        "x-amzn-errortype": error.code}, body)
    if protocol == "cbor":
        return _response(error.status, {"smithy-protocol": "rpc-v2-cbor",
                                         "content-type": "application/cbor"},
                         _cbor_map({"__type": error.code, "message": error.message}))
    if protocol == "query":
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{error.code}</Code>"
                f"<Message>{error.message}</Message></Error>"
                f"<RequestId>synthetic</RequestId></ErrorResponse>")
        return _response(error.status, {"content-type": "text/xml"}, body.encode())
    if protocol == "ec2":
        body = (f"<Response><Errors><Error><Code>{error.code}</Code><Message>{error.message}"
                f"</Message></Error></Errors><RequestID>synthetic</RequestID></Response>")
        return _response(error.status, {"content-type": "text/xml"}, body.encode())
    body = (f"<Error><Code>{error.code}</Code><Message>{error.message}</Message>"
            f"<RequestId>synthetic</RequestId></Error>")
    return _response(error.status, {"content-type": "application/xml"}, body.encode())
