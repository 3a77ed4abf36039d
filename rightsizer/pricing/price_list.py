"""Reading AWS Price List products: which figure a GetProducts item carries, and for what.

A PriceList item is one product (attributes) with its terms (priceDimensions with pricePerUnit):
https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html
Products are told apart by their usage type as AWS writes it: the region's billing code first
(APS3-, EU-, USE1-; some us-east-1 rows have none), then the meter. Every pattern here is anchored
at that optional code, so an add-on that shares the meter's name ("USE1-TS-LoadBalancerUsage",
"USE1-Outpost-NodeUsage:...", "Aurora:StorageUsage", "TimedStorage-INT-FA-ByteHrs") is never
taken for it. Billing codes:
https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-region-billing-codes.html

Each `*_rows` function turns one product into (section, key, USD) rows of a cached table; a
product that is not one of ours gives none.
"""

from __future__ import annotations

import json
import re
from typing import Any

HOURS_PER_YEAR = 8760.0  # to spread an upfront fee over a 1-year term (No Upfront has none)
AWS_REGION = "AWS Region"  # locationType of a Region's own rows (not a Local Zone, Outposts)

# section, key (instance class or rate name), USD
Row = tuple[str, str, float]


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


def _family(product: dict[str, Any]) -> str:
    return str(product.get("product", {}).get("productFamily", ""))


def _in_region(attrs: dict[str, Any]) -> bool:
    """A Region's own rows; Local Zone, Wavelength and Outposts rows share the usage type."""
    return attrs.get("locationType", AWS_REGION) == AWS_REGION


def _usd(dimension: Any) -> float | None:
    try:
        return float(dimension["pricePerUnit"]["USD"])
    except (KeyError, TypeError, ValueError):
        return None


def _dimensions(term: Any) -> list[dict[str, Any]]:
    dims = term.get("priceDimensions", {}) if isinstance(term, dict) else {}
    return [dim for dim in dims.values() if isinstance(dim, dict)] if isinstance(dims, dict) else []


def _on_demand_dimensions(product: dict[str, Any]) -> list[dict[str, Any]]:
    terms = product.get("terms", {}).get("OnDemand", {})
    return [dim for term in (terms.values() if isinstance(terms, dict) else [])
            for dim in _dimensions(term) if dim.get("unit") != "Quantity"]


def on_demand_hourly(product: dict[str, Any]) -> float | None:
    """The one non-zero on-demand rate; None when absent, free, or tiered (no guessing).
    A free allowance tier ($0 for the first N units) does not count as a second rate."""
    rates = {usd for dim in _on_demand_dimensions(product)
             if (usd := _usd(dim)) is not None and usd > 0}
    return rates.pop() if len(rates) == 1 else None


def first_tier_rate(product: dict[str, Any]) -> float | None:
    """The rate of the tier that starts at 0 (S3's first 50 TB); None when no tier begins at
    "0" or that tier is free or ambiguous: a later tier is never taken for the first."""
    rates = {usd for dim in _on_demand_dimensions(product)
             if str(dim.get("beginRange", "")) == "0"
             and (usd := _usd(dim)) is not None and usd > 0}
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


def meter(name: str) -> re.Pattern[str]:
    """A usage type that is exactly this meter after an optional billing code."""
    return re.compile(rf"^(?:[A-Z0-9]+-)?{re.escape(name)}$")


# (pattern, section, key): the first pattern the usage type matches names the row.
Meters = tuple[tuple[re.Pattern[str], str, str], ...]


def _metered_rows(product: dict[str, Any], meters: Meters, scale: float = 1.0,
                  rate: Any = on_demand_hourly) -> list[Row]:
    attrs = _attributes(product)
    if not _in_region(attrs):
        return []
    usage = str(attrs.get("usagetype", ""))
    for pattern, section, key in meters:
        if pattern.match(usage):
            usd = rate(product)
            return [] if usd is None else [(section, key, round(usd * scale, 10))]
    return []


# --------------------------------------------------------------------------- Fargate (AmazonECS)

# Linux/x86, Linux/ARM64 and Windows/x86 on-demand (the platforms of
# https://aws.amazon.com/fargate/pricing/); SpotUsage- rows are another meter, and the Windows
# OS licence is billed per vCPU-hour on its own usage type. The names are the ones Cost Explorer
# bills (rightsizer.pricing.account._METERS); recorded AmazonECS GetProducts items carry the
# same, e.g. "USE1-Fargate-Windows-OS-Hours:perCPU" with cputype "perCPU OS License Fee".
FARGATE_METERS: Meters = (
    (meter("Fargate-vCPU-Hours:perCPU"), "on_demand", "vcpu_hour"),
    (meter("Fargate-GB-Hours"), "on_demand", "gb_hour"),
    (meter("Fargate-ARM-vCPU-Hours:perCPU"), "linux_arm64", "vcpu_hour"),
    (meter("Fargate-ARM-GB-Hours"), "linux_arm64", "gb_hour"),
    (meter("Fargate-Windows-vCPU-Hours:perCPU"), "windows_x86_64", "vcpu_hour"),
    (meter("Fargate-Windows-GB-Hours"), "windows_x86_64", "gb_hour"),
    (meter("Fargate-Windows-OS-Hours:perCPU"), "windows_x86_64", "os_license_vcpu_hour"),
)


