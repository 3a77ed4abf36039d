"""The under-provisioned rules' `how_to_apply["cli"]` runs as pasted against a moto server and
leaves the service on the larger revision, the database on the larger class (the same command
paths as ecs-rightsize and rds-rightsize, tested there for every deployment controller)."""

from __future__ import annotations

import json

import boto3
import numpy as np

from rightsizer.aws.clients import AwsClients
from rightsizer.collect.collectors.base import ErrorLog, Target
from rightsizer.collect.collectors.ecs import collect_services
from rightsizer.report.history import build_history
from rightsizer.rules import ecs_underprovisioned, rds_underprovisioned
from rightsizer.rules.support.fargate_sizes import is_valid_size
from tests import test_history_verified as verified
from tests.snapshot_factory import SnapshotBuilder, flat
from tests.test_ecs_apply_commands import (  # noqa: F401  (fixtures)
    ACCOUNT,
    REGION,
    assert_containers_fit,
    client,
    endpoint,
    moto_endpoint,
    run_cli,
    with_running_tasks,
)
from tests.test_rds_apply_commands import (  # noqa: F401  (fixtures)
    GIB,
    cli_env,
    create_db,
    describe,
    moto_url,
    paste,
)


def test_a_pinned_service_is_moved_to_the_larger_revision(
        endpoint, monkeypatch, tmp_path):  # noqa: F811  (the imported fixture)
    ecs = client("ecs", endpoint)
    ecs.create_cluster(clusterName="edufly")
    ecs.register_task_definition(
        family="renderer", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "renderer:1", "essential": True,
                               "cpu": 256, "memory": 512}])
    with_running_tasks(monkeypatch, 1)
    ecs.create_service(cluster="edufly", serviceName="renderer", taskDefinition="renderer:1",
                       desiredCount=1, launchType="FARGATE")

    errors = ErrorLog()
    rows = collect_services(Target(ACCOUNT, REGION, AwsClients(boto3.Session())), errors)
    assert errors.rows == []
    snap = SnapshotBuilder()
    snap.rows["ecs_services"].extend(rows)
    cpu = flat(40)
    cpu[:150] = 100.0
    snap.ecs_usage("renderer", cpu_max=cpu, memory_max=flat(50), region=REGION)
    result = ecs_underprovisioned.evaluate(snap.build(), ecs_underprovisioned.Settings())
    [risk] = result.risks
    assert risk.recommended == {"cpu": 512, "memory": 1024}
    assert is_valid_size(512, 1024) and np.isclose(risk.evidence["cpu_saturated_share"],
                                                   150 / 336, atol=1e-3)

    run = run_cli(ecs_underprovisioned.how_to_apply(risk)["cli"], endpoint, tmp_path)
    assert run.returncode == 0, run.stderr
    now = ecs.describe_services(cluster="edufly", services=["renderer"])["services"][0]
    assert now["taskDefinition"].endswith("task-definition/renderer:2")
    task = ecs.describe_task_definition(taskDefinition="renderer:2")["taskDefinition"]
    assert (task["cpu"], task["memory"]) == ("512", "1024")
    assert_containers_fit(task)


def test_a_database_short_of_memory_is_moved_to_the_larger_class(
        moto_url, tmp_path):  # noqa: F811  (the imported fixture)
    """rds-underprovisioned: modify-db-instance to the larger class, run as pasted."""
    create_db(moto_url, "tight-db", instance_class="db.t3.small")
    snap = SnapshotBuilder()
    snap.rds_instance("tight-db", instance_class="db.t3.small", region=REGION)
    snap.rds_metric("tight-db", "CPUUtilization", "Maximum", flat(30), region=REGION)
    snap.rds_metric("tight-db", "FreeableMemory", "Minimum", flat(0.1 * GIB), region=REGION)
    [risk] = rds_underprovisioned.evaluate(snap.build(), rds_underprovisioned.Settings()).risks
    paste(rds_underprovisioned.how_to_apply(risk)["cli"],
          cli_env(tmp_path, AWS_ENDPOINT_URL=moto_url))
    assert describe(moto_url, "tight-db")["DBInstanceClass"] == \
        risk.recommended["instance_class"] == "db.t3.medium"


def test_a_regressed_database_change_is_reverted_as_pasted(moto_url, tmp_path):  # noqa: F811
    """The way back a regressed rds-rightsize change's risk prints: the class before."""
    create_db(moto_url, "shrunk-db", instance_class="db.t3.small")
    snap = SnapshotBuilder()
    arn = snap.rds_instance("shrunk-db", instance_class="db.t3.small", region=REGION)
    snap.rds_metric("shrunk-db", "CPUUtilization", "Maximum", flat(80), region=REGION)
    snap.rds_metric("shrunk-db", "FreeableMemory", "Minimum", flat(1.0 * GIB), region=REGION)
    last = {**verified.rds_finding(), "name": "shrunk-db", "resource_id": arn}
    (tmp_path / "2026-10").mkdir()
    (tmp_path / "2026-10" / "report.json").write_text(
        json.dumps(verified.report("2026-10", [last], verified.LAST_RUN)))
    history = build_history(verified.THIS_MONTH, tmp_path / "2026-11", snapshot=snap.build())
    assert history is not None
    [risk] = history["regressed_risks"]  # CPU p95 80% on db.t3.small: over the promised 70%
    paste(risk["how_to_apply"]["cli"], cli_env(tmp_path, AWS_ENDPOINT_URL=moto_url))
    assert describe(moto_url, "shrunk-db")["DBInstanceClass"] == "db.t3.medium"
