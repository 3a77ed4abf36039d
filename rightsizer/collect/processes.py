"""Every core on one machine: the accounts of a run collected in worker processes and merged
in memory.

Collection is CPU-bound in botocore (serialising, signing, parsing: docs/benchmarks.md) and one
interpreter runs one core at a time, so threads alone cannot use a second core. The process
that starts the run resolves the caller and the account ids once, forks `workers` processes
(fork: each inherits the session, the config and any in-process fake of AWS as they are), and
gives each one group of the accounts, dealt in turn. A worker collects its group at once, on
its thread pools, as one process collects all of them: its accounts' waits on AWS overlap (one
account after another would add them up). Each returns its group's snapshot; the tables are
concatenated in group order. Cost
Explorer, when the caller asks it for every account, is asked once here after the merge, so
splitting a run into processes adds no $0.01 request.
"""

from __future__ import annotations

import gc
import logging
import math
import multiprocessing
import os
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pandas as pd

from rightsizer.aws.clients import ROLE, AwsClients, CallRecorder
from rightsizer.collect.collectors import costs, savings_plans
from rightsizer.collect.collectors.base import AWS_FAILURES, GLOBAL_REGION, ErrorLog, Target
from rightsizer.collect.engine import (
    Progress,
    _costs_job,
    _reservation_insights_job,
    assume_role_session,
    collect_accounts,
    cost_explorer_from_caller,
    current_account,
    resolved_regions,
    wanted_accounts,
)
from rightsizer.collect.shards import Shard
from rightsizer.config import Config
from rightsizer.errors import RightsizerError
from rightsizer.snapshot.store import TABLE_COLUMNS, Snapshot, empty_table, merge_snapshots

log = logging.getLogger("rightsizer")


CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def default_workers(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """The cores this process may use: its CPU set, and no more than a container's CPU quota
    (cgroup v2 cpu.max, "QUOTA PERIOD" or "max PERIOD": a Kubernetes CPU limit or an ECS task's
    vCPUs), which the CPU set does not show."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass  # no cgroup v2 here, or no limit
    return max(1, cores)


def auto_workers() -> int:
    """Processes when none are asked for: twice the cores (one per account, when fewer).
    A worker's group of accounts is not split further, and accounts seldom divide evenly over
    the cores: 3 accounts on 2 cores as groups of 2 and 1 leave one core idle half the run,
    while 3 processes share the 2 cores to the end (docs/benchmarks.md: 16.8 s against
    11.2 s). With more accounts than processes, the largest group is then at most one account
    above the others on half a core."""
    return 2 * default_workers()


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


@dataclass
class _Run:
    """What every worker inherits through fork (sessions and fakes do not pickle)."""

    config: Config
    session: boto3.Session
    now: datetime
    recorder: CallRecorder
    demo: bool
    cost_cache: costs.MonthlyCache
    home: str


_INHERITED: dict[str, _Run] = {}


@dataclass
class _Counts:
    calls: Counter[str]
    by_principal: dict[str, Counter[str]]
    metric_queries: int
    assumed_role_arns: list[str]

    @classmethod
    def of(cls, recorder: CallRecorder) -> _Counts:
        return cls(Counter(recorder.calls),
                   {name: Counter(counts) for name, counts in recorder.by_principal.items()},
                   recorder.metric_queries, list(recorder.assumed_role_arns))

    def since(self, before: _Counts) -> _Counts:
        return _Counts(self.calls - before.calls,
                       {name: counts - before.by_principal.get(name, Counter())
                        for name, counts in self.by_principal.items()},
                       self.metric_queries - before.metric_queries,
                       self.assumed_role_arns[len(before.assumed_role_arns):])

    def add_to(self, recorder: CallRecorder) -> None:
        recorder.calls.update(self.calls)
        for name, counts in self.by_principal.items():
            recorder.by_principal.setdefault(name, Counter()).update(counts)
        recorder.metric_queries += self.metric_queries
        recorder.assumed_role_arns.extend(self.assumed_role_arns)


def account_groups(account_ids: list[str], groups: int) -> list[list[str]]:
    """The accounts dealt into `groups` groups in turn (sizes differ by one at most)."""
    return [account_ids[start::groups] for start in range(groups)]


def _collect_group(account_ids: list[str]) -> tuple[Snapshot, _Counts]:
    """In a worker: one group of accounts, with the recorder it inherited (and its calls
    since then)."""
    run = _INHERITED["run"]
    before = _Counts.of(run.recorder)
    snapshot = collect_accounts(run.config, run.session, now=run.now, recorder=run.recorder,
                                demo=run.demo, cost_cache=run.cost_cache,
                                known=(run.home, account_ids), caller_costs=False)
    return snapshot, _Counts.of(run.recorder).since(before)


def collect_in_processes(config: Config, session: boto3.Session, *, now: datetime,
                         recorder: CallRecorder, demo: bool,
                         account_filter: set[str] | None, progress: bool,
                         cost_cache: costs.MonthlyCache, workers: int | None,
                         shard: Shard | None = None) -> Snapshot:
    started = time.monotonic()
    errors = ErrorLog()
    base = AwsClients(session, max_attempts=config.aws.max_attempts)
    regions = resolved_regions(config, base)
    if config.aws.regions == "all":  # listed once here, not again in every worker
        config = config.with_overrides(**{"aws.regions": regions})
    home = current_account(base, regions[0])
    wanted = wanted_accounts(config, base, errors, home, account_filter, shard)
    workers = min(workers or auto_workers(), len(wanted))
    if workers <= 1 or not can_fork():
        snapshot = collect_accounts(config, session, now=now, recorder=recorder, demo=demo,
                                    cost_cache=cost_cache, progress=progress,
                                    known=(home, wanted))
        _prepend_errors(snapshot, errors.rows)
        return snapshot

    log.info("collecting %d accounts in %d processes", len(wanted), workers)
    _INHERITED["run"] = _Run(config, session, now, recorder, demo, cost_cache, home)
    bar = Progress(progress)
    parts: list[Snapshot] = []
    # the parent's objects out of the collector's reach: a child's collection would otherwise
    # touch every inherited page and copy them (https://docs.python.org/3/library/gc.html#gc.freeze)
    gc.freeze()
    try:
        # a worker killed (out of memory) fails the run instead of leaving it waiting
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            groups = account_groups(wanted, workers)
            # every worker is forked here, before the progress bar starts its thread: a child
            # holds no lock of a thread it does not have
            results = pool.map(_collect_group, groups)
            with bar.running():
                bar.add(len(groups))
                for snapshot, counts in results:
                    counts.add_to(recorder)
                    parts.append(snapshot)
                    bar.done(f"{len(snapshot.manifest['accounts_planned'])} accounts")
    except BrokenProcessPool:
        raise RightsizerError(f"a worker process of the {workers} collecting the accounts "
                              "stopped (out of memory?): run with fewer --workers, or give "
                              "it more memory") from None
    finally:
        gc.unfreeze()
        _INHERITED.clear()
    merged = merge_snapshots(parts)
    merged.manifest.pop("shards", None)
    merged.manifest["accounts_planned"] = list(wanted)
    merged.manifest["workers"] = workers
    if cost_explorer_from_caller(config) and merged.manifest["accounts"]:
        _caller_cost_explorer(merged, config, base, Target(home, regions[0], base), errors,
                              recorder, now, cost_cache)
    _prepend_errors(merged, errors.rows)
    merged.manifest["api_calls"] = dict(sorted(recorder.calls.items()))
    merged.manifest["metric_queries"] = recorder.metric_queries
    merged.manifest["errors"] = len(merged.table("errors"))
    merged.manifest["duration_seconds"] = round(time.monotonic() - started, 2)
    return merged


def _prepend_errors(snapshot: Snapshot, rows: list[dict[str, Any]]) -> None:
    if rows:
        snapshot.tables["errors"] = pd.concat(
            [pd.DataFrame(rows, columns=TABLE_COLUMNS["errors"]), snapshot.table("errors")],
            ignore_index=True)
        snapshot.manifest["errors"] = len(snapshot.tables["errors"])


def _caller_cost_explorer(snapshot: Snapshot, config: Config, base: AwsClients,
                          caller: Target, errors: ErrorLog, recorder: CallRecorder,
                          now: datetime, cache: costs.MonthlyCache) -> None:
    """The caller's Cost Explorer reads for every merged account, as one process asks them
    (collect_accounts): costs and usage grouped by linked account, the reservation reads the
    merged inventory calls for, the Savings Plans reads, and accounts the caller's answer does
    not show asked directly."""
    collected = set(snapshot.manifest["accounts"])
    tables = {name: snapshot.table(name)[["account"]].to_dict("records")
              for name in ("rds_instances", "elasticache_clusters", "rds_reservations",
                           "elasticache_reservations")}
    today = now.date()
    cost_rows = _costs_job(caller, errors, today, cache, collected)[2]()
    insight_rows = _reservation_insights_job(caller, errors, today, cache, tables, collected)()
    usage_rows = costs.collect_usage(caller, errors, today, cache=cache,
                                     linked_accounts=collected)
    savings_plan_rows = savings_plans.collect_savings_plans(
        caller, errors, now, list(snapshot.manifest["regions"]), cache=cache)
    costed = {row["account"] for row in cost_rows}
    for account_id in sorted(collected - costed):
        try:
            assumed = assume_role_session(base, account_id, config, caller.region)
        except AWS_FAILURES as exc:
            errors.add_exception(account_id, GLOBAL_REGION, "sts", "AssumeRole", exc)
            continue
        recorder.attach(assumed, ROLE)
        clients = AwsClients(assumed, max_attempts=config.aws.max_attempts)
        cost_rows += _costs_job(Target(account_id, caller.region, clients), errors, today,
                                cache)[2]()
    for name, rows in (("costs", cost_rows), ("ce_insights", insight_rows),
                       ("ce_usage", usage_rows), ("sp_insights", savings_plan_rows)):
        if rows:
            frame = pd.DataFrame(rows, columns=TABLE_COLUMNS[name])
            current = snapshot.table(name)
            snapshot.tables[name] = frame if current.empty else pd.concat(
                [current, frame], ignore_index=True)
        elif name not in snapshot.tables:
            snapshot.tables[name] = empty_table(name)
