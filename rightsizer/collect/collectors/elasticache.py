"""ElastiCache: cache clusters (node type, engine, node count)."""

from __future__ import annotations

from typing import Any

from rightsizer.collect.collectors.base import ErrorLog, Target, recorded_failure

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
                    "num_nodes": int(cluster.get("NumCacheNodes", 1) or 1),
                    "status": cluster.get("CacheClusterStatus", ""),
                    "created_at": str(cluster.get("CacheClusterCreateTime", "")),
                    "tags": "{}",
                })
    return rows
