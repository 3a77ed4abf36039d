"""ecs-rightsize sizes only what ran the whole window.

AWS/ECS CPUUtilization and MemoryUtilization of a service are the share of "the CPU and memory
that is specified in the service's task definition" its tasks use
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_utilization.html): during
or across a rollout that changed the task size, the window's series mix two denominators.
DescribeServices lists the PRIMARY deployment and any ACTIVE one that still has running tasks
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html); CODE_DEPLOY and
EXTERNAL services list task sets instead
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskSet.html).
"""

from __future__ import annotations

from rightsizer.rules.ecs_rightsize import Settings, evaluate
from tests.ecs_rows import INSIDE, LONG_AGO, add_service, deployment, previous
from tests.snapshot_factory import SnapshotBuilder, flat


def judge(deployments, **service):
    snap = SnapshotBuilder()
    add_service(snap, "api", deployments=deployments, **service)
    snap.ecs_usage("api", cpu_max=flat(10), memory_max=flat(12))
    return evaluate(snap.build(), Settings())


def skipped_detail(result, reason="insufficient-data"):
    assert result.findings == []
    [row] = result.skipped
    assert row.reason == reason
    return row.detail


def test_two_deployments_with_running_tasks_is_a_rollout_in_progress_naming_both_sizes():
    """PRIMARY (new revision) and ACTIVE (old revision, "still has running tasks") both run."""
    detail = skipped_detail(judge([
        deployment("PRIMARY", "api:8", 1, rollout="IN_PROGRESS", cpu=512, memory=1024,
                   created=INSIDE),
        deployment("ACTIVE", "api:7", 2, cpu=1024, memory=2048),
    ], cpu=512, memory=1024, task_definition="api:8"))
    assert detail == (
        "rollout in progress: PRIMARY api:8 (0.5 vCPU / 1 GB, 1 running) and ACTIVE api:7 "
        "(1 vCPU / 2 GB, 2 running); sizing waits until one revision ran the whole window")


def test_primary_rollout_in_progress_is_skipped_even_with_one_deployment_running():
    """rolloutState IN_PROGRESS: "When a service deployment is started, it begins in an
    IN_PROGRESS state" until the service reaches a steady state."""
    detail = skipped_detail(judge([
        deployment("PRIMARY", "api:8", 0, rollout="IN_PROGRESS", created=INSIDE),
        deployment("ACTIVE", "api:7", 2),
    ]))
    assert "rollout in progress" in detail and "IN_PROGRESS" in detail
    assert "api:7" in detail and "api:8" in detail


def test_failed_rollout_is_skipped():
    """rolloutState FAILED: the circuit breaker stopped the deployment; no new tasks start."""
    detail = skipped_detail(judge([
        deployment("PRIMARY", "api:8", 0, rollout="FAILED", created=INSIDE),
    ]))
    assert "FAILED" in detail and "api:8" in detail


def test_finished_rollout_inside_the_window_that_changed_the_size_is_skipped():
    """The replaced deployment is still listed (no running task left) with another size."""
    detail = skipped_detail(judge([
        deployment("PRIMARY", "api:8", 2, cpu=512, memory=1024, created=INSIDE),
        deployment("ACTIVE", "api:7", 0, cpu=1024, memory=2048),
    ], cpu=512, memory=1024, task_definition="api:8"))
    assert detail.startswith(
        "rolled out inside the window: api:7 (1 vCPU / 2 GB) until 2026-10-25 12:00 UTC, then "
        "api:8 (0.5 vCPU / 1 GB); the window's metrics mix two task sizes")


def test_finished_rollout_inside_the_window_compared_with_the_previous_revision():
    """Only the PRIMARY deployment is left: the collector read family:revision-1."""
    detail = skipped_detail(judge([
        deployment("PRIMARY", "api:8", 2, cpu=512, memory=1024, created=INSIDE,
                   previous=previous("api:7", cpu=2048, memory=4096)),
    ], cpu=512, memory=1024, task_definition="api:8"))
    assert "api:7 (2 vCPU / 4 GB)" in detail and "api:8 (0.5 vCPU / 1 GB)" in detail


