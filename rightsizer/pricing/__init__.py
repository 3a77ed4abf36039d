"""AWS price tables (USD, Linux, on-demand unless stated): embedded, optionally refreshed.

Every figure lives in ``data/*.json`` next to this file, with the ``source`` it was copied from
and the ``as_of`` date it was taken. Nothing here calls AWS: the analyzer is read-only and must
work offline. A figure that could not be sourced is simply absent and every lookup returns
``None`` for it, so callers report "price unknown" instead of guessing.

``rightsizer pricing refresh`` (``refresh.py``) can write newer tables from the AWS Price List
API into a local cache (``cache_dir()``): Fargate (every platform), RDS instances and storage,
ElastiCache, S3, CloudWatch Logs storage, NAT gateways, public IPv4 and load balancers. A valid
cached table is consulted first; anything it lacks (a region, a class, Fargate Spot) still comes
from the embedded table, so a refresh never loses a figure. Each ``Price`` names the table it
came from and its date.

Only RDS ``engine="postgres"`` is tabled; other engines return ``None``.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from rightsizer.pricing.price_list import RDS_STORAGE_USAGE

__all__ = [
    "COST_EXPLORER_USD_PER_REQUEST",
    "bill_rates",
    "GET_METRIC_DATA_USD_PER_1000_METRICS",
    "HOURS_PER_MONTH",
    "Price",
    "CACHE_ENV",
    "CACHE_SECTIONS",
    "all_sources",
    "cache_dir",
    "cache_problem",
    "describe_tables",
    "ecr_storage_gb_month_usd",
    "elb_capacity_unit_hour_usd",
    "elb_hourly_usd",
    "elasticache_hourly_usd",
    "FargateRates",
    "fargate_prices",
    "fargate_hourly_usd",
    "fargate_platform_rates",
    "fargate_rates",
    "known_regions",
    "logs_storage_gb_month_usd",
    "nat_gateway_gb_usd",
    "nat_gateway_hourly_usd",
    "public_ipv4_hourly_usd",
    "rds_classes_in_family",
    "rds_hourly_usd",
    "rds_storage_gb_month_usd",
    "read_cached_table",
    "reload",
    "s3_gb_month_usd",
    "s3_transition_usd_per_1000",
    "secret_month_usd",
]

# AWS's own convention for monthly estimates (pricing pages and calculator use 730 h).
HOURS_PER_MONTH: float = 730.0

# CloudWatch GetMetricData and Cost Explorer API are flat worldwide; sourced in cloudwatch.json.
GET_METRIC_DATA_USD_PER_1000_METRICS: float = 0.01
COST_EXPLORER_USD_PER_REQUEST: float = 0.01

_TABLES = ("fargate", "rds_postgres", "elasticache_redis", "s3", "cloudwatch", "vpc", "ecr")
_TABLES += ("elb", "secretsmanager")  # idle-load-balancer, secrets-unused
_TABLES += ("logs_ingestion", "route53", "cloudfront")  # looked up in pricing/bill_lines.py

log = logging.getLogger("rightsizer")

# Where `rightsizer pricing refresh` writes: a directory, or "off" to ignore any cache.
CACHE_ENV = "RIGHTSIZER_PRICING_CACHE"

# The tables a cache may hold, and their price sections (region -> name -> USD). Everything
# else (Spot, the Multi-AZ factor, the reservation ratio) always comes from the embedded tables.
CACHE_SECTIONS: dict[str, tuple[str, ...]] = {
    "fargate": ("on_demand", "linux_arm64", "windows_x86_64"),
    "rds_postgres": ("on_demand_single_az", "reserved_1yr_no_upfront_single_az"),
    "elasticache_redis": ("on_demand", "reserved_1yr_no_upfront"),
    "rds_storage": ("storage_gb_month_single_az", "storage_gb_month_multi_az"),
    "s3": ("storage_gb_month", "transition_per_1000_requests"),
    "cloudwatch": ("logs_storage",),
    "vpc": ("nat_gateway", "public_ipv4"),
    "elb": ("hourly", "capacity_unit_hour"),
}
# An embedded table some of whose figures a cached table of another name refreshes.
_REFRESHED_BY: dict[str, tuple[str, ...]] = {"rds_postgres": ("rds_postgres", "rds_storage")}

# Ordered small -> large so callers can step down one size at a time.
_SIZE_ORDER = ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge",
               "8xlarge", "12xlarge", "16xlarge", "24xlarge")

# Families we carry prices for; the list is fixed so ordering doesn't depend on the JSON.
_RDS_FAMILIES: dict[str, tuple[str, ...]] = {
    "db.t3": ("micro", "small", "medium", "large", "xlarge", "2xlarge"),
    "db.t4g": ("micro", "small", "medium", "large", "xlarge", "2xlarge"),
    "db.m5": ("large", "xlarge", "2xlarge", "4xlarge"),
    "db.m6g": ("large", "xlarge", "2xlarge", "4xlarge"),
    "db.r5": ("large", "xlarge", "2xlarge", "4xlarge"),
    "db.r6g": ("large", "xlarge", "2xlarge", "4xlarge"),
}

_ON_DEMAND = "on-demand"
_RI_1YR_NO_UPFRONT = "1yr-no-upfront"


@dataclass(frozen=True)
class Price:
    """One looked-up figure with where it came from (for report footers and audits).

    `name` is the rate's key in a finding's `pricing.rates` ("fargate_vcpu_hour_usd"),
    `usage` the Cost Explorer usage type it bills as, without the region's billing code
    ("Fargate-vCPU-Hours:perCPU"; "" where the rate has no usage type of its own, a
    reservation not yet bought), so the account's own rate can replace it
    (rightsizer.pricing.account). Neither takes part in equality."""

    usd: float
    unit: str
    source: str
    as_of: str
    name: str = field(default="", compare=False)
    usage: str = field(default="", compare=False)
    region: str = field(default="", compare=False)
    table: str = field(default="", compare=False)
    # the account's own rate from Cost Explorer, standing in where no table has a figure
    from_bill: bool = field(default=False, compare=False)


def _named(price: Price | None, table: str, name: str, usage: str, region: str) -> Price | None:
    if price is None and usage and _bill_rates:
        price = _bill_rates[-1](_norm_region(region), usage)
    return None if price is None else replace(price, name=name, usage=usage,
                                              region=_norm_region(region), table=table)


# (region, meter) -> the rate the accounts of this run paid for it, when no table has one
BillRates = Callable[[str, str], "Price | None"]
_bill_rates: list[BillRates] = []


@contextmanager
def bill_rates(lookup: BillRates) -> Iterator[None]:
    """While rules run: a lookup no table answers for a region falls back to what the run's
    accounts paid for that usage type last month (AccountRates.bill_price), named as such."""
    _bill_rates.append(lookup)
    try:
        yield
    finally:
        _bill_rates.pop()


_pinned: list[Path | None] = []


@contextmanager
def pinned_cache_dir() -> Iterator[None]:
    """Resolve the cache location once for a whole analysis: rules ask for tens of thousands
    of prices, and reading the environment for each was a tenth of a large run."""
    _pinned.append(cache_dir())
    try:
        yield
    finally:
        _pinned.pop()


def cache_dir() -> Path | None:
    """$RIGHTSIZER_PRICING_CACHE, else $XDG_CACHE_HOME/rightsizer/pricing (None when "off")."""
    if _pinned:
        return _pinned[-1]
    return _cache_dir_for(os.environ.get(CACHE_ENV, ""), os.environ.get("XDG_CACHE_HOME", ""),
                          os.environ.get("HOME", ""))


@cache
def _cache_dir_for(override: str, xdg_cache_home: str, home: str) -> Path | None:
    override = override.strip()
    if override.lower() == "off":
        return None
    if override:
        return Path(override).expanduser()
    base = xdg_cache_home or str(Path(home).expanduser() if home else Path.home()) + "/.cache"
    return Path(base) / "rightsizer" / "pricing"


# functools.cache is lru_cache(maxsize=None): the tables are tiny and immutable.
@cache
def _embedded(name: str) -> dict[str, Any]:
    # importlib.resources works both from a source checkout and from an installed wheel.
    text = resources.files(__package__).joinpath("data", f"{name}.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _is_price(value: Any) -> bool:
    # bool is an int to Python; a cached `true` must not become $1.
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)


def cache_problem(name: str, data: Any) -> str | None:
    """Why a cached table must not be used (None when it is fine)."""
    if name not in CACHE_SECTIONS:
        return f"{name!r} is not a refreshable table"
    if not isinstance(data, dict) or data.get("table") != name:
        return f"not a {name} table"
    for key in ("source", "as_of"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            return f"no {key}"
    sections = [key for key in CACHE_SECTIONS[name] if key in data]
    if not sections:
        return "no prices"
    for key in sections:
        regions = data[key]
        if not isinstance(regions, dict) or not all(
                isinstance(row, dict) and all(_is_price(usd) for usd in row.values())
                for row in regions.values()):
            return f"{key} is not region -> name -> positive USD"
    dates = data.get("as_of_by_region", {})
    if not isinstance(dates, dict) or not all(isinstance(d, str) for d in dates.values()):
        return "as_of_by_region is not region -> date"
    return None


def read_cached_table(path: Path, name: str) -> dict[str, Any] | None:
    """A cached table if the file exists and is valid; a damaged one is ignored, with a warning."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring the cached price table %s: %s", path, exc)
        return None
    problem = cache_problem(name, data)
    if problem is not None:
        log.warning("ignoring the cached price table %s: %s", path, problem)
        return None
    return data


