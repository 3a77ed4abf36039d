"""Everything one run collected: plain tables plus a manifest, saved to and loaded from disk.

Rules read a Snapshot and nothing else, so `rightsizer report SNAPSHOT_DIR` can re-run them
offline and give the same report as the run that collected the data.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rightsizer.collect.registry import specs as collector_specs
from rightsizer.errors import RightsizerError
from rightsizer.snapshot.location import S3Prefix, get_object, is_s3, list_keys, put_object
from rightsizer.snapshot.series import OneSeries, SeriesStats

T = TypeVar("T")

# Every table a collector can produce (each collector's spec declares its own), plus the run's
# error rows: an absent table reads as empty, so a rule never has to care whether a collector
# ran or failed.
ERRORS_COLUMNS = ["account", "region", "service", "operation", "code", "message"]
TABLE_COLUMNS: dict[str, list[str]] = {
    **{spec.table: spec.columns for spec in collector_specs()},
    "errors": ERRORS_COLUMNS,
}

MANIFEST_FILE = "manifest.json"


def empty_table(name: str) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in TABLE_COLUMNS[name]})


def decode_json_cell(value: Any, default: Any) -> Any:
    """Nested values (tags, strategies, rules) are stored as JSON text so Parquet keeps them."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return default
    if isinstance(value, str):
        # most tags and strategies are empty: skip the parser for them (fresh objects, as
        # json.loads would give, so a caller may still change them)
        if value == "{}":
            return {}
        if value == "[]":
            return []
        return json.loads(value)
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """frame.to_dict("records"), column by column: much quicker on Arrow-backed string
    columns (docs/benchmarks.md), which rules walk row by row over whole inventories."""
    columns = list(frame.columns)
    return [dict(zip(columns, row, strict=True))
            for row in zip(*(frame[column].tolist() for column in columns), strict=True)]


def as_int(value: Any) -> int:
    """Counts and sizes as stored (ECS keeps task sizes as strings, "1024"); missing -> 0."""
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def _first_failures(snapshot: Snapshot) -> dict[tuple[str, str, str, str], str]:
    """"code: message" of the first error row of each (service, operation, account, region)."""
    failures: dict[tuple[str, str, str, str], str] = {}
    for row in records(snapshot.table("errors")):
        key = (str(row["service"]), str(row["operation"]), str(row["account"]),
               str(row["region"]))
        failures.setdefault(key, f"{row['code']}: {row['message']}")
    return failures


SERIES_KEY = ["namespace", "metric", "stat", "account", "region", "resource"]
METRIC_KEY = SERIES_KEY[:3]
RESOURCE_KEY = SERIES_KEY[3:]


def _strings(column: pd.Series) -> pa.ChunkedArray:
    """A key column as Arrow strings: no copy when pandas already keeps it in Arrow."""
    if not isinstance(column.dtype, np.dtype):  # str / Arrow-backed extension dtypes
        array = pa.array(column.array)
    else:
        array = pa.array(column.astype(str).to_numpy(dtype=object))
    if not isinstance(array, pa.ChunkedArray):
        array = pa.chunked_array([array])
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return array
    return pc.cast(array, pa.string())


