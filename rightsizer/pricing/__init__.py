"""Embedded AWS price tables (USD, Linux, on-demand unless stated).

Every figure lives in ``data/*.json`` next to this file, with the ``source`` it was copied from
and the ``as_of`` date it was taken. Nothing here calls AWS: the analyzer is read-only and must
work offline. A figure that could not be sourced is simply absent and every lookup returns
``None`` for it, so callers report "price unknown" instead of guessing.

Only RDS ``engine="postgres"`` is tabled; other engines return ``None``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "COST_EXPLORER_USD_PER_REQUEST",
    "GET_METRIC_DATA_USD_PER_1000_METRICS",
    "HOURS_PER_MONTH",
    "Price",
    "all_sources",
    "elasticache_hourly_usd",
    "fargate_hourly_usd",
    "fargate_rates",
    "known_regions",
    "logs_storage_gb_month_usd",
    "rds_classes_in_family",
    "rds_hourly_usd",
    "rds_storage_gb_month_usd",
    "s3_gb_month_usd",
    "s3_transition_usd_per_1000",
]

# AWS's own convention for monthly estimates (pricing pages and calculator use 730 h).
HOURS_PER_MONTH: float = 730.0

# CloudWatch GetMetricData and Cost Explorer API are flat worldwide; sourced in cloudwatch.json.
GET_METRIC_DATA_USD_PER_1000_METRICS: float = 0.01
COST_EXPLORER_USD_PER_REQUEST: float = 0.01

_TABLES = ("fargate", "rds_postgres", "elasticache_redis", "s3", "cloudwatch")

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
    """One looked-up figure with where it came from (for report footers and audits)."""

    usd: float
    unit: str
    source: str
    as_of: str


# functools.cache is lru_cache(maxsize=None): the tables are tiny and immutable.
@cache
def _table(name: str) -> dict[str, Any]:
    # importlib.resources works both from a source checkout and from an installed wheel.
    text = resources.files(__package__).joinpath("data", f"{name}.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _norm_region(region: str) -> str:
    return region.strip().lower()


# --------------------------------------------------------------------------- Fargate


def known_regions() -> list[str]:
    """Regions with Fargate on-demand prices."""
    return sorted(_table("fargate")["on_demand"])


def fargate_rates(region: str, *, spot: bool = False) -> tuple[Price, Price] | None:
    """(per vCPU-hour, per GB-hour) for Linux/x86 Fargate, or None if the region is unknown.

    Spot prices float; an observed snapshot is used where we have one, otherwise the documented
    "up to 70%" discount is applied to on-demand (an optimistic ceiling, stated in the source).
    """
    table = _table("fargate")
    region = _norm_region(region)
    od = table["on_demand"].get(region)
    if od is None:
        return None
    if not spot:
        src, as_of = table["source"], table["as_of"]
        return (Price(float(od["vcpu_hour"]), "vCPU-hour", src, as_of),
                Price(float(od["gb_hour"]), "GB-hour", src, as_of))
    spot_tbl = table["spot"]
    observed = spot_tbl["observed"].get(region)
    if observed is not None:
        src, as_of = spot_tbl["observed_source"], spot_tbl["observed_as_of"]
        return (Price(float(observed["vcpu_hour"]), "vCPU-hour", src, as_of),
                Price(float(observed["gb_hour"]), "GB-hour", src, as_of))
    keep = 1.0 - float(spot_tbl["discount_fraction"])
    src = (f"on-demand x (1 - {spot_tbl['discount_fraction']}) per {spot_tbl['discount_source']}; "
           f"on-demand: {table['source']}")
    return (Price(float(od["vcpu_hour"]) * keep, "vCPU-hour", src, table["as_of"]),
            Price(float(od["gb_hour"]) * keep, "GB-hour", src, table["as_of"]))


def fargate_hourly_usd(region: str, cpu_units: int, memory_mib: int, *,
                       spot: bool = False) -> float | None:
    """Hourly cost of one task; cpu_units 1024 = 1 vCPU, memory_mib 1024 = 1 GB."""
    rates = fargate_rates(region, spot=spot)
    if rates is None:
        return None
    vcpu, gb = rates
    return vcpu.usd * (cpu_units / 1024.0) + gb.usd * (memory_mib / 1024.0)


# --------------------------------------------------------------------------- RDS


def rds_classes_in_family(family: str) -> list[str]:
    """e.g. "db.t3" -> ["db.t3.micro", ..., "db.t3.2xlarge"], small -> large; [] if unknown."""
    family = family.strip().lower()
    sizes = _RDS_FAMILIES.get(family, ())
    ordered = sorted(sizes, key=_SIZE_ORDER.index)
    return [f"{family}.{size}" for size in ordered]


def _is_postgres(engine: str) -> bool:
    return engine.strip().lower() in {"postgres", "postgresql"}


def rds_hourly_usd(region: str, instance_class: str, *, multi_az: bool, engine: str = "postgres",
                   term: str = _ON_DEMAND) -> Price | None:
    """Hourly price of an RDS PostgreSQL instance.

    term "1yr-no-upfront" is the effective hourly rate of a 1-year No Upfront reservation.
    Returns None for other engines, unknown regions/classes, or unknown terms.
    """
    if not _is_postgres(engine) or term not in (_ON_DEMAND, _RI_1YR_NO_UPFRONT):
        return None
    table = _table("rds_postgres")
    region = _norm_region(region)
    cls = instance_class.strip().lower()
    single = table["on_demand_single_az"].get(region, {}).get(cls)
    explicit_multi = table["on_demand_multi_az"].get(region, {}).get(cls)
    source, as_of = table["source"], table["as_of"]
    if multi_az:
        if explicit_multi is not None:
            usd = float(explicit_multi)
        elif single is not None:
            # AWS bills primary + standby; factor and its citation are in the JSON note.
            usd = float(single) * float(table["multi_az_factor"])
            source = f"{source} (Multi-AZ = Single-AZ x {table['multi_az_factor']}; see note)"
        else:
            return None
    elif single is not None:
        usd = float(single)
    else:
        return None
    if term == _RI_1YR_NO_UPFRONT:
        discount = float(table["ri_1yr_no_upfront_discount"])
        usd *= 1.0 - discount
        source = f"DERIVED on-demand x (1 - {discount}): {table['ri_source']}; on-demand: {source}"
        as_of = f"{as_of} (ratio {table['ri_as_of']})"
    return Price(round(usd, 6), "hour", source, as_of)


def rds_storage_gb_month_usd(region: str, storage_type: str, *, multi_az: bool) -> Price | None:
    """gp2/gp3 storage per GB-month; Multi-AZ provisions the volume twice, so 2x."""
    table = _table("rds_postgres")
    per_region = table["storage_gb_month_single_az"].get(_norm_region(region), {})
    usd = per_region.get(storage_type.strip().lower())
    if usd is None:
        return None
    factor = float(table["multi_az_factor"]) if multi_az else 1.0
    return Price(float(usd) * factor, "GB-month", table["storage_source"], table["storage_as_of"])


# --------------------------------------------------------------------------- ElastiCache


def elasticache_hourly_usd(region: str, node_type: str, *, term: str = _ON_DEMAND) -> Price | None:
    """Hourly price of one ElastiCache Redis node (on-demand or 1-year No Upfront effective)."""
    table = _table("elasticache_redis")
    key = {_ON_DEMAND: "on_demand", _RI_1YR_NO_UPFRONT: "reserved_1yr_no_upfront"}.get(term)
    if key is None:
        return None
    usd = table[key].get(_norm_region(region), {}).get(node_type.strip().lower())
    if usd is None:
        return None
    return Price(float(usd), "hour", table["source"], table["as_of"])


# --------------------------------------------------------------------------- S3


def s3_gb_month_usd(region: str, storage_class: str) -> Price | None:
    """Storage per GB-month (first 50 TB tier); storage_class is case-insensitive."""
    table = _table("s3")
    usd = table["storage_gb_month"].get(_norm_region(region), {}).get(storage_class.strip().upper())
    if usd is None:
        return None
    return Price(float(usd), "GB-month", table["source"], table["as_of"])


def s3_transition_usd_per_1000(region: str, storage_class: str) -> Price | None:
    """Lifecycle transition request price per 1,000 requests into STANDARD_IA or GLACIER."""
    table = _table("s3")
    per_region = table["transition_per_1000_requests"].get(_norm_region(region), {})
    usd = per_region.get(storage_class.strip().upper())
    if usd is None:
        return None
    return Price(float(usd), "1000 requests", table["source"], table["as_of"])


# --------------------------------------------------------------------------- CloudWatch


def logs_storage_gb_month_usd(region: str) -> Price | None:
    """CloudWatch Logs stored (archival) bytes per GB-month."""
    table = _table("cloudwatch")
    usd = table["logs_storage_gb_month"].get(_norm_region(region))
    if usd is None:
        return None
    return Price(float(usd), "GB-month", table["source"], table["as_of"])


# --------------------------------------------------------------------------- provenance


def all_sources() -> list[dict[str, str]]:
    """One row per table for docs and report footers."""
    rows: list[dict[str, str]] = []
    for name in _TABLES:
        table = _table(name)
        rows.append({"table": name, "source": table["source"], "as_of": table["as_of"]})
    return rows
