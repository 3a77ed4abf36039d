"""Everything one run collected: plain tables plus a manifest, saved to and loaded from disk.

Rules read a Snapshot and nothing else, so `rightsizer report SNAPSHOT_DIR` can re-run them
offline and give the same report as the run that collected the data.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from rightsizer.errors import RightsizerError

# Every table a collector can produce, with its columns: an absent table reads as empty, so a
# rule never has to care whether a collector ran or failed.
TABLE_COLUMNS: dict[str, list[str]] = {
    "ecs_services": [
        "account", "region", "cluster", "service", "service_arn", "task_definition",
        "cpu_units", "memory_mib", "launch_type", "capacity_provider_strategy",
        "cluster_default_strategy", "load_balancer_count", "desired_count", "running_count",
        "tags", "created_at", "container_insights",
    ],
    "rds_instances": [
        "account", "region", "db_instance_id", "arn", "instance_class", "engine",
        "engine_version", "multi_az", "status", "read_replica_source", "storage_type",
        "allocated_storage_gb", "created_at", "tags",
    ],
    "rds_reservations": [
        "account", "region", "reservation_id", "instance_class", "multi_az",
        "product_description", "state", "instance_count", "start_time", "duration_seconds",
        "offering_type",
    ],
    "elasticache_clusters": [
        "account", "region", "cluster_id", "arn", "node_type", "engine", "num_nodes", "status",
        "created_at", "tags",
    ],
    "s3_buckets": [
        "account", "region", "bucket", "arn", "created_at", "lifecycle_state", "lifecycle_rules",
        "tags",
    ],
    "elasticache_reservations": [
        "account", "region", "reservation_id", "node_type", "product_description", "state",
        "node_count", "start_time", "duration_seconds", "offering_type",
    ],
    "autoscaling_targets": [
        "account", "region", "resource_id", "min_capacity", "max_capacity", "policies",
    ],
    "log_groups": [
        "account", "region", "log_group", "arn", "retention_days", "stored_bytes", "created_at",
        "log_group_class",
    ],
    "ce_insights": ["account", "kind", "service", "data"],
    "metrics": [
        "account", "region", "namespace", "metric", "resource", "stat", "timestamp", "value",
    ],
    "costs": ["account", "month", "service", "amount_usd", "estimated"],
    "errors": ["account", "region", "service", "operation", "code", "message"],
}

MANIFEST_FILE = "manifest.json"


def empty_table(name: str) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in TABLE_COLUMNS[name]})


def decode_json_cell(value: Any, default: Any) -> Any:
    """Nested values (tags, strategies, rules) are stored as JSON text so Parquet keeps them."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return default
    if isinstance(value, str):
        return json.loads(value)
    return value


def as_int(value: Any) -> int:
    """Counts and sizes as stored (ECS keeps task sizes as strings, "1024"); missing -> 0."""
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


