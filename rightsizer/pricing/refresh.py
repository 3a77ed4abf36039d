"""`rightsizer pricing refresh`: current list prices from the AWS Price List Query API, cached.

One read-only call, pricing:GetProducts (a us-east-1 endpoint that answers for every region),
paged with NextToken, TERM_MATCH filters only. It fetches the figures the rules use: Linux/x86
Fargate on-demand, RDS PostgreSQL Single-AZ and ElastiCache Redis nodes (on-demand and 1-year No
Upfront reserved). Fargate Spot is not in the Price List API, so Spot stays the embedded figures.

Everything is fetched before anything is written, so a failed call leaves the cache as it was.
Each table is written atomically (temp file + os.replace). A region the API returned nothing for
keeps its previous cached figures (and their date); one it never had falls back to the embedded
table at lookup time, so a refresh never loses a figure.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import NoCredentialsError

from rightsizer.aws.clients import AwsClients
from rightsizer.collect.collectors.base import AWS_FAILURES, describe_exception
from rightsizer.errors import RightsizerError
from rightsizer.pricing import (
    CACHE_SECTIONS,
    _as_of,
    _embedded,
    cache_problem,
    read_cached_table,
)

PRICING_REGION = "us-east-1"  # the Price List Query API endpoint (prices for all regions)
PAGE_SIZE = 100  # GetProducts' maximum MaxResults
HOURS_PER_YEAR = 8760.0  # to spread an upfront fee over a 1-year term (No Upfront has none)

# section, key (instance class or rate name), USD
Row = tuple[str, str, float]
Prices = dict[str, dict[str, dict[str, float]]]  # section -> region -> key -> USD


# --------------------------------------------------------------------------- one product


def load_product(item: Any) -> dict[str, Any] | None:
    """A PriceList item is a JSON document in a string; None when it is not one."""
    try:
        data = json.loads(item) if isinstance(item, str) else item
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _attributes(product: dict[str, Any]) -> dict[str, Any]:
    attributes = product.get("product", {}).get("attributes", {})
    return attributes if isinstance(attributes, dict) else {}


def _usd(dimension: Any) -> float | None:
    try:
        return float(dimension["pricePerUnit"]["USD"])
    except (KeyError, TypeError, ValueError):
        return None


def _dimensions(term: Any) -> list[dict[str, Any]]:
    dims = term.get("priceDimensions", {}) if isinstance(term, dict) else {}
    return [dim for dim in dims.values() if isinstance(dim, dict)] if isinstance(dims, dict) else []


def on_demand_hourly(product: dict[str, Any]) -> float | None:
    """The one non-zero on-demand rate; None when absent, free, or tiered (no guessing)."""
    terms = product.get("terms", {}).get("OnDemand", {})
    rates = {usd for term in (terms.values() if isinstance(terms, dict) else [])
             for dim in _dimensions(term)
             if dim.get("unit") != "Quantity" and (usd := _usd(dim)) is not None and usd > 0}
    return rates.pop() if len(rates) == 1 else None


def _effective_hourly(term: dict[str, Any]) -> float | None:
    hourly = upfront = 0.0
    for dim in _dimensions(term):
        usd = _usd(dim)
        if usd is None:
            return None
        if dim.get("unit") == "Quantity":
            upfront += usd
        else:
            hourly += usd
    total = hourly + upfront / HOURS_PER_YEAR
    return round(total, 8) if total > 0 else None


def reserved_1yr_no_upfront_hourly(product: dict[str, Any]) -> float | None:
    """Effective hourly rate of the 1-year No Upfront (standard) reservation, if offered."""
    terms = product.get("terms", {}).get("Reserved", {})
    rates: set[float] = set()
    for term in terms.values() if isinstance(terms, dict) else []:
        attrs = term.get("termAttributes", {}) if isinstance(term, dict) else {}
        if (attrs.get("LeaseContractLength") == "1yr"
                and attrs.get("PurchaseOption") == "No Upfront"
                and attrs.get("OfferingClass", "standard") == "standard"):
            rate = _effective_hourly(term)
            if rate is not None:
                rates.add(rate)
    return rates.pop() if len(rates) == 1 else None


# x86 Linux on-demand only: ARM, Windows and SpotUsage rows have other usage types. The prefix is
# the region's billing code (USE1-, EU-, APS3-); some us-east-1 rows have none.
_FARGATE_USAGE = (
    (re.compile(r"^(?:[A-Z0-9]+-)?Fargate-vCPU-Hours:perCPU$"), "vcpu_hour"),
    (re.compile(r"^(?:[A-Z0-9]+-)?Fargate-GB-Hours$"), "gb_hour"),
)


def fargate_rows(product: dict[str, Any]) -> list[Row]:
    usage = str(_attributes(product).get("usagetype", ""))
    for pattern, key in _FARGATE_USAGE:
        usd = on_demand_hourly(product) if pattern.match(usage) else None
        if usd is not None:
            return [("on_demand", key, usd)]
    return []


def _instance_rows(product: dict[str, Any], prefix: str, usage: re.Pattern[str],
                   on_demand: str, reserved: str) -> list[Row]:
    attrs = _attributes(product)
    name = str(attrs.get("instanceType", "")).strip().lower()
    if (not name.startswith(prefix) or not usage.match(str(attrs.get("usagetype", "")))
            or attrs.get("locationType", "AWS Region") != "AWS Region"):
        return []  # storage, I/O, Extended Support, Outposts and Local Zone rows
    hourly = on_demand_hourly(product)
    if hourly is None:
        return []
    rows = [(on_demand, name, hourly)]
    ri = reserved_1yr_no_upfront_hourly(product)
    if ri is not None and ri < hourly:  # a reservation at or above on-demand is a data error
        rows.append((reserved, name, ri))
    return rows


# The node or instance price is the usage type that is only an optional region billing code
# (APS3-, EU-; none in us-east-1) before the meter. Add-ons share the instance type and the
# filters but carry a second segment ("USE1-ExtendedSupportYr1_Yr2-NodeUsage:cache.m6g.large",
# "USE1-SyncDurability-NodeUsage:...", "USE1-Outpost-NodeUsage:..."): a surcharge, not the
# node, so an unanchored match made each node look like two conflicting prices.
# Billing codes: https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-region-billing-codes.html
RDS_INSTANCE_USAGE = re.compile(r"^(?:[A-Z0-9]+-)?InstanceUsage:db\.")
ELASTICACHE_NODE_USAGE = re.compile(r"^(?:[A-Z0-9]+-)?NodeUsage:cache\.")


def rds_rows(product: dict[str, Any]) -> list[Row]:
    # Single-AZ is "InstanceUsage:db.x"; "InstanceUsageIOOptimized" is Aurora.
    return _instance_rows(product, "db.", RDS_INSTANCE_USAGE,
                          "on_demand_single_az", "reserved_1yr_no_upfront_single_az")


def elasticache_rows(product: dict[str, Any]) -> list[Row]:
    return _instance_rows(product, "cache.", ELASTICACHE_NODE_USAGE,
                          "on_demand", "reserved_1yr_no_upfront")


# --------------------------------------------------------------------------- the three tables


@dataclass(frozen=True)
class TableSpec:
    name: str
    service_code: str
    filters: tuple[tuple[str, str], ...]  # TERM_MATCH (field, value), besides regionCode
    rows: Callable[[dict[str, Any]], list[Row]]
    note: str

    @property
    def source(self) -> str:
        return f"AWS Price List Query API GetProducts ({self.service_code})"

    @property
    def sections(self) -> tuple[str, ...]:
        return CACHE_SECTIONS[self.name]


_FETCHED = "Fetched by `rightsizer pricing refresh`; as_of_by_region dates each region's figures."
SPECS: tuple[TableSpec, ...] = (
    TableSpec("fargate", "AmazonECS", (), fargate_rows,
              "Linux/x86 on-demand per vCPU-hour and GB-hour (usage types "
              "<region>-Fargate-vCPU-Hours:perCPU and <region>-Fargate-GB-Hours). Fargate Spot is "
              "not in the Price List API: Spot figures still come from the embedded table. "
              + _FETCHED),
    TableSpec("rds_postgres", "AmazonRDS",
              (("databaseEngine", "PostgreSQL"), ("deploymentOption", "Single-AZ")), rds_rows,
              "PostgreSQL Single-AZ on-demand hourly and the 1-year No Upfront (standard) "
              "reservation's effective hourly from terms.Reserved. Multi-AZ is Single-AZ x the "
              "embedded multi_az_factor; storage and the derived ratio for classes without a "
              "reserved term come from the embedded table. " + _FETCHED),
    TableSpec("elasticache_redis", "AmazonElastiCache", (("cacheEngine", "Redis"),),
              elasticache_rows,
              "Redis node on-demand hourly and the 1-year No Upfront reservation's effective "
              "hourly from terms.Reserved. " + _FETCHED),
)


@dataclass
class Fetched:
    """What the API returned for one table."""

    spec: TableSpec
    prices: Prices = field(default_factory=dict)
    requests: int = 0
    products: int = 0
    unreadable: int = 0  # items that were not a JSON product
    conflicting: int = 0  # figures two products disagreed on (dropped, not guessed)
    empty_regions: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(row) for regions in self.prices.values() for row in regions.values())


def _pages(client: Any, spec: TableSpec, region: str) -> Iterator[dict[str, Any]]:
    filters = [{"Type": "TERM_MATCH", "Field": name, "Value": value}
               for name, value in (("regionCode", region), *spec.filters)]
    paginator = client.get_paginator("get_products")
    yield from paginator.paginate(ServiceCode=spec.service_code, Filters=filters,
                                  FormatVersion="aws_v1",
                                  PaginationConfig={"PageSize": PAGE_SIZE})


def _complete(spec: TableSpec, prices: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Drop what a lookup could not use alone: half a Fargate rate pair, a reservation whose
    on-demand figure was dropped."""
    if spec.name == "fargate":
        row = prices.get("on_demand", {})
        return prices if {"vcpu_hour", "gb_hour"} <= row.keys() else {}
    on_demand, reserved = spec.sections
    kept = {key: usd for key, usd in prices.get(reserved, {}).items()
            if key in prices.get(on_demand, {})}
    result = {on_demand: prices[on_demand]} if prices.get(on_demand) else {}
    if result and kept:
        result[reserved] = kept
    return result