@cache
def _cached_in(directory: Path, name: str) -> dict[str, Any] | None:
    return read_cached_table(directory / f"{name}.json", name)


def _cached(name: str) -> dict[str, Any] | None:
    # Keyed by directory, so a changed RIGHTSIZER_PRICING_CACHE / XDG_CACHE_HOME is honoured.
    directory = cache_dir()
    if name not in CACHE_SECTIONS or directory is None:
        return None
    return _cached_in(directory, name)


def _layers(name: str) -> tuple[dict[str, Any], ...]:
    """The tables to consult, in order: the refreshed cache (if valid), then the embedded one."""
    cached = _cached(name)
    embedded = _embedded(name)
    return (cached, embedded) if cached is not None else (embedded,)


def reload() -> None:
    """Forget loaded tables (after a refresh, or when a test points the cache elsewhere)."""
    _embedded.cache_clear()
    _cached_in.cache_clear()
    for lookup in (_fargate_rates, _fargate_platform_rates, _rds_hourly, _elasticache_hourly,
                   _s3_gb_month, _logs_storage_gb_month, _ecr_storage_gb_month, _rds_storage):
        lookup.cache_clear()


def _setting(name: str, key: str) -> Any:
    """A non-price setting (factor, ratio, Spot, their sources): a refresh never writes these,
    so they always come from the embedded table (a hand-edited cache cannot change them)."""
    return _embedded(name)[key]


