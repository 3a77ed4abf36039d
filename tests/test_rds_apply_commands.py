"""The RDS and ElastiCache `how_to_apply` CLI text works as pasted into bash.

modify-db-instance, stop-db-instance and delete-db-instance run for real, with the AWS CLI,
against a moto server (AWS_ENDPOINT_URL), and boto3 then reads the state they left. moto has no
DescribeReservedDBInstancesOfferings (nor the cache node offerings), so the reservation blocks
run with the real AWS CLI in-process behind a shim that answers the two calls from hand-built
responses shaped like the API reference
(https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeReservedDBInstancesOfferings.html,
https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DescribeReservedCacheNodesOfferings.html):
the CLI still parses every argument against the service model, applies --query and --output,
and bash does the variable capture. No network: the shim never sends a request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from rightsizer import pricing
from rightsizer.rules import (
    elasticache_reserved_node,
    rds_idle,
    rds_reserved_instance,
    rds_rightsize,
    rds_storage_gp3,
)
from rightsizer.rules.findings import Finding
from tests.snapshot_factory import SnapshotBuilder, flat

# The reference stack's region. (AWS CLI v1 sets the RDS endpoint of us-east-1 itself, before
# AWS_ENDPOINT_URL is read, so a us-east-1 command could not be pointed at moto.)
REGION = "ap-south-1"
GIB = 1024**3
AWS_BIN = Path(sys.executable).parent  # the venv's `aws` (awscli) next to its python


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Fake credentials and no user config: nothing can reach a real account."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x",
               AWS_CONFIG_FILE=str(tmp_path / "no-config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
               PATH=f"{AWS_BIN}{os.pathsep}{env.get('PATH', '')}", **extra)
    return env


def paste(cli: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The whole CLI text, as pasted: bash runs it line by line, comments included."""
    done = subprocess.run(["bash", "-e", "-c", cli], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def rds_client(url: str) -> Any:
    return boto3.client("rds", region_name=REGION, endpoint_url=url,
                        aws_access_key_id="x", aws_secret_access_key="x")


def create_db(url: str, name: str, *, instance_class: str = "db.r6g.xlarge",
              storage_type: str = "gp2", storage_gb: int = 100,
              multi_az: bool = False) -> None:
    rds_client(url).create_db_instance(
        DBInstanceIdentifier=name, DBInstanceClass=instance_class, Engine="postgres",
        EngineVersion="16.3", AllocatedStorage=storage_gb, StorageType=storage_type,
        MultiAZ=multi_az, MasterUsername="edufly", MasterUserPassword="not-a-secret-1")


def describe(url: str, name: str) -> dict[str, Any]:
    return rds_client(url).describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]


def one_finding(result: Any) -> Finding:
    [finding] = result.findings
    return finding


# --- modify / stop / delete against moto ----------------------------------------------------


def test_rightsize_command_modifies_the_instance_class(moto_url, tmp_path):
    """rds-rightsize: `aws rds modify-db-instance --db-instance-class` (ModifyDBInstance,
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html). moto
    applies it at once; AWS queues it for the maintenance window (--no-apply-immediately)."""
    create_db(moto_url, "rightsize-db", multi_az=True)
    snap = SnapshotBuilder()
    snap.rds_instance("rightsize-db", instance_class="db.r6g.xlarge", multi_az=True,
                      region=REGION)
    snap.rds_metric("rightsize-db", "CPUUtilization", "Maximum", flat(20), region=REGION)
    snap.rds_metric("rightsize-db", "FreeableMemory", "Minimum", flat(24 * GIB),
                    region=REGION)
    finding = one_finding(rds_rightsize.evaluate(snap.build(), rds_rightsize.Settings()))
    paste(rds_rightsize.how_to_apply(finding)["cli"],
          cli_env(tmp_path, AWS_ENDPOINT_URL=moto_url))
    db = describe(moto_url, "rightsize-db")
    assert db["DBInstanceClass"] == finding.recommended["instance_class"] == "db.r6g.large"
    assert db["MultiAZ"] is True


@pytest.fixture
def equal_storage_prices(monkeypatch):
    """ap-south-1 has no sourced RDS storage price: gp2 = gp3, as the us-east-1 figures."""
    def fake(region: str, storage_type: str, *, multi_az: bool) -> pricing.Price:
        return pricing.Price(0.115 * (2 if multi_az else 1), "GB-month", "test", "test")

    monkeypatch.setattr(rds_storage_gp3.pricing, "rds_storage_gb_month_usd", fake)


