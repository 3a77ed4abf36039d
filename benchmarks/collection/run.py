"""Collection benchmark.

1. rightsizer's real `collect_snapshot` (accounts by AssumeRole, 4 regions, the thread pools,
   GetMetricData batching) against a synthetic organization with a fixed latency per call;
2. a per-resource metric collector as Cloud Custodian's `metrics` filter works: one
   GetMetricStatistics call per resource and metric on 3 worker threads
   (c7n/filters/metrics.py: `executor_factory(max_workers=3)`). It needs an inventory too; it is
   given ours and only its metric phase is timed, which flatters it.

Prices (list prices, us-east-1, https://aws.amazon.com/cloudwatch/pricing/ and
https://aws.amazon.com/aws-cost-management/aws-cost-explorer/pricing/): GetMetricData $0.01 per
1,000 metrics requested; GetMetricStatistics $0.01 per 1,000 requests (after a free tier of 1M API
requests a month, ignored here); Cost Explorer API $0.01 per request.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rightsizer.aws.clients import AwsClients, CallRecorder
from rightsizer.collect.collectors import cloudwatch, costs
from rightsizer.collect.engine import Window, assume_role_session, metric_needs, plan_metric_queries
from rightsizer.collect.processes import default_workers
from rightsizer.config import Config
from rightsizer.rules.support import year_ago
from rightsizer.snapshot.store import Snapshot
from tests.support.synthetic_aws import SyntheticAws, SyntheticSpec

GET_METRIC_DATA_USD_PER_METRIC = 0.01 / 1000
GET_METRIC_STATISTICS_USD_PER_REQUEST = 0.01 / 1000
COST_EXPLORER_USD_PER_REQUEST = 0.01
BASELINE_WORKERS = 3
FULL = {"ecs_services": 2000, "rds_instances": 500, "buckets": 5000}
NOW = datetime(2026, 1, 15, 6, tzinfo=UTC)  # fixed: same windows and datapoints every run


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak RSS of this process, or (RUSAGE_CHILDREN) of its largest finished child."""
    # ru_maxrss is KiB on Linux (bytes on macOS)
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(who).ru_maxrss / scale


def minimum_metric_calls(snapshot: Snapshot, config: Config) -> tuple[int, int]:
    """(the brief's minimum: ceil(queries/500) per account-region and time slice of the old
    planner, the datapoint bound: max(ceil(q/500), ceil(q*points/100,800)) per period group)."""
    window = Window.ending(NOW, config.analysis.lookback_days, config.analysis.period_seconds)
    tables = {name: snapshot.table(name).to_dict("records")
              for name in ("ecs_services", "rds_instances", "elasticache_clusters",
                           "s3_buckets")}
    history = snapshot.manifest.get("sizing_history")
    history_start = min(window.start, datetime.fromisoformat(history["start"])) if history \
        else window.start
    per_query, bound = 0, 0
    places = {(row["account"], row["region"]) for rows in tables.values() for row in rows}
    for account, region in sorted(places):
        regional = {name: [r for r in rows if r["account"] == account and r["region"] == region]
                    for name, rows in tables.items()}
        queries = plan_metric_queries(metric_needs(config), regional, window.period_seconds)
        # one GetMetricData call has one StartTime/EndTime: the sizing history (weeks before
        # the window) and the year-back series cannot share a call with this window's
        # (cloudwatch.fetch_metrics groups them the same way)
        by_period = Counter((query.period_seconds, query.year_ago, query.history)
                            for query in queries)
        for (period, then, history), count in by_period.items():
            if then:
                start, end = year_ago.window(history_start, window.end)
            else:
                start, end = (history_start if history else window.start), window.end
            if period >= cloudwatch.DAY_SECONDS:
                start = start.replace(hour=0)
            points = math.ceil((end - start).total_seconds() / period)
            limit = cloudwatch.MAX_DATAPOINTS_PER_CALL
            slices = max(1, math.ceil(points * min(count, 500) / limit))
            per_query += math.ceil(count / 500) * slices
            bound += max(math.ceil(count / 500),
                         math.ceil(count * points / cloudwatch.MAX_DATAPOINTS_PER_CALL))
    return per_query, bound


