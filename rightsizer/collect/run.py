"""The whole collection of a run: the accounts in this process or in worker processes, then the
shard's manifest and the one check that something was read."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3

from rightsizer.aws.clients import CallRecorder
from rightsizer.collect.collectors import costs
from rightsizer.collect.engine import collect_accounts
from rightsizer.collect.processes import collect_in_processes
from rightsizer.collect.shards import Shard
from rightsizer.config import Config
from rightsizer.errors import RightsizerError
from rightsizer.snapshot.store import Snapshot


def collect_snapshot(config: Config, session: boto3.Session, *, now: datetime | None = None,
                     recorder: CallRecorder | None = None, demo: bool = False,
                     account_filter: set[str] | None = None, progress: bool = False,
                     cost_cache: costs.MonthlyCache | None = None,
                     workers: int | None = 1, shard: Shard | None = None) -> Snapshot:
    """A snapshot of the configured accounts; with `workers` > 1 (None: as many as suit the
    machine) and several accounts, the accounts are collected in that many processes and
    merged (collect/processes.py)."""
    now = now or datetime.now(UTC)
    recorder = recorder or CallRecorder()
    recorder.attach(session)
    # The demo's costs are made up: never cache them beside a real account's.
    cache = cost_cache or costs.MonthlyCache(None if demo else costs.default_cache_dir(),
                                             now.date())
    if workers is None or workers > 1:
        snapshot = collect_in_processes(config, session, now=now, recorder=recorder, demo=demo,
                                        account_filter=account_filter, progress=progress,
                                        cost_cache=cache, workers=workers, shard=shard)
    else:
        snapshot = collect_accounts(config, session, now=now, recorder=recorder, demo=demo,
                                    account_filter=account_filter, progress=progress,
                                    cost_cache=cache, shard=shard)
    if shard is not None:
        snapshot.manifest["shard"] = shard.manifest()
    # a shard may hold no account of the organization: an answer, written like any other
    if not snapshot.manifest["accounts"] and (shard is None
                                              or snapshot.manifest["accounts_planned"]):
        rows = snapshot.table("errors")
        raise RightsizerError("no account could be read: " + (
            str(rows.iloc[0]["message"]) if not rows.empty else "none configured"))
    return snapshot