def gp2_finding(name: str, size_gb: int) -> Finding:
    snap = SnapshotBuilder()
    snap.rds_instance(name, region=REGION)
    snap.rds_storage(name, "gp2", size_gb)
    return one_finding(rds_storage_gp3.evaluate(snap.build(), rds_storage_gp3.Settings()))


def test_gp3_command_changes_the_storage_type(moto_url, tmp_path, equal_storage_prices):
    """rds-storage-gp3: `--storage-type gp3` (CHAP_Storage.html, "gp3 storage")."""
    create_db(moto_url, "gp2-db", storage_gb=100)
    finding = gp2_finding("gp2-db", 100)
    paste(rds_storage_gp3.how_to_apply(finding)["cli"],
          cli_env(tmp_path, AWS_ENDPOINT_URL=moto_url))
    db = describe(moto_url, "gp2-db")
    assert (db["StorageType"], db["AllocatedStorage"]) == ("gp3", 100)


def test_gp3_command_under_the_minimum_also_sets_the_allocated_storage(moto_url, tmp_path,
                                                                       monkeypatch):
    """Under gp3's 20 GiB minimum the command adds `--allocated-storage 20` (a fake price table
    where that still saves: no sourced region has one)."""
    def fake(region: str, storage_type: str, *, multi_az: bool) -> pricing.Price:
        return pricing.Price({"gp2": 0.50, "gp3": 0.10}[storage_type], "GB-month", "t", "t")

    monkeypatch.setattr(rds_storage_gp3.pricing, "rds_storage_gb_month_usd", fake)
    create_db(moto_url, "tiny-gp2-db", storage_gb=5)
    finding = gp2_finding("tiny-gp2-db", 5)
    paste(rds_storage_gp3.how_to_apply(finding)["cli"],
          cli_env(tmp_path, AWS_ENDPOINT_URL=moto_url))
    db = describe(moto_url, "tiny-gp2-db")
    assert (db["StorageType"], db["AllocatedStorage"]) == ("gp3", 20)


def idle_finding(name: str, *, replica_of: str = "",
                 replica_ids: tuple[str, ...] = ()) -> Finding:
    snap = SnapshotBuilder()
    snap.rds_instance(name, region=REGION, replica_of=replica_of)
    snap.rows["rds_instances"][-1]["read_replica_ids"] = json.dumps(list(replica_ids))
    snap.rds_metric(name, "DatabaseConnections", "Maximum", flat(0), region=REGION)
    return one_finding(rds_idle.evaluate(snap.build(), rds_idle.Settings()))


def test_idle_command_stops_the_instance_and_deletes_nothing(moto_url, tmp_path):
    """rds-idle: `aws rds stop-db-instance` runs; the delete alternative is a comment, so
    pasting the whole text never deletes a database. The text says AWS starts it again after
    7 days (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html)."""
    create_db(moto_url, "idle-db", instance_class="db.t3.medium")
    cli = rds_idle.how_to_apply(idle_finding("idle-db"))["cli"]
    assert "after 7 days" in cli
    paste(cli, cli_env(tmp_path, AWS_ENDPOINT_URL=moto_url))
    assert describe(moto_url, "idle-db")["DBInstanceStatus"] == "stopped"


def test_idle_replica_command_deletes_the_replica_and_keeps_its_source(moto_url, tmp_path):
    """A read replica cannot be stopped (USER_StopInstance.html, "Limitations"): the command
    deletes it without a final snapshot; its source stays."""
    create_db(moto_url, "source-db", instance_class="db.t3.small")
    rds_client(moto_url).create_db_instance_read_replica(
        DBInstanceIdentifier="idle-replica", SourceDBInstanceIdentifier="source-db",
        DBInstanceClass="db.t3.micro")
    finding = idle_finding("idle-replica", replica_of="source-db")
    paste(rds_idle.how_to_apply(finding)["cli"], cli_env(tmp_path, AWS_ENDPOINT_URL=moto_url))
    names = [db["DBInstanceIdentifier"]
             for db in rds_client(moto_url).describe_db_instances()["DBInstances"]]
    assert "idle-replica" not in names and "source-db" in names


