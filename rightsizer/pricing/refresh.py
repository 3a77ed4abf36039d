"""`rightsizer pricing refresh`: current list prices from the AWS Price List Query API, cached.

One read-only call, pricing:GetProducts (a us-east-1 endpoint that answers for every region),
paged with NextToken, TERM_MATCH filters only. It fetches the figures the rules use: Fargate
on-demand (Linux/x86, Linux/ARM64, Windows/x86), RDS PostgreSQL Single-AZ and ElastiCache Redis
nodes (on-demand and 1-year No Upfront reserved), RDS storage, S3 storage classes and lifecycle
transitions, CloudWatch Logs storage, NAT gateways, public IPv4 addresses and load balancers
(price_list.py tells the products apart). Fargate Spot is not in the Price List API, so Spot
stays the embedded figures.

Everything is fetched before anything is written, so a failed call leaves the cache as it was.
Each table is written atomically (temp file + os.replace). A region the API returned nothing for
keeps its previous cached figures (and their date); one it never had falls back to the embedded
table at lookup time, so a refresh never loses a figure.
"""

from __future__ import annotations

import contextlib
import json
import os
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
from rightsizer.pricing.price_list import (
    Row,
    elasticache_rows,
    elb_rows,
    fargate_rows,
    load_product,
    logs_rows,
    rds_rows,
    rds_storage_rows,
    s3_rows,
    vpc_rows,
)

PRICING_REGION = "us-east-1"  # the Price List Query API endpoint (prices for all regions)
PAGE_SIZE = 100  # GetProducts' maximum MaxResults

Prices = dict[str, dict[str, dict[str, float]]]  # section -> region -> key -> USD
Section = dict[str, dict[str, float]]  # section -> key -> USD, for one region


# --------------------------------------------------------------------------- the tables


@dataclass(frozen=True)
class Query:
    """One GetProducts question asked for each region: a service code and TERM_MATCH filters
    (besides regionCode), as few as tell the products apart server-side."""

    service_code: str
    filters: tuple[tuple[str, str], ...] = ()


def _keep_all(prices: Section) -> Section:
    return prices


@dataclass(frozen=True)
class TableSpec:
    """One cached table: the questions asked for it, and how a product becomes its rows.
    Its products may yield rows into any of the table's sections (CACHE_SECTIONS)."""

    name: str
    queries: tuple[Query, ...]
    rows: Callable[[dict[str, Any]], list[Row]]
    note: str
    complete: Callable[[Section], Section] = _keep_all  # what a lookup could use alone
    # embedded (table, section)s whose regions a refresh without --regions asks for
    default_regions_from: tuple[tuple[str, str], ...] = ()
    baseline: str = ""  # the embedded table its figures replace, when not of the same name

    @property
    def service_code(self) -> str:
        return ", ".join(dict.fromkeys(query.service_code for query in self.queries))

    @property
    def source(self) -> str:
        return f"AWS Price List Query API GetProducts ({self.service_code})"

    @property
    def sections(self) -> tuple[str, ...]:
        return CACHE_SECTIONS[self.name]


def _whole_rows(required: dict[str, set[str]]) -> Callable[[Section], Section]:
    """Keep a section's row only with every rate it is billed on: half a Fargate rate pair (or a
    Windows price without its licence fee) would price a task too low."""
    def complete(prices: Section) -> Section:
        return {section: row for section, row in prices.items()
                if required.get(section, set()) <= row.keys()}
    return complete


def _reservations_with_on_demand(on_demand: str, reserved: str) -> Callable[[Section], Section]:
    """Drop a reservation whose on-demand figure was dropped (its saving has no baseline)."""
    def complete(prices: Section) -> Section:
        kept = {key: usd for key, usd in prices.get(reserved, {}).items()
                if key in prices.get(on_demand, {})}
        result = {section: row for section, row in prices.items()
                  if section not in (on_demand, reserved) and row}
        if prices.get(on_demand):
            result[on_demand] = prices[on_demand]
            if kept:
                result[reserved] = kept
        return result
    return complete


