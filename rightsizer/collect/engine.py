"""Collection: every collector for every account x region, on a bounded thread pool, into one
Snapshot. A failure anywhere becomes an error row; the rest of the run goes on."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import boto3
import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from rightsizer import __version__
from rightsizer.aws.clients import ROLE, AwsClients, CallRecorder, caller_identity_failure
from rightsizer.collect import registry
from rightsizer.collect.collectors import cloudwatch, costs, savings_plans
from rightsizer.collect.collectors.base import (
    AWS_FAILURES,
    GLOBAL_REGION,
    ErrorLog,
    Target,
    describe_exception,
)
from rightsizer.collect.shards import Shard
from rightsizer.collect.spec import RunContext
from rightsizer.config import Config
from rightsizer.errors import RightsizerError
from rightsizer.rules.base import MetricNeed
from rightsizer.rules.registry import REGISTRY
from rightsizer.rules.support import sizing_history
from rightsizer.snapshot.store import TABLE_COLUMNS, Snapshot

log = logging.getLogger("rightsizer")



@dataclass(frozen=True)
class InventoryRead:
    """A read that says whether an account (or region) has resources of a kind at all."""

    service: str
    operation: str
    table: str
    resource_type: str
    label: str
    per_region: bool = True  # False: one call per account (S3 lists every bucket at once)


def inventory_reads() -> tuple[InventoryRead, ...]:
    """The reads that matter, from the collectors' specs: an account in which every one of
    them failed could not be read (exit 2); one in which they answered and found nothing is
    an empty account, which is an answer (exit 0, a report that says so).
    sts:GetCallerIdentity comes first of all and ends the run itself when it fails
    (current_account). Everything else (reservations, autoscaling, tags, lifecycle, Cost
    Explorer, metrics) only adds detail to resources these find."""
    reads = []
    for spec in registry.inventory_specs():
        inventory = spec.inventory
        assert inventory is not None
        service, operation = inventory.listing.split(":", 1)
        reads.append(InventoryRead(service, operation, spec.table, inventory.resource_type,
                                   inventory.label, per_region=spec.scope == "region"))
    return tuple(reads)


ROLE_SESSION_NAME = "rightsizer"
# Threads for per-resource calls (a bucket's lifecycle and tags, a task definition): small
# GETs whose quotas are far above this (S3: thousands a second per prefix), and adaptive
# retries slow down if one is hit. 5,000 buckets x 2 calls x 50 ms is 8 s on 64 threads, 62 s
# on the 8 of the job pool.
FANOUT_WORKERS = 64


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


@dataclass(frozen=True)
class Account:
    account_id: str
    clients: AwsClients


# --- accounts --------------------------------------------------------------------------------

def current_account(clients: AwsClients, region: str) -> str:
    try:
        return str(clients.client("sts", region).get_caller_identity()["Account"])
    except AWS_FAILURES as exc:
        # absent or rejected credentials, or no network: each says so in one line
        raise caller_identity_failure(exc) from None


def organization_accounts(clients: AwsClients, errors: ErrorLog, home: str) -> list[str]:
    accounts: list[str] = []
    try:
        paginator = clients.client("organizations", "us-east-1").get_paginator("list_accounts")
        for page in paginator.paginate():
            for account in page.get("Accounts", []):
                if (account.get("State") or account.get("Status")) == "ACTIVE":
                    accounts.append(str(account["Id"]))
    except AWS_FAILURES as exc:
        errors.add_exception(home, GLOBAL_REGION, "organizations", "ListAccounts", exc)
    return sorted(accounts)


def assume_role_session(clients: AwsClients, account_id: str, config: Config,
                        region: str) -> boto3.Session:
    partition = "aws-cn" if region.startswith("cn-") else (
        "aws-us-gov" if region.startswith("us-gov-") else "aws")
    kwargs: dict[str, Any] = {
        "RoleArn": f"arn:{partition}:iam::{account_id}:role/{config.aws.role_name}",
        "RoleSessionName": ROLE_SESSION_NAME,
        "DurationSeconds": 3600,
    }
    if config.aws.external_id:
        kwargs["ExternalId"] = config.aws.external_id
    credentials = clients.client("sts", region).assume_role(**kwargs)["Credentials"]
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"], region_name=region)


def wanted_accounts(config: Config, base: AwsClients, errors: ErrorLog, home: str,
                    account_filter: set[str] | None, shard: Shard | None = None) -> list[str]:
    """The ids of the accounts to collect: [aws] accounts, the organization's, or the
    caller's own; only those in `account_filter` when it is given, and only `shard`'s share
    (collect/shards.py)."""
    wanted = list(config.aws.accounts)
    if config.aws.organization:
        wanted = sorted(set(wanted) | set(organization_accounts(base, errors, home)))
    if not wanted:
        wanted = [home]
    if account_filter is not None:
        wanted = [account for account in wanted if account in account_filter]
    if shard is not None:
        wanted = shard.select(wanted)
    return wanted


def resolve_accounts(config: Config, session: boto3.Session, recorder: CallRecorder,
                     errors: ErrorLog, home_region: str,
                     account_filter: set[str] | None,
                     known: tuple[str, list[str]] | None = None,
                     shard: Shard | None = None) -> tuple[Account, list[str], list[Account]]:
    """The caller's own account, the ids of the accounts to collect, and those whose
    credentials could be had (`known`: the caller's id and the account ids, already resolved
    by the process that handed this one its group)."""
    base = AwsClients(session, max_attempts=config.aws.max_attempts)
    if known is None:
        home = current_account(base, home_region)
        wanted = wanted_accounts(config, base, errors, home, account_filter, shard)
    else:
        home, wanted = known
    accounts: list[Account] = []
    for account_id in wanted:
        if account_id == home and not config.aws.accounts and not config.aws.organization:
            accounts.append(Account(home, base))
            continue
        try:
            assumed = assume_role_session(base, account_id, config, home_region)
        except AWS_FAILURES as exc:  # one member account's failure must not end the run
            errors.add_exception(account_id, GLOBAL_REGION, "sts", "AssumeRole", exc)
            continue
        recorder.attach(assumed, ROLE)
        accounts.append(Account(account_id, AwsClients(assumed,
                                                       max_attempts=config.aws.max_attempts)))
    return Account(home, base), wanted, accounts


def cost_explorer_from_caller(config: Config) -> bool:
    """Whether Cost Explorer is asked once by the caller rather than in every account."""
    if config.aws.cost_explorer == "auto":
        return bool(config.aws.accounts or config.aws.organization)
    return config.aws.cost_explorer == "caller"


def resolved_regions(config: Config, clients: AwsClients) -> list[str]:
    regions = config.aws.resolved_regions(clients.session)
    if regions != "all":
        return list(regions)
    try:
        response = clients.client("ec2", "us-east-1").describe_regions(AllRegions=False)
    except (ClientError, BotoCoreError) as exc:
        code, message = describe_exception(exc)
        raise RightsizerError(f"cannot list regions for regions = \"all\" ({code}): "
                              f"{message}") from None
    return sorted(region["RegionName"] for region in response["Regions"])


# --- metric planning -------------------------------------------------------------------------

def metric_needs(config: Config) -> list[MetricNeed]:
    """The series the enabled rules read, and nothing else: every series is billed."""
    needs = []
    for rule_id in config.enabled_rules():
        settings = config.rule_settings(rule_id)
        needs += [need for need in REGISTRY[rule_id].metric_needs
                  if need.setting is None or getattr(settings, need.setting)]
    return list(dict.fromkeys(needs))


def _metric_region(row: dict[str, Any]) -> Any:
    """Where a resource's series live: its own region, or metric_region for a global
    resource (CloudFront, Route 53: us-east-1)."""
    return row.get("metric_region") or row.get("region")


def metric_regions(regions: list[str], tables: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The run's regions, then any other region a global resource's series live in (only
    rows that name a metric_region: a bucket elsewhere stays out, as before)."""
    extra = {str(row["metric_region"]) for rows in tables.values() for row in rows
             if row.get("metric_region")} - set(regions)
    return [*regions, *sorted(extra)]


