"""Shards of a run: the partition of accounts, the array-job environment forms, and the check
that names missing, doubled and foreign shards (collect/shards.py, snapshot/runs.py)."""

from __future__ import annotations

import random

import pytest

from rightsizer.collect.shards import Shard, parse_shard, run_id, shard_of
from rightsizer.errors import RightsizerError
from rightsizer.snapshot.runs import check_run


def org(size: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    return sorted({f"{rng.randrange(10**11, 10**12):012d}" for _ in range(size)})


def test_every_account_is_in_exactly_one_shard() -> None:
    accounts = org(300)
    shards = [Shard(index, 7).select(accounts) for index in range(7)]
    assert sorted(a for shard in shards for a in shard) == accounts
    assert all(shard for shard in shards)  # 300 accounts fill 7 shards
    # balanced enough for an array job: no shard twice its fair share
    assert max(len(shard) for shard in shards) < 2 * len(accounts) / 7


def test_an_account_keeps_its_shard_whatever_else_is_listed() -> None:
    accounts = org(50)
    before = {account: shard_of(account, 4) for account in accounts}
    changed = org(20, seed=9) + accounts[10:]  # ten left the organization, twenty joined
    random.Random(1).shuffle(changed)
    for index in range(4):
        for account in Shard(index, 4).select(changed):
            if account in before:
                assert before[account] == index
    assert shard_of("123456789012", 4) == 123456789012 % 4


@pytest.mark.parametrize(("text", "environ", "expected"), [
    ("2/4", {}, Shard(2, 4)),
    ("0/1", {}, Shard(0, 1)),
    ("auto/4", {"AWS_BATCH_JOB_ARRAY_INDEX": "3"}, Shard(3, 4)),
    ("auto/4", {"JOB_COMPLETION_INDEX": "1"}, Shard(1, 4)),
    # a Batch array child run on Kubernetes too: Batch's own variable first
    ("auto/4", {"AWS_BATCH_JOB_ARRAY_INDEX": "0", "JOB_COMPLETION_INDEX": "2"}, Shard(0, 4)),
])
def test_shard_forms(text: str, environ: dict[str, str], expected: Shard) -> None:
    assert parse_shard(text, environ) == expected


@pytest.mark.parametrize(("text", "environ", "message"), [
    ("4/4", {}, "not below the count 4"),
    ("1", {}, "expected INDEX/COUNT"),
    ("1/0", {}, "COUNT >= 1"),
    ("-1/4", {}, "expected a shard index"),
    ("auto/4", {}, "none of AWS_BATCH_JOB_ARRAY_INDEX, JOB_COMPLETION_INDEX is set"),
    ("auto/4", {"JOB_COMPLETION_INDEX": "7"}, "JOB_COMPLETION_INDEX: shard index 7"),
])
def test_bad_shards_say_what_is_wrong(text: str, environ: dict[str, str], message: str) -> None:
    with pytest.raises(RightsizerError, match=message):
        parse_shard(text, environ)


def test_run_id_from_flag_or_environment() -> None:
    assert run_id("2026-12", {"RIGHTSIZER_RUN_ID": "other"}) == "2026-12"
    assert run_id(None, {"RIGHTSIZER_RUN_ID": "monthly-2026-12"}) == "monthly-2026-12"
    # an array child's job id is "<array job id>:<index>": every child shares the first part
    batch = {"AWS_BATCH_JOB_ID": "5a1a2c13-96ce-4c63-bd0c-8f8ac5b0bb50:3"}
    assert run_id(None, batch) == "5a1a2c13-96ce-4c63-bd0c-8f8ac5b0bb50"
    assert run_id(None, {}) is None
    with pytest.raises(RightsizerError, match="--run-id: a run id"):
        run_id("a b", {})


def manifest(index: int, count: int = 3, run: str = "r1", at: str = "2026-12-01T06:00:00Z"):
    return {"run_id": run, "shard": {"index": index, "count": count}, "generated_at": at}


def test_a_complete_run() -> None:
    check = check_run([(f"s{i}", manifest(i)) for i in range(3)])
    assert check.complete and check.present == [0, 1, 2]
    assert check.summary()["partial"] is False


def test_missing_and_doubled_shards_are_named() -> None:
    check = check_run([("a", manifest(0)), ("b", manifest(2, at="2026-12-01T06:00:00Z")),
                       ("c", manifest(2, at="2026-12-01T07:00:00Z"))])
    assert check.missing == [1]
    assert check.duplicates == {2: ["b", "c"]}
    assert check.left_out == ["b"]  # the newest copy is the one kept
    assert check.problem() == "run r1: missing shard 1 of 3; shard 2 written 2 times (b, c)"


@pytest.mark.parametrize(("found", "message"), [
    ([("a", manifest(0, run="r1")), ("b", manifest(1, run="r2"))], "snapshots of 2 runs"),
    ([("a", manifest(0, count=2)), ("b", manifest(1, count=3))], "shards of different counts"),
    ([("a", manifest(0)), ("b", {"run_id": "x"})], "mixed with snapshots collected without"),
])
def test_snapshots_that_are_not_one_run(found, message: str) -> None:
    with pytest.raises(RightsizerError, match=message):
        check_run(found)


def test_snapshots_without_shards_merge_as_before() -> None:
    check = check_run([("a", {"run_id": "x"}), ("b", {})])
    assert check.complete and check.run_id is None


def test_default_workers_keep_to_a_container_cpu_quota(tmp_path) -> None:
    import os

    from rightsizer.collect.processes import account_groups, default_workers

    cores = len(os.sched_getaffinity(0))
    limit = tmp_path / "cpu.max"
    limit.write_text("150000 100000\n")  # 1.5 CPUs: two processes
    assert default_workers(limit) == min(cores, 2)
    limit.write_text("max 100000\n")
    assert default_workers(limit) == cores
    assert default_workers(tmp_path / "absent") == cores
    assert account_groups(["a", "b", "c", "d", "e"], 2) == [["a", "c", "e"], ["b", "d"]]
