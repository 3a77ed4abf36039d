"""graviton-migration: ECR image indexes read as AWS returns them, the Graviton class maps per
engine, and the findings' prices and commands."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from rightsizer import pricing
from rightsizer.aws.clients import AwsClients
from rightsizer.collect.collectors.base import ErrorLog, Target
from rightsizer.collect.collectors.ecr import collect_repositories, index_platforms
from rightsizer.rules import graviton_migration as rule
from rightsizer.rules.support.graviton import cache_counterpart, rds_counterpart
from tests.snapshot_factory import ACCOUNT, SnapshotBuilder

REGION = "us-east-1"
LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
SINGLE = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_DIGEST = "sha256:" + "1" * 64
SINGLE_DIGEST = "sha256:" + "2" * 64

# A manifest list as `docker buildx build --platform linux/amd64,linux/arm64` pushes it, with
# the provenance attestation entry buildx adds ("unknown/unknown")
# https://docs.docker.com/registry/spec/manifest-v2-2/#manifest-list
MANIFEST_LIST = json.dumps({
    "schemaVersion": 2, "mediaType": LIST,
    "manifests": [
        {"mediaType": SINGLE, "size": 1574, "digest": "sha256:" + "a" * 64,
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": SINGLE, "size": 1574, "digest": "sha256:" + "b" * 64,
         "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 566,
         "digest": "sha256:" + "c" * 64,
         "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
         "platform": {"architecture": "unknown", "os": "unknown"}},
    ]})


def _stubbed_repository(index_answer: dict[str, object] | None) -> list[dict[str, object]]:
    clients = AwsClients(boto3.Session(region_name=REGION))
    ecr = clients.client("ecr", REGION)
    repo = {"repositoryArn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/api",
            "registryId": ACCOUNT, "repositoryName": "api",
            "repositoryUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/api",
            "createdAt": datetime(2024, 1, 1, tzinfo=UTC)}
    ids = {"repositoryName": "api", "registryId": ACCOUNT}
    with Stubber(ecr) as stub:
        stub.add_response("describe_repositories", {"repositories": [repo]}, {})
        stub.add_client_error("get_lifecycle_policy", "LifecyclePolicyNotFoundException",
                              expected_params=ids)
        # https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html:
        # a manifest list has no imageSizeInBytes
        stub.add_response("describe_images", {"imageDetails": [
            {"registryId": ACCOUNT, "repositoryName": "api", "imageDigest": INDEX_DIGEST,
             "imageTags": ["2025.06.1"], "imagePushedAt": datetime(2026, 11, 1, tzinfo=UTC),
             "imageManifestMediaType": LIST},
            {"registryId": ACCOUNT, "repositoryName": "api", "imageDigest": SINGLE_DIGEST,
             "imageTags": ["x86-only"], "imageSizeInBytes": 300_000_000,
             "imagePushedAt": datetime(2026, 10, 1, tzinfo=UTC),
             "imageManifestMediaType": SINGLE},
        ]}, ids)
        if index_answer is not None:
            stub.add_response("batch_get_image", index_answer, {
                **ids, "imageIds": [{"imageDigest": INDEX_DIGEST}],
                "acceptedMediaTypes": [LIST, "application/vnd.oci.image.index.v1+json", SINGLE,
                                       "application/vnd.oci.image.manifest.v1+json"]})
        stub.add_response("list_tags_for_resource", {"tags": []},
                          {"resourceArn": repo["repositoryArn"]})
        errors = ErrorLog()
        rows = collect_repositories(Target(ACCOUNT, REGION, clients), errors)
        stub.assert_no_pending_responses()
    assert errors.rows == []
    return json.loads(rows[0]["image_manifests"])


def test_the_collector_reads_the_platforms_of_a_multi_arch_image_and_not_of_a_single_one():
    # https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchGetImage.html
    manifests = _stubbed_repository({"images": [{
        "registryId": ACCOUNT, "repositoryName": "api",
        "imageId": {"imageDigest": INDEX_DIGEST}, "imageManifest": MANIFEST_LIST,
        "imageManifestMediaType": LIST}], "failures": []})
    by_tag = {entry["tags"][0]: entry for entry in manifests}
    assert by_tag["2025.06.1"]["platforms"] == ["linux/amd64", "linux/arm64/v8"]
    assert by_tag["x86-only"]["platforms"] is None  # one image: its config says its arch
    assert by_tag["x86-only"]["media_type"] == SINGLE


def test_an_index_batch_get_image_could_not_return_stays_unread():
    manifests = _stubbed_repository({"images": [], "failures": [{
        "imageId": {"imageDigest": INDEX_DIGEST}, "failureCode": "ImageNotFound",
        "failureReason": "Requested image not found"}]})
    assert manifests[0]["platforms"] is None


def test_index_platforms_reads_an_oci_index_and_refuses_other_text():
    oci = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                      "manifests": [{"digest": "sha256:" + "d" * 64, "size": 1,
                                     "platform": {"os": "linux", "architecture": "arm64"}}]})
    assert index_platforms(oci) == ["linux/arm64"]
    assert index_platforms("not json") is None
    assert index_platforms(json.dumps({"schemaVersion": 2, "layers": []})) is None


# --- class maps -------------------------------------------------------------------------------

@pytest.mark.parametrize(("engine", "current", "target"), [
    ("postgres", "db.t3.small", "db.t4g.small"),
    ("postgres", "db.t3.micro", "db.t4g.micro"),
    ("mysql", "db.m5.large", "db.m6g.large"),
    ("mariadb", "db.r5.xlarge", "db.r6g.xlarge"),
    ("postgres", "db.m5.24xlarge", None),  # db.m6g stops at 16xlarge
    ("sqlserver-se", "db.m5.large", None),  # Graviton classes do not run SQL Server
    ("postgres", "db.t4g.small", None),  # already Graviton
])
def test_rds_graviton_counterparts_per_engine(engine, current, target):
    assert rds_counterpart(engine, current) == target


@pytest.mark.parametrize(("engine", "version", "node", "target"), [
    ("redis", "7.1", "cache.t3.micro", "cache.t4g.micro"),
    ("redis", "6.2.6", "cache.m5.large", "cache.m6g.large"),
    ("valkey", "8.0", "cache.r5.xlarge", "cache.r6g.xlarge"),
    ("memcached", "1.6.17", "cache.t3.small", "cache.t4g.small"),
    ("redis", "4.0.10", "cache.t3.micro", None),  # before 5.0.6
    ("memcached", "1.5.10", "cache.m5.large", None),  # before 1.5.16
    ("redis", "", "cache.t3.micro", None),  # version unknown: never guessed
    ("redis", "7.1", "cache.m5.24xlarge", None),
])
def test_cache_graviton_counterparts_per_engine_and_version(engine, version, node, target):
    assert cache_counterpart(engine, version, node)[0] == target


# --- findings ---------------------------------------------------------------------------------

def _service(snap: SnapshotBuilder, name: str, images: list[str], *, region: str = REGION,
             **kwargs) -> str:
    arn = snap.ecs_service(name, cpu=1024, memory=2048, desired=2, region=region, **kwargs)
    snap.rows["ecs_services"][-1]["container_images"] = json.dumps(images)
    return arn


def _repository(snap: SnapshotBuilder, region: str = REGION) -> None:
    snap.ecr_repository("api", region=region)
    snap.rows["ecr_repositories"][-1]["image_manifests"] = json.dumps([
        {"digest": INDEX_DIGEST, "tags": ["2025.06.1"], "media_type": LIST,
         "platforms": ["linux/amd64", "linux/arm64/v8"]},
        {"digest": SINGLE_DIGEST, "tags": ["x86-only"], "media_type": SINGLE,
         "platforms": None}])


def _uri(tag: str, region: str = REGION) -> str:
    return f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/api:{tag}"


def test_a_multi_arch_service_is_priced_at_the_arm64_rate():
    snap = SnapshotBuilder()
    _repository(snap)
    _service(snap, "api", [_uri("2025.06.1")])
    result = rule.evaluate(snap.build(), rule.Settings())
    [finding] = result.findings
    x86 = pricing.fargate_hourly_usd(REGION, 1024, 2048)
    arm = pricing.fargate_hourly_usd(REGION, 1024, 2048, arch="ARM64")
    assert finding.monthly_savings_usd == pytest.approx((x86 - arm) * 730 * 2)
    assert finding.recommended == {"cpu_architecture": "ARM64",
                                   "operating_system_family": "LINUX"}
    assert not finding.evidence["price_basis"].startswith("ESTIMATE")


def test_without_a_regional_arm64_rate_the_estimate_says_so():
    snap = SnapshotBuilder()
    _repository(snap, region="ap-south-1")
    _service(snap, "api", [_uri("2025.06.1", "ap-south-1")], region="ap-south-1")
    [finding] = rule.evaluate(snap.build(), rule.Settings()).findings
    assert finding.evidence["price_basis"].startswith("ESTIMATE")
    assert "estimated" in finding.reason
    # us-east-1's ARM64/x86 ratio is about 0.8 on both dimensions
    assert finding.monthly_savings_usd == pytest.approx(0.2 * finding.monthly_cost_usd, rel=0.01)


@pytest.mark.parametrize(("image", "reason", "text"), [
    (_uri("x86-only"), "not-applicable", "single-architecture"),
    ("public.ecr.aws/nginx/nginx:1.27", "insufficient-data", "not checked"),
    ("redis:7", "insufficient-data", "Docker Hub"),
    (_uri("missing"), "insufficient-data", "no such image"),
])
def test_an_image_without_a_known_arm64_build_is_skipped_with_why(image, reason, text):
    snap = SnapshotBuilder()
    _repository(snap)
    _service(snap, "api", [_uri("2025.06.1"), image])  # one container is enough to block it
    result = rule.evaluate(snap.build(), rule.Settings())
    assert result.findings == []
    [row] = [row for row in result.skipped if row.name == "api"]
    assert row.reason == reason and text in row.detail


def test_arm64_services_are_left_alone_and_windows_ones_skipped():
    snap = SnapshotBuilder()
    _repository(snap)
    _service(snap, "arm", [_uri("2025.06.1")])
    snap.rows["ecs_services"][-1]["cpu_architecture"] = "ARM64"
    _service(snap, "win", [_uri("2025.06.1")])
    snap.rows["ecs_services"][-1]["os_family"] = "WINDOWS_SERVER_2022_CORE"
    result = rule.evaluate(snap.build(), rule.Settings())
    assert result.findings == []
    assert [(row.name, row.reason) for row in result.skipped] == [("win", "not-applicable")]


def test_a_database_moves_to_its_graviton_class_and_a_reservation_delays_it():
    snap = SnapshotBuilder()
    snap.rds_instance("db", instance_class="db.t3.small", region=REGION)
    snap.rds_reservation("db.t3.micro", region=REGION)
    [finding] = rule.evaluate(snap.build(), rule.Settings()).findings
    now = pricing.rds_hourly_usd(REGION, "db.t3.small", multi_az=False)
    arm = pricing.rds_hourly_usd(REGION, "db.t4g.small", multi_az=False)
    assert finding.recommended == {"instance_class": "db.t4g.small", "multi_az": False}
    assert finding.monthly_savings_usd == pytest.approx((now.usd - arm.usd) * 730)
    assert finding.evidence["blocked_by_reservations"] == ["ri-1 until 2027-03-01"]
    assert "move when it expires" in finding.reason
    cli = rule.how_to_apply(finding)["cli"]
    assert "describe-orderable-db-instance-options" in cli and "--engine-version 16.3" in cli
    assert "--db-instance-class db.t4g.small --no-apply-immediately" in cli


def test_a_cache_cluster_moves_to_its_graviton_node_type():
    snap = SnapshotBuilder()
    snap.elasticache_cluster("cache", node_type="cache.t3.micro", num_nodes=2, region=REGION)
    snap.rows["elasticache_clusters"][-1]["engine_version"] = "7.1"
    snap.elasticache_cluster("old", node_type="cache.t3.micro", region=REGION)
    snap.rows["elasticache_clusters"][-1]["engine_version"] = "4.0.10"
    result = rule.evaluate(snap.build(), rule.Settings())
    [finding] = result.findings
    now = pricing.elasticache_hourly_usd(REGION, "cache.t3.micro")
    arm = pricing.elasticache_hourly_usd(REGION, "cache.t4g.micro")
    assert finding.monthly_savings_usd == pytest.approx((now.usd - arm.usd) * 730 * 2)
    [skipped] = result.skipped
    assert skipped.name == "old" and "older than 5.0.6" in skipped.detail


def test_the_ecs_commands_register_an_arm64_copy_that_ecs_accepts(tmp_path):
    snap = SnapshotBuilder()
    _repository(snap)
    _service(snap, "api", [_uri("2025.06.1")])
    [finding] = rule.evaluate(snap.build(), rule.Settings()).findings
    cli = rule.how_to_apply(finding)["cli"]
    script = cli.split("<<'PY'\n", 1)[1].split("PY\n", 1)[0]
    assert script == rule.ARM64_TASK_DEFINITION
    with mock_aws():
        ecs = boto3.client("ecs", region_name=REGION)
        ecs.register_task_definition(
            family="api", cpu="1024", memory="2048", networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            containerDefinitions=[{"name": "api", "image": _uri("2025.06.1")}])
        described = ecs.describe_task_definition(taskDefinition="api:1", include=["TAGS"])
        described.pop("ResponseMetadata")
        path = tmp_path / "current.json"
        path.write_text(json.dumps(described, default=str))
        output = subprocess.run([sys.executable, "-c", script, str(path)], text=True,
                                capture_output=True, check=True).stdout
        registered = ecs.register_task_definition(**json.loads(output))["taskDefinition"]
    assert registered["runtimePlatform"] == {"cpuArchitecture": "ARM64",
                                             "operatingSystemFamily": "LINUX"}
    assert registered["revision"] == 2