def _fetch_region(client: Any, fetched: Fetched, region: str) -> None:
    seen: dict[tuple[str, str], set[float]] = defaultdict(set)
    for page in _pages(client, fetched.spec, region):
        fetched.requests += 1
        for item in page.get("PriceList", []):
            product = load_product(item)
            if product is None:
                fetched.unreadable += 1
                continue
            fetched.products += 1
            for section, key, usd in fetched.spec.rows(product):
                seen[(section, key)].add(usd)
    region_prices: dict[str, dict[str, float]] = defaultdict(dict)
    for (section, key), values in seen.items():
        if len(values) > 1:
            fetched.conflicting += 1
            continue
        region_prices[section][key] = values.pop()
    complete = _complete(fetched.spec, region_prices)
    if not complete:
        fetched.empty_regions.append(region)
    for section, row in complete.items():
        fetched.prices.setdefault(section, {})[region] = dict(sorted(row.items()))


def _failure(exc: Exception, spec: TableSpec, region: str) -> RightsizerError:
    if isinstance(exc, NoCredentialsError):
        return RightsizerError("no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID "
                               "(the pricing cache was not changed)")
    code, message = describe_exception(exc)
    hint = " (needs pricing:GetProducts, see `rightsizer iam-policy`)" \
        if "AccessDenied" in code else ""
    message = " ".join(message.split())[:300]  # one line, whatever the service sent
    return RightsizerError(f"AWS Price List API failed for {spec.service_code} in {region}: "
                           f"{code}: {message}{hint}; the pricing cache was not changed")


