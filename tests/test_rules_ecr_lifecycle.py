"""ecr-lifecycle: repositories without a lifecycle policy, and the ECR collector on moto.

AWS behaviour relied on:
- GetLifecyclePolicy answers LifecyclePolicyNotFoundException when a repository has no policy
  (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetLifecyclePolicy.html).
- DescribeImages lists every image with imageSizeInBytes, imagePushedAt and, for a tagged
  image only, imageTags (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageDetail.html).
- Policy rules: rulePriority, selection tagStatus untagged / tagged (+ tagPatternList),
  countType sinceImagePushed (countUnit days) / imageCountMoreThan, action expire
  (https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from rightsizer import pricing
from rightsizer.collect.collectors.base import ErrorLog, Target
from rightsizer.collect.collectors.ecr import SPECS, collect_repositories
from rightsizer.rules.ecr_lifecycle import (
    RULE,
    Settings,
    evaluate,
    how_to_apply,
    policy,
    policy_for,
)
from tests.snapshot_factory import SnapshotBuilder

GB = 1024**3
REGION = "ap-south-1"  # the demo region: no sourced ECR storage price (a skipped row)
PRICED = "us-east-1"  # a region the embedded ECR table prices
AWS_BIN = Path(sys.executable).parent


def _manifest(layer: str, size: int) -> str:
    # moto reports a manifest's config.size as imageSizeInBytes
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": size, "digest": "sha256:" + layer * 64},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": size, "digest": "sha256:" + layer * 64}]})


# --- the rule --------------------------------------------------------------------------------


def _gb_month() -> float:
    """The embedded table's figure, so a re-sourced price moves these tests with it."""
    price = pricing.ecr_storage_gb_month_usd(PRICED)
    assert price is not None
    return price.usd


def test_repository_without_policy_is_priced_on_stored_bytes_and_saves_old_untagged_images():
    snap = SnapshotBuilder()
    snap.ecr_repository("edufly-api", images=[(40, GB, 0), (20, GB, 0), (3, GB, 0),
                                              (1, 2 * GB, 1)], region=PRICED)
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.rule == "ecr-lifecycle" and finding.resource_type == "ecr-repository"
    assert finding.current == {"lifecycle_policy": "absent"}
    assert finding.monthly_cost_usd == pytest.approx(5 * _gb_month())
    # untagged and pushed more than 14 days ago: 40 and 20 days; the 3-day one stays
    assert finding.monthly_savings_usd == pytest.approx(2 * _gb_month())
    ev = finding.evidence
    assert ev["untagged_image_count"] == 3 and ev["expired_untagged_images"] == 2
    assert ev["untagged_share"] == pytest.approx(0.6)
    assert ev["price_source"] == pricing.ecr_storage_gb_month_usd(PRICED).source


def test_repository_with_a_lifecycle_policy_is_left_alone():
    snap = SnapshotBuilder()
    snap.ecr_repository("with-policy", lifecycle_state="present", images=[(90, GB, 0)],
                        policy='{"rules": []}')
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_policy_keeps_the_last_n_tagged_images_and_expires_older_tagged_ones():
    snap = SnapshotBuilder()
    snap.ecr_repository("edufly-worker", images=[(day, GB, 1) for day in range(1, 6)],
                        region=PRICED)
    [finding] = evaluate(snap.build(), Settings(keep_tagged_images=3)).findings
    assert finding.evidence["expired_tagged_images"] == 2  # the two oldest of five
    assert finding.monthly_savings_usd == pytest.approx(2 * _gb_month())


def test_untagged_images_younger_than_the_expiry_save_nothing_yet():
    snap = SnapshotBuilder()
    snap.ecr_repository("young", images=[(2, GB, 0), (1, GB, 1)], region=PRICED)
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.monthly_savings_usd == 0 and finding.monthly_cost_usd > 0


def test_unreadable_policy_or_images_are_skipped_not_guessed():
    snap = SnapshotBuilder()
    snap.ecr_repository("policy-denied", lifecycle_state="unknown", images=[(30, GB, 0)])
    snap.ecr_repository("images-denied", images_state="unknown")
    result = evaluate(snap.build(), Settings())
    assert result.findings == []
    assert sorted((s.name, s.reason) for s in result.skipped) == [
        ("images-denied", "insufficient-data"), ("policy-denied", "insufficient-data")]


def test_region_without_an_ecr_price_is_a_skipped_row():
    snap = SnapshotBuilder()
    snap.ecr_repository("far-away", images=[(30, GB, 0)], region="sa-east-1")
    [skipped] = evaluate(snap.build(), Settings()).skipped
    assert skipped.detail == "no price for ECR storage in sa-east-1"


def test_image_index_children_are_not_counted_as_savings():
    """A multi-architecture image is an image index whose per-platform images are untagged."""
    snap = SnapshotBuilder()
    snap.ecr_repository("multiarch", images=[(40, GB, 0), (40, GB, 1)], region=PRICED,
                        media_type="application/vnd.oci.image.index.v1+json")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.monthly_savings_usd == 0 and finding.evidence["has_image_index"]