def run_rightsizer(fake: SyntheticAws, config: Config, cache_dir: Path,
                   workers: int | None = 1) -> dict[str, Any]:
    """Our whole run; with workers > 1 the accounts go to that many processes (the fake is
    inherited by fork), whose calls the recorder adds up (attempts below count only this
    process's: the parent's own calls)."""
    from rightsizer.collect.run import collect_snapshot

    fake.reset_counts()
    recorder = CallRecorder()
    started = time.monotonic()
    cpu_before = _cpu_seconds()
    snapshot = collect_snapshot(config, fake.session(), now=NOW, recorder=recorder,
                                cost_cache=costs.MonthlyCache(cache_dir, NOW.date()),
                                workers=workers)
    wall = time.monotonic() - started
    cpu = _cpu_seconds() - cpu_before
    calls = dict(recorder.calls)
    ce_calls = sum(count for name, count in calls.items() if name.startswith("ce:"))
    bill = (recorder.metric_queries * GET_METRIC_DATA_USD_PER_METRIC
            + ce_calls * COST_EXPLORER_USD_PER_REQUEST)
    return {"snapshot": snapshot, "wall": wall, "calls": calls, "attempts": dict(fake.calls),
            "throttled": sum(fake.throttled.values()),
            "metric_queries": recorder.metric_queries, "ce_calls": ce_calls, "bill": bill,
            "rss": peak_rss_mib(), "child_rss": peak_rss_mib(resource.RUSAGE_CHILDREN),
            "workers": int(snapshot.manifest.get("workers", 1)), "cpu": cpu}