def fetch_table(client: Any, spec: TableSpec, regions: list[str]) -> Fetched:
    """Every region's prices for one table; any API failure is a RightsizerError."""
    fetched = Fetched(spec)
    for region in regions:
        try:
            _fetch_region(client, fetched, region)
        except AWS_FAILURES as exc:
            raise _failure(exc, spec, region) from None
    return fetched


# --------------------------------------------------------------------------- the cache


def today_utc() -> str:
    return datetime.now(UTC).date().isoformat()


def previous_table(directory: Path, name: str) -> dict[str, Any] | None:
    return read_cached_table(directory / f"{name}.json", name)


def default_regions(spec: TableSpec, directory: Path) -> list[str]:
    """The regions of the embedded table, plus any an earlier refresh added."""
    section = spec.sections[0]
    regions = set(_embedded(spec.name).get(section, {}))
    regions.update((previous_table(directory, spec.name) or {}).get(section, {}))
    return sorted(regions)


def _carried_over(spec: TableSpec, previous: dict[str, Any] | None,
                  fresh: set[str]) -> tuple[Prices, dict[str, str]]:
    """The previous cache's regions not fetched this time, with their own dates."""
    sections: Prices = {section: {} for section in spec.sections}
    dates: dict[str, str] = {}
    if previous is None:
        return sections, dates
    for section in spec.sections:
        for region, row in previous.get(section, {}).items():
            if region not in fresh:
                sections[section][region] = row
                dates[region] = _as_of(previous, region)
    return sections, dates


