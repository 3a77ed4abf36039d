"""ecs-underprovisioned's `how_to_apply["cli"]` runs as pasted against a moto server and leaves
the service on the larger revision (the same command path as ecs-rightsize, tested there for
every deployment controller)."""

from __future__ import annotations

import boto3
import numpy as np

from rightsizer.aws.clients import AwsClients
from rightsizer.collect.collectors.base import ErrorLog, Target
from rightsizer.collect.collectors.ecs import collect_services
from rightsizer.rules import ecs_underprovisioned
from rightsizer.rules.support.fargate_sizes import is_valid_size
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
