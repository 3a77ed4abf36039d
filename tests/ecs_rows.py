"""ecs_services rows with the collector's deployment and platform columns, for the ECS rule
tests (tests/snapshot_factory.SnapshotBuilder.ecs_service writes the base row)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.snapshot_factory import ACCOUNT, REGION, SnapshotBuilder

LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)  # before every test window
INSIDE = datetime(2026, 10, 25, 12, 0, tzinfo=UTC)  # inside SnapshotBuilder's default window


def td(name: str, region: str = REGION) -> str:
    return f"arn:aws:ecs:{region}:{ACCOUNT}:task-definition/{name}"


def deployment(status: str, revision: str, running: int, *, rollout: str = "COMPLETED",
               created: datetime = LONG_AGO, cpu: int = 1024, memory: int = 2048,
               os_family: str = "", arch: str = "", kind: str = "deployment",
               desired: int | None = None, launch_type: str = "FARGATE",
               previous: dict[str, Any] | None = None, region: str = REGION) -> dict[str, Any]:
    """One entry of the `deployments` column, as rightsizer.collect.collectors.ecs writes it."""
    entry: dict[str, Any] = {
        "kind": kind, "id": f"ecs-svc/{abs(hash((status, revision))) % 10**12}",
        "status": status, "task_definition": td(revision, region), "running_count": running,
        "desired_count": running if desired is None else desired, "rollout_state": rollout,
        "created_at": created.isoformat(), "launch_type": launch_type,
        "capacity_provider_strategy": [], "cpu": str(cpu), "memory": str(memory),
        "os_family": os_family, "cpu_architecture": arch,
    }
    if previous is not None:
        entry["previous"] = previous
    return entry


def previous(revision: str, *, cpu: int = 1024, memory: int = 2048, os_family: str = "",
             arch: str = "", unavailable: bool = False) -> dict[str, Any]:
    if unavailable:
        return {"task_definition": td(revision), "unavailable": True}
    return {"task_definition": td(revision), "cpu": str(cpu), "memory": str(memory),
            "os_family": os_family, "cpu_architecture": arch}


def add_service(snap: SnapshotBuilder, name: str, *, deployments: list[dict] | None = None,
                os_family: str = "", arch: str = "", controller: str = "",
                scheduling: str = "", platform_version: str = "",
                task_definition: str | None = None, **base: Any) -> str:
    """A service row with the deployment/platform columns set; returns its ARN."""
    arn = snap.ecs_service(name, **base)
    row = snap.rows["ecs_services"][-1]
    row.update({
        "os_family": os_family, "cpu_architecture": arch, "deployment_controller": controller,
        "scheduling_strategy": scheduling, "platform_version": platform_version,
        "deployments": json.dumps(deployments or []),
    })
    if task_definition is not None:
        row["task_definition"] = td(task_definition, row["region"])
    return arn