def _runs(metrics: pd.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
    """The metrics table cut where any key column changes from the row before: each run's
    keys (a polars frame) and its length in rows.

    Collection writes each series' datapoints together, so there are about as many runs as
    series: comparing neighbours and grouping the runs is much cheaper than grouping millions
    of rows by six strings (hashing them, or copying them into polars, costs more than all
    the statistics; docs/benchmarks.md). A series split over several runs is still one series.
    """
    table = pa.table({key: _strings(metrics[key]) for key in SERIES_KEY})
    rows = table.num_rows
    changed = np.zeros(rows, dtype=bool)
    changed[0] = True
    for column in table.columns:
        differs = pc.not_equal(column.slice(1), column.slice(0, rows - 1))
        changed[1:] |= pc.fill_null(differs, True).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(changed)
    runs = pl.from_arrow(table.filter(pa.array(changed)))
    assert isinstance(runs, pl.DataFrame)
    return runs, np.diff(starts, append=rows)


@dataclass(frozen=True)
class SeriesIndex:
    """The metrics table by series: for every (namespace, metric, statistic), its series'
    (account, region, resource) keys in position order and their datapoints (series position,
    timestamp in ns, value with NaN as null) in series then time order, as SeriesStats takes
    them; and the timestamps' unit as pandas read them (Snapshot.series keeps it)."""

    by_metric: dict[tuple[str, ...], tuple[list[tuple[str, ...]], pl.DataFrame]]
    stamp_unit: str


def series_index(metrics: pd.DataFrame) -> SeriesIndex:
    runs, lengths = _runs(metrics)
    # a series is a distinct key; its position counts the metric's series in order of first
    # appearance, so a table in collection order is already in series order
    series = runs.unique(maintain_order=True).with_columns(
        metric_number=pl.struct(METRIC_KEY).rank("dense"),
        position=pl.int_range(pl.len(), dtype=pl.UInt32).over(METRIC_KEY))
    run_series = runs.join(series, on=SERIES_KEY, how="left", maintain_order="left",
                           nulls_equal=True)
    stamps = pd.DatetimeIndex(pd.to_datetime(metrics["timestamp"], utc=True))
    points = pl.DataFrame({
        "metric_number": np.repeat(run_series["metric_number"].to_numpy(), lengths),
        "series": np.repeat(run_series["position"].to_numpy(), lengths),
        "timestamp": stamps.as_unit("ns").asi8,
        "value": metrics["value"].to_numpy(dtype=float),
    }).with_columns(pl.col("value").fill_nan(None))
    by_metric = points.partition_by("metric_number", as_dict=True, include_key=False)
    return SeriesIndex({
        tuple(keys.row(0)[:3]): (keys.select(RESOURCE_KEY).rows(),
                                 by_metric[(number,)].sort("series", "timestamp",
                                                           maintain_order=True))
        for (number,), keys in series.partition_by("metric_number", as_dict=True).items()
    }, stamps.unit)


@dataclass
class Snapshot:
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    _series_cache: dict[tuple[str, ...], pd.Series] = field(default_factory=dict, init=False,
                                                            repr=False, compare=False)
    # indexes and bulk statistics built once from the tables (see derived)
    _derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False,
                                     compare=False)

    def table(self, name: str) -> pd.DataFrame:
        frame = self.tables.get(name)
        if frame is None:
            # kept: rules ask per resource (errors_for), and building a frame is not free
            frame = self.tables[name] = empty_table(name)
        return frame

    @property
    def window_start(self) -> datetime:
        return datetime.fromisoformat(self.manifest["window"]["start"])

    @property
    def window_end(self) -> datetime:
        return datetime.fromisoformat(self.manifest["window"]["end"])

    @property
    def history_start(self) -> datetime:
        """Where the sizing history begins (rules/support/sizing_history.py): the window's
        start in a snapshot that has none."""
        found = (self.manifest.get("sizing_history") or {}).get("start")
        return datetime.fromisoformat(found) if found else self.window_start

    @property
    def period_seconds(self) -> int:
        return int(self.manifest["period_seconds"])

    @cached_property
    def expected_datapoints(self) -> int:
        seconds = (self.window_end - self.window_start).total_seconds()
        return max(1, int(seconds // self.period_seconds))

    @cached_property
    def _series_index(self) -> SeriesIndex:
        metrics = self.table("metrics")
        return SeriesIndex({}, "ns") if metrics.empty else series_index(metrics)

    def series(
        self, account: str, region: str, namespace: str, metric: str, resource: str, stat: str
    ) -> pd.Series:
        """One metric series as stored (NaN included), oldest first; empty when CloudWatch had
        no datapoints."""
        key = (account, region, namespace, metric, resource, stat)
        cached = self._series_cache.get(key)
        if cached is not None:
            return cached
        stats = self.series_stats(namespace, metric, stat)
        at = stats.position(account, region, resource)
        if at is None:
            return pd.Series(dtype=float)
        stamps, values = stats.stored_points(at)
        index = pd.DatetimeIndex(stamps, tz="UTC", name="timestamp").as_unit(
            self._series_index.stamp_unit)
        series = self._series_cache[key] = pd.Series(values, index=index)
        return series

    def derived(self, key: str, build: Callable[[Snapshot], T]) -> T:
        """A structure built once from the tables (an index rules look resources up in)."""
        if key not in self._derived:
            self._derived[key] = build(self)
        return self._derived[key]  # type: ignore[no-any-return]

    def record_rule_findings(self, rule_id: str, findings: list[Any]) -> None:
        """This run's findings of one rule, for the rules that read them (Rule.reads_findings_of);
        a disabled rule is recorded with none, so a reader never assumes its moves."""
        self._derived[f"rule-findings/{rule_id}"] = findings

    def rule_findings(self, rule_id: str, evaluate: Callable[[Snapshot], list[T]]) -> list[T]:
        """The run's recorded findings of `rule_id`; outside a run (one rule on its own) the
        rule's own `evaluate` at its defaults, once."""
        return self.derived(f"rule-findings/{rule_id}", evaluate)

    def series_stats(self, namespace: str, metric: str, stat: str) -> SeriesStats:
        """Bulk statistics of every series of one metric and statistic (see series_stats)."""
        return self.derived(f"series-stats/{namespace}/{metric}/{stat}",
                            lambda _: self._build_series_stats(namespace, metric, stat))

    def _build_series_stats(self, namespace: str, metric: str, stat: str) -> SeriesStats:
        found = self._series_index.by_metric.get((namespace, metric, stat))
        return SeriesStats.empty() if found is None else SeriesStats(*found)

    def one_series(self, account: str, region: str, namespace: str, metric: str,
                   resource: str, stat: str) -> OneSeries:
        """One series' figures from the bulk statistics: what a rule reads per resource."""
        return self.series_stats(namespace, metric, stat).of(account, region, resource)

    def errors_for(self, service: str, operation: str | None = None) -> pd.DataFrame:
        errors = self.table("errors")
        if errors.empty:  # the usual case, asked once per resource by some rules
            return errors
        mask = errors["service"] == service
        if operation is not None:
            mask &= errors["operation"] == operation
        return errors[mask]

    def read_failure(self, service: str, operation: str, account: str,
                     region: str) -> str | None:
        """"code: message" when a read a rule depends on failed there, else None."""
        # asked per resource: one dict of first failures instead of filtering a frame each time
        failures = self.derived("read-failures", _first_failures)
        return failures.get((service, operation, account, region))

    # --- persistence -------------------------------------------------------------------------

    def save(self, directory: Path) -> Path:
        """Write every table into a hidden staging directory first, then move the files in,
        manifest last: a failure while writing (disk full, a crash in Parquet) leaves the
        previous snapshot in `directory` as it was and no temp files behind."""
        files = self._files()
        directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".snapshot-", suffix=".tmp", dir=directory))
        try:
            for name, body in files.items():
                (staging / name).write_bytes(body)
            for name in files:  # same filesystem: each replace is atomic; the manifest last
                os.replace(staging / name, directory / name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return directory

    def save_to(self, location: str | Path) -> str:
        """save() to a local directory or an S3 prefix: tables first, the manifest last, so
        a reader (which starts from the manifest) never reads a half-written snapshot."""
        if not is_s3(location):
            return str(self.save(Path(location)))
        where = S3Prefix.parse(str(location))
        for name, body in self._files().items():
            put_object(where, name, body)
        return str(where)

    def _files(self) -> dict[str, bytes]:
        """The files of a snapshot, the manifest last. Every table carries the write's id,
        as the manifest does: a table left from another write is caught on load."""
        write_id = uuid.uuid4().hex
        self.manifest["write_id"] = write_id
        files = {f"{name}.parquet": _parquet_bytes(self.table(name), write_id)
                 for name in TABLE_COLUMNS}
        files[MANIFEST_FILE] = json.dumps(self.manifest, indent=2, sort_keys=True,
                                          default=str).encode()
        return files

    @classmethod
    def load(cls, directory: Path) -> Snapshot:
        manifest_path = directory / MANIFEST_FILE
        if not manifest_path.is_file():
            raise RightsizerError(f"{directory}: not a rightsizer snapshot (no {MANIFEST_FILE})")
        try:
            manifest = json.loads(manifest_path.read_text())
            present = {name: directory / f"{name}.parquet" for name in TABLE_COLUMNS
                       if (directory / f"{name}.parquet").is_file()}
            tables = {name: _read_table(path, manifest, str(directory))
                      for name, path in present.items()}
        except (OSError, ValueError) as exc:
            raise RightsizerError(f"{directory}: unreadable snapshot: {exc}") from exc
        return cls(manifest=manifest, tables=tables)

    @classmethod
    def load_from(cls, location: str | Path) -> Snapshot:
        """load() from a local directory or an S3 prefix."""
        if not is_s3(location):
            return cls.load(Path(location))
        where = S3Prefix.parse(str(location))
        manifest_bytes = get_object(where, MANIFEST_FILE)
        if manifest_bytes is None:
            raise RightsizerError(f"{where}: not a rightsizer snapshot (no {MANIFEST_FILE})")
        try:
            manifest = json.loads(manifest_bytes)
            tables = {}
            for name in TABLE_COLUMNS:
                body = get_object(where, f"{name}.parquet")
                if body is not None:
                    tables[name] = _read_table(pa.BufferReader(body), manifest, str(where))
        except (OSError, ValueError) as exc:
            raise RightsizerError(f"{where}: unreadable snapshot: {exc}") from exc
        return cls(manifest=manifest, tables=tables)


WRITE_ID = b"rightsizer.write_id"


def _parquet_bytes(frame: pd.DataFrame, write_id: str) -> bytes:
    """frame.to_parquet(index=False), with the write's id in the file's metadata."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           WRITE_ID: write_id.encode()})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue())


def _read_table(source: Any, manifest: dict[str, Any], where: str) -> pd.DataFrame:
    """One table; a ValueError when it was written by another write than the manifest (a
    collect into the same place that stopped half way, or is still running)."""
    expected = manifest.get("write_id")
    if expected is not None:
        found = (pq.read_schema(source).metadata or {}).get(WRITE_ID, b"").decode()
        if found != expected:
            raise ValueError(f"a table from another write than its manifest ({found or 'none'}"
                             f" != {expected}): collect it again")
        if isinstance(source, pa.BufferReader):
            source.seek(0)
    return pd.read_parquet(source)


def snapshot_locations(location: str | Path) -> list[str]:
    """The snapshot at `location`, or every snapshot under it (the shards of a run): each a
    place holding a manifest, which a writer puts last, so a shard still being written is not
    one yet."""
    if is_s3(location):
        where = S3Prefix.parse(str(location))
        suffix = f"/{MANIFEST_FILE}"
        found = [str(S3Prefix(where.bucket, key[:-len(MANIFEST_FILE)]))
                 for key in list_keys(where)
                 if key == where.key(MANIFEST_FILE) or key.endswith(suffix)]
    else:
        root = Path(location)
        if not root.is_dir():
            raise RightsizerError(f"{root}: no such directory")
        found = [str(path.parent) for path in sorted(root.rglob(MANIFEST_FILE))]
    if not found:
        raise RightsizerError(f"{location}: no rightsizer snapshot there (no {MANIFEST_FILE} "
                              "in it or under it)")
    return sorted(found)


def merge_snapshots(snapshots: list[Snapshot]) -> Snapshot:
    """One snapshot from shards collected separately (e.g. one per group of accounts)."""
    if not snapshots:
        raise RightsizerError("no snapshot to merge")
    if len(snapshots) == 1:
        return snapshots[0]
    first = snapshots[0].manifest
    for other in snapshots[1:]:
        if other.manifest["window"] != first["window"] or \
                other.manifest["period_seconds"] != first["period_seconds"] or \
                other.manifest.get("sizing_history") != first.get("sizing_history"):
            raise RightsizerError("snapshots cover different windows: collect every shard with "
                                  "the same lookback, sizing history and period, on the same "
                                  "day")
    manifest = dict(first)
    manifest["accounts"] = sorted({a for s in snapshots for a in s.manifest["accounts"]})
    manifest["regions"] = sorted({r for s in snapshots for r in s.manifest["regions"]})
    calls: dict[str, int] = {}
    for snapshot in snapshots:
        for name, count in snapshot.manifest.get("api_calls", {}).items():
            calls[name] = calls.get(name, 0) + int(count)
    manifest["api_calls"] = dict(sorted(calls.items()))
    for key in ("metric_queries", "resources_collected", "errors"):
        manifest[key] = sum(int(s.manifest.get(key, 0)) for s in snapshots)
    manifest["duration_seconds"] = max(float(s.manifest.get("duration_seconds") or 0)
                                       for s in snapshots)
    manifest["shards"] = len(snapshots)
    tables = {}
    for name in TABLE_COLUMNS:
        frames = [s.table(name) for s in snapshots if not s.table(name).empty]
        tables[name] = pd.concat(frames, ignore_index=True) if frames else empty_table(name)
    # Cost Explorer asked by the caller answers for the whole organization: every shard of a
    # run holds the same reservation and Savings Plans pages (one row a page), which count once
    for name in ("ce_insights", "sp_insights"):
        tables[name] = tables[name].drop_duplicates(ignore_index=True)
    return Snapshot(manifest=manifest, tables=tables)