def plan_metric_queries(needs: list[MetricNeed], tables: dict[str, list[dict[str, Any]]],
                        period_seconds: int) -> list[cloudwatch.MetricQuery]:
    queries: dict[cloudwatch.MetricQuery, None] = {}
    for need in needs:
        table, resource = registry.metric_resource(need.resource_kind)
        for row in tables.get(table, []):
            if resource.applies is not None and not resource.applies(row):
                continue
            if not need.wanted_for(row):
                continue
            dimensions, key = resource.dimensions(need.metric, row)
            period = cloudwatch.DAY_SECONDS if need.daily or need.year_ago else period_seconds
            for stat in need.stats:
                queries[cloudwatch.MetricQuery(need.namespace, need.metric, dimensions, stat,
                                               period, key, need.year_ago,
                                               need.history and not need.year_ago)] = None
    # a series one rule reads over the window and another over the history is asked for once
    # (every query is billed): the history query holds the window too
    longer = {replace(query, history=False) for query in queries if query.history}
    return [query for query in queries if query.history or query not in longer]


# --- progress --------------------------------------------------------------------------------

class Progress:
    """A rich progress bar on stderr, only when stderr is a terminal and not --quiet."""

    def __init__(self, enabled: bool) -> None:
        self._bar = None
        self._task = None
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(),
                                     MofNCompleteColumn(), console=Console(stderr=True),
                                     transient=True)

    @contextmanager
    def running(self) -> Iterator[Progress]:
        if self._bar is None:
            yield self
            return
        with self._bar:
            self._task = self._bar.add_task("collecting", total=0)
            yield self

    def add(self, count: int) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, total=(self._bar.tasks[0].total or 0) + count)

    def done(self, description: str) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=1, description=description)


