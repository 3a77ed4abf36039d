"""Collection: run every collector for every account and region, in parallel, into a Snapshot."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from rightsizer import __version__
from rightsizer.aws.clients import AwsClients, CallRecorder
from rightsizer.collectors import cloudwatch, costs, ecs, elasticache, rds, s3
from rightsizer.collectors.base import ErrorLog, Target, describe_exception
from rightsizer.config import Config
from rightsizer.errors import RightsizerError
from rightsizer.rules import REGISTRY, MetricNeed
from rightsizer.snapshot import TABLE_COLUMNS, Snapshot

log = logging.getLogger("rightsizer")

# inventory table each metric need's resource kind is read from
KIND_TABLE = {
    "ecs-service": "ecs_services",
    "rds-instance": "rds_instances",
    "elasticache-cluster": "elasticache_clusters",
    "s3-bucket": "s3_buckets",
}
# Series collected whatever rules are enabled, for coverage and the report's evidence.
BASE_NEEDS = (MetricNeed("rds-instance", "AWS/RDS", "CPUUtilization", ("Average",)),)

SessionFactory = Callable[[], boto3.Session]


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    days: int
    period_seconds: int

    @classmethod
    def ending(cls, now: datetime, days: int, period_seconds: int) -> Window:
        end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        return cls(end - timedelta(days=days), end, days, period_seconds)


def current_account(clients: AwsClients, region: str) -> str:
    try:
        return str(clients.client("sts", region).get_caller_identity()["Account"])
    except NoCredentialsError:
        raise RightsizerError(
            "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID, or try --demo"
        ) from None
    except (ClientError, BotoCoreError) as exc:
        code, message = describe_exception(exc)
        raise RightsizerError(f"AWS credentials rejected ({code}): {message}") from None


def metric_needs(config: Config) -> list[MetricNeed]:
    needs = list(BASE_NEEDS)
    for rule_id in config.enabled_rules():
        needs.extend(REGISTRY[rule_id].metric_needs)
    return list(dict.fromkeys(needs))


def plan_metric_queries(needs: list[MetricNeed], tables: dict[str, list[dict[str, Any]]],
                        period_seconds: int) -> list[cloudwatch.MetricQuery]:
    queries: dict[cloudwatch.MetricQuery, None] = {}
    for need in needs:
        for row in tables.get(KIND_TABLE[need.resource_kind], []):
            dimensions, key = cloudwatch.dimensions_for(need.resource_kind, need.metric, row)
            period = cloudwatch.DAY_SECONDS if need.daily else period_seconds
            for stat in need.stats:
                queries[cloudwatch.MetricQuery(need.namespace, need.metric, dimensions, stat,
                                               period, key)] = None
    return list(queries)


def _collect_region(target: Target, errors: ErrorLog) -> dict[str, list[dict[str, Any]]]:
    return {
        "ecs_services": ecs.collect_services(target, errors),
        "rds_instances": rds.collect_instances(target, errors),
        "rds_reservations": rds.collect_reservations(target, errors),
        "elasticache_clusters": elasticache.collect_clusters(target, errors),
    }


def collect_snapshot(config: Config, session: boto3.Session, *, now: datetime | None = None,
                     recorder: CallRecorder | None = None, demo: bool = False) -> Snapshot:
    started = time.monotonic()
    now = now or datetime.now(UTC)
    recorder = recorder or CallRecorder()
    recorder.attach(session)
    clients = AwsClients(session, max_attempts=config.aws.max_attempts)
    regions = _regions(config, clients)
    account = current_account(clients, regions[0])
    window = Window.ending(now, config.analysis.lookback_days, config.analysis.period_seconds)
    errors = ErrorLog()
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_COLUMNS}

    targets = [Target(account, region, clients) for region in regions]
    with ThreadPoolExecutor(max_workers=config.aws.max_workers) as pool:
        region_results = list(pool.map(lambda t: _collect_region(t, errors), targets))
        bucket_rows = pool.submit(s3.collect_buckets, targets[0], errors, set(regions))
        cost_rows = pool.submit(costs.collect_costs, targets[0], errors, now.date())
        for result in region_results:
            for name, rows in result.items():
                tables[name].extend(rows)
        tables["s3_buckets"].extend(bucket_rows.result())
        tables["costs"].extend(cost_rows.result())

        needs = metric_needs(config)
        metric_jobs = []
        for target in targets:
            regional = {name: [row for row in rows if row.get("region") == target.region]
                        for name, rows in tables.items() if name in KIND_TABLE.values()}
            queries = plan_metric_queries(needs, regional, window.period_seconds)
            if queries:
                metric_jobs.append(pool.submit(cloudwatch.fetch_metrics, target, errors,
                                               queries, window.start, window.end))
        for job in metric_jobs:
            tables["metrics"].extend(job.result())

    tables["errors"] = errors.rows
    collected = sum(len(tables[name]) for name in KIND_TABLE.values())
    manifest = {
        "tool_version": __version__,
        "generated_at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat(),
                   "days": window.days},
        "period_seconds": window.period_seconds,
        "accounts": [account],
        "regions": regions,
        "demo": demo,
        "resources_collected": collected,
        "api_calls": dict(sorted(recorder.calls.items())),
        "metric_queries": recorder.metric_queries,
        "duration_seconds": round(time.monotonic() - started, 2),
    }
    frames = {name: _frame(name, rows) for name, rows in tables.items()}
    return Snapshot(manifest=manifest, tables=frames)


def _regions(config: Config, clients: AwsClients) -> list[str]:
    if config.aws.regions != "all":
        return list(config.aws.regions)
    try:
        response = clients.client("ec2", "us-east-1").describe_regions(AllRegions=False)
    except (ClientError, BotoCoreError) as exc:
        code, message = describe_exception(exc)
        raise RightsizerError(f"cannot list regions for regions = \"all\" ({code}): "
                              f"{message}") from None
    return sorted(region["RegionName"] for region in response["Regions"])


def _frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=TABLE_COLUMNS[name])
    if name == "metrics" and not frame.empty:
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        frame["value"] = frame["value"].astype(float)
    return frame