def test_recommended_policy_follows_the_documented_properties():
    doc = policy(Settings(untagged_expire_days=7, keep_tagged_images=10))
    first, second = doc["rules"]
    assert first["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                  "countUnit": "days", "countNumber": 7}
    assert second["selection"]["tagStatus"] == "tagged"
    assert second["selection"]["tagPatternList"] == ["*"]
    assert second["selection"]["countType"] == "imageCountMoreThan"
    assert {r["action"]["type"] for r in doc["rules"]} == {"expire"}
    assert first["rulePriority"] < second["rulePriority"]


def test_ecr_price_is_sourced_for_us_east_1_and_absent_for_the_demo_region():
    price = pricing.ecr_storage_gb_month_usd(PRICED)
    assert price is not None and price.usd > 0 and price.as_of
    assert "https://" in price.source
    # no openable per-region figure for ap-south-1: no price, never us-east-1's
    assert pricing.ecr_storage_gb_month_usd(REGION) is None
    snap = SnapshotBuilder()
    snap.ecr_repository("edufly-api", images=[(30, GB, 0)], region=REGION)
    [skipped] = evaluate(snap.build(), Settings()).skipped
    assert skipped.detail == f"no price for ECR storage in {REGION}"


# --- the collector on moto -------------------------------------------------------------------


@pytest.fixture
def moto_ecr(monkeypatch):
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def _target(session: boto3.Session) -> Target:
    from rightsizer.aws.clients import AwsClients
    return Target("123456789012", REGION, AwsClients(session))


def test_collector_reads_absent_policy_as_absent_not_an_error_and_sums_image_sizes(moto_ecr):
    ecr = moto_ecr.client("ecr")
    ecr.create_repository(repositoryName="edufly-api")
    ecr.create_repository(repositoryName="edufly-worker")
    ecr.put_lifecycle_policy(repositoryName="edufly-worker",
                             lifecyclePolicyText=json.dumps(policy(Settings())))
    ecr.put_image(repositoryName="edufly-api", imageManifest=_manifest("1", 300), imageTag="v1")
    ecr.put_image(repositoryName="edufly-api", imageManifest=_manifest("2", 200))  # untagged
    errors = ErrorLog()
    rows = {row["repository"]: row for row in collect_repositories(_target(moto_ecr), errors)}
    assert errors.rows == []
    api, worker = rows["edufly-api"], rows["edufly-worker"]
    assert api["lifecycle_state"] == "absent" and worker["lifecycle_state"] == "present"
    assert json.loads(worker["lifecycle_policy"])["rules"][0]["rulePriority"] == 1
    assert (api["image_count"], api["untagged_count"]) == (2, 1)
    assert (api["stored_bytes"], api["untagged_bytes"]) == (500, 200)
    assert api["arn"].startswith("arn:aws:ecr:ap-south-1:")
    assert set(api) == set(SPECS[0].columns)


def test_collector_records_a_failed_read_as_an_error_row(moto_ecr, monkeypatch):
    from botocore.exceptions import ClientError
    ecr = moto_ecr.client("ecr")
    ecr.create_repository(repositoryName="edufly-api")
    target = _target(moto_ecr)
    real = target.client

    def denying(service: str, region: str | None = None):
        client = real(service, region)

        def deny(**_kwargs):
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}},
                              "GetLifecyclePolicy")
        monkeypatch.setattr(client, "get_lifecycle_policy", deny)
        return client

    monkeypatch.setattr(target, "client", denying)
    errors = ErrorLog()
    [row] = collect_repositories(target, errors)
    assert row["lifecycle_state"] == "unknown"
    assert [(e["operation"], e["code"]) for e in errors.rows] == [
        ("GetLifecyclePolicy", "AccessDeniedException")]


def test_spec_declares_the_read_only_actions_it_calls():
    [spec] = SPECS
    assert set(spec.operations.values()) == {
        "ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:DescribeImages",
        "ecr:ListTagsForResource", "ecr:BatchGetImage"}
    assert spec.scope == "region" and spec.id_column == "arn"
    assert spec.inventory is not None and spec.inventory.resource_type == RULE.resource_type


# --- how_to_apply as pasted ------------------------------------------------------------------


def test_cli_puts_the_policy_with_the_aws_cli_against_moto(tmp_path):
    """`aws ecr put-lifecycle-policy` (PutLifecyclePolicy,
    https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutLifecyclePolicy.html); the
    preview lines (a write API) are commented out, so pasting only puts the policy."""
    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        ecr = boto3.client("ecr", region_name=PRICED, endpoint_url=url,
                           aws_access_key_id="x", aws_secret_access_key="x")
        ecr.create_repository(repositoryName="edufly-api")
        snap = SnapshotBuilder()
        snap.ecr_repository("edufly-api", images=[(30, GB, 0)], region=PRICED)
        [finding] = evaluate(snap.build(), Settings()).findings
        cli = how_to_apply(finding)["cli"]
        assert "start-lifecycle-policy-preview" in cli
        assert all(line.startswith("#") for line in cli.splitlines()
                   if "lifecycle-policy-preview" in line)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_ENDPOINT_URL=url,
                   AWS_CONFIG_FILE=str(tmp_path / "none"),
                   AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
                   PATH=f"{AWS_BIN}{os.pathsep}{env.get('PATH', '')}")
        done = subprocess.run(["bash", "-e", "-c", cli], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        text = ecr.get_lifecycle_policy(repositoryName="edufly-api")["lifecyclePolicyText"]
        assert json.loads(text) == policy_for(finding.recommended["untagged_expire_days"],
                                              finding.recommended["keep_tagged_images"])
        assert set(how_to_apply(finding)) == {"cli", "terraform", "cdk"}
    finally:
        server.stop()