def build_table(fetched: Fetched, previous: dict[str, Any] | None,
                today: str) -> dict[str, Any] | None:
    """The table to cache, or None when the API returned nothing (the old file stays)."""
    spec = fetched.spec
    fresh = {region for regions in fetched.prices.values() for region in regions}
    if not fresh:
        return None
    sections, dates = _carried_over(spec, previous, fresh)
    for section, regions in fetched.prices.items():
        sections[section].update(regions)
    dates.update(dict.fromkeys(fresh, today))
    return {
        "table": spec.name,
        "source": spec.source,
        "as_of": min(dates.values()),  # the oldest figure in the table
        "note": spec.note,
        "as_of_by_region": dict(sorted(dates.items())),
        **{section: dict(sorted(rows.items())) for section, rows in sections.items() if rows},
    }


def write_table(directory: Path, table: dict[str, Any]) -> Path:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    name = str(table["table"])
    problem = cache_problem(name, table)
    if problem is not None:  # never write what the loader would refuse
        raise RightsizerError(f"refusing to cache an invalid {name} table: {problem}")
    target = directory / f"{name}.json"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise RightsizerError(f"cannot write the pricing cache {directory}: "
                              f"{exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(table, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise RightsizerError(f"cannot write the pricing cache {target}: "
                              f"{exc.strerror or exc}") from None
    return target


# --------------------------------------------------------------------------- the command


@dataclass
class Outcome:
    """One table's refresh, for the summary."""

    fetched: Fetched
    path: Path
    written: bool
    changed: int = 0  # figures that differ from the ones used before
    new: int = 0  # figures there was none for before


def _compare(fetched: Fetched, previous: dict[str, Any] | None) -> tuple[int, int]:
    """(changed, new) against what lookups used before: the old cache, else the embedded."""
    baselines = [table for table in (previous, _embedded(fetched.spec.name)) if table]
    changed = new = 0
    for section, regions in fetched.prices.items():
        for region, row in regions.items():
            for key, usd in row.items():
                old = next((table[section][region][key] for table in baselines
                            if key in table.get(section, {}).get(region, {})), None)
                if old is None:
                    new += 1
                elif abs(float(old) - usd) > 1e-9:
                    changed += 1
    return changed, new


def refresh(clients: AwsClients, directory: Path, regions: list[str] | None = None,
            today: str | None = None) -> list[Outcome]:
    """Fetch every table, then write the ones the API returned prices for."""
    client = clients.client("pricing", PRICING_REGION)
    fetched = [fetch_table(client, spec, regions or default_regions(spec, directory))
               for spec in SPECS]
    date = today or today_utc()
    outcomes: list[Outcome] = []
    for result in fetched:
        previous = previous_table(directory, result.spec.name)
        changed, new = _compare(result, previous)
        table = build_table(result, previous, date)
        path = directory / f"{result.spec.name}.json"
        if table is not None:
            path = write_table(directory, table)
        outcomes.append(Outcome(result, path, table is not None, changed, new))
    return outcomes


def summary_lines(outcomes: list[Outcome]) -> list[str]:
    lines: list[str] = []
    for outcome in outcomes:
        result = outcome.fetched
        head = f"{result.spec.name} ({result.spec.service_code}, {result.requests} requests): "
        if outcome.written:
            regions = {r for section in result.prices.values() for r in section}
            lines.append(head + f"{result.count} prices for {len(regions)} regions "
                         f"({outcome.changed} changed, {outcome.new} new) -> {outcome.path}")
        else:
            lines.append(head + f"no prices returned; {outcome.path} not changed")
        if result.empty_regions and outcome.written:
            lines.append(f"  no prices for {', '.join(result.empty_regions)} (its previous "
                         "figures stay in use)")
        if result.unreadable or result.conflicting:
            lines.append(f"  skipped {result.unreadable} unreadable products and "
                         f"{result.conflicting} figures two products disagreed on")
    spot = _embedded("fargate")["spot"]
    lines.append("Fargate Spot is not in the Price List API: Spot figures stay the embedded "
                 f"ones (as of {spot['observed_as_of']}).")
    total = sum(outcome.fetched.requests for outcome in outcomes)
    lines.append(f"{total} API requests (pricing:GetProducts, {PRICING_REGION}).")
    return lines


def parse_regions(raw: str | None) -> list[str] | None:
    """--regions "us-east-1,eu-west-1" -> a checked list (None: each table's own regions)."""
    if raw is None:
        return None
    from rightsizer.config import known_regions

    regions = list(dict.fromkeys(r.strip().lower() for r in raw.split(",") if r.strip()))
    unknown = [region for region in regions if region not in known_regions()]
    if unknown or not regions:
        raise RightsizerError(f"--regions: unknown region {unknown[0] if unknown else raw!r}")
    return regions


def default_clients() -> AwsClients:
    """The credentials of the usual chain (tests replace this with a stubbed client)."""
    import boto3

    return AwsClients(boto3.Session())