@dataclass
class Snapshot:
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        frame = self.tables.get(name)
        return empty_table(name) if frame is None else frame

    @property
    def window_start(self) -> datetime:
        return datetime.fromisoformat(self.manifest["window"]["start"])

    @property
    def window_end(self) -> datetime:
        return datetime.fromisoformat(self.manifest["window"]["end"])

    @property
    def period_seconds(self) -> int:
        return int(self.manifest["period_seconds"])

    @property
    def expected_datapoints(self) -> int:
        seconds = (self.window_end - self.window_start).total_seconds()
        return max(1, int(seconds // self.period_seconds))

    @cached_property
    def _series_index(self) -> dict[tuple[str, ...], pd.Series]:
        metrics = self.table("metrics")
        if metrics.empty:
            return {}
        keys = ["account", "region", "namespace", "metric", "resource", "stat"]
        index: dict[tuple[str, ...], pd.Series] = {}
        for key, group in metrics.groupby(keys, sort=False):
            series = pd.Series(
                group["value"].to_numpy(dtype=float),
                index=pd.to_datetime(group["timestamp"], utc=True),
            ).sort_index()
            index[tuple(str(part) for part in key)] = series
        return index

    def series(
        self, account: str, region: str, namespace: str, metric: str, resource: str, stat: str
    ) -> pd.Series:
        """One metric series, oldest first; empty when CloudWatch had no datapoints."""
        key = (account, region, namespace, metric, resource, stat)
        found = self._series_index.get(key)
        return found if found is not None else pd.Series(dtype=float)

    def errors_for(self, service: str, operation: str | None = None) -> pd.DataFrame:
        errors = self.table("errors")
        mask = errors["service"] == service
        if operation is not None:
            mask &= errors["operation"] == operation
        return errors[mask]

    def read_failure(self, service: str, operation: str, account: str,
                     region: str) -> str | None:
        """"code: message" when a read a rule depends on failed there, else None."""
        errors = self.errors_for(service, operation)
        mine = errors[(errors["account"] == account) & (errors["region"] == region)]
        if mine.empty:
            return None
        row = mine.iloc[0]
        return f"{row['code']}: {row['message']}"

    # --- persistence -------------------------------------------------------------------------

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        for name in TABLE_COLUMNS:
            frame = self.table(name)
            _atomic_parquet(frame, directory / f"{name}.parquet")
        manifest_path = directory / MANIFEST_FILE
        tmp = manifest_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.manifest, indent=2, sort_keys=True, default=str))
        os.replace(tmp, manifest_path)
        return directory

    @classmethod
    def load(cls, directory: Path) -> Snapshot:
        manifest_path = directory / MANIFEST_FILE
        if not manifest_path.is_file():
            raise RightsizerError(f"{directory}: not a rightsizer snapshot (no {MANIFEST_FILE})")
        try:
            manifest = json.loads(manifest_path.read_text())
            tables = {
                name: pd.read_parquet(directory / f"{name}.parquet")
                for name in TABLE_COLUMNS
                if (directory / f"{name}.parquet").is_file()
            }
        except (OSError, ValueError) as exc:
            raise RightsizerError(f"{directory}: unreadable snapshot: {exc}") from exc
        return cls(manifest=manifest, tables=tables)


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(".parquet.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def merge_snapshots(snapshots: list[Snapshot]) -> Snapshot:
    """One snapshot from shards collected separately (e.g. one per group of accounts)."""
    if not snapshots:
        raise RightsizerError("no snapshot to merge")
    if len(snapshots) == 1:
        return snapshots[0]
    first = snapshots[0].manifest
    for other in snapshots[1:]:
        if other.manifest["window"] != first["window"] or \
                other.manifest["period_seconds"] != first["period_seconds"]:
            raise RightsizerError("snapshots cover different windows: collect every shard with "
                                  "the same lookback and on the same day")
    manifest = dict(first)
    manifest["accounts"] = sorted({a for s in snapshots for a in s.manifest["accounts"]})
    manifest["regions"] = sorted({r for s in snapshots for r in s.manifest["regions"]})
    calls: dict[str, int] = {}
    for snapshot in snapshots:
        for name, count in snapshot.manifest.get("api_calls", {}).items():
            calls[name] = calls.get(name, 0) + int(count)
    manifest["api_calls"] = dict(sorted(calls.items()))
    for key in ("metric_queries", "resources_collected", "errors"):
        manifest[key] = sum(int(s.manifest.get(key, 0)) for s in snapshots)
    manifest["duration_seconds"] = max(float(s.manifest.get("duration_seconds") or 0)
                                       for s in snapshots)
    manifest["shards"] = len(snapshots)
    tables = {}
    for name in TABLE_COLUMNS:
        frames = [s.table(name) for s in snapshots if not s.table(name).empty]
        tables[name] = pd.concat(frames, ignore_index=True) if frames else empty_table(name)
    return Snapshot(manifest=manifest, tables=tables)
