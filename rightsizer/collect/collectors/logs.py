"""CloudWatch Logs: log groups with their retention and stored bytes; their IncomingBytes
series (AWS/Logs, dimension LogGroupName, Sum: "the volume of log events in uncompressed bytes
uploaded to the log group", as @pulumi/awsx and aws-cdk-lib's LogsMetrics document it) come
through the metric planner."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from rightsizer.collect.collectors.base import ErrorLog, Target, recorded_failure
from rightsizer.collect.spec import (
    CollectorSpec,
    Inventory,
    MetricResource,
    same_name,
    schema,
)


def collect_log_groups(target: Target, errors: ErrorLog) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, target.region, "logs", "DescribeLogGroups"):
        paginator = target.client("logs").get_paginator("describe_log_groups")
        for page in paginator.paginate():
            for group in page.get("logGroups", []):
                rows.append({
                    "account": target.account, "region": target.region,
                    "log_group": group["logGroupName"],
                    "arn": group.get("arn", group["logGroupName"]).removesuffix(":*"),
                    "retention_days": int(group.get("retentionInDays") or 0),
                    "stored_bytes": int(group.get("storedBytes") or 0),
                    "created_at": str(group.get("creationTime", "")),
                    "log_group_class": group.get("logGroupClass", "STANDARD"),
                })
    return rows


SPECS = (
    CollectorSpec(
        table="log_groups", label="logs",
        schema=schema("account", "region", "log_group", "arn", "retention_days",
                      "stored_bytes", "created_at", "log_group_class",
                      retention_days=pa.int64(), stored_bytes=pa.int64()),
        operations=same_name("logs:DescribeLogGroups"),
        collect=lambda target, errors, _run: collect_log_groups(target, errors),
        id_column="arn",
        inventory=Inventory("log-group", "log groups", "logs:DescribeLogGroups"),
        metric_resources=(MetricResource(
            "log-group", lambda _metric, row: ((("LogGroupName", str(row["log_group"])),),
                                               str(row["log_group"]))),),
    ),
)
