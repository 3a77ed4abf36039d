"""Where `collect` writes, and the shard and run id it writes them under."""

from __future__ import annotations

import uuid
from pathlib import Path

from rightsizer.collect.shards import Shard, parse_shard, run_id
from rightsizer.config import Config
from rightsizer.errors import RightsizerError
from rightsizer.snapshot.location import S3Prefix, is_s3
from rightsizer.snapshot.store import Snapshot


def shard_and_run(shard_text: str | None, given_run_id: str | None) -> tuple[Shard | None, str]:
    """--shard and the run id; shards of one run must share an id, so one is required then
    (an unsharded snapshot gets a fresh one)."""
    shard = parse_shard(shard_text) if shard_text else None
    found = run_id(given_run_id)
    if found is None:
        if shard is not None:
            raise RightsizerError("--shard: the shards of a run need one shared id: --run-id "
                                  "ID or RIGHTSIZER_RUN_ID (AWS Batch's AWS_BATCH_JOB_ID is "
                                  "used when set)")
        found = uuid.uuid4().hex
    return shard, found


def shard_directory(shard: Shard) -> str:
    return f"shard-{shard.index:04d}-of-{shard.count:04d}"


def collect_location(output: str | None, config: Config, snapshot: Snapshot,
                     shard: Shard | None) -> str:
    """--output (a directory or s3://bucket/prefix), else the default directory; a shard
    writes into its own place under it, so every shard can be given the same --output."""
    base = output or str(Path(config.report.directory) /
                         snapshot.window_end.strftime("%Y-%m") / "snapshot")
    if shard is None:
        return base
    if is_s3(base):
        return str(S3Prefix.parse(base).child(shard_directory(shard)))
    return str(Path(base) / shard_directory(shard))