def test_rollout_inside_the_window_that_changed_only_the_architecture_is_skipped():
    """Same size on ARM64 and X86_64 is not the same task: utilization differs per CPU."""
    detail = skipped_detail(judge([
        deployment("PRIMARY", "api:8", 2, created=INSIDE, arch="ARM64",
                   previous=previous("api:7", arch="X86_64")),
    ], arch="ARM64", task_definition="api:8"))
    assert "Linux/ARM64" in detail and "mix two task sizes" in detail


def test_rollout_inside_the_window_at_the_same_size_is_sized_normally():
    """A redeploy (new image, same size): both halves of the window are relative to 1 vCPU /
    2 GB, so the finding stands and `current` is that size."""
    result = judge([deployment("PRIMARY", "api:8", 2, created=INSIDE,
                               previous=previous("api:7"))], task_definition="api:8")
    assert result.skipped == []
    [finding] = result.findings
    assert finding.current == {"cpu": 1024, "memory": 2048}
    assert finding.evidence["task_definition"].endswith("task-definition/api:8")


def test_rollout_inside_the_window_with_an_unreadable_previous_revision_is_skipped():
    detail = skipped_detail(judge([
        deployment("PRIMARY", "api:8", 2, created=INSIDE,
                   previous=previous("api:7", unavailable=True)),
    ], task_definition="api:8"))
    assert "api:7" in detail and "could not be read" in detail


def test_rollout_inside_the_window_whose_previous_revision_was_not_read_is_skipped():
    detail = skipped_detail(judge([deployment("PRIMARY", "api:8", 2, created=INSIDE)],
                                  task_definition="api:8"))
    assert "was not read" in detail


def test_first_revision_deployed_inside_the_window_has_nothing_before_it():
    result = judge([deployment("PRIMARY", "api:1", 2, created=INSIDE)],
                   task_definition="api:1")
    assert len(result.findings) == 1 and result.skipped == []


def test_current_is_the_size_of_the_revision_that_ran_not_the_service_level_one():
    """A blue/green service's PRIMARY task set is what runs; its size is `current`."""
    result = judge([deployment("PRIMARY", "web:3", 2, kind="task_set", rollout="STEADY_STATE",
                               cpu=2048, memory=4096)],
                   cpu=1024, memory=2048, task_definition="web:2", controller="CODE_DEPLOY")
    [finding] = result.findings
    assert finding.current == {"cpu": 2048, "memory": 4096}
    assert finding.evidence["task_definition"].endswith("task-definition/web:3")


def test_blue_green_deployment_with_two_running_task_sets_is_a_rollout_in_progress():
    detail = skipped_detail(judge([
        deployment("PRIMARY", "web:4", 2, kind="task_set", rollout="STABILIZING", cpu=512,
                   memory=1024, created=INSIDE),
        deployment("ACTIVE", "web:3", 2, kind="task_set", rollout="STEADY_STATE"),
    ], controller="CODE_DEPLOY"))
    assert detail.startswith("rollout in progress: PRIMARY web:4 (0.5 vCPU / 1 GB, 2 running) "
                             "and ACTIVE web:3 (1 vCPU / 2 GB, 2 running)")


def test_stabilizing_primary_task_set_is_a_rollout_in_progress():
    detail = skipped_detail(judge([
        deployment("PRIMARY", "web:4", 2, kind="task_set", rollout="STABILIZING",
                   created=INSIDE),
    ], controller="EXTERNAL"))
    assert "STABILIZING" in detail


def test_active_deployment_running_while_primary_has_none_is_skipped():
    detail = skipped_detail(judge([
        deployment("PRIMARY", "api:8", 0, created=LONG_AGO),
        deployment("ACTIVE", "api:7", 2),
    ]))
    assert "ACTIVE api:7" in detail and "PRIMARY api:8" in detail


def test_deployment_whose_task_definition_could_not_be_read_is_skipped():
    entry = deployment("PRIMARY", "api:8", 2)
    for key in ("cpu", "memory", "os_family", "cpu_architecture"):
        entry.pop(key)
    entry["unavailable"] = True
    detail = skipped_detail(judge([entry]))
    assert "api:8" in detail and "could not be read" in detail


def test_snapshot_without_deployments_sizes_the_service_level_definition():
    """Snapshots collected before deployments were recorded have no such column."""
    snap = SnapshotBuilder()
    snap.ecs_service("api", cpu=2048, memory=4096)
    snap.ecs_usage("api", cpu_max=flat(10), memory_max=flat(12))
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.current == {"cpu": 2048, "memory": 4096}