def _cpu_seconds() -> float:
    """User + system CPU of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_per_resource(fake: SyntheticAws, config: Config, snapshot: Snapshot) -> dict[str, Any]:
    """One GetMetricStatistics per resource and metric (all its stats in that one call)."""
    window = Window.ending(NOW, config.analysis.lookback_days, config.analysis.period_seconds)
    base = AwsClients(fake.session(), max_attempts=config.aws.max_attempts)
    clients = {}
    for account in snapshot.manifest["accounts"]:  # untimed: the same sessions we used
        session = assume_role_session(base, account, config, config.aws.regions[0])
        clients[account] = AwsClients(session, max_attempts=config.aws.max_attempts)
    requests: dict[tuple[Any, ...], list[str]] = {}
    tables = {name: snapshot.table(name).to_dict("records")
              for name in ("ecs_services", "rds_instances", "elasticache_clusters",
                           "s3_buckets")}
    for name, rows in tables.items():
        for row in rows:
            for query in plan_metric_queries(metric_needs(config), {name: [row]},
                                             window.period_seconds):
                key = (row["account"], row["region"], query.namespace, query.metric,
                       query.dimensions, query.period_seconds)
                requests.setdefault(key, []).append(query.stat)

    def fetch(item: tuple[tuple[Any, ...], list[str]]) -> int:
        (account, region, namespace, metric, dimensions, period), stats = item
        start = window.start
        if period >= cloudwatch.DAY_SECONDS:
            start = start.replace(hour=0)
        response = clients[account].client("cloudwatch", region).get_metric_statistics(
            Namespace=namespace, MetricName=metric,
            Dimensions=[{"Name": k, "Value": v} for k, v in dimensions],
            StartTime=start, EndTime=window.end, Period=period, Statistics=stats)
        return len(response["Datapoints"])

    fake.reset_counts()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=BASELINE_WORKERS) as pool:
        datapoints = sum(pool.map(fetch, requests.items()))
    wall = time.monotonic() - started
    calls = dict(fake.calls)
    answered = calls.get("cloudwatch:GetMetricStatistics", 0)
    return {"wall": wall, "calls": calls, "requests": len(requests), "datapoints": datapoints,
            "bill": answered * GET_METRIC_STATISTICS_USD_PER_REQUEST, "rss": peak_rss_mib()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.collection")
    parser.add_argument("--quick", action="store_true", help="a tenth of the resources")
    parser.add_argument("--throttle", type=float, default=0.0,
                        help="probability that an attempt is throttled (e.g. 0.1)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per call")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes for our run (default: as `collect` chooses them)")
    parser.add_argument("--single", action="store_true",
                        help="also run ours in one process, right before, for an A/B")
    args = parser.parse_args(argv)
    scale = 0.1 if args.quick else 1.0
    spec = SyntheticSpec(seed=args.seed, latency=args.latency, throttle=args.throttle,
                         ecs_services=int(FULL["ecs_services"] * scale),
                         rds_instances=int(FULL["rds_instances"] * scale),
                         buckets=int(FULL["buckets"] * scale))
    fake = SyntheticAws(spec)
    config = Config.model_validate({"aws": {"regions": list(spec.regions),
                                            "accounts": list(spec.accounts),
                                            "role_name": "RightsizerReadOnly"}})
    print(f"machine: {default_workers()} cores; synthetic organization: {len(spec.accounts)} "
          f"accounts x {len(spec.regions)} regions,"
          f" {spec.ecs_services} ECS services, {spec.rds_instances} RDS instances, "
          f"{spec.buckets} buckets; latency {spec.latency * 1000:.0f} ms/call, throttle "
          f"{spec.throttle:.0%}", flush=True)
    with fake.installed():
        single = None
        if args.single and args.workers != 1:
            with tempfile.TemporaryDirectory() as cache_dir:
                single = run_rightsizer(fake, config, Path(cache_dir), workers=1)
            print(f"one process: wall {single['wall']:.1f} s, CPU {single['cpu']:.1f} s, "
                  f"peak RSS {single['rss']:.0f} MiB", flush=True)
            single.pop("snapshot")
        with tempfile.TemporaryDirectory() as cache_dir:
            ours = run_rightsizer(fake, config, Path(cache_dir), workers=args.workers)
            snapshot: Snapshot = ours["snapshot"]
            second = run_rightsizer(fake, config, Path(cache_dir), workers=args.workers) \
                if args.quick else None
        theirs = None if args.skip_baseline else run_per_resource(fake, config, snapshot)
    report(ours, theirs, second, snapshot, config, single)


def report(ours: dict[str, Any], theirs: dict[str, Any] | None, second: dict[str, Any] | None,
           snapshot: Snapshot, config: Config, single: dict[str, Any] | None = None) -> None:
    inventory = {name: len(snapshot.table(name)) for name in
                 ("ecs_services", "rds_instances", "s3_buckets", "elasticache_clusters")}
    print(f"\ncollected: {inventory}, {len(snapshot.table('metrics')):,} datapoints, "
          f"{len(snapshot.table('errors'))} error rows")
    print("\nrightsizer API calls by operation (answered calls; retries not counted):")
    for name, count in sorted(ours["calls"].items()):
        print(f"  {name:55s} {count:7,d}")
    print(f"  {'total':55s} {sum(ours['calls'].values()):7,d}   (attempts incl. retries: "
          f"{sum(ours['attempts'].values()):,}, throttled: {ours['throttled']:,})")
    metric_calls = ours["calls"].get("cloudwatch:GetMetricData", 0)
    per_query_min, bound = minimum_metric_calls(snapshot, config)
    print(f"\nGetMetricData: {metric_calls} calls for {ours['metric_queries']:,} queries; "
          f"minimum {per_query_min} (ceil(queries/500) per account-region and time slice) -> "
          f"{metric_calls / per_query_min:.2f}x; datapoint bound {bound} -> "
          f"{metric_calls / bound:.2f}x")
    children = (f" + largest worker {ours['child_rss']:.0f} MiB (x{ours['workers']} at most)"
                if ours["workers"] > 1 else "")
    print(f"rightsizer ({ours['workers']} process{'es' if ours['workers'] > 1 else ''}): "
          f"wall {ours['wall']:.1f} s, CPU {ours['cpu']:.1f} s, peak RSS {ours['rss']:.0f} MiB"
          f"{children}, API bill "
          f"${ours['bill']:.3f} (GetMetricData ${ours['metric_queries'] / 1e5:.3f} + "
          f"{ours['ce_calls']} Cost Explorer requests ${ours['ce_calls'] * 0.01:.2f})")
    if second is not None:
        print(f"second run (warm Cost Explorer cache): {second['ce_calls']} CE calls, wall "
              f"{second['wall']:.1f} s, bill ${second['bill']:.3f}")
    if theirs is not None:
        print(f"\nper-resource collector (GetMetricStatistics, {BASELINE_WORKERS} workers, "
              f"metric phase only): {theirs['requests']:,} requests, "
              f"{theirs['datapoints']:,} Datapoints (each with every stat), "
              f"wall {theirs['wall']:.1f} s, API bill ${theirs['bill']:.3f}")
        print(f"ratios: rightsizer whole run is {theirs['wall'] / ours['wall']:.1f}x faster "
              f"than the per-resource metric phase; {theirs['requests'] / metric_calls:.0f}x "
              f"fewer metric calls; bill ratio {ours['bill'] / theirs['bill']:.2f}")
        print(f"peak RSS of the process after both: {theirs['rss']:.0f} MiB")
        if single is not None:
            print(f"one process instead: {theirs['wall'] / single['wall']:.1f}x "
                  f"({single['wall']:.1f} s); {ours['workers']} processes: "
                  f"{single['wall'] / ours['wall']:.2f}x the one-process run")
