"""Snapshots in S3 and runs in shards, against a moto S3 server through AWS_ENDPOINT_URL:
four shards written to a bucket and reported from the prefix give the findings of one run;
a missing or doubled shard is named; a half-written shard is never read; worker processes
give the snapshot of one process."""

from __future__ import annotations

import json
import os
import signal
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from rightsizer.cli import app
from rightsizer.collect.collectors.costs import MonthlyCache
from rightsizer.collect.run import collect_snapshot
from rightsizer.collect.shards import Shard
from rightsizer.config import Config
from rightsizer.errors import RightsizerError
from rightsizer.report.build import analyze
from rightsizer.snapshot.runs import load_run
from rightsizer.snapshot.sharding import shard_directory
from rightsizer.snapshot.store import Snapshot, snapshot_locations
from tests.conftest import FAKE_CREDENTIALS, free_port
from tests.support.synthetic_aws import SyntheticAws, SyntheticSpec

NOW = datetime(2026, 1, 15, 6, tzinfo=UTC)
# account id mod 4: 3, 2, 1 -- shard 0 holds none of them and is written empty
ACCOUNTS = ("111111111111", "222222222222", "333333333333")
REGION = "ap-south-1"
BUCKET = "rightsizer-snapshots"
COUNT = 4


def spec() -> SyntheticSpec:
    return SyntheticSpec(latency=0, accounts=ACCOUNTS, regions=(REGION,), ecs_services=12,
                         rds_instances=6, buckets=9, suspended_accounts=())


def config() -> Config:
    return Config.model_validate({"aws": {"regions": [REGION], "accounts": list(ACCOUNTS),
                                          "role_name": "RightsizerReadOnly"}})


def collect(fake: SyntheticAws, **kwargs: Any) -> Snapshot:
    return collect_snapshot(config(), fake.session(), now=NOW,
                            cost_cache=MonthlyCache(None, NOW.date()), **kwargs)


class PassS3Objects(SyntheticAws):
    """The fake organization, letting snapshot reads and writes through to the S3 server."""

    OBJECT_CALLS = frozenset({"PutObject", "GetObject", "ListObjectsV2"})

    def _keep_params(self, params: dict[str, Any], model: Any, context: dict[str, Any],
                     **kwargs: Any) -> None:
        if model.name not in self.OBJECT_CALLS:
            super()._keep_params(params, model, context, **kwargs)


@pytest.fixture(scope="module")
def collected() -> dict[str, Any]:
    """One run in one process, the same in 2 worker processes, and in 4 shards."""
    fake = SyntheticAws(spec())
    with fake.installed():
        whole = collect(fake)
        workers = collect(fake, workers=2)
        shards = [collect(fake, shard=Shard(index, COUNT)) for index in range(COUNT)]
    for index, shard in enumerate(shards):
        shard.manifest["run_id"] = "run-1"
        assert shard.manifest["shard"] == {"index": index, "count": COUNT}
    return {"whole": whole, "workers": workers, "shards": shards}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
    with pytest.MonkeyPatch.context() as patch:
        for key, value in FAKE_CREDENTIALS.items():
            patch.setenv(key, value)
        boto3.client("s3", endpoint_url=url, region_name=REGION).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    yield url
    server.stop()


