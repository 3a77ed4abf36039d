"""An account or region with nothing in it is an answer, not a failure.

A run that finds nothing writes a report that says what it looked for and where (report.json's
"inventory") and exits 0, with one line on stderr suggesting --region; only a run in which
every inventory read failed (collect.engine.inventory_reads) could not look, and exits 2.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws
from typer.testing import CliRunner

from rightsizer import cli
from rightsizer.cli import app
from rightsizer.collect.collectors.costs import MonthlyCache
from rightsizer.collect.engine import inventory_coverage, inventory_reads
from rightsizer.collect.run import collect_snapshot
from rightsizer.config import Config
from tests.support.synthetic_aws import SyntheticAws, SyntheticSpec

ACCOUNT = "111111111111"
MOTO_ACCOUNT = "123456789012"
# what the collectors' specs declare as inventories (collect/registry.py), in registry order
LOOKED_FOR = [read.resource_type for read in inventory_reads()]
NOTICE = ("rightsizer: no resources found in ap-south-1 for account 123456789012 (looked for "
          f"{', '.join(read.label for read in inventory_reads())}); try --region")


def write_config(tmp_path: Path, text: str = "[aws]\nregions = [\"ap-south-1\"]\n") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def analyze(tmp_path: Path, *extra: str) -> Any:
    return CliRunner().invoke(app, ["analyze", "--config", str(write_config(tmp_path)),
                                    "--output", str(tmp_path / "out"), "--format", "json",
                                    *extra])


def read_report(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / "out" / "report.json").read_text())


@mock_aws
def test_an_empty_account_with_an_optional_read_failing_is_a_report_and_exit_0(tmp_path):
    # moto implements neither DescribeReservedDBInstances nor DescribeReservedCacheNodes: both
    # fail (error rows), and neither is a read that says whether the account has resources
    result = analyze(tmp_path)
    assert result.exit_code == 0, result.output
    assert NOTICE in result.stderr.splitlines()
    report = read_report(tmp_path)
    assert report["findings"] == [] and report["regions"] == ["ap-south-1"]
    assert {(e["service"], e["operation"]) for e in report["errors"]} >= {
        ("rds", "DescribeReservedDBInstances")}
    assert report["inventory"] == {
        "looked_for": LOOKED_FOR,
        "accounts": [MOTO_ACCOUNT],
        "regions": ["ap-south-1"],
        "found": dict.fromkeys(LOOKED_FOR, 0),
        "empty": True,
        "failed_reads": [],
    }
    # additive to schema_version "1": the contract's keys are all still there, in order
    assert report["schema_version"] == "1"
    assert list(report)[:6] == ["schema_version", "generated_at", "window", "accounts",
                                "regions", "summary"]


@mock_aws
def test_quiet_keeps_the_notice_off_stderr_but_in_the_report(tmp_path):
    result = analyze(tmp_path, "--quiet")
    assert result.exit_code == 0, result.output
    assert "no resources found" not in result.stderr
    assert read_report(tmp_path)["inventory"]["empty"] is True


@mock_aws
def test_an_account_with_something_in_it_says_what_it_found_and_no_notice(tmp_path):
    import boto3

    boto3.Session(region_name="ap-south-1").client("s3").create_bucket(
        Bucket="edufly-exports", CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    result = analyze(tmp_path)
    assert result.exit_code == 0, result.output
    assert "no resources found" not in result.stderr
    inventory = read_report(tmp_path)["inventory"]
    assert inventory["empty"] is False and inventory["found"]["s3-bucket"] == 1


def _fake(**changes: Any) -> SyntheticAws:
    values: dict[str, Any] = {"latency": 0, "accounts": (ACCOUNT,), "regions": ("ap-south-1",),
                              "ecs_services": 0, "rds_instances": 0, "buckets": 0,
                              "cache_clusters_per_region": 0, "log_groups_per_region": 0,
                              "suspended_accounts": ()}
    values.update(changes)
    return SyntheticAws(SyntheticSpec(**values))


def _analyze_synthetic(tmp_path: Path, fake: SyntheticAws,
                       monkeypatch: pytest.MonkeyPatch) -> Any:
    with fake.installed():
        monkeypatch.setattr(cli, "make_session", fake.session)
        return analyze(tmp_path)


# botocore's name of each service, which the fake's deny list matches (ELBv2's calls are
# recorded under its endpoint prefix, elasticloadbalancing)
_BOTOCORE_NAME = {"elasticloadbalancing": "elbv2"}
INVENTORY_SERVICES = sorted({_BOTOCORE_NAME.get(read.service, read.service)
                             for read in inventory_reads()})


def test_every_inventory_read_failing_is_exit_2_and_one_line(tmp_path, monkeypatch):
    fake = _fake(ecs_services=3, rds_instances=2, buckets=2,
                 deny=[(None, None, service) for service in INVENTORY_SERVICES])
    result = _analyze_synthetic(tmp_path, fake, monkeypatch)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("rightsizer:")]
    assert len(lines) == 1, result.stderr
    reads = ", ".join(f"{read.service}:{read.operation}" for read in inventory_reads())
    assert lines[0].startswith("rightsizer: nothing could be read: every inventory read failed "
                               f"({reads})")
    assert "ecs:ListClusters" in reads and "rds:DescribeDBInstances" in reads
    assert "AccessDenied" in lines[0]
    assert not (tmp_path / "out").exists()


def test_some_inventory_reads_failing_in_an_empty_account_still_report(tmp_path, monkeypatch):
    fake = _fake(deny=[(None, None, "ecs"), (None, None, "rds")])
    result = _analyze_synthetic(tmp_path, fake, monkeypatch)
    assert result.exit_code == 0, result.output
    [notice] = [line for line in result.stderr.splitlines() if "no resources found" in line]
    assert "2 of those reads failed (see errors)" in notice and notice.endswith("try --region")
    inventory = read_report(tmp_path)["inventory"]
    assert inventory["empty"] is True
    assert sorted((r["service"], r["operation"]) for r in inventory["failed_reads"]) == [
        ("ecs", "ListClusters"), ("rds", "DescribeDBInstances")]


def test_the_collect_command_refuses_a_run_that_could_read_nothing(tmp_path, monkeypatch):
    fake = _fake(deny=[(None, None, service) for service in INVENTORY_SERVICES])
    with fake.installed():
        monkeypatch.setattr(cli, "make_session", fake.session)
        result = CliRunner().invoke(app, ["collect", "--config", str(write_config(tmp_path)),
                                          "--output", str(tmp_path / "snapshot")])
    assert result.exit_code == 2
    assert "nothing could be read" in result.stderr
    assert not (tmp_path / "snapshot").exists()


def test_one_empty_region_beside_a_full_one_is_not_empty():
    fake = _fake(regions=("us-east-1", "ap-south-1"), ecs_services=2)
    now = datetime(2026, 1, 15, 6, tzinfo=UTC)
    config = Config.model_validate({"aws": {"regions": ["us-east-1", "ap-south-1"]}})
    with fake.installed():
        snapshot = collect_snapshot(config, fake.session(), now=now,
                                    cost_cache=MonthlyCache(None, now.date()))
    inventory = inventory_coverage(snapshot)
    assert inventory["empty"] is False and inventory["found"]["ecs-service"] == 2
    assert inventory["regions"] == ["us-east-1", "ap-south-1"]


@mock_aws
def test_report_of_a_saved_empty_snapshot_carries_the_inventory(tmp_path):
    config = write_config(tmp_path)
    collected = CliRunner().invoke(app, ["collect", "--config", str(config), "--output",
                                         str(tmp_path / "snapshot")])
    assert collected.exit_code == 0, collected.output
    result = CliRunner().invoke(app, ["report", str(tmp_path / "snapshot"), "--config",
                                      str(config), "--output", str(tmp_path / "out"),
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    assert read_report(tmp_path)["inventory"]["empty"] is True


@mock_aws
def test_an_empty_account_report_html_says_nothing_was_found_not_all_right_sized(tmp_path):
    result = CliRunner().invoke(app, ["analyze", "--config", str(write_config(tmp_path)),
                                      "--output", str(tmp_path / "out"), "--format", "html"])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "out" / "report.html").read_text()
    assert 'id="nothing-found"' in page and "No resources found." in page
    assert ", ".join(LOOKED_FOR) in page and "ecs-service" in page
    assert "in ap-south-1 (account 123456789012)" in page and "--region" in page
    assert "No savings found." not in page


@mock_aws
def test_an_account_with_a_resource_gets_no_nothing_found_banner(tmp_path):
    import boto3

    boto3.Session(region_name="ap-south-1").client("s3").create_bucket(
        Bucket="edufly-exports", CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    CliRunner().invoke(app, ["analyze", "--config", str(write_config(tmp_path)),
                             "--output", str(tmp_path / "out"), "--format", "html"])
    assert 'id="nothing-found"' not in (tmp_path / "out" / "report.html").read_text()