def test_idle_source_of_replicas_command_only_lists_them(moto_url, tmp_path):
    """An instance with read replicas cannot be stopped: the pasted text lists the replicas
    and leaves the delete as a comment, so the database survives the paste."""
    create_db(moto_url, "busy-source", instance_class="db.t3.small")
    rds_client(moto_url).create_db_instance_read_replica(
        DBInstanceIdentifier="busy-source-replica", SourceDBInstanceIdentifier="busy-source",
        DBInstanceClass="db.t3.micro")
    finding = idle_finding("busy-source", replica_ids=("busy-source-replica",))
    done = paste(rds_idle.how_to_apply(finding)["cli"],
                 cli_env(tmp_path, AWS_ENDPOINT_URL=moto_url))
    assert "busy-source-replica" in done.stdout
    assert describe(moto_url, "busy-source")["DBInstanceStatus"] == "available"


# --- reservation purchases through the real AWS CLI, answered by a shim ---------------------

SHIM = '''#!{python}
import json, os, sys
from botocore.awsrequest import AWSResponse
from awscli.clidriver import create_clidriver

answers = json.load(open(os.environ["AWS_SHIM_ANSWERS"]))
driver = create_clidriver()


def record(params, model, **_):
    with open(os.environ["AWS_SHIM_LOG"], "a") as log:
        log.write(json.dumps({{"operation": model.name, "params": params}}) + "\\n")


def answer(model, **_):
    # a before-call answer replaces the request: nothing is signed or sent
    return AWSResponse("https://shim.invalid", 200, {{}}, None), answers[model.name]


driver.session.register("before-parameter-build", record)
driver.session.register("before-call", answer)
sys.exit(driver.main(sys.argv[1:]))
'''


def run_with_shim(cli: str, answers: dict[str, Any], tmp_path: Path,
                  stderr: list[str] | None = None) -> list[dict[str, Any]]:
    """Runs the pasted text with `aws` = the real CLI answering from `answers`; returns the
    calls it made with their parsed parameters (and appends bash's stderr to `stderr`)."""
    shim_dir = tmp_path / "bin"
    shim_dir.mkdir(exist_ok=True)
    shim = shim_dir / "aws"
    shim.write_text(SHIM.format(python=sys.executable))
    shim.chmod(0o755)
    (tmp_path / "answers.json").write_text(json.dumps(answers))
    log = tmp_path / "calls.jsonl"
    log.unlink(missing_ok=True)
    env = cli_env(tmp_path, AWS_SHIM_ANSWERS=str(tmp_path / "answers.json"),
                  AWS_SHIM_LOG=str(log))
    env["PATH"] = f"{shim_dir}{os.pathsep}{env['PATH']}"
    done = paste(cli, env)
    if stderr is not None:
        stderr.append(done.stderr)
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def offering(offering_id: str, product: str, multi_az: bool) -> dict[str, Any]:
    return {"ReservedDBInstancesOfferingId": offering_id, "DBInstanceClass": "db.t3.small",
            "Duration": 31536000, "FixedPrice": 0.0, "UsagePrice": 0.0,
            "CurrencyCode": "USD", "ProductDescription": product, "OfferingType": "No Upfront",
            "MultiAZ": multi_az,
            "RecurringCharges": [{"RecurringChargeAmount": 0.05,
                                  "RecurringChargeFrequency": "Hourly"}]}


def reserved_instance_finding() -> Finding:
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.t3.small", multi_az=True, region=REGION)
    snap.rds_cpu("edufly-db", region=REGION)
    return one_finding(rds_reserved_instance.evaluate(snap.build(),
                                                      rds_reserved_instance.Settings()))


def test_reserved_instance_command_buys_the_offering_it_found(tmp_path):
    """The offering filter on ProductDescription matches partially (API reference), so the
    query also takes the exact product and deployment: of an aurora-postgresql, a Single-AZ
    and the Multi-AZ postgresql offering, the last is bought, once, for one instance."""
    answers = {
        "DescribeReservedDBInstancesOfferings": {"ReservedDBInstancesOfferings": [
            offering("aurora-decoy", "aurora-postgresql", True),
            offering("single-az-decoy", "postgresql", False),
            offering("the-offering", "postgresql", True)]},
        "PurchaseReservedDBInstancesOffering": {"ReservedDBInstance": {
            "ReservedDBInstanceId": "ri-1", "State": "payment-pending"}},
    }
    calls = run_with_shim(rds_reserved_instance.how_to_apply(reserved_instance_finding())["cli"],
                          answers, tmp_path)
    assert calls == [
        {"operation": "DescribeReservedDBInstancesOfferings",
         "params": {"DBInstanceClass": "db.t3.small", "ProductDescription": "postgresql",
                    "MultiAZ": True, "Duration": "31536000", "OfferingType": "No Upfront"}},
        {"operation": "PurchaseReservedDBInstancesOffering",
         "params": {"ReservedDBInstancesOfferingId": "the-offering", "DBInstanceCount": 1}},
    ]


