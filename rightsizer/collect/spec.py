"""What a collector declares about itself, once: the table it fills and its columns, the API
operations it calls (with their IAM actions), the column that identifies a resource, what
makes its table an inventory, and the CloudWatch dimensions of its resources.

Collection (engine.py), the snapshot's tables, `rightsizer iam-policy` and the report's tag
lookups all read these specs (collect/registry.py finds them), so a new AWS read is one
collector module with its spec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import pyarrow as pa

from rightsizer.collect.collectors.base import ErrorLog, Target

Row = dict[str, Any]
Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RunContext:
    """What a collector may need beyond its target."""

    window_start: datetime
    regions: frozenset[str]
    # where the sizing history begins (rules/support/sizing_history.py); None: the window's start
    history_start: datetime | None = None


Collect = Callable[[Target, ErrorLog, RunContext], list[Row]]


@dataclass(frozen=True)
class Inventory:
    """A table that lists resources of one kind: whether an account has any at all, or could
    not be looked at (its listing read failed), is said in the report."""

    resource_type: str  # "ecs-service"
    label: str  # "ECS services"
    listing: str  # the operation whose failure means the kind could not be looked at


@dataclass(frozen=True)
class MetricResource:
    """How a MetricNeed's resource kind maps to a row of this table: the series' dimensions
    and the key the series is stored under."""

    kind: str  # MetricNeed.resource_kind
    dimensions: Callable[[str, Mapping[str, Any]], tuple[Dimensions, str]]  # (metric, row)
    applies: Callable[[Mapping[str, Any]], bool] | None = None  # rows that have the metric


@dataclass(frozen=True)
class CollectorSpec:
    table: str
    label: str  # progress line
    schema: pa.Schema
    # CallRecorder name ("service:Operation") -> IAM action; every call the collector may make
    operations: Mapping[str, str]
    collect: Collect | None = None  # None: the engine drives it (metrics, costs)
    scope: Literal["region", "account"] = "region"  # account: one job an account (S3)
    id_column: str | None = None  # the column a resource's tags and suppressions key on
    inventory: Inventory | None = None
    metric_resources: tuple[MetricResource, ...] = field(default=())

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)


def same_name(*operations: str) -> dict[str, str]:
    """Operations whose IAM action has the operation's own name (most of them)."""
    return {operation: operation for operation in operations}


def schema(*columns: str, **types: pa.DataType) -> pa.Schema:
    """A schema of string columns, except those given a type; in the order named."""
    unknown = set(types) - set(columns)
    if unknown:
        raise ValueError(f"types for columns not listed: {sorted(unknown)}")
    return pa.schema([(column, types.get(column, pa.string())) for column in columns])
