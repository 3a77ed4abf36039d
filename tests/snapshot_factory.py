"""Synthetic Snapshots for rule tests: a fixed window, inventory rows and metric series.

Usage:
    snap = SnapshotBuilder()
    snap.ecs_service("worker", cpu=2048, memory=4096)
    snap.ecs_usage("worker", cpu_max=flat(15), memory_max=flat(20))
    snapshot = snap.build()
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from rightsizer.rules.support import sizing_history, year_ago
from rightsizer.snapshot.store import TABLE_COLUMNS, Snapshot

ACCOUNT = "123456789012"
REGION = "ap-south-1"
CLUSTER = "edufly"
WINDOW_END = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 14
PERIOD_SECONDS = 3600
HOURS = DAYS * 24


def flat(value: float, hours: int = HOURS) -> np.ndarray:
    """A constant hourly series."""
    return np.full(hours, float(value))


def daily_spikes(base: float, spike: float, hours: int = HOURS, spike_hours: int = 1,
                 at_hour: int = 10) -> np.ndarray:
    """`base` all day, `spike` for `spike_hours` starting at `at_hour` every day."""
    values = np.full(hours, float(base))
    for start in range(at_hour, hours, 24):
        values[start:start + spike_hours] = spike
    return values


class SnapshotBuilder:
    def __init__(self, days: int = DAYS, end: datetime = WINDOW_END,
                 period_seconds: int = PERIOD_SECONDS, history_days: int | None = None) -> None:
        self.days = days
        self.end = end
        self.start = end - timedelta(days=days)
        # the sizing history (analysis.sizing_history_days), when longer than the window
        self.history_start = min(self.start, end - timedelta(days=history_days or days))
        self.period_seconds = period_seconds
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_COLUMNS}

    @property
    def hours(self) -> int:
        return self.days * 86400 // self.period_seconds

    # --- metrics -------------------------------------------------------------------------

    def metric(self, namespace: str, metric: str, resource: str, stat: str,
               values: np.ndarray | list[float], *, step_seconds: int | None = None,
               account: str = ACCOUNT, region: str = REGION,
               start: datetime | None = None) -> SnapshotBuilder:
        """Datapoints from the window start (or `start`), one every `step_seconds` (default:
        the period). NaN values are left out, as CloudWatch returns no datapoint for an empty
        period."""
        step = timedelta(seconds=step_seconds or self.period_seconds)
        first = self.start if start is None else start
        for i, value in enumerate(values):
            if value is None or np.isnan(value):
                continue
            self.rows["metrics"].append({
                "account": account, "region": region, "namespace": namespace, "metric": metric,
                "resource": resource, "stat": stat, "timestamp": first + i * step,
                "value": float(value),
            })
        return self

    def ecs_usage(self, service: str, cpu_max: np.ndarray, memory_max: np.ndarray, *,
                  cluster: str = CLUSTER, account: str = ACCOUNT,
                  region: str = REGION) -> SnapshotBuilder:
        """CPU and memory utilization (percent of the task size): hourly Maximum, the only
        statistic ecs-rightsize fetches."""
        key = f"{cluster}/{service}"
        for metric, series in (("CPUUtilization", cpu_max), ("MemoryUtilization", memory_max)):
            series = np.asarray(series, dtype=float)
            self.metric("AWS/ECS", metric, key, "Maximum", series, account=account,
                        region=region)
        return self

    def ecs_history(self, service: str, cpu_max: np.ndarray, memory_max: np.ndarray, *,
                    cluster: str = CLUSTER) -> SnapshotBuilder:
        """Hourly CPU and memory Maximum over the last len(series) periods before the window's
        end (a young service: fewer than the history), stored as the collector does: the
        window's part under "Maximum", the part before it under "Maximum@history"."""
        key = f"{cluster}/{service}"
        step = timedelta(seconds=self.period_seconds)
        for metric, series in (("CPUUtilization", cpu_max), ("MemoryUtilization", memory_max)):
            series = np.asarray(series, dtype=float)
            first = self.end - len(series) * step
            head = max(0, int((self.start - first) / step))
            self.metric("AWS/ECS", metric, key, sizing_history.stored_stat("Maximum"),
                        series[:head], start=first)
            self.metric("AWS/ECS", metric, key, "Maximum", series[head:],
                        start=first + head * step)
        return self

    def ecs_year_ago(self, service: str, cpu_daily: np.ndarray | list[float],
                     memory_daily: np.ndarray | list[float], *,
                     cluster: str = CLUSTER) -> SnapshotBuilder:
        """Daily Maximum CPU and memory from the start of the window's year-ago counterpart
        (year_ago.window), as the collector stores them."""
        start = year_ago.window(self.history_start, self.end)[0].replace(hour=0, minute=0,
                                                                          second=0)
        for metric, series in (("CPUUtilization", cpu_daily), ("MemoryUtilization", memory_daily)):
            self.metric("AWS/ECS", metric, f"{cluster}/{service}",
                        year_ago.stored_stat("Maximum"), np.asarray(series, dtype=float),
                        step_seconds=86_400, start=start)
        return self

    def rds_cpu(self, db_instance_id: str, coverage: float = 1.0, value: float = 30.0, *,
                account: str = ACCOUNT, region: str = REGION) -> SnapshotBuilder:
        """Hourly CPU Maximum for the first `coverage` share of the window."""
        values = flat(value, round(self.hours * coverage))
        return self.metric("AWS/RDS", "CPUUtilization", db_instance_id, "Maximum", values,
                           account=account, region=region)

    def s3_size(self, bucket: str, daily_bytes: np.ndarray | list[float], *,
                account: str = ACCOUNT, region: str = REGION) -> SnapshotBuilder:
        return self.metric("AWS/S3", "BucketSizeBytes", f"{bucket}/StandardStorage", "Average",
                           np.asarray(daily_bytes, dtype=float), step_seconds=86400,
                           account=account, region=region)

    def s3_objects(self, bucket: str, daily_counts: np.ndarray | list[float], *,
                   account: str = ACCOUNT, region: str = REGION) -> SnapshotBuilder:
        return self.metric("AWS/S3", "NumberOfObjects", f"{bucket}/AllStorageTypes", "Average",
                           np.asarray(daily_counts, dtype=float), step_seconds=86400,
                           account=account, region=region)

    # --- inventory -----------------------------------------------------------------------

    def ecs_service(self, name: str, *, cpu: int | str = 1024, memory: int | str = 2048,
                    launch_type: str | None = "FARGATE",
                    strategy: list[dict[str, Any]] | None = None,
                    cluster_default: list[dict[str, Any]] | None = None,
                    load_balancers: int = 0, desired: int = 1, running: int | None = None,
                    tags: dict[str, str] | None = None, cluster: str = CLUSTER,
                    account: str = ACCOUNT, region: str = REGION) -> str:
        """Adds a service row; returns its ARN."""
        arn = f"arn:aws:ecs:{region}:{account}:service/{cluster}/{name}"
        self.rows["ecs_services"].append({
            "account": account, "region": region, "cluster": cluster, "service": name,
            "service_arn": arn,
            "task_definition": f"arn:aws:ecs:{region}:{account}:task-definition/{name}:1",
            "cpu_units": str(cpu), "memory_mib": str(memory),
            "launch_type": launch_type or "",
            "capacity_provider_strategy": json.dumps(strategy or []),
            "cluster_default_strategy": json.dumps(cluster_default or []),
            "load_balancer_count": load_balancers, "desired_count": desired,
            "running_count": desired if running is None else running,
            "tags": json.dumps(tags or {}), "created_at": "2025-01-01 00:00:00+00:00",
            "container_insights": True,
        })
        return arn

    def rds_instance(self, db_instance_id: str, *, instance_class: str = "db.t3.medium",
                     multi_az: bool = False, status: str = "available",
                     engine: str = "postgres", replica_of: str = "",
                     tags: dict[str, str] | None = None, account: str = ACCOUNT,
                     region: str = REGION) -> str:
        arn = f"arn:aws:rds:{region}:{account}:db:{db_instance_id}"
        self.rows["rds_instances"].append({
            "account": account, "region": region, "db_instance_id": db_instance_id, "arn": arn,
            "instance_class": instance_class, "engine": engine, "engine_version": "16.3",
            "multi_az": multi_az, "status": status, "read_replica_source": replica_of,
            "storage_type": "gp3", "allocated_storage_gb": 100,
            "created_at": "2024-01-01 00:00:00+00:00", "tags": json.dumps(tags or {}),
        })
        return arn

    def rds_reservation(self, instance_class: str, *, multi_az: bool = False,
                        state: str = "active", count: int = 1,
                        product_description: str = "postgresql", account: str = ACCOUNT,
                        region: str = REGION) -> SnapshotBuilder:
        number = len(self.rows["rds_reservations"]) + 1
        self.rows["rds_reservations"].append({
            "account": account, "region": region, "reservation_id": f"ri-{number}",
            "instance_class": instance_class, "multi_az": multi_az,
            "product_description": product_description, "state": state,
            "instance_count": count, "start_time": "2026-03-01 00:00:00+00:00",
            "duration_seconds": 31536000, "offering_type": "No Upfront",
        })
        return self

    def s3_bucket(self, bucket: str, *, rules: list[dict[str, Any]] | None = None,
                  lifecycle_state: str | None = None, created_at: str | None =
                  "2024-01-01 00:00:00+00:00", tags: dict[str, str] | None = None,
                  account: str = ACCOUNT, region: str = REGION) -> str:
        """lifecycle_state defaults to what the collector writes: present / absent."""
        arn = f"arn:aws:s3:::{bucket}"
        state = lifecycle_state or ("present" if rules else "absent")
        self.rows["s3_buckets"].append({
            "account": account, "region": region, "bucket": bucket, "arn": arn,
            "created_at": created_at, "lifecycle_state": state,
            "lifecycle_rules": json.dumps(rules or []), "tags": json.dumps(tags or {}),
        })
        return arn

    def error(self, service: str, operation: str, *, code: str = "AccessDenied",
              message: str = "not authorized", account: str = ACCOUNT,
              region: str = REGION) -> SnapshotBuilder:
        self.rows["errors"].append({"account": account, "region": region, "service": service,
                                    "operation": operation, "code": code, "message": message})
        return self

    # --- helpers for the ElastiCache, logs, RDS sizing/idle/storage and ECS scaling rules --

    def rds_metric(self, db_instance_id: str, metric: str, stat: str,
                   values: np.ndarray | list[float], *, account: str = ACCOUNT,
                   region: str = REGION) -> SnapshotBuilder:
        """Any AWS/RDS series (e.g. FreeableMemory Minimum in bytes) for one instance."""
        return self.metric("AWS/RDS", metric, db_instance_id, stat,
                           np.asarray(values, dtype=float), account=account, region=region)

    def rds_storage(self, db_instance_id: str, storage_type: str,
                    allocated_storage_gb: int) -> SnapshotBuilder:
        """Changes the storage of an instance added with rds_instance()."""
        for row in self.rows["rds_instances"]:
            if row["db_instance_id"] == db_instance_id:
                row["storage_type"] = storage_type
                row["allocated_storage_gb"] = allocated_storage_gb
                return self
        raise KeyError(db_instance_id)

    def elasticache_cluster(self, cluster_id: str, *, node_type: str = "cache.t3.medium",
                            num_nodes: int = 1, status: str = "available",
                            engine: str = "redis", tags: dict[str, str] | None = None,
                            account: str = ACCOUNT, region: str = REGION) -> str:
        arn = f"arn:aws:elasticache:{region}:{account}:cluster:{cluster_id}"
        self.rows["elasticache_clusters"].append({
            "account": account, "region": region, "cluster_id": cluster_id, "arn": arn,
            "node_type": node_type, "engine": engine, "num_nodes": num_nodes,
            "status": status, "created_at": "2024-01-01 00:00:00+00:00",
            "tags": json.dumps(tags or {}),
        })
        return arn

    def elasticache_cpu(self, cluster_id: str, coverage: float = 1.0, value: float = 20.0, *,
                        account: str = ACCOUNT, region: str = REGION) -> SnapshotBuilder:
        """Hourly CPU Maximum for the first `coverage` share of the window."""
        values = flat(value, round(self.hours * coverage))
        return self.metric("AWS/ElastiCache", "CPUUtilization", cluster_id, "Maximum", values,
                           account=account, region=region)

    def elasticache_reservation(self, node_type: str, *, count: int = 1,
                                state: str = "active", product_description: str = "redis",
                                account: str = ACCOUNT,
                                region: str = REGION) -> SnapshotBuilder:
        number = len(self.rows["elasticache_reservations"]) + 1
        self.rows["elasticache_reservations"].append({
            "account": account, "region": region, "reservation_id": f"rcn-{number}",
            "node_type": node_type, "product_description": product_description,
            "state": state, "node_count": count, "start_time": "2026-03-01 00:00:00+00:00",
            "duration_seconds": 31536000, "offering_type": "No Upfront",
        })
        return self

    def log_group(self, name: str, *, retention_days: int = 0, stored_bytes: int = 0,
                  created_days_ago: float | None = 365.0, log_group_class: str = "STANDARD",
                  account: str = ACCOUNT, region: str = REGION) -> str:
        """created_at is written as the collector does: creationTime, ms since epoch, as text."""
        arn = f"arn:aws:logs:{region}:{account}:log-group:{name}"
        created = "" if created_days_ago is None else str(
            int((self.end - timedelta(days=created_days_ago)).timestamp() * 1000))
        self.rows["log_groups"].append({
            "account": account, "region": region, "log_group": name, "arn": arn,
            "retention_days": retention_days, "stored_bytes": stored_bytes,
            "created_at": created, "log_group_class": log_group_class,
        })
        return arn

    def ecs_cpu_max(self, service: str, values: np.ndarray | list[float], *,
                        cluster: str = CLUSTER, account: str = ACCOUNT,
                        region: str = REGION) -> SnapshotBuilder:
        """AWS/ECS CPUUtilization hourly Maximum only (percent of the service's reserved CPU)."""
        return self.metric("AWS/ECS", "CPUUtilization", f"{cluster}/{service}", "Maximum",
                           np.asarray(values, dtype=float), account=account, region=region)

    def autoscaling_target(self, service: str, *, min_capacity: int = 1, max_capacity: int = 4,
                           policies: list[dict[str, Any]] | None = None,
                           cluster: str = CLUSTER, account: str = ACCOUNT,
                           region: str = REGION) -> SnapshotBuilder:
        self.rows["autoscaling_targets"].append({
            "account": account, "region": region,
            "resource_id": f"service/{cluster}/{service}",
            "min_capacity": min_capacity, "max_capacity": max_capacity,
            "policies": json.dumps(policies or []),
        })
        return self

    def ecs_running_tasks(self, service: str, values: np.ndarray | list[float], *,
                          cluster: str = CLUSTER, account: str = ACCOUNT,
                          region: str = REGION) -> SnapshotBuilder:
        """Container Insights RunningTaskCount, Maximum (what ecs-rightsize reads)."""
        return self.metric("ECS/ContainerInsights", "RunningTaskCount", f"{cluster}/{service}",
                           "Maximum", np.asarray(values, dtype=float), account=account,
                           region=region)

    # --- ECR (ecr-lifecycle) ---------------------------------------------------------------

    def ecr_repository(self, name: str, *, lifecycle_state: str = "absent",
                       images: list[tuple[float, int, int]] | None = None,
                       images_state: str = "read", policy: str = "",
                       tags: dict[str, str] | None = None, media_type: str =
                       "application/vnd.docker.distribution.manifest.v2+json",
                       account: str = ACCOUNT, region: str = REGION) -> str:
        """images: (pushed days before the window end, size bytes, tag count) each, stored as
        the collector does ([pushed epoch seconds, bytes, tags, media type])."""
        arn = f"arn:aws:ecr:{region}:{account}:repository/{name}"
        entries = [[int((self.end - timedelta(days=days_ago)).timestamp()), size, tag_count,
                    media_type] for days_ago, size, tag_count in images or []]
        known = images_state == "read"
        self.rows["ecr_repositories"].append({
            "account": account, "region": region, "repository": name, "arn": arn,
            "created_at": "2024-01-01 00:00:00+00:00", "lifecycle_state": lifecycle_state,
            "lifecycle_policy": policy, "images_state": images_state,
            "image_count": len(entries) if known else None,
            "untagged_count": sum(1 for e in entries if not e[2]) if known else None,
            "stored_bytes": sum(e[1] for e in entries) if known else None,
            "untagged_bytes": sum(e[1] for e in entries if not e[2]) if known else None,
            "images": json.dumps(entries), "tags": json.dumps(tags or {}),
        })
        return arn

    # --- helpers for the nat-gateway and public-ipv4 rules -------------------------------

    def nat_gateway(self, nat_id: str, *, vpc_id: str = "vpc-edufly",
                    vpc_tags: dict[str, str] | None = None,
                    endpoints: list[str] | None = None, public_ips: list[str] | None = None,
                    allocation_ids: list[str] | None = None, state: str = "available",
                    route_tables: list[str] | None = None, account: str = ACCOUNT,
                    region: str = REGION) -> str:
        """endpoints: the VPC's gateway endpoint service names (None: could not be read)."""
        arn = f"arn:aws:ec2:{region}:{account}:natgateway/{nat_id}"
        tags = vpc_tags or {}
        self.rows["nat_gateways"].append({
            "account": account, "region": region, "nat_gateway_id": nat_id, "arn": arn,
            "vpc_id": vpc_id, "subnet_id": "subnet-public-a", "state": state,
            "connectivity_type": "public", "created_at": "2025-01-01 00:00:00+00:00",
            "allocation_ids": json.dumps(allocation_ids or []),
            "public_ips": json.dumps(public_ips or []), "tags": "{}",
            "vpc_name": tags.get("Name", ""), "vpc_tags": json.dumps(tags),
            "gateway_endpoints": "" if endpoints is None else json.dumps(endpoints),
            "route_table_ids": json.dumps(route_tables or ["rtb-private-a"]),
            "vpc_route_table_ids": json.dumps(route_tables or ["rtb-private-a"]),
        })
        return arn

    def nat_traffic(self, nat_id: str, bytes_per_hour: float, connections: float, *,
                    account: str = ACCOUNT, region: str = REGION) -> SnapshotBuilder:
        """Hourly BytesOutToDestination Sum and ActiveConnectionCount Maximum."""
        self.metric("AWS/NATGateway", "BytesOutToDestination", nat_id, "Sum",
                    flat(bytes_per_hour, self.hours), account=account, region=region)
        return self.metric("AWS/NATGateway", "ActiveConnectionCount", nat_id, "Maximum",
                           flat(connections, self.hours), account=account, region=region)

    def public_ip(self, ip: str, *, owner_kind: str = "unattached", owner_id: str = "",
                  owner_label: str = "", elastic: bool = True, allocation_id: str = "",
                  network_interface_id: str = "", account: str = ACCOUNT,
                  region: str = REGION) -> str:
        allocation = allocation_id or (f"eipalloc-{ip.replace('.', '')}" if elastic else "")
        resource_id = (f"arn:aws:ec2:{region}:{account}:elastic-ip/{allocation}" if allocation
                       else f"public-ip/{region}/{ip}")
        self.rows["public_ips"].append({
            "account": account, "region": region, "public_ip": ip, "resource_id": resource_id,
            "elastic": elastic, "allocation_id": allocation,
            "association_id": "" if owner_kind == "unattached" else "eipassoc-1",
            "network_interface_id": network_interface_id, "owner_kind": owner_kind,
            "owner_id": owner_id, "owner_label": owner_label or owner_kind, "tags": "{}",
        })
        return resource_id

    # --- result --------------------------------------------------------------------------

    def manifest(self) -> dict[str, Any]:
        return {
            "generated_at": self.end.isoformat(),
            "window": {"start": self.start.isoformat(), "end": self.end.isoformat(),
                       "days": self.days},
            "sizing_history": {"start": self.history_start.isoformat(),
                               "days": (self.end - self.history_start).days},
            "period_seconds": self.period_seconds,
            "accounts": [ACCOUNT],
            "regions": [REGION],
        }

    def build(self) -> Snapshot:
        tables = {
            name: pd.DataFrame(rows, columns=TABLE_COLUMNS[name])
            for name, rows in self.rows.items() if rows
        }
        return Snapshot(manifest=self.manifest(), tables=tables)