@pytest.fixture
def s3(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    return endpoint


@pytest.fixture(scope="module")
def runs(collected: dict[str, Any], endpoint: str) -> dict[str, str]:
    """The shards written to S3: a complete run, one missing shard 2, one with shard 1
    twice."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}.items():
            patch.setenv(key, value)
        for run, indexes in (("complete", [0, 1, 2, 3]), ("missing", [0, 1, 3])):
            for index in indexes:
                shard = collected["shards"][index]
                shard.save_to(f"s3://{BUCKET}/{run}/{shard_directory(Shard(index, COUNT))}")
        for copy in ("a", "b"):
            collected["shards"][1].save_to(f"s3://{BUCKET}/doubled/{copy}/")
        for index in (0, 2, 3):
            collected["shards"][index].save_to(f"s3://{BUCKET}/doubled/{index}/")
    return {name: f"s3://{BUCKET}/{name}/" for name in ("complete", "missing", "doubled")}


def findings(snapshot: Snapshot) -> list[tuple[str, str, float]]:
    data, _ = analyze(snapshot, config(), today=NOW.date())
    return sorted((row["id"], row["rule"], row["monthly_savings_usd"])
                  for row in data["findings"])


def test_four_shards_in_s3_report_the_findings_of_one_run(collected, runs, s3) -> None:
    merged, check = load_run([runs["complete"]])
    assert check.complete and check.present == [0, 1, 2, 3]
    assert merged.manifest["accounts"] == sorted(ACCOUNTS)
    assert collected["shards"][0].manifest["accounts"] == []  # no account's id mod 4 is 0
    whole = collected["whole"]
    expected = findings(whole)
    assert len(expected) > 5
    assert findings(merged) == expected
    for table in ("ecs_services", "metrics", "costs", "ce_insights", "s3_buckets"):
        assert len(merged.table(table)) == len(whole.table(table)), table


def test_worker_processes_collect_what_one_process_does(collected) -> None:
    whole, workers = collected["whole"], collected["workers"]
    assert workers.manifest["workers"] == 2
    assert findings(workers) == findings(whole)
    assert workers.manifest["api_calls"] == whole.manifest["api_calls"]
    assert workers.manifest["metric_queries"] == whole.manifest["metric_queries"]
    for table in ("ecs_services", "metrics", "costs", "ce_insights", "rds_instances"):
        assert len(workers.table(table)) == len(whole.table(table)), table


def _killed(account_ids: list[str]) -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer stops a process


def test_a_worker_killed_fails_the_run_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from rightsizer.collect import processes

    monkeypatch.setattr(processes, "_collect_group", _killed)
    fake = SyntheticAws(spec())
    with fake.installed(), pytest.raises(RightsizerError, match="a worker process of the 2 "
                                         "collecting the accounts stopped"):
        collect(fake, workers=2)


def test_report_names_a_missing_shard_and_exits_2(runs, s3, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", runs["missing"], "--output", str(tmp_path),
                                      "--quiet"])
    assert result.exit_code == 2
    assert "run run-1: missing shard 2 of 4" in result.output
    assert "--allow-partial" in result.output
    assert not (tmp_path / "report.json").exists()


def test_allow_partial_reports_what_is_there_and_says_so(runs, s3, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", runs["missing"], "--output", str(tmp_path),
                                      "--format", "json", "--allow-partial"])
    assert result.exit_code == 0, result.output
    assert "partial report: run run-1: missing shard 2 of 4" in result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["collection"] == {"run_id": "run-1", "shards": 4, "present": [0, 1, 3],
                                    "missing": [2], "duplicates": [], "partial": True}
    assert "222222222222" not in report["accounts"]  # shard 2's account
    assert report["errors"][0]["code"] == "PartialRun"


def test_a_doubled_shard_is_named(runs, s3) -> None:
    with pytest.raises(RightsizerError, match="shard 1 written 2 times"):
        load_run([runs["doubled"]])
    merged, check = load_run([runs["doubled"]], allow_partial=True)
    assert check.duplicates and len(check.left_out) == 1
    assert merged.manifest["accounts"] == sorted(ACCOUNTS)  # shard 1's account once


def test_a_half_written_shard_is_not_read(collected, s3) -> None:
    client = boto3.client("s3")
    shard = collected["shards"][3]
    shard.save_to(f"s3://{BUCKET}/half/shard-3/")
    # a shard whose writer stopped before its manifest: its tables only
    client.put_object(Bucket=BUCKET, Key="half/shard-1/metrics.parquet", Body=b"PAR1")
    assert snapshot_locations(f"s3://{BUCKET}/half/") == [f"s3://{BUCKET}/half/shard-3/"]
    # a rewrite that stopped half way: a table newer than the manifest
    other = collected["shards"][2]
    other.manifest["run_id"] = "run-1"
    body = other._files()["ecs_services.parquet"]
    client.put_object(Bucket=BUCKET, Key="half/shard-3/ecs_services.parquet", Body=body)
    with pytest.raises(RightsizerError, match="a table from another write than its manifest"):
        Snapshot.load_from(f"s3://{BUCKET}/half/shard-3/")


def test_collect_writes_its_shard_under_the_run_prefix(s3, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.toml").write_text(
        f'[aws]\nregions = ["{REGION}"]\naccounts = {json.dumps(list(ACCOUNTS))}\n'
        'role_name = "RightsizerReadOnly"\n')
    monkeypatch.setenv("AWS_BATCH_JOB_ARRAY_INDEX", "2")
    monkeypatch.setenv("AWS_BATCH_JOB_ID", "7f1e9c1a-0c1b-4b7e-9a55-3b1f2c9d8e01:2")
    fake = PassS3Objects(spec())
    with fake.installed():
        result = CliRunner().invoke(app, [
            "collect", "--config", str(tmp_path / "config.toml"), "--shard", "auto/4",
            "--output", f"s3://{BUCKET}/cli-run", "--workers", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    place = f"s3://{BUCKET}/cli-run/shard-0002-of-0004/"
    assert result.output.strip() == place
    saved = Snapshot.load_from(place)
    assert saved.manifest["run_id"] == "7f1e9c1a-0c1b-4b7e-9a55-3b1f2c9d8e01"
    assert saved.manifest["shard"] == {"index": 2, "count": 4}
    assert saved.manifest["accounts"] == ["222222222222"]
    assert len(saved.table("ecs_services")) > 0


def test_a_shard_needs_a_run_id(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["collect", "--demo", "--shard", "0/2", "--quiet"])
    assert result.exit_code == 2
    assert "the shards of a run need one shared id" in result.output


def test_unreadable_prefix_is_one_line(s3, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", "s3://no-such-bucket/run/", "--output",
                                      str(tmp_path)])
    assert result.exit_code == 2
    assert "s3://no-such-bucket/run/: cannot list the snapshots (NoSuchBucket" in result.output
    empty = CliRunner().invoke(app, ["report", f"s3://{BUCKET}/nothing-here/"])
    assert empty.exit_code == 2
    assert "no rightsizer snapshot there" in empty.output


def test_iam_policy_grants_the_snapshot_prefix_only() -> None:
    result = CliRunner().invoke(app, ["iam-policy", "--snapshots", f"s3://{BUCKET}/runs"])
    assert result.exit_code == 0, result.output
    statements = {s["Sid"]: s for s in json.loads(result.output)["Statement"]}
    write = statements["WriteAndReadRightsizerSnapshots"]
    assert write["Action"] == ["s3:GetObject", "s3:PutObject"]
    assert write["Resource"] == f"arn:aws:s3:::{BUCKET}/runs/*"
    listing = statements["ListRightsizerSnapshots"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["runs/*"]}}
    assert "s3:PutObject" not in statements["RightsizerReadOnly"]["Action"]
    bad = CliRunner().invoke(app, ["iam-policy", "--snapshots", "/tmp/x"])
    assert bad.exit_code == 2 and "expected s3://bucket/prefix" in bad.output