def test_reserved_instance_command_buys_nothing_when_no_offering_matches(tmp_path):
    """No matching offering: --output text prints None, the guard skips the purchase, says so,
    and the paste still exits 0."""
    answers = {"DescribeReservedDBInstancesOfferings": {"ReservedDBInstancesOfferings": [
        offering("aurora-decoy", "aurora-postgresql", True)]}}
    stderr: list[str] = []
    calls = run_with_shim(rds_reserved_instance.how_to_apply(reserved_instance_finding())["cli"],
                          answers, tmp_path, stderr)
    assert [call["operation"] for call in calls] == ["DescribeReservedDBInstancesOfferings"]
    assert "no matching offering for db.t3.small Multi-AZ postgresql: nothing bought" in \
        stderr[0]


def test_reserved_cache_node_command_buys_the_offering_it_found(tmp_path):
    """elasticache-reserved-node: describe-reserved-cache-nodes-offerings, then
    purchase-reserved-cache-nodes-offering with the id and the node count
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_PurchaseReservedCacheNodesOffering.html)."""
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", node_type="cache.t3.medium", num_nodes=2,
                             region=REGION)
    snap.elasticache_cpu("edufly-cache", region=REGION)
    finding = one_finding(elasticache_reserved_node.evaluate(
        snap.build(), elasticache_reserved_node.Settings()))

    def cache_offering(offering_id: str, product: str) -> dict[str, Any]:
        return {"ReservedCacheNodesOfferingId": offering_id,
                "CacheNodeType": "cache.t3.medium", "Duration": 31536000, "FixedPrice": 0.0,
                "UsagePrice": 0.0, "ProductDescription": product, "OfferingType": "No Upfront",
                "RecurringCharges": [{"RecurringChargeAmount": 0.05,
                                      "RecurringChargeFrequency": "Hourly"}]}

    answers = {
        "DescribeReservedCacheNodesOfferings": {"ReservedCacheNodesOfferings": [
            cache_offering("memcached-decoy", "memcached"),
            cache_offering("the-offering", "redis")]},
        "PurchaseReservedCacheNodesOffering": {"ReservedCacheNode": {
            "ReservedCacheNodeId": "rcn-1", "State": "payment-pending"}},
    }
    calls = run_with_shim(elasticache_reserved_node.how_to_apply(finding)["cli"], answers,
                          tmp_path)
    assert calls == [
        {"operation": "DescribeReservedCacheNodesOfferings",
         "params": {"CacheNodeType": "cache.t3.medium", "ProductDescription": "redis",
                    "Duration": "31536000", "OfferingType": "No Upfront"}},
        {"operation": "PurchaseReservedCacheNodesOffering",
         "params": {"ReservedCacheNodesOfferingId": "the-offering", "CacheNodeCount": 2}},
    ]


def test_the_shim_rejects_an_argument_the_cli_does_not_know(tmp_path):
    """The shim parses for real: a misspelt option fails as it would against AWS, so the tests
    above verify argument names, not just that bash ran."""
    shim_dir = tmp_path / "bin"
    shim_dir.mkdir()
    (shim_dir / "aws").write_text(SHIM.format(python=sys.executable))
    (shim_dir / "aws").chmod(0o755)
    (tmp_path / "answers.json").write_text("{}")
    env = cli_env(tmp_path, AWS_SHIM_ANSWERS=str(tmp_path / "answers.json"),
                  AWS_SHIM_LOG=str(tmp_path / "calls.jsonl"))
    env["PATH"] = f"{shim_dir}{os.pathsep}{env['PATH']}"
    done = subprocess.run(
        ["bash", "-c", "aws rds purchase-reserved-db-instances-offering "
                       "--reserved-db-instances-offering-id x --db-instance-counts 1 "
                       f"--region {REGION}"],
        env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "Unknown options" in done.stderr