# --- the run ---------------------------------------------------------------------------------

Job = Callable[[], list[dict[str, Any]]]


def _collector_jobs(target: Target, errors: ErrorLog, run: RunContext,
                    scope: str) -> list[tuple[str, str, Job]]:
    """One job for each collector of `scope` ("region" or "account") at `target`."""
    return [(spec.table, spec.label, partial(spec.collect, target, errors, run))
            for spec in registry.specs() if spec.collect is not None and spec.scope == scope]


def _costs_job(target: Target, errors: ErrorLog, today: date, cache: costs.MonthlyCache,
               linked_accounts: set[str] | None = None) -> tuple[str, str, Job]:
    return ("costs", "cost explorer",
            lambda: costs.collect_costs(target, errors, today, cache=cache,
                                        linked_accounts=linked_accounts))


def _reservation_insights_job(target: Target, errors: ErrorLog, today: date,
                              cache: costs.MonthlyCache,
                              tables: dict[str, list[dict[str, Any]]],
                              accounts: set[str]) -> Job:
    """Cost Explorer reservation reads for `accounts`, asked only where the inventory says they
    can answer something: each request costs $0.01."""
    def mine(table: str) -> bool:
        return any(row.get("account") in accounts for row in tables[table])

    services = {service for service, table in (
        ("Amazon Relational Database Service", "rds_instances"),
        ("Amazon ElastiCache", "elasticache_clusters")) if mine(table)}
    reserved = {service for service, table in (
        ("Amazon Relational Database Service", "rds_reservations"),
        ("Amazon ElastiCache", "elasticache_reservations")) if mine(table)}
    return lambda: costs.collect_reservation_insights(
        target, errors, today, cache=cache, reserved_services=reserved,
        services=services)