def fargate_rows(product: dict[str, Any]) -> list[Row]:
    return _metered_rows(product, FARGATE_METERS)


# --------------------------------------------------------------------------- RDS, ElastiCache


def _instance_rows(product: dict[str, Any], prefix: str, usage: re.Pattern[str],
                   on_demand: str, reserved: str) -> list[Row]:
    attrs = _attributes(product)
    name = str(attrs.get("instanceType", "")).strip().lower()
    if (not name.startswith(prefix) or not usage.match(str(attrs.get("usagetype", "")))
            or not _in_region(attrs)):
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
RDS_INSTANCE_USAGE = re.compile(r"^(?:[A-Z0-9]+-)?InstanceUsage:db\.")
ELASTICACHE_NODE_USAGE = re.compile(r"^(?:[A-Z0-9]+-)?NodeUsage:cache\.")


def rds_rows(product: dict[str, Any]) -> list[Row]:
    # Single-AZ is "InstanceUsage:db.x"; "InstanceUsageIOOptimized" is Aurora.
    return _instance_rows(product, "db.", RDS_INSTANCE_USAGE,
                          "on_demand_single_az", "reserved_1yr_no_upfront_single_az")


def elasticache_rows(product: dict[str, Any]) -> list[Row]:
    return _instance_rows(product, "cache.", ELASTICACHE_NODE_USAGE,
                          "on_demand", "reserved_1yr_no_upfront")


# RDS instance storage per GB-month by volume type, Single-AZ and Multi-AZ (productFamily
# "Database Storage", databaseEngine "Any": infracost's filter in
# https://github.com/infracost/infracost/blob/master/internal/resources/aws/db_instance.go).
# gp2/gp3/io1: RDS:GP2-Storage, RDS:GP3-Storage, RDS:PIOPS-Storage and their Multi-AZ- forms
# (the usage types Cost and Usage Reports bill RDS storage as: AWS Well-Architected Labs, CUR
# query library, RDS); io2 is RDS:PIOPS-Storage-IO2. Not matched: Multi-AZ DB clusters
# (RDS:Multi-AZCluster-*), SQL Server mirroring (RDS:Mirror-*), magnetic (RDS:StorageUsage),
# backups (RDS:ChargedBackupUsage), Aurora (Aurora:StorageUsage), provisioned IOPS (RDS:PIOPS).
RDS_STORAGE_METERS: Meters = tuple(
    (meter(f"RDS:{multi}{usage}"), f"storage_gb_month_{section}", kind)
    for multi, section in (("", "single_az"), ("Multi-AZ-", "multi_az"))
    for usage, kind in (("GP2-Storage", "gp2"), ("GP3-Storage", "gp3"),
                        ("PIOPS-Storage", "io1"), ("PIOPS-Storage-IO2", "io2")))
# The meter of each storage type, as rightsizer.pricing names a Price's usage.
RDS_STORAGE_USAGE = {"gp2": "GP2-Storage", "gp3": "GP3-Storage", "io1": "PIOPS-Storage",
                     "io2": "PIOPS-Storage-IO2"}
_POSTGRES_STORAGE_ENGINES = {"Any", "PostgreSQL"}  # an engine-specific row of another engine


def rds_storage_rows(product: dict[str, Any]) -> list[Row]:
    if _attributes(product).get("databaseEngine", "Any") not in _POSTGRES_STORAGE_ENGINES:
        return []
    return _metered_rows(product, RDS_STORAGE_METERS)


# --------------------------------------------------------------------------- S3

