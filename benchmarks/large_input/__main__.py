"""`python -m benchmarks.large_input [--resources N] [--days D]`: see docs/benchmarks.md.

Builds a synthetic Snapshot in memory (no AWS, no collection) and times `run_rules`, the
report/context build and each renderer separately; prints a table and the peak RSS. The
cyclic GC is paused as the product pauses it: once over rules + report + context
(`analysis.analyze`) and once over the renderers (`outputs.write_outputs`); `--no-gc-pause`
runs it all with the collector on, to see what the pauses are worth.

The mix (for the default 100,000 resources): 20% ECS services, 5% RDS instances, 5% ElastiCache
clusters, 30% S3 buckets, 40% CloudWatch log groups. Metrics are hourly for the lookback window
(default 3 days = 72 points; 14 days of hourly points for 20,000 services alone would be
27M rows), exactly the series collection fetches: ECS CPU and memory Maximum, RDS CPU Maximum,
FreeableMemory Minimum and DatabaseConnections Maximum, ElastiCache CPU Maximum, and S3 size
and object count once a day for the buckets without a tiering rule. Log groups need no
metrics.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import resource
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from rightsizer.config import Config
from rightsizer.outputs.csv_report import render_csv
from rightsizer.outputs.html import render_html
from rightsizer.outputs.json_report import render_json
from rightsizer.outputs.markdown import render_markdown
from rightsizer.report.build import build_context, build_report, run_rules
from rightsizer.report.gc_pause import gc_paused
from rightsizer.report.model import Report
from rightsizer.snapshot.store import TABLE_COLUMNS, Snapshot

END = datetime(2026, 11, 1, tzinfo=UTC)
ACCOUNTS = ("111111111111", "222222222222", "333333333333", "444444444444")
REGIONS = ("ap-south-1", "us-east-1")
SIZES = ((256, 512), (512, 1024), (1024, 2048), (2048, 4096), (4096, 8192))
DB_CLASSES = ("db.t3.micro", "db.t3.medium", "db.m6g.large", "db.r6g.large")
MIX = {"ecs": 0.20, "rds": 0.05, "cache": 0.05, "s3": 0.30, "logs": 0.40}


def _places(count: int) -> tuple[list[str], list[str]]:
    accounts = [ACCOUNTS[i % len(ACCOUNTS)] for i in range(count)]
    regions = [REGIONS[(i // len(ACCOUNTS)) % len(REGIONS)] for i in range(count)]
    return accounts, regions


def _metric_rows(accounts: list[str], regions: list[str], namespace: str, keys: list[str],
                 metric: str, stat: str, levels: np.ndarray, stamps: pd.DatetimeIndex,
                 rng: np.random.Generator) -> pd.DataFrame:
    """One series per key: level x (a daily cycle + noise), built column-wise."""
    points = len(stamps)
    hours = np.asarray(stamps.hour)
    shape = 1 + 0.3 * np.sin(hours * (2 * np.pi / 24))
    values = np.outer(levels, shape) * rng.uniform(0.9, 1.1, (len(keys), points))
    return pd.DataFrame({
        "account": np.repeat(accounts, points), "region": np.repeat(regions, points),
        "namespace": namespace, "metric": metric, "resource": np.repeat(keys, points),
        "stat": stat, "timestamp": np.tile(stamps.to_numpy(), len(keys)),
        "value": values.ravel().round(3),
    })


def build_snapshot(total: int, days: int, seed: int = 7) -> Snapshot:
    rng = np.random.default_rng(seed)
    start = END - timedelta(days=days)
    hourly = pd.date_range(start, END, freq="h", inclusive="left")
    daily = pd.date_range(start, END, freq="D", inclusive="left")
    counts = {kind: int(total * share) for kind, share in MIX.items()}
    counts["logs"] += total - sum(counts.values())
    tables: dict[str, pd.DataFrame] = {}
    metrics: list[pd.DataFrame] = []

    n = counts["ecs"]
    accounts, regions = _places(n)
    clusters = [f"cluster-{i // 200:03d}" for i in range(n)]
    names = [f"svc-{i:06d}" for i in range(n)]
    sizes = [SIZES[i % len(SIZES)] for i in range(n)]
    tables["ecs_services"] = pd.DataFrame({
        "account": accounts, "region": regions, "cluster": clusters, "service": names,
        "service_arn": [f"arn:aws:ecs:{r}:{a}:service/{c}/{s}"
                        for a, r, c, s in zip(accounts, regions, clusters, names, strict=True)],
        "task_definition": [f"arn:aws:ecs:{r}:{a}:task-definition/{s}:1"
                            for a, r, s in zip(accounts, regions, names, strict=True)],
        "cpu_units": [str(c) for c, _ in sizes], "memory_mib": [str(m) for _, m in sizes],
        "launch_type": ["" if i % 3 == 0 else "FARGATE" for i in range(n)],
        "capacity_provider_strategy": [json.dumps([{"capacityProvider": "FARGATE_SPOT",
                                                    "weight": 1}]) if i % 3 == 0 else "[]"
                                       for i in range(n)],
        "cluster_default_strategy": "[]",
        "load_balancer_count": [i % 2 for i in range(n)],
        "desired_count": [1 + i % 4 for i in range(n)],
        "running_count": [1 + i % 4 for i in range(n)],
        "tags": [json.dumps({"team": f"team-{i % 9}"}) for i in range(n)],
        "created_at": "2025-01-01 00:00:00+00:00", "container_insights": False,
    })
    keys = [f"{c}/{s}" for c, s in zip(clusters, names, strict=True)]
    for metric in ("CPUUtilization", "MemoryUtilization"):
        levels = rng.uniform(3, 85, n)
        metrics.append(_metric_rows(accounts, regions, "AWS/ECS", keys, metric, "Maximum",
                                    levels, hourly, rng))

    n = counts["rds"]
    accounts, regions = _places(n)
    ids = [f"db-{i:06d}" for i in range(n)]
    tables["rds_instances"] = pd.DataFrame({
        "account": accounts, "region": regions, "db_instance_id": ids,
        "arn": [f"arn:aws:rds:{r}:{a}:db:{d}" for a, r, d in zip(accounts, regions, ids,
                                                                  strict=True)],
        "instance_class": [DB_CLASSES[i % len(DB_CLASSES)] for i in range(n)],
        "engine": "postgres", "engine_version": "16.3",
        "multi_az": [i % 4 == 0 for i in range(n)], "status": "available",
        "read_replica_source": "", "storage_type": ["gp2" if i % 2 else "gp3" for i in range(n)],
        "allocated_storage_gb": [20 + i % 200 for i in range(n)],
        "created_at": "2024-06-01 00:00:00+00:00", "tags": "{}",
    })
    cpu = rng.uniform(2, 90, n)
    for metric, stat, levels in (("CPUUtilization", "Maximum", cpu),
                                 ("FreeableMemory", "Minimum", rng.uniform(1e8, 8e9, n)),
                                 ("DatabaseConnections", "Maximum", rng.uniform(0, 200, n))):
        metrics.append(_metric_rows(accounts, regions, "AWS/RDS", ids, metric, stat, levels,
                                    hourly, rng))

    n = counts["cache"]
    accounts, regions = _places(n)
    ids = [f"cache-{i:06d}" for i in range(n)]
    tables["elasticache_clusters"] = pd.DataFrame({
        "account": accounts, "region": regions, "cluster_id": ids,
        "arn": [f"arn:aws:elasticache:{r}:{a}:cluster:{c}"
                for a, r, c in zip(accounts, regions, ids, strict=True)],
        "node_type": "cache.t4g.small", "engine": "redis", "num_nodes": 1,
        "status": "available", "created_at": "2024-03-01 00:00:00+00:00", "tags": "{}",
    })
    metrics.append(_metric_rows(accounts, regions, "AWS/ElastiCache", ids, "CPUUtilization",
                                "Maximum", rng.uniform(2, 60, n), hourly, rng))

    n = counts["s3"]
    accounts, regions = _places(n)
    names = [f"bucket-{i:06d}" for i in range(n)]
    rule = json.dumps([{"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": ""},
                        "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}]}])
    tables["s3_buckets"] = pd.DataFrame({
        "account": accounts, "region": regions, "bucket": names,
        "arn": [f"arn:aws:s3:::{b}" for b in names], "created_at": "2023-01-01 00:00:00+00:00",
        "lifecycle_state": ["present" if i % 3 == 0 else "absent" for i in range(n)],
        "lifecycle_rules": [rule if i % 3 == 0 else "[]" for i in range(n)], "tags": "{}",
    })
    size = rng.lognormal(23, 2, n)  # median ~10 GB, a long tail of large buckets
    untiered = [i for i in range(n) if i % 3]  # collection sizes only these
    def at(values: list[str]) -> list[str]:
        return [values[i] for i in untiered]
    metrics.append(_metric_rows(at(accounts), at(regions), "AWS/S3",
                                [f"{names[i]}/StandardStorage" for i in untiered],
                                "BucketSizeBytes", "Average", size[untiered], daily, rng))
    metrics.append(_metric_rows(at(accounts), at(regions), "AWS/S3",
                                [f"{names[i]}/AllStorageTypes" for i in untiered],
                                "NumberOfObjects", "Average", size[untiered] / 2e5, daily, rng))

    n = counts["logs"]
    accounts, regions = _places(n)
    names = [f"/ecs/app-{i:06d}" for i in range(n)]
    tables["log_groups"] = pd.DataFrame({
        "account": accounts, "region": regions, "log_group": names,
        "arn": [f"arn:aws:logs:{r}:{a}:log-group:{g}:*"
                for a, r, g in zip(accounts, regions, names, strict=True)],
        "retention_days": [30 if i % 2 else 0 for i in range(n)],
        "stored_bytes": rng.integers(1e6, 5e11, n), "created_at": "2024-01-01",
        "log_group_class": "STANDARD",
    })
    tables["metrics"] = pd.concat(metrics, ignore_index=True)[TABLE_COLUMNS["metrics"]]
    tables["costs"] = pd.DataFrame({"account": ACCOUNTS[0], "month": ["2026-09", "2026-10"],
                                    "service": "Amazon Elastic Container Service",
                                    "amount_usd": [1234.5, 1301.2], "estimated": False})
    manifest = {
        "tool_version": "benchmark", "generated_at": END.isoformat().replace("+00:00", "Z"),
        "window": {"start": start.isoformat(), "end": END.isoformat(), "days": days},
        "period_seconds": 3600, "accounts": list(ACCOUNTS), "regions": list(REGIONS),
        "demo": False, "resources_collected": total, "api_calls": {}, "metric_queries": 0,
        "duration_seconds": 0, "errors": 0,
    }
    return Snapshot(manifest=manifest, tables=tables)


def reference_loop_seconds() -> float:
    """A fixed pure-Python loop: how fast this machine is right now, printed beside the figures
    (on a shared VM the same code runs slower at some times than at others)."""
    begin = time.perf_counter()
    sum(i * i for i in range(10_000_000))
    return time.perf_counter() - begin


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _one_run(snapshot: Snapshot, config: Config, gc_pause: bool = True
             ) -> list[tuple[str, float, str]]:
    """Rules, report and every renderer once, each timed; the GC paused per stage as
    analysis.analyze and outputs.write_outputs pause it (or not at all)."""
    pause = gc_paused if gc_pause else contextlib.nullcontext
    timings: list[tuple[str, float, str]] = []

    def timed(name: str, fn: Any, note: Any = "") -> Any:
        begin = time.perf_counter()
        result = fn()
        timings.append((name, time.perf_counter() - begin, note(result) if callable(note)
                        else note))
        return result

    with pause():  # analysis.analyze
        findings, skipped = timed("rules (run_rules)",
                                  lambda: run_rules(snapshot, config, END.date()))
        timings[-1] = (*timings[-1][:2], f"{len(findings):,} findings, {len(skipped):,} skipped")
        report = timed("report + context", lambda: build_report(snapshot, findings, skipped))
        context = timed("", lambda: build_context(snapshot, findings))
        timings[-2:] = [("report + context", timings[-2][1] + timings[-1][1], "")]
        model = timed("report model (Report.from_build)", lambda: Report.from_build(report))
    with pause():  # outputs.write_outputs
        for name, render in (("json", lambda: render_json(model)),
                             ("html", lambda: render_html(model, context)),
                             ("csv", lambda: render_csv(model)),
                             ("md", lambda: render_markdown(model))):
            timed(f"render {name}", render, lambda text: f"{len(text) / 1e6:,.1f} MB")
    return timings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.large_input")
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of rules + outputs; the fastest is reported (a shared VM's "
                        "neighbours only ever add time)")
    parser.add_argument("--no-gc-pause", dest="gc_pause", action="store_false",
                        help="keep the cyclic GC on throughout (the product pauses it)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    snapshot = build_snapshot(args.resources, args.days)
    build_seconds = time.perf_counter() - started
    config = Config.model_validate({"analysis": {"lookback_days": args.days}})
    gc.collect()

    reference = [reference_loop_seconds()]
    runs = []
    for _ in range(max(1, args.repeat)):
        # a fresh Snapshot over the same tables: no index or statistics cached by a run before
        fresh = Snapshot(manifest=snapshot.manifest, tables=snapshot.tables)
        runs.append(_one_run(fresh, config, args.gc_pause))
        gc.collect()
    reference.append(reference_loop_seconds())
    timings = min(runs, key=lambda run: sum(seconds for _, seconds, _ in run))
    total = sum(seconds for _, seconds, _ in timings)
    totals = ", ".join(f"{sum(seconds for _, seconds, _ in run):.2f}" for run in runs)

    metric_rows = len(snapshot.table("metrics"))
    print(f"{args.resources:,} resources, {metric_rows:,} metric rows, {args.days}-day "
          f"hourly window; snapshot built in {build_seconds:.1f} s (not counted); GC "
          f"{'paused per stage' if args.gc_pause else 'on throughout'}\n")
    print("| step | seconds | note |\n|---|---:|---|")
    for name, seconds, note in timings:
        print(f"| {name} | {seconds:.2f} | {note} |")
    print(f"| **total (rules + outputs)** | **{total:.2f}** | fastest of {len(runs)}: {totals} |")
    print(f"\npeak RSS: {peak_rss_mib():,.0f} MiB (whole process, snapshot included)")
    print(f"reference loop (10M squares, pure Python): {reference[0]:.2f} s before, "
          f"{reference[1]:.2f} s after (docs/benchmarks.md has the figure at a quiet moment)")


if __name__ == "__main__":
    main()
