"""ElastiCache: cache clusters (node type, engine, node count) and reserved cache nodes."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from rightsizer.collect.collectors.base import ErrorLog, Target, recorded_failure
from rightsizer.collect.spec import CollectorSpec, Inventory, MetricResource, same_name, schema

SERVICE = "elasticache"


def collect_clusters(target: Target, errors: ErrorLog) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, target.region, SERVICE,
                          "DescribeCacheClusters"):
        paginator = target.client("elasticache").get_paginator("describe_cache_clusters")
        for page in paginator.paginate():
            for cluster in page.get("CacheClusters", []):
                rows.append({
                    "account": target.account,
                    "region": target.region,
                    "cluster_id": cluster["CacheClusterId"],
                    "arn": cluster.get("ARN", cluster["CacheClusterId"]),
                    "node_type": cluster.get("CacheNodeType", ""),
                    "engine": cluster.get("Engine", ""),
                    "engine_version": cluster.get("EngineVersion", ""),
                    "num_nodes": int(cluster.get("NumCacheNodes", 1) or 1),
                    "status": cluster.get("CacheClusterStatus", ""),
                    "created_at": str(cluster.get("CacheClusterCreateTime", "")),
                    "tags": "{}",
                })
    return rows


def collect_cache_reservations(target: Target, errors: ErrorLog) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, target.region, "elasticache",
                          "DescribeReservedCacheNodes"):
        paginator = target.client("elasticache").get_paginator("describe_reserved_cache_nodes")
        for page in paginator.paginate():
            for node in page.get("ReservedCacheNodes", []):
                rows.append({
                    "account": target.account, "region": target.region,
                    "reservation_id": node.get("ReservedCacheNodeId", ""),
                    "node_type": node.get("CacheNodeType", ""),
                    "product_description": node.get("ProductDescription", ""),
                    "state": node.get("State", ""),
                    "node_count": int(node.get("CacheNodeCount", 1) or 1),
                    "start_time": str(node.get("StartTime", "")),
                    "duration_seconds": int(node.get("Duration", 0) or 0),
                    "offering_type": node.get("OfferingType", ""),
                })
    return rows


SPECS = (
    CollectorSpec(
        table="elasticache_clusters", label="elasticache",
        schema=schema("account", "region", "cluster_id", "arn", "node_type", "engine",
                      "engine_version", "num_nodes", "status", "created_at", "tags",
                      num_nodes=pa.int64()),
        operations=same_name("elasticache:DescribeCacheClusters"),
        collect=lambda target, errors, _run: collect_clusters(target, errors),
        id_column="arn",
        inventory=Inventory("elasticache-cluster", "ElastiCache clusters",
                            "elasticache:DescribeCacheClusters"),
        metric_resources=(MetricResource(
            "elasticache-cluster",
            lambda _metric, row: ((("CacheClusterId", row["cluster_id"]),), row["cluster_id"])),),
    ),
    CollectorSpec(
        table="elasticache_reservations", label="elasticache reservations",
        schema=schema("account", "region", "reservation_id", "node_type",
                      "product_description", "state", "node_count", "start_time",
                      "duration_seconds", "offering_type", node_count=pa.int64(),
                      duration_seconds=pa.int64()),
        operations=same_name("elasticache:DescribeReservedCacheNodes"),
        collect=lambda target, errors, _run: collect_cache_reservations(target, errors),
    ),
)