# Storage by class and the lifecycle transition requests into a class. Usage types from
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/aws-usage-report-understand.html;
# DEEP_ARCHIVE storage is its own Price List service, AmazonS3GlacierDeepArchive (as infracost's
# S3 storage-class resources query it: https://github.com/infracost/infracost/tree/master/internal/resources/aws).
# Not matched: Intelligent-Tiering (TimedStorage-INT-*), One Zone (ZIA), Express One Zone,
# S3 Tables ("Tables-TimedStorage-ByteHrs"), staging and small-object overheads.
S3_STORAGE_METERS: Meters = (
    (meter("TimedStorage-ByteHrs"), "storage_gb_month", "STANDARD"),
    (meter("TimedStorage-SIA-ByteHrs"), "storage_gb_month", "STANDARD_IA"),
    (meter("TimedStorage-GIR-ByteHrs"), "storage_gb_month", "GLACIER_IR"),
    (meter("TimedStorage-GlacierByteHrs"), "storage_gb_month", "GLACIER"),
    (meter("TimedStorage-GDA-ByteHrs"), "storage_gb_month", "DEEP_ARCHIVE"),
)
# Intelligent-Tiering object-overhead rows can share Standard's usage type; Standard's own row
# says so in volumeType.
_S3_STANDARD_VOLUME = "Standard"
# Lifecycle transitions are request meters (Requests-Tier4 into STANDARD_IA, Requests-Tier3 into
# GLACIER) told apart from restores and PUTs on the same meter only by `operation`:
# infracost's s3LifecycleTransitionsCostComponent (usagetype Requests-Tier3 + operation
# S3-GlacierTransition; Requests-Tier4 for Standard-IA) in the same directory.
_S3_TRANSITION_USAGE = re.compile(r"^(?:[A-Z0-9]+-)?Requests-Tier[34]$")
S3_TRANSITION_OPERATIONS = {"S3-SIATransition": "STANDARD_IA",
                            "S3-GlacierTransition": "GLACIER"}


def s3_rows(product: dict[str, Any]) -> list[Row]:
    attrs = _attributes(product)
    usage = str(attrs.get("usagetype", ""))
    if _S3_TRANSITION_USAGE.match(usage):
        target = S3_TRANSITION_OPERATIONS.get(str(attrs.get("operation", "")))
        if target is None or not _in_region(attrs):
            return []
        usd = on_demand_hourly(product)  # the Price List quotes one request
        return [] if usd is None else [("transition_per_1000_requests", target,
                                        round(usd * 1000, 10))]
    rows = _metered_rows(product, S3_STORAGE_METERS, rate=first_tier_rate)
    if rows and rows[0][1] == "STANDARD" and attrs.get("volumeType") != _S3_STANDARD_VOLUME:
        return []
    return rows


# --------------------------------------------------------------------------- CloudWatch Logs

# Stored log bytes (Standard log class) per GB-month: productFamily "Storage Snapshot", usage
# type <code>-TimedStorage-ByteHrs under AmazonCloudWatch, as in
# https://github.com/infracost/infracost/blob/master/internal/resources/aws/cloudwatch_log_group.go
# (S3 bills stored bytes on the same meter name: the service code tells them apart).
LOGS_METERS: Meters = ((meter("TimedStorage-ByteHrs"), "logs_storage", "standard"),)


def logs_rows(product: dict[str, Any]) -> list[Row]:
    return _metered_rows(product, LOGS_METERS)


# --------------------------------------------------------------------------- VPC

# NAT gateway hour and GB processed (AmazonEC2, productFamily "NAT Gateway":
# https://github.com/infracost/infracost/blob/master/internal/resources/aws/nat_gateway.go);
# RegionalNatGateway-* is the regional NAT gateway, another product. A public IPv4 address in
# use per hour (AmazonVPC, no productFamily filter); PublicIPv4:IdleAddress is the idle one,
# another row (both charges: https://aws.amazon.com/blogs/aws/new-aws-public-ipv4-address-charge-public-ip-insights/).
VPC_METERS: Meters = (
    (meter("NatGateway-Hours"), "nat_gateway", "hour"),
    (meter("NatGateway-Bytes"), "nat_gateway", "gb_processed"),
    (meter("PublicIPv4:InUseAddress"), "public_ipv4", "in_use_hour"),
)


def vpc_rows(product: dict[str, Any]) -> list[Row]:
    return _metered_rows(product, VPC_METERS)


# --------------------------------------------------------------------------- ELB

# Load balancer hour and capacity unit hour (LCU for ALB, NLCU for NLB) under AWSELB, told apart
# by productFamily; TS-LoadBalancerUsage (trust stores), Outposts and reserved-capacity rows are
# other meters. https://github.com/infracost/infracost/blob/master/internal/resources/aws/lb.go
ELB_FAMILIES = {"Load Balancer-Application": "application", "Load Balancer-Network": "network"}


def elb_rows(product: dict[str, Any]) -> list[Row]:
    lb_type = ELB_FAMILIES.get(_family(product))
    if lb_type is None:
        return []
    return _metered_rows(product, ((meter("LoadBalancerUsage"), "hourly", lb_type),
                                   (meter("LCUUsage"), "capacity_unit_hour", lb_type)))