def collect_accounts(config: Config, session: boto3.Session, *, now: datetime,
                     recorder: CallRecorder, demo: bool, cost_cache: costs.MonthlyCache,
                     account_filter: set[str] | None = None, progress: bool = False,
                     known: tuple[str, list[str]] | None = None,
                     caller_costs: bool = True, shard: Shard | None = None) -> Snapshot:
    """Every collector for the accounts in this process, on its thread pools. With
    `caller_costs` False the caller's Cost Explorer reads are left to the process that
    merges this one's snapshot with others (collect/processes.py), so they are asked once."""
    started = time.monotonic()
    errors = ErrorLog()
    base = AwsClients(session, max_attempts=config.aws.max_attempts)
    regions = resolved_regions(config, base)
    caller, planned_ids, accounts = resolve_accounts(config, session, recorder, errors, regions[0],
                                        account_filter, known, shard)
    from_caller = cost_explorer_from_caller(config)
    ask_caller = from_caller and caller_costs
    collected = {account.account_id for account in accounts}
    window = Window.ending(now, config.analysis.lookback_days, config.analysis.period_seconds)
    history_start = sizing_history.history_start(window.start, window.end,
                                                 config.analysis.sizing_history_days)
    cache = cost_cache
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_COLUMNS}
    bar = Progress(progress)

    metric_frames: list[pd.DataFrame] = []
    with bar.running(), ThreadPoolExecutor(max_workers=config.aws.max_workers) as pool, \
            ThreadPoolExecutor(max_workers=FANOUT_WORKERS) as fanout:
        jobs: list[tuple[str, str, Future]] = []
        planned: list[tuple[str, str, Job]] = []
        # Account-wide jobs (S3: thousands of buckets) go first: queued behind every
        # region's short jobs they used to start last and finish last.
        run = RunContext(window_start=window.start, regions=frozenset(regions),
                         history_start=history_start)
        for account in accounts:
            home = Target(account.account_id, regions[0], account.clients, fanout)
            planned += _collector_jobs(home, errors, run, "account")
            if not from_caller:
                planned.append(_costs_job(home, errors, now.date(), cache))
        caller_target = Target(caller.account_id, regions[0], caller.clients)
        if ask_caller and accounts:
            planned.append(_costs_job(caller_target, errors, now.date(), cache, collected))
        for account in accounts:
            for region in regions:
                planned += _collector_jobs(Target(account.account_id, region, account.clients,
                                                  fanout), errors, run, "region")
        bar.add(len(planned))
        jobs += [(table, label, pool.submit(job)) for table, label, job in planned]
        for table, label, future in jobs:
            tables[table].extend(future.result())
            bar.done(label)

        needs = metric_needs(config)
        metric_tables = {registry.metric_resource(need.resource_kind)[0] for need in needs}
        metric_jobs = []
        for account in accounts:
            mine = {name: [row for row in tables[name]
                           if row.get("account") == account.account_id]
                    for name in metric_tables}
            for region in metric_regions(regions, mine):
                regional = {name: [row for row in rows if _metric_region(row) == region]
                            for name, rows in mine.items()}
                queries = plan_metric_queries(needs, regional, window.period_seconds)
                if queries:
                    target = Target(account.account_id, region, account.clients)
                    metric_jobs.append(pool.submit(cloudwatch.fetch_metrics, target, errors,
                                                   queries, window.start, window.end,
                                                   history_start))
        insight_targets = ([(caller_target, collected)] if ask_caller and accounts else []) \
            if from_caller else [
            (Target(account.account_id, regions[0], account.clients), {account.account_id})
            for account in accounts]
        insight_jobs = [
            pool.submit(_reservation_insights_job(target, errors, now.date(), cache, tables,
                                                  covered))
            for target, covered in insight_targets
        ]
        savings_plan_jobs = [
            pool.submit(savings_plans.collect_savings_plans, target, errors, now, regions,
                        cache=cache)
            for target, _covered in insight_targets
        ]
        # the last month by usage type: the rates each account pays (rightsizer.pricing.account)
        usage_jobs = [
            pool.submit(costs.collect_usage, target, errors, now.date(), cache=cache,
                        linked_accounts=covered if from_caller else None)
            for target, covered in insight_targets]
        # In caller mode, accounts the caller's answer does not show (the caller is not their
        # payer, or was refused) are asked directly rather than reported without costs.
        costed = {row["account"] for row in tables["costs"]}
        cost_jobs = [
            pool.submit(_costs_job(Target(account.account_id, regions[0], account.clients),
                                   errors, now.date(), cache)[2])
            for account in accounts if ask_caller and account.account_id not in costed]
        bar.add(len(metric_jobs) + len(insight_jobs) + len(savings_plan_jobs)
                + len(cost_jobs) + len(usage_jobs))
        for job in metric_jobs:
            metric_frames.append(job.result())
            bar.done("cloudwatch metrics")
        for job in insight_jobs:
            tables["ce_insights"].extend(job.result())
            bar.done("reservations (cost explorer)")
        for job in savings_plan_jobs:
            tables["sp_insights"].extend(job.result())
            bar.done("savings plans (cost explorer)")
        for job in cost_jobs:
            tables["costs"].extend(job.result())
            bar.done("cost explorer")
        for job in usage_jobs:
            tables["ce_usage"].extend(job.result())
            bar.done("cost explorer usage")

    tables["errors"] = errors.rows
    manifest = {
        "tool_version": __version__,
        "generated_at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat(),
                   "days": window.days},
        "sizing_history": {"start": history_start.isoformat(),
                           "days": (window.end - history_start).days},
        "period_seconds": window.period_seconds,
        "accounts": [account.account_id for account in accounts],
        # the ones it was to collect: an account missing from "accounts" could not be read
        "accounts_planned": sorted(planned_ids),
        "regions": regions,
        "demo": demo,
        "resources_collected": sum(len(tables[spec.table])
                                   for spec in registry.inventory_specs()),
        "api_calls": dict(sorted(recorder.calls.items())),
        "metric_queries": recorder.metric_queries,
        "duration_seconds": round(time.monotonic() - started, 2),
        "errors": len(errors.rows),
    }
    frames = {name: pd.DataFrame(rows, columns=TABLE_COLUMNS[name])
              for name, rows in tables.items() if name != "metrics"}
    frames["metrics"] = _metrics_frame(metric_frames)
    return Snapshot(manifest=manifest, tables=frames)