def _figure(table: dict[str, Any], section: str, region: str, key: str) -> float | None:
    value = table.get(section, {}).get(region, {}).get(key)
    return None if value is None else float(value)


def _as_of(table: dict[str, Any], region: str) -> str:
    # A refreshed table may carry regions fetched on different days.
    return str(table.get("as_of_by_region", {}).get(region, table["as_of"]))


def _norm_region(region: str) -> str:
    return region.strip().lower()


def _cached_price(name: str, section: str, region: str, key: str, unit: str) -> Price | None:
    """The refreshed figure, with the cached table's source and that region's date."""
    table = _cached(name)
    usd = None if table is None else _figure(table, section, region, key)
    if table is None or usd is None:
        return None
    return Price(usd, unit, table["source"], _as_of(table, region))


# --------------------------------------------------------------------------- Fargate


def known_regions() -> list[str]:
    """Regions with Fargate on-demand prices."""
    return sorted({region for table in _layers("fargate")
                   for region in table.get("on_demand", {})})


def _fargate_on_demand(region: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(table, {vcpu_hour, gb_hour}) from the first table with both rates for the region."""
    for table in _layers("fargate"):
        row = table.get("on_demand", {}).get(region)
        if row and "vcpu_hour" in row and "gb_hour" in row:
            return table, row
    return None


def fargate_rates(region: str, *, spot: bool = False) -> tuple[Price, Price] | None:
    """(per vCPU-hour, per GB-hour) for Linux/x86 Fargate, or None if the region is unknown.

    Spot prices float; an observed snapshot is used where we have one, otherwise the documented
    "up to 70%" discount is applied to on-demand (an optimistic ceiling, stated in the source).
    Spot is not in the AWS Price List API, so its figures always come from the embedded table.
    """
    # asked for every candidate size of every service: answered once per table layout
    return _fargate_rates(cache_dir(), region, spot)


_FARGATE_USAGE = {  # (os, arch, spot) -> the usage types' middle, as Cost Explorer writes them
    ("LINUX", "X86_64", False): "Fargate-", ("LINUX", "ARM64", False): "Fargate-ARM-",
    ("WINDOWS", "X86_64", False): "Fargate-Windows-",
    ("LINUX", "X86_64", True): "SpotUsage-Fargate-", ("LINUX", "ARM64", True):
    "SpotUsage-Fargate-ARM-"}


def fargate_prices(region: str, *, os_kind: str = "LINUX", arch: str = "X86_64",
                   spot: bool = False) -> tuple[Price, ...]:
    """The rates a task of this platform is billed on (vCPU, GB, and Windows' OS licence),
    each named with its usage type; () where the platform has no figure for the region."""
    os_kind, arch = os_kind.strip().upper(), arch.strip().upper()
    rates = fargate_platform_rates(region, os_kind=os_kind, arch=arch, spot=spot)
    if rates is None:
        return ()
    middle = _FARGATE_USAGE.get((os_kind, arch, spot), "")
    tag = ("spot_" if spot else "") + {"X86_64": "", "ARM64": "arm_"}.get(arch, "") + (
        "windows_" if os_kind == "WINDOWS" else "")
    found = [_named(rates.vcpu, "fargate", f"fargate_{tag}vcpu_hour_usd",
                    f"{middle}vCPU-Hours:perCPU" if middle else "", region),
             _named(rates.gb, "fargate", f"fargate_{tag}gb_hour_usd",
                    f"{middle}GB-Hours" if middle else "", region),
             _named(rates.os_license, "fargate", f"fargate_{tag}os_license_vcpu_hour_usd",
                    "Fargate-Windows-OS-Hours:perCPU", region)]
    return tuple(price for price in found if price is not None)


@cache
def _fargate_rates(directory: Path | None, region: str, spot: bool
                   ) -> tuple[Price, Price] | None:
    region = _norm_region(region)
    found = _fargate_on_demand(region)
    if found is None:
        return None
    table, od = found
    if not spot:
        src, as_of = table["source"], _as_of(table, region)
        return (Price(float(od["vcpu_hour"]), "vCPU-hour", src, as_of),
                Price(float(od["gb_hour"]), "GB-hour", src, as_of))
    spot_tbl = _setting("fargate", "spot")
    observed = spot_tbl["observed"].get(region)
    if observed is not None:
        src, as_of = spot_tbl["observed_source"], spot_tbl["observed_as_of"]
        return (Price(float(observed["vcpu_hour"]), "vCPU-hour", src, as_of),
                Price(float(observed["gb_hour"]), "GB-hour", src, as_of))
    keep = 1.0 - float(spot_tbl["discount_fraction"])
    src = (f"on-demand x (1 - {spot_tbl['discount_fraction']}) per {spot_tbl['discount_source']}; "
           f"on-demand: {table['source']}")
    as_of = _as_of(table, region)
    return (Price(float(od["vcpu_hour"]) * keep, "vCPU-hour", src, as_of),
            Price(float(od["gb_hour"]) * keep, "GB-hour", src, as_of))


def fargate_hourly_usd(region: str, cpu_units: int, memory_mib: int, *,
                       spot: bool = False, os_kind: str = "LINUX",
                       arch: str = "X86_64") -> float | None:
    """Hourly cost of one task; cpu_units 1024 = 1 vCPU, memory_mib 1024 = 1 GB. `os_kind` is
    LINUX or WINDOWS, `arch` X86_64 or ARM64 (as rightsizer.rules.support.fargate_sizes names
    them). None when
    the platform has no figure for the region (or, for Windows, Spot): never another platform's."""
    rates = fargate_platform_rates(region, os_kind=os_kind, arch=arch, spot=spot)
    return None if rates is None else rates.hourly(cpu_units, memory_mib)


@dataclass(frozen=True)
class FargateRates:
    """The per-hour rates one Fargate task is billed on, for one platform in one region."""

    vcpu: Price
    gb: Price
    os_license: Price | None = None  # Windows: an OS licence fee per vCPU-hour

    def hourly(self, cpu_units: int, memory_mib: int) -> float:
        vcpus = cpu_units / 1024.0
        licence = self.os_license.usd * vcpus if self.os_license is not None else 0.0
        return self.vcpu.usd * vcpus + self.gb.usd * (memory_mib / 1024.0) + licence


def fargate_platform_rates(region: str, *, os_kind: str = "LINUX", arch: str = "X86_64",
                           spot: bool = False) -> FargateRates | None:
    """Rates for a platform: Linux/x86 from the on-demand table and its Spot figures;
    Linux/ARM64 and Windows/x86 from a refreshed cache's `linux_arm64` / `windows_x86_64`
    sections, else the embedded `platforms` section, for the regions with a sourced figure.
    Windows has no Spot (Fargate Spot does not run Windows tasks:
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html);
    Windows on ARM64 does not exist (cpuArchitecture must be X86_64 for Windows)."""
    return _fargate_platform_rates(cache_dir(), _norm_region(region), os_kind.strip().upper(),
                                   arch.strip().upper(), spot)


def _platform_row(region: str, section: str) -> tuple[dict[str, Any], str, str] | None:
    """(rates, source, as_of) of an ARM64 or Windows platform: the refreshed cache's section,
    else the embedded `platforms` one. A Windows row without its licence fee is no row (the
    price would be too low)."""
    needed = {"vcpu_hour", "gb_hour"} | (
        {"os_license_vcpu_hour"} if section == "windows_x86_64" else set())
    cached = _cached("fargate")
    row = None if cached is None else cached.get(section, {}).get(region)
    if cached is not None and isinstance(row, dict) and needed <= row.keys():
        return row, f"{cached['source']} ({section})", _as_of(cached, region)
    platforms = _setting("fargate", "platforms")
    row = platforms.get(section, {}).get(region)
    if not row or not needed <= row.keys():
        return None
    return row, f"{platforms['source']} ({section})", str(platforms["as_of"])


@cache
def _fargate_platform_rates(directory: Path | None, region: str, os_kind: str, arch: str,
                            spot: bool) -> FargateRates | None:
    if (os_kind, arch) == ("LINUX", "X86_64"):
        rates = _fargate_rates(directory, region, spot)
        return None if rates is None else FargateRates(*rates)
    section = {("LINUX", "ARM64"): "linux_arm64", ("WINDOWS", "X86_64"): "windows_x86_64"}.get(
        (os_kind, arch))
    if section is None or (spot and os_kind == "WINDOWS"):
        return None
    found = _platform_row(region, section)
    if found is None:
        return None
    row, src, as_of = found
    keep = 1.0
    if spot:
        spot_tbl = _setting("fargate", "spot")
        keep = 1.0 - float(spot_tbl["discount_fraction"])
        src = (f"DERIVED {section} on-demand x (1 - {spot_tbl['discount_fraction']}) per "
               f"{spot_tbl['discount_source']}; on-demand: {src}")
    licence = row.get("os_license_vcpu_hour")
    return FargateRates(
        Price(float(row["vcpu_hour"]) * keep, "vCPU-hour", src, as_of),
        Price(float(row["gb_hour"]) * keep, "GB-hour", src, as_of),
        None if licence is None else Price(float(licence), "vCPU-hour (OS licence)", src, as_of),
    )


# --------------------------------------------------------------------------- RDS


def rds_classes_in_family(family: str) -> list[str]:
    """e.g. "db.t3" -> ["db.t3.micro", ..., "db.t3.2xlarge"], small -> large; [] if unknown."""
    family = family.strip().lower()
    sizes = _RDS_FAMILIES.get(family, ())
    ordered = sorted(sizes, key=_SIZE_ORDER.index)
    return [f"{family}.{size}" for size in ordered]


def _is_postgres(engine: str) -> bool:
    return engine.strip().lower() in {"postgres", "postgresql"}


def _rds_on_demand(region: str, cls: str, multi_az: bool
                   ) -> tuple[float, str, dict[str, Any]] | None:
    """(usd, source, table) from the first table that prices the class in the region."""
    for table in _layers("rds_postgres"):
        single = _figure(table, "on_demand_single_az", region, cls)
        if not multi_az:
            if single is not None:
                return single, table["source"], table
            continue
        explicit = _figure(table, "on_demand_multi_az", region, cls)
        if explicit is not None:
            return explicit, table["source"], table
        if single is not None:
            # AWS bills primary + standby; factor and its citation are in the JSON note.
            factor = float(_setting("rds_postgres", "multi_az_factor"))
            return (single * factor,
                    f"{table['source']} (Multi-AZ = Single-AZ x {factor}; see note)", table)
    return None


def _rds_reserved(region: str, cls: str, multi_az: bool, on_demand: float, source: str,
                  table: dict[str, Any]) -> tuple[float, str, str]:
    """(usd, source, as_of) of a 1-year No Upfront reservation, priced from the same table as
    the on-demand figure so the saving compares like with like."""
    as_of = _as_of(table, region)
    explicit = _figure(table, "reserved_1yr_no_upfront_single_az", region, cls)
    if explicit is not None:
        if not multi_az:
            return explicit, f"{table['source']} (1-year No Upfront reserved)", as_of
        factor = float(_setting("rds_postgres", "multi_az_factor"))
        return (explicit * factor, f"{table['source']} (1-year No Upfront reserved; "
                f"Multi-AZ = Single-AZ x {factor}; see note)", as_of)
    discount = float(_setting("rds_postgres", "ri_1yr_no_upfront_discount"))
    ri_source = _setting("rds_postgres", "ri_source")
    return (on_demand * (1.0 - discount),
            f"DERIVED on-demand x (1 - {discount}): {ri_source}; on-demand: {source}",
            f"{as_of} (ratio {_setting('rds_postgres', 'ri_as_of')})")


def rds_hourly_usd(region: str, instance_class: str, *, multi_az: bool, engine: str = "postgres",
                   term: str = _ON_DEMAND) -> Price | None:
    """Hourly price of an RDS PostgreSQL instance.

    term "1yr-no-upfront" is the effective hourly rate of a 1-year No Upfront reservation: the
    refreshed per-class figure when the cache has one, else on-demand x the documented discount.
    Returns None for other engines, unknown regions/classes, or unknown terms.
    """
    # asked for every database and candidate class: answered once per table layout
    price = _rds_hourly(cache_dir(), region, instance_class, multi_az, engine, term)
    cls = instance_class.strip().lower()
    if term != _ON_DEMAND:  # a reservation to buy has no usage of its own yet
        return _named(price, "rds_postgres", "rds_reserved_1yr_hour_usd", "", region)
    usage = f"{'Multi-AZUsage' if multi_az else 'InstanceUsage'}:{cls}"
    return _named(price, "rds_postgres", "rds_instance_hour_usd", usage, region)


@cache
def _rds_hourly(directory: Path | None, region: str, instance_class: str, multi_az: bool,
                engine: str, term: str) -> Price | None:
    if not _is_postgres(engine) or term not in (_ON_DEMAND, _RI_1YR_NO_UPFRONT):
        return None
    region = _norm_region(region)
    cls = instance_class.strip().lower()
    found = _rds_on_demand(region, cls, multi_az)
    if found is None:
        return None
    usd, source, table = found
    if term == _ON_DEMAND:
        return Price(round(usd, 6), "hour", source, _as_of(table, region))
    usd, source, as_of = _rds_reserved(region, cls, multi_az, usd, source, table)
    return Price(round(usd, 6), "hour", source, as_of)


def rds_storage_gb_month_usd(region: str, storage_type: str, *, multi_az: bool) -> Price | None:
    """Storage per GB-month of a volume type (gp2, gp3, io1, io2): a refreshed explicit
    Multi-AZ figure when there is one, else Single-AZ x the Multi-AZ factor (Multi-AZ
    provisions the volume twice)."""
    kind = storage_type.strip().lower()
    found = _rds_storage(cache_dir(), _norm_region(region), kind, multi_az)
    price, table = found if found is not None else (None, "rds_postgres")
    meter = RDS_STORAGE_USAGE.get(kind, f"{kind.upper()}-Storage")
    usage = f"RDS:{'Multi-AZ-' if multi_az else ''}{meter}"
    return _named(price, table, f"rds_{kind}_storage_gb_month_usd", usage, region)


@cache
def _rds_storage(directory: Path | None, region: str, kind: str, multi_az: bool
                 ) -> tuple[Price, str] | None:
    factor = float(_setting("rds_postgres", "multi_az_factor"))
    cached = _cached("rds_storage")
    if cached is not None:
        as_of = _as_of(cached, region)
        explicit = _figure(cached, "storage_gb_month_multi_az", region, kind) if multi_az else None
        if explicit is not None:
            return Price(explicit, "GB-month", cached["source"], as_of), "rds_storage"
        single = _figure(cached, "storage_gb_month_single_az", region, kind)
        if single is not None:
            source = cached["source"] + (f" (Multi-AZ = Single-AZ x {factor})" if multi_az else "")
            return (Price(single * (factor if multi_az else 1.0), "GB-month", source, as_of),
                    "rds_storage")
    table = _embedded("rds_postgres")
    usd = table["storage_gb_month_single_az"].get(region, {}).get(kind)
    if usd is None:
        return None
    return (Price(float(usd) * (factor if multi_az else 1.0), "GB-month", table["storage_source"],
                  table["storage_as_of"]), "rds_postgres")


# --------------------------------------------------------------------------- ElastiCache


def elasticache_hourly_usd(region: str, node_type: str, *, term: str = _ON_DEMAND) -> Price | None:
    """Hourly price of one ElastiCache Redis node (on-demand or 1-year No Upfront effective)."""
    price = _elasticache_hourly(cache_dir(), region, node_type, term)
    if term != _ON_DEMAND:
        return _named(price, "elasticache_redis", "elasticache_reserved_1yr_hour_usd", "",
                      region)
    return _named(price, "elasticache_redis", "elasticache_node_hour_usd",
                  f"NodeUsage:{node_type.strip().lower()}", region)


@cache
def _elasticache_hourly(directory: Path | None, region: str, node_type: str, term: str
                        ) -> Price | None:
    if term not in (_ON_DEMAND, _RI_1YR_NO_UPFRONT):
        return None
    region, node = _norm_region(region), node_type.strip().lower()
    layers = _layers("elasticache_redis")
    found = next(((table, usd) for table in layers
                  if (usd := _figure(table, "on_demand", region, node)) is not None), None)
    if found is None:
        return None
    od_table, on_demand = found
    if term == _ON_DEMAND:
        return Price(on_demand, "hour", od_table["source"], _as_of(od_table, region))
    # The reservation comes from the on-demand figure's own table when it has one; an older
    # table's figure is used only if it is still below that on-demand price.
    for table in (od_table, *(t for t in layers if t is not od_table)):
        usd = _figure(table, "reserved_1yr_no_upfront", region, node)
        if usd is not None and (table is od_table or usd < on_demand):
            return Price(usd, "hour", table["source"], _as_of(table, region))
    return None


# --------------------------------------------------------------------------- S3


def s3_gb_month_usd(region: str, storage_class: str) -> Price | None:
    """Storage per GB-month (first 50 TB tier); storage_class is case-insensitive."""
    cls = storage_class.strip().upper()
    return _named(_s3_gb_month(cache_dir(), region, storage_class), "s3",
                  f"s3_{cls.lower()}_gb_month_usd", S3_STORAGE_USAGE.get(cls, ""), region)


# S3 storage usage types by class, tagged "s3:" because CloudWatch Logs bills stored bytes as
# TimedStorage-ByteHrs too: https://docs.aws.amazon.com/AmazonS3/latest/userguide/aws-usage-report-understand.html
S3_STORAGE_USAGE = {
    "STANDARD": "s3:TimedStorage-ByteHrs", "STANDARD_IA": "s3:TimedStorage-SIA-ByteHrs",
    "GLACIER": "s3:TimedStorage-GlacierByteHrs", "GLACIER_IR": "s3:TimedStorage-GIR-ByteHrs",
    "DEEP_ARCHIVE": "s3:TimedStorage-GDA-ByteHrs"}
LOGS_STORAGE_USAGE = "logs:TimedStorage-ByteHrs"
ECR_STORAGE_USAGE = "ecr:TimedStorage-ByteHrs"  # image storage bills stored bytes the same way


@cache
def _s3_gb_month(directory: Path | None, region: str, storage_class: str) -> Price | None:
    return _s3_figure("storage_gb_month", region, storage_class, "GB-month")


def _s3_figure(section: str, region: str, storage_class: str, unit: str) -> Price | None:
    region, cls = _norm_region(region), storage_class.strip().upper()
    for table in _layers("s3"):
        usd = _figure(table, section, region, cls)
        if usd is not None:
            return Price(usd, unit, table["source"], _as_of(table, region))
    return None


def s3_transition_usd_per_1000(region: str, storage_class: str) -> Price | None:
    """Lifecycle transition request price per 1,000 requests into STANDARD_IA or GLACIER."""
    return _s3_figure("transition_per_1000_requests", region, storage_class, "1000 requests")


# --------------------------------------------------------------------------- CloudWatch


def logs_storage_gb_month_usd(region: str) -> Price | None:
    """CloudWatch Logs stored (archival) bytes per GB-month."""
    return _named(_logs_storage_gb_month(cache_dir(), region), "cloudwatch",
                  "logs_storage_gb_month_usd", LOGS_STORAGE_USAGE, region)


@cache
def _logs_storage_gb_month(directory: Path | None, region: str) -> Price | None:
    region = _norm_region(region)
    refreshed = _cached_price("cloudwatch", "logs_storage", region, "standard", "GB-month")
    if refreshed is not None:
        return refreshed
    table = _embedded("cloudwatch")
    usd = table["logs_storage_gb_month"].get(region)
    if usd is None:
        return None
    return Price(float(usd), "GB-month", table["source"], table["as_of"])


# --------------------------------------------------------------------------- VPC


def public_ipv4_hourly_usd(region: str) -> Price | None:
    """One public IPv4 address (Elastic IP or auto-assigned) in use per hour, billed since
    2024-02-01: the refreshed regional figure, else the one rate AWS announced for every
    commercial Region; None where it is not tabled (China)."""
    table = _embedded("vpc")
    region = _norm_region(region)
    price = _cached_price("vpc", "public_ipv4", region, "in_use_hour", "IP-hour")
    if price is None:
        if not region or any(region.startswith(prefix)
                             for prefix in table["public_ipv4_excluded_region_prefixes"]):
            return None
        price = Price(float(table["public_ipv4_hour_usd"]), "IP-hour",
                      table["public_ipv4_source"], table["public_ipv4_as_of"])
    return _named(price, "vpc", "public_ipv4_hour_usd", "PublicIPv4:InUseAddress", region)


def _nat_gateway(region: str, key: str, unit: str) -> Price | None:
    price = _cached_price("vpc", "nat_gateway", _norm_region(region), key, unit)
    if price is None:
        table = _embedded("vpc")
        usd = table["nat_gateway"].get(_norm_region(region), {}).get(key)
        if usd is not None:
            price = Price(float(usd), unit, table["nat_gateway_source"],
                          table["nat_gateway_as_of"])
    usage = {"hour": "NatGateway-Hours", "gb_processed": "NatGateway-Bytes"}[key]
    return _named(price, "vpc", f"nat_gateway_{key}_usd", usage, region)


def nat_gateway_hourly_usd(region: str) -> Price | None:
    """A NAT gateway per hour it exists (traffic or not); None where no figure is sourced."""
    return _nat_gateway(region, "hour", "NAT gateway-hour")


def nat_gateway_gb_usd(region: str) -> Price | None:
    """Data processed by a NAT gateway, per GB (either direction)."""
    return _nat_gateway(region, "gb_processed", "GB processed")


# --------------------------------------------------------------------------- ECR


def ecr_storage_gb_month_usd(region: str) -> Price | None:
    """ECR private repository storage per GB-month; None for a region without a figure."""
    return _named(_ecr_storage_gb_month(_norm_region(region)), "ecr",
                  "ecr_storage_gb_month_usd", ECR_STORAGE_USAGE, region)


@cache
def _ecr_storage_gb_month(region: str) -> Price | None:
    table = _embedded("ecr")  # not refreshed: always the embedded figures
    usd = table["storage_gb_month"].get(region)
    if usd is None:
        return None
    return Price(float(usd), "GB-month", table["source"], table["as_of"])


# --------------------------------------------------------------------------- ELB, Secrets Manager


def _elb_price(section: str, region: str, lb_type: str, unit: str) -> Price | None:
    region, lb_type = _norm_region(region), lb_type.strip().lower()
    price = _cached_price("elb", section, region, lb_type, unit)
    if price is not None:
        return price
    table = _embedded("elb")
    usd = table[section].get(region, {}).get(lb_type)
    return None if usd is None else Price(float(usd), unit, table["source"], table["as_of"])


def elb_hourly_usd(region: str, lb_type: str) -> Price | None:
    """The hourly charge of one load balancer ("application" or "network", as
    DescribeLoadBalancers' Type names them); None where no figure is sourced."""
    return _named(_elb_price("hourly", region, lb_type, "hour"), "elb",
                  f"elb_{lb_type.strip().lower()}_hour_usd", "", region)


def elb_capacity_unit_hour_usd(region: str, lb_type: str) -> Price | None:
    """Price of one LCU-hour (application) or NLCU-hour (network)."""
    unit = "LCU-hour" if lb_type.strip().lower() == "application" else "NLCU-hour"
    return _named(_elb_price("capacity_unit_hour", region, lb_type, unit), "elb",
                  f"elb_{unit.split('-')[0].lower()}_hour_usd", "", region)


def _secret_month(region: str) -> float | None:
    usd = _embedded("secretsmanager")["secret_month"].get(_norm_region(region))
    return None if usd is None else float(usd)


def secret_month_usd(region: str) -> Price | None:
    """One Secrets Manager secret (or replica) per month; None where no figure is sourced."""
    usd = _secret_month(region)
    table = _embedded("secretsmanager")
    return None if usd is None else _named(
        Price(usd, "secret-month", table["source"], table["as_of"]), "secretsmanager",
        "secret_month_usd", "", region)


# --------------------------------------------------------------------------- provenance


def all_sources() -> list[dict[str, str]]:
    """One row per table in use (a refreshed table, then the embedded one it falls back to)."""
    rows: list[dict[str, str]] = []
    for name in _TABLES:
        for cached_name in _REFRESHED_BY.get(name, (name,)):
            cached = _cached(cached_name)
            if cached is not None:
                rows.append({"table": cached_name, "source": cached["source"],
                             "as_of": cached["as_of"], "origin": "cache"})
        embedded = _embedded(name)
        rows.append({"table": name, "source": embedded["source"], "as_of": embedded["as_of"],
                     "origin": "embedded"})
    return rows


def describe_tables() -> list[dict[str, str]]:
    """all_sources() plus where each table was read from (for `rightsizer pricing show`)."""
    directory = cache_dir()
    rows = all_sources()
    for row in rows:
        if row["origin"] == "cache" and directory is not None:
            row["location"] = str(directory / f"{row['table']}.json")
        else:
            row["location"] = f"embedded (rightsizer/pricing/data/{row['table']}.json)"
    return rows


# A finding's price record (imported last: basis.py names Price only for type checking).
from rightsizer.pricing.basis import PriceBasis, basis  # noqa: E402

__all__ += ["PriceBasis", "basis"]
