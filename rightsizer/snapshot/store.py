"""Everything one run collected: plain tables plus a manifest, saved to and loaded from disk.

Rules read a Snapshot and nothing else, so `rightsizer report SNAPSHOT_DIR` can re-run them
offline and give the same report as the run that collected the data.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rightsizer.collect.registry import specs as collector_specs
from rightsizer.errors import RightsizerError
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
    """frame.to_dict("records"), column by column: several times faster on Arrow-backed string
    columns, which rules walk row by row over whole inventories."""
    columns = list(frame.columns)
    return [dict(zip(columns, row, strict=True))
            for row in zip(*(frame[column].tolist() for column in columns), strict=True)]


def as_int(value: Any) -> int:
    """Counts and sizes as stored (ECS keeps task sizes as strings, "1024"); missing -> 0."""
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def _series_codes(columns: list[pa.ChunkedArray]
                  ) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """A series number for every row of the metrics table.

    A series' datapoints mostly sit in consecutive rows (as collected), so the table is cut into
    runs where any key column changes (one vectorised comparison per column), and only the
    runs' first rows are looked up by key. A groupby over six string columns of millions of
    rows took seconds. Returns the codes and each code's key.
    """
    rows = len(columns[0])
    changed = np.zeros(rows, dtype=bool)
    changed[0] = True
    for column in columns:
        differs = pc.not_equal(column.slice(1), column.slice(0, len(column) - 1))
        changed[1:] |= pc.fill_null(differs, True).to_numpy(zero_copy_only=False)
    run_starts = np.flatnonzero(changed)
    numbers: dict[tuple[str, ...], int] = {}
    run_codes = np.fromiter(
        (numbers.setdefault(key, len(numbers)) for key in zip(
            *(_take(column, run_starts) for column in columns), strict=True)),
        dtype=np.int64, count=len(run_starts))
    return np.repeat(run_codes, np.diff(np.append(run_starts, rows))), list(numbers)


def _first_failures(snapshot: Snapshot) -> dict[tuple[str, str, str, str], str]:
    """"code: message" of the first error row of each (service, operation, account, region)."""
    failures: dict[tuple[str, str, str, str], str] = {}
    for row in records(snapshot.table("errors")):
        key = (str(row["service"]), str(row["operation"]), str(row["account"]),
               str(row["region"]))
        failures.setdefault(key, f"{row['code']}: {row['message']}")
    return failures


def _series_then_time(codes: np.ndarray, stamps: np.ndarray) -> np.ndarray:
    """Row order by series, then time (stable). Collected tables are already in that order
    (each series' datapoints together, oldest first): then no sort of millions of rows."""
    step_code, step_time = np.diff(codes), np.diff(stamps)
    if np.all((step_code > 0) | ((step_code == 0) & (step_time >= 0))):
        return np.arange(len(codes))
    return np.lexsort((stamps, codes))


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


def _take(column: pa.ChunkedArray, rows: np.ndarray) -> list[str]:
    return column.take(pa.array(rows)).to_pylist()


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
            # kept: rules ask per resource (errors_for), and building a frame costs ~2 ms
            frame = self.tables[name] = empty_table(name)
        return frame

    @property
    def window_start(self) -> datetime:
        return datetime.fromisoformat(self.manifest["window"]["start"])

    @property
    def window_end(self) -> datetime:
        return datetime.fromisoformat(self.manifest["window"]["end"])

    @property
    def period_seconds(self) -> int:
        return int(self.manifest["period_seconds"])

    @cached_property
    def expected_datapoints(self) -> int:
        seconds = (self.window_end - self.window_start).total_seconds()
        return max(1, int(seconds // self.period_seconds))

    @cached_property
    def _series_positions(self) -> dict[tuple[str, ...], tuple[int, int]]:
        """Where each series lies in the metrics table sorted by series then time.

        One sort of the whole table instead of a groupby with a to_datetime and a sort per
        group: the per-group version took ~1 ms a series (17 s for 16,500 series).
        """
        metrics = self.table("metrics")
        if metrics.empty:
            self._sorted_values = np.empty(0)
            self._sorted_stamps = pd.DatetimeIndex([], tz="UTC", name="timestamp")
            self._sorted_stamps_ns = np.empty(0, dtype=np.int64)
            return {}
        keys = ["account", "region", "namespace", "metric", "resource", "stat"]
        columns = [_strings(metrics[key]) for key in keys]
        codes, keys_by_code = _series_codes(columns)
        stamps = pd.DatetimeIndex(pd.to_datetime(metrics["timestamp"], utc=True),
                                  name="timestamp")
        order = _series_then_time(codes, stamps.asi8)
        codes = codes[order]
        starts = np.concatenate(([0], np.flatnonzero(np.diff(codes)) + 1))
        stops = np.concatenate((starts[1:], [len(codes)]))
        self._sorted_values = metrics["value"].to_numpy(dtype=float)[order]
        self._sorted_stamps = stamps[order]
        self._sorted_stamps_ns = self._sorted_stamps.as_unit("ns").asi8
        return {keys_by_code[code]: (start, stop) for code, start, stop in zip(
            codes[starts].tolist(), starts.tolist(), stops.tolist(), strict=True)}

    def series(
        self, account: str, region: str, namespace: str, metric: str, resource: str, stat: str
    ) -> pd.Series:
        """One metric series, oldest first; empty when CloudWatch had no datapoints."""
        key = (account, region, namespace, metric, resource, stat)
        cached = self._series_cache.get(key)
        if cached is not None:
            return cached
        found = self._series_positions.get(key)
        if found is None:
            return pd.Series(dtype=float)
        start, stop = found
        series = pd.Series(self._sorted_values[start:stop],
                           index=self._sorted_stamps[start:stop])
        self._series_cache[key] = series
        return series

    @cached_property
    def _series_by_metric(self) -> dict[tuple[str, str, str],
                                        dict[tuple[str, str, str], tuple[int, int]]]:
        """The series positions grouped by (namespace, metric, statistic)."""
        grouped: dict[tuple[str, str, str], dict[tuple[str, str, str], tuple[int, int]]] = {}
        for (account, region, namespace, metric, resource, stat), span in \
                self._series_positions.items():
            grouped.setdefault((namespace, metric, stat), {})[(account, region, resource)] = span
        return grouped

    def derived(self, key: str, build: Callable[[Snapshot], T]) -> T:
        """A structure built once from the tables (an index rules look resources up in)."""
        if key not in self._derived:
            self._derived[key] = build(self)
        return self._derived[key]  # type: ignore[no-any-return]

    def series_stats(self, namespace: str, metric: str, stat: str) -> SeriesStats:
        """Bulk statistics of every series of one metric and statistic (see series_stats)."""
        return self.derived(f"series-stats/{namespace}/{metric}/{stat}",
                            lambda _: self._build_series_stats(namespace, metric, stat))

    def _build_series_stats(self, namespace: str, metric: str, stat: str) -> SeriesStats:
        spans = self._series_by_metric.get((namespace, metric, stat), {})
        if not spans:
            return SeriesStats.empty()
        bounds = np.array(list(spans.values()), dtype=np.int64)
        lengths = bounds[:, 1] - bounds[:, 0]
        starts = np.concatenate(([0], np.cumsum(lengths)))
        # the rows of every span, in order: each span's start plus 0..length-1
        rows = np.repeat(bounds[:, 0] - starts[:-1], lengths) + np.arange(starts[-1])
        return SeriesStats({key: i for i, key in enumerate(spans)}, self._sorted_values[rows],
                           self._sorted_stamps_ns[rows], starts)

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
        directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".snapshot-", suffix=".tmp", dir=directory))
        try:
            for name in TABLE_COLUMNS:
                self.table(name).to_parquet(staging / f"{name}.parquet", index=False)
            (staging / MANIFEST_FILE).write_text(
                json.dumps(self.manifest, indent=2, sort_keys=True, default=str))
            for name in TABLE_COLUMNS:  # same filesystem: each replace is atomic
                os.replace(staging / f"{name}.parquet", directory / f"{name}.parquet")
            os.replace(staging / MANIFEST_FILE, directory / MANIFEST_FILE)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return directory

    @classmethod
    def load(cls, directory: Path) -> Snapshot:
        manifest_path = directory / MANIFEST_FILE
        if not manifest_path.is_file():
            raise RightsizerError(f"{directory}: not a rightsizer snapshot (no {MANIFEST_FILE})")
        try:
            manifest = json.loads(manifest_path.read_text())
            tables = {
                name: pd.read_parquet(directory / f"{name}.parquet")
                for name in TABLE_COLUMNS
                if (directory / f"{name}.parquet").is_file()
            }
        except (OSError, ValueError) as exc:
            raise RightsizerError(f"{directory}: unreadable snapshot: {exc}") from exc
        return cls(manifest=manifest, tables=tables)


def merge_snapshots(snapshots: list[Snapshot]) -> Snapshot:
    """One snapshot from shards collected separately (e.g. one per group of accounts)."""
    if not snapshots:
        raise RightsizerError("no snapshot to merge")
    if len(snapshots) == 1:
        return snapshots[0]
    first = snapshots[0].manifest
    for other in snapshots[1:]:
        if other.manifest["window"] != first["window"] or \
                other.manifest["period_seconds"] != first["period_seconds"]:
            raise RightsizerError("snapshots cover different windows: collect every shard with "
                                  "the same lookback and on the same day")
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
    return Snapshot(manifest=manifest, tables=tables)