def _metrics_frame(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=TABLE_COLUMNS["metrics"])
    return pd.concat(frames, ignore_index=True)[TABLE_COLUMNS["metrics"]]


# --- what was looked for, and whether anything could be read ----------------------------------

def _inventory_failures(snapshot: Snapshot) -> tuple[int, list[dict[str, str]]]:
    """How many inventory reads the run made, and the ones that failed."""
    manifest = snapshot.manifest
    accounts = [str(account) for account in manifest.get("accounts", [])]
    regions = [str(region) for region in manifest.get("regions", [])]
    errors = snapshot.table("errors")
    rows = errors.to_dict("records") if not errors.empty else []
    failed: list[dict[str, str]] = []
    attempted = 0
    for read in inventory_reads():
        for account in accounts:
            # S3 lists an account's buckets once, from the first region
            for region in regions if read.per_region else regions[:1]:
                attempted += 1
                row = next((row for row in rows if row.get("account") == account
                            and row.get("service") == read.service
                            and row.get("operation") == read.operation
                            and (not read.per_region or row.get("region") == region)), None)
                if row is not None:
                    failed.append({"account": account, "region": str(row.get("region")),
                                   "service": read.service, "operation": read.operation})
    return attempted, failed


def inventory_coverage(snapshot: Snapshot) -> dict[str, Any]:
    """What the run looked for and where, what it found, and which inventory reads failed:
    report.json's "inventory" (an addition to schema_version "1").

    `empty` is true when nothing at all was found (an account or region with nothing in it is
    an answer, not a failure); `failed_reads` names the inventory reads that did not answer, so
    "found nothing" is never mistaken for "could not look"."""
    manifest = snapshot.manifest
    found = {read.resource_type: int(len(snapshot.table(read.table)))
             for read in inventory_reads()}
    return {
        "looked_for": [read.resource_type for read in inventory_reads()],
        "accounts": [str(account) for account in manifest.get("accounts", [])],
        "regions": [str(region) for region in manifest.get("regions", [])],
        "found": found,
        "empty": not any(found.values()),
        "failed_reads": _inventory_failures(snapshot)[1],
    }


def check_collected(snapshot: Snapshot) -> dict[str, Any]:
    """The inventory coverage of a fresh snapshot; a RightsizerError (exit 2) when every
    inventory read failed, so nothing at all could be looked at."""
    attempted, failed = _inventory_failures(snapshot)
    if attempted and len(failed) == attempted:
        errors = snapshot.table("errors")
        first = errors.iloc[0] if not errors.empty else None
        reads = ", ".join(f"{read.service}:{read.operation}" for read in inventory_reads())
        detail = (f" (first error: {first['service']}:{first['operation']} {first['code']}: "
                  f"{first['message']})") if first is not None else ""
        raise RightsizerError(f"nothing could be read: every inventory read failed ({reads})"
                              f"{detail}")
    return inventory_coverage(snapshot)


def empty_notice(coverage: dict[str, Any]) -> str | None:
    """The one line for a run that found nothing at all (None when it found something)."""
    if not coverage["empty"]:
        return None
    labels = {read.resource_type: read.label for read in inventory_reads()}
    looked_for = ", ".join(labels[kind] for kind in coverage["looked_for"])
    accounts = coverage["accounts"]
    line = (f"no resources found in {', '.join(coverage['regions'])} for account"
            f"{'s' if len(accounts) > 1 else ''} {', '.join(accounts)} (looked for "
            f"{looked_for})")
    if coverage["failed_reads"]:
        line += f"; {len(coverage['failed_reads']):,} of those reads failed (see errors)"
    return line + "; try --region"