_FETCHED = "Fetched by `rightsizer pricing refresh`; as_of_by_region dates each region's figures."
# The regions an RDS price is tabled for: the refresh asks the newer tables about them too
# (ap-south-1 among them), besides the regions of their own embedded figures.
_RDS_REGIONS = ("rds_postgres", "on_demand_single_az")
SPECS: tuple[TableSpec, ...] = (
    TableSpec("fargate", (Query("AmazonECS"),), fargate_rows,
              "On-demand per vCPU-hour and GB-hour: Linux/x86 (on_demand; usage types "
              "<region>-Fargate-vCPU-Hours:perCPU and <region>-Fargate-GB-Hours), Linux/ARM64 "
              "(linux_arm64; Fargate-ARM-*) and Windows/x86 (windows_x86_64; Fargate-Windows-*, "
              "with the OS licence fee per vCPU-hour, Fargate-Windows-OS-Hours:perCPU). Fargate "
              "Spot is not in the Price List API: Spot figures still come from the embedded "
              "table. " + _FETCHED,
              _whole_rows({"on_demand": {"vcpu_hour", "gb_hour"},
                           "linux_arm64": {"vcpu_hour", "gb_hour"},
                           "windows_x86_64": {"vcpu_hour", "gb_hour", "os_license_vcpu_hour"}}),
              (("fargate", "on_demand"),)),
    TableSpec("rds_postgres",
              (Query("AmazonRDS", (("databaseEngine", "PostgreSQL"),
                                   ("deploymentOption", "Single-AZ"))),), rds_rows,
              "PostgreSQL Single-AZ on-demand hourly and the 1-year No Upfront (standard) "
              "reservation's effective hourly from terms.Reserved. Multi-AZ is Single-AZ x the "
              "embedded multi_az_factor; the derived ratio for classes without a reserved term "
              "comes from the embedded table; storage is the rds_storage table. " + _FETCHED,
              _reservations_with_on_demand("on_demand_single_az",
                                           "reserved_1yr_no_upfront_single_az"),
              (_RDS_REGIONS,)),
    TableSpec("elasticache_redis", (Query("AmazonElastiCache", (("cacheEngine", "Redis"),)),),
              elasticache_rows,
              "Redis node on-demand hourly and the 1-year No Upfront reservation's effective "
              "hourly from terms.Reserved. " + _FETCHED,
              _reservations_with_on_demand("on_demand", "reserved_1yr_no_upfront"),
              (("elasticache_redis", "on_demand"),)),
    TableSpec("rds_storage", (Query("AmazonRDS", (("productFamily", "Database Storage"),)),),
              rds_storage_rows,
              "RDS instance storage per GB-month by volume type (gp2, gp3, io1, io2), Single-AZ "
              "(storage_gb_month_single_az; usage types <region>-RDS:GP2-Storage, GP3-Storage, "
              "PIOPS-Storage, PIOPS-Storage-IO2) and Multi-AZ (storage_gb_month_multi_az; "
              "RDS:Multi-AZ-*), rows whose databaseEngine is Any or PostgreSQL. " + _FETCHED,
              default_regions_from=(_RDS_REGIONS, ("rds_postgres", "storage_gb_month_single_az")),
              baseline="rds_postgres"),
    TableSpec("s3", (Query("AmazonS3", (("productFamily", "Storage"),)),
                     Query("AmazonS3", (("productFamily", "API Request"),)),
                     Query("AmazonS3GlacierDeepArchive")), s3_rows,
              "Storage per GB-month by class, the tier that begins at 0 GB (storage_gb_month: "
              "STANDARD, STANDARD_IA, GLACIER_IR, GLACIER from AmazonS3; DEEP_ARCHIVE from "
              "AmazonS3GlacierDeepArchive), and lifecycle transition requests per 1,000 into "
              "STANDARD_IA and GLACIER (transition_per_1000_requests; operations "
              "S3-SIATransition and S3-GlacierTransition). " + _FETCHED,
              default_regions_from=(_RDS_REGIONS, ("s3", "storage_gb_month"))),
    TableSpec("cloudwatch", (Query("AmazonCloudWatch", (("productFamily", "Storage Snapshot"),)),),
              logs_rows,
              "CloudWatch Logs stored bytes per GB-month, Standard log class (logs_storage; "
              "usage type <region>-TimedStorage-ByteHrs under AmazonCloudWatch). " + _FETCHED,
              default_regions_from=(_RDS_REGIONS, ("cloudwatch", "logs_storage_gb_month"))),
    TableSpec("vpc", (Query("AmazonEC2", (("productFamily", "NAT Gateway"),)), Query("AmazonVPC")),
              vpc_rows,
              "NAT gateway per hour and per GB processed (nat_gateway; usage types "
              "<region>-NatGateway-Hours and -NatGateway-Bytes under AmazonEC2) and one public "
              "IPv4 address in use per hour (public_ipv4; <region>-PublicIPv4:InUseAddress under "
              "AmazonVPC). Region rows only: Local Zone and Outposts rows are not these. "
              + _FETCHED,
              default_regions_from=(_RDS_REGIONS, ("vpc", "nat_gateway"))),
    TableSpec("elb", (Query("AWSELB"),), elb_rows,
              "Application and Network Load Balancer per hour (hourly; <region>-LoadBalancerUsage)"
              " and per LCU / NLCU-hour (capacity_unit_hour; <region>-LCUUsage), told apart by "
              "productFamily Load Balancer-Application / Load Balancer-Network. " + _FETCHED,
              default_regions_from=(_RDS_REGIONS, ("elb", "hourly"))),
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


def _pages(client: Any, query: Query, region: str) -> Iterator[dict[str, Any]]:
    filters = [{"Type": "TERM_MATCH", "Field": name, "Value": value}
               for name, value in (("regionCode", region), *query.filters)]
    paginator = client.get_paginator("get_products")
    yield from paginator.paginate(ServiceCode=query.service_code, Filters=filters,
                                  FormatVersion="aws_v1",
                                  PaginationConfig={"PageSize": PAGE_SIZE})


def _fetch_region(client: Any, fetched: Fetched, region: str) -> None:
    seen: dict[tuple[str, str], set[float]] = defaultdict(set)
    for query in fetched.spec.queries:
        try:
            for page in _pages(client, query, region):
                fetched.requests += 1
                for item in page.get("PriceList", []):
                    product = load_product(item)
                    if product is None:
                        fetched.unreadable += 1
                        continue
                    fetched.products += 1
                    for section, key, usd in fetched.spec.rows(product):
                        seen[(section, key)].add(usd)
        except AWS_FAILURES as exc:
            raise _failure(exc, query.service_code, region) from None
    region_prices: Section = defaultdict(dict)
    for (section, key), values in seen.items():
        if len(values) > 1:
            fetched.conflicting += 1
            continue
        region_prices[section][key] = values.pop()
    complete = fetched.spec.complete(dict(region_prices))
    if not any(complete.values()):
        fetched.empty_regions.append(region)
    for section, row in complete.items():
        if row:
            fetched.prices.setdefault(section, {})[region] = dict(sorted(row.items()))


def _failure(exc: Exception, service_code: str, region: str) -> RightsizerError:
    if isinstance(exc, NoCredentialsError):
        return RightsizerError("no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID "
                               "(the pricing cache was not changed)")
    code, message = describe_exception(exc)
    hint = " (needs pricing:GetProducts, see `rightsizer iam-policy`)" \
        if "AccessDenied" in code else ""
    message = " ".join(message.split())[:300]  # one line, whatever the service sent
    return RightsizerError(f"AWS Price List API failed for {service_code} in {region}: "
                           f"{code}: {message}{hint}; the pricing cache was not changed")


def fetch_table(client: Any, spec: TableSpec, regions: list[str]) -> Fetched:
    """Every region's prices for one table; any API failure is a RightsizerError."""
    fetched = Fetched(spec)
    for region in regions:
        _fetch_region(client, fetched, region)
    return fetched


# --------------------------------------------------------------------------- the cache


def today_utc() -> str:
    return datetime.now(UTC).date().isoformat()


def previous_table(directory: Path, name: str) -> dict[str, Any] | None:
    return read_cached_table(directory / f"{name}.json", name)


def _embedded_or_none(name: str) -> dict[str, Any] | None:
    try:
        return _embedded(name)
    except FileNotFoundError:  # a table only the refresh writes (rds_storage)
        return None


def default_regions(spec: TableSpec, directory: Path) -> list[str]:
    """The regions of the embedded figures the spec names, plus any an earlier refresh added."""
    regions: set[str] = set()
    for table, section in spec.default_regions_from:
        regions.update((_embedded_or_none(table) or {}).get(section, {}))
    previous = previous_table(directory, spec.name) or {}
    for section in spec.sections:
        regions.update(previous.get(section, {}))
    return sorted(regions)


def _carried_over(spec: TableSpec, previous: dict[str, Any] | None,
                  fresh: dict[str, set[str]]) -> tuple[Prices, dict[str, str]]:
    """The previous cache's figures this refresh did not fetch again, section by section (one
    query of a table can answer for a region another returned nothing for), with their dates."""
    sections: Prices = {section: {} for section in spec.sections}
    dates: dict[str, str] = {}
    if previous is None:
        return sections, dates
    for section in spec.sections:
        for region, row in previous.get(section, {}).items():
            if region not in fresh.get(section, set()):
                sections[section][region] = row
                dates[region] = _as_of(previous, region)
    return sections, dates


def build_table(fetched: Fetched, previous: dict[str, Any] | None,
                today: str) -> dict[str, Any] | None:
    """The table to cache, or None when the API returned nothing (the old file stays). A
    region's date is that of its oldest figure: a figure carried over keeps its region's old
    date even beside a fresh one, so nothing is ever dated newer than it is."""
    spec = fetched.spec
    fresh = {section: set(regions) for section, regions in fetched.prices.items() if regions}
    if not fresh:
        return None
    sections, dates = _carried_over(spec, previous, fresh)
    for section, regions in fetched.prices.items():
        sections[section].update(regions)
    for region in set().union(*fresh.values()):
        dates[region] = min(dates.get(region, today), today)
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
    embedded = _embedded_or_none(fetched.spec.baseline or fetched.spec.name)
    # the embedded Fargate table keeps its ARM64 and Windows rates under `platforms`
    nested = (embedded or {}).get("platforms")
    baselines = [table for table in (previous, embedded, nested) if isinstance(table, dict)]
    changed = new = 0
    for section, regions in fetched.prices.items():
        for region, row in regions.items():
            for key, usd in row.items():
                old = next((old_row[key] for table in baselines
                            if isinstance(old_row := table.get(section, {}).get(region), dict)
                            and _is_number(old_row.get(key))), None)
                if old is None:
                    new += 1
                elif abs(float(old) - usd) > 1e-9:
                    changed += 1
    return changed, new


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def summary_lines(outcomes: list[Outcome]) -> list[str]:
    lines: list[str] = []
    for outcome in outcomes:
        result = outcome.fetched
        head = (f"{result.spec.name} ({result.spec.service_code}, "
                f"{_plural(result.requests, 'request')}): ")
        if outcome.written:
            regions = {r for section in result.prices.values() for r in section}
            lines.append(head + f"{_plural(result.count, 'price')} for "
                         f"{_plural(len(regions), 'region')} "
                         f"({outcome.changed} changed, {outcome.new} new) -> {outcome.path}")
        else:
            lines.append(head + f"no prices returned; {outcome.path} not changed")
        if result.empty_regions and outcome.written:
            lines.append(f"  no prices for {', '.join(result.empty_regions)} (the figures "
                         "used before, cached or embedded, stay in use)")
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
