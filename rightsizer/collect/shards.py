"""One deterministic share of the accounts for each of COUNT collectors (`collect --shard`).

An account belongs to shard `int(account_id) % COUNT`: the same answer whatever the other
accounts are and in whatever order Organizations lists them, so shards started at slightly
different times (an array job's children) never lose or double an account that joined or left
in between. Account ids are 12 digits (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-identifiers.html).
"""

from __future__ import annotations

import os
import re
import zlib
from dataclasses import dataclass

from rightsizer.errors import RightsizerError

# What an array job tells each of its children: AWS Batch sets AWS_BATCH_JOB_ARRAY_INDEX
# (https://docs.aws.amazon.com/batch/latest/userguide/array_jobs.html), a Kubernetes Indexed Job
# JOB_COMPLETION_INDEX (https://kubernetes.io/docs/concepts/workloads/controllers/job/#completion-mode).
INDEX_ENVIRONMENT = ("AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX")
# The run every shard belongs to: ours first, then AWS Batch's job id (a child's is
# "<array job id>:<index>", so the part before ":" is the same for every child).
RUN_ID_ENVIRONMENT = ("RIGHTSIZER_RUN_ID", "AWS_BATCH_JOB_ID")
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def holds(self, account_id: str) -> bool:
        return shard_of(account_id, self.count) == self.index

    def select(self, account_ids: list[str]) -> list[str]:
        return [account for account in account_ids if self.holds(account)]

    def manifest(self) -> dict[str, int]:
        return {"index": self.index, "count": self.count}

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_of(account_id: str, count: int) -> int:
    """The shard an account id belongs to among `count`."""
    if account_id.isdigit():
        return int(account_id) % count
    # not an AWS account id (a test's name): still stable, across processes and versions
    return zlib.crc32(account_id.encode()) % count


def parse_shard(text: str, environ: dict[str, str] | None = None) -> Shard:
    """"INDEX/COUNT" or "auto/COUNT" (INDEX from the array job's environment)."""
    environ = os.environ if environ is None else environ
    index_text, slash, count_text = text.partition("/")
    if not slash or not count_text.strip().isdigit() or int(count_text) < 1:
        raise RightsizerError(f"--shard: expected INDEX/COUNT or auto/COUNT with COUNT >= 1, "
                              f"got {text!r}")
    count = int(count_text)
    source = "--shard"
    if index_text.strip() == "auto":
        found = [(name, environ[name]) for name in INDEX_ENVIRONMENT if environ.get(name)]
        if not found:
            raise RightsizerError(f"--shard auto/{count}: none of {', '.join(INDEX_ENVIRONMENT)}"
                                  " is set (run it as an AWS Batch array job or a Kubernetes "
                                  "Indexed Job, or give the index: --shard INDEX/COUNT)")
        source, index_text = found[0]
    if not index_text.strip().isdigit():
        raise RightsizerError(f"{source}: expected a shard index 0..{count - 1}, got "
                              f"{index_text!r}")
    index = int(index_text)
    if index >= count:
        raise RightsizerError(f"{source}: shard index {index} is not below the count {count} "
                              f"(indexes run 0..{count - 1})")
    return Shard(index, count)


def run_id(given: str | None, environ: dict[str, str] | None = None) -> str | None:
    """The run id shards of one collection share: --run-id, else the environment's."""
    environ = os.environ if environ is None else environ
    source, value = "--run-id", given
    if value is None:
        for name in RUN_ID_ENVIRONMENT:
            if environ.get(name):
                source, value = name, environ[name]
                if name == "AWS_BATCH_JOB_ID":
                    value = value.split(":", 1)[0]
                break
    if value is None:
        return None
    if not _RUN_ID.match(value):
        raise RightsizerError(f"{source}: a run id is 1-128 letters, digits, '.', '_', ':' or "
                              f"'-', got {value!r}")
    return value
