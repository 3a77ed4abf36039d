"""The shards of one run, found, checked and merged for `rightsizer report`.

A shard's manifest names its run and its place in it ("run_id", "shard": {"index", "count"});
the report of a run is complete only with every index 0..count-1 exactly once. A missing or
doubled shard is named and stops the report (exit 2), unless `allow_partial`: then the report
is made from what is there and says so in its errors and in report.json's "collection".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from rightsizer.errors import RightsizerError
from rightsizer.snapshot.store import (
    TABLE_COLUMNS,
    Snapshot,
    merge_snapshots,
    snapshot_locations,
)


@dataclass
class RunCheck:
    """What was found of a run: its id and shard count (None for snapshots collected without
    --shard), the shards present, missing and doubled, and which copies were left out."""

    run_id: str | None
    count: int | None
    present: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    duplicates: dict[int, list[str]] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.duplicates

    def problem(self) -> str:
        parts = []
        if self.missing:
            parts.append(f"missing shard{'s' if len(self.missing) > 1 else ''} "
                         f"{', '.join(map(str, self.missing))} of {self.count}")
        for index, places in sorted(self.duplicates.items()):
            parts.append(f"shard {index} written {len(places)} times ({', '.join(places)})")
        return f"run {self.run_id}: " + "; ".join(parts)

    def summary(self) -> dict[str, Any]:
        """report.json's "collection" (additive to schema_version "1")."""
        return {"run_id": self.run_id, "shards": self.count, "present": self.present,
                "missing": self.missing, "duplicates": sorted(self.duplicates),
                "partial": not self.complete}


def check_run(found: list[tuple[str, dict[str, Any]]]) -> RunCheck:
    """The run the (location, manifest) pairs belong to; a RightsizerError when they are
    not one run (several run ids, several shard counts, sharded and unsharded mixed)."""
    sharded = [(where, manifest) for where, manifest in found if "shard" in manifest]
    if not sharded:
        return RunCheck(None, None)
    if len(sharded) != len(found):
        plain = [where for where, manifest in found if "shard" not in manifest]
        raise RightsizerError(f"shards of a run mixed with snapshots collected without --shard "
                              f"({', '.join(plain)}): report them apart")
    runs = sorted({str(manifest.get("run_id")) for _, manifest in sharded})
    if len(runs) > 1:
        raise RightsizerError(f"snapshots of {len(runs)} runs ({', '.join(runs)}): report one "
                              "run at a time (give its prefix)")
    counts = sorted({int(manifest["shard"]["count"]) for _, manifest in sharded})
    if len(counts) > 1:
        raise RightsizerError(f"run {runs[0]}: shards of different counts "
                              f"({', '.join(map(str, counts))}): collect every shard with the "
                              "same --shard .../COUNT")
    by_index: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for where, manifest in sharded:
        by_index.setdefault(int(manifest["shard"]["index"]), []).append((where, manifest))
    check = RunCheck(runs[0], counts[0], present=sorted(by_index))
    check.missing = [index for index in range(counts[0]) if index not in by_index]
    for index, copies in by_index.items():
        if len(copies) > 1:
            check.duplicates[index] = [where for where, _ in copies]
            # the newest copy is kept when a partial report is allowed
            newest = max(copies, key=lambda item: str(item[1].get("generated_at", "")))
            check.left_out += [where for where, _ in copies if where != newest[0]]
    return check


def load_run(locations: list[str | Path], *, allow_partial: bool = False) -> tuple[Snapshot,
                                                                                  RunCheck]:
    """Every snapshot at or under `locations`, checked as one run and merged."""
    places = sorted({place for location in locations for place in snapshot_locations(location)})
    snapshots = {place: Snapshot.load_from(place) for place in places}
    check = check_run([(place, snapshot.manifest) for place, snapshot in snapshots.items()])
    if not check.complete:
        if not allow_partial:
            raise RightsizerError(f"{check.problem()} (collect the shard again, or report what "
                                  "is there with --allow-partial)")
        for place in check.left_out:
            del snapshots[place]
    merged = merge_snapshots(list(snapshots.values()))
    if check.run_id is not None:
        merged.manifest["run_id"] = check.run_id
        merged.manifest["collection"] = check.summary()
    if not check.complete:
        note = pd.DataFrame([{"account": "-", "region": "-", "service": "rightsizer",
                              "operation": "report", "code": "PartialRun",
                              "message": f"partial report (--allow-partial): {check.problem()}"
                              }], columns=TABLE_COLUMNS["errors"])
        merged.tables["errors"] = pd.concat([note, merged.table("errors")], ignore_index=True)
    return merged, check
