"""The EduFly account's last full month by usage type, as GetCostAndUsage answers it (grouped by
SERVICE and USAGE_TYPE; UnblendedCost, NetAmortizedCost, AmortizedCost, UsageQuantity).

Quantities follow the demo's own inventory (its Fargate services running all month, its
databases and cache node); unblended cost is that usage at list price. The NAT gateway's
hours and GB processed bill the demo bill's EC2 - Other line, and the API repository's images
its ECR line (made up, like the bill). The team holds a 1-year Compute Savings Plan that covers
part of its Fargate usage, so Fargate's net amortized cost is below unblended; its databases
pay on-demand (its one reservation expired, demo/run.py), so their amortized cost is their
unblended cost. The plan's share and discount are the demo's own made-up figures, not AWS
prices.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date
from typing import Any

from rightsizer import pricing

REGION_CODE = "APS3"  # ap-south-1's billing code (rightsizer.pricing.account.BILLING_CODES)
SAVINGS_PLAN_COVERED_SHARE = 0.3  # of the Fargate usage (demo figure)
SAVINGS_PLAN_DISCOUNT = 0.2  # off on-demand on what it covers (demo figure)
ECS = "Amazon Elastic Container Service"
RDS = "Amazon Relational Database Service"
EC2_OTHER = "EC2 - Other"
ECR = "Amazon EC2 Container Registry (ECR)"
NAT_GB_PER_DAY = 13.0  # the demo NAT gateway's traffic (demo/account.py's metrics: ~13 GB a day)


def _month(today: date) -> tuple[date, date, int]:
    index = today.year * 12 + today.month - 2
    start = date(index // 12, index % 12 + 1, 1)
    hours = calendar.monthrange(start.year, start.month)[1] * 24
    return start, date(today.year, today.month, 1), hours


def _lines(region: str, hours: int, services: Sequence[Any],
           databases: Sequence[Any]) -> list[tuple[str, str, float, float, float]]:
    """(service, usage type, quantity, list rate, amortized rate) of each line, billed for the
    demo's inventory (its Fargate services and databases)."""
    lines: list[tuple[str, str, float, float, float]] = []
    vcpu, gb = pricing.fargate_prices(region)
    sp_rate = 1 - SAVINGS_PLAN_COVERED_SHARE * SAVINGS_PLAN_DISCOUNT
    task_vcpu_hours = sum(s.cpu / 1024 * s.desired for s in services) * hours
    task_gb_hours = sum(s.memory / 1024 * s.desired for s in services) * hours
    lines.append((ECS, f"{REGION_CODE}-{vcpu.usage}", task_vcpu_hours, vcpu.usd,
                  vcpu.usd * sp_rate))
    lines.append((ECS, f"{REGION_CODE}-{gb.usage}", task_gb_hours, gb.usd, gb.usd * sp_rate))
    # the Multi-AZ primary, and the replica and staging db.t3.micro (on-demand)
    for cls, multi_az, count in (("db.t3.small", True, 1), ("db.t3.micro", False,
                                                              len(databases) - 1)):
        price = pricing.rds_hourly_usd(region, cls, multi_az=multi_az)
        if price is not None:
            lines.append((RDS, f"{REGION_CODE}-{price.usage}", count * hours, price.usd,
                          price.usd))
    return lines


def _nat_lines(hours: int, month_usd: float) -> list[tuple[str, str, float, float, float]]:
    """The NAT gateway's hours and GB processed, billed at the one rate that makes the demo
    bill's EC2 - Other line: a made-up figure like that line (no Mumbai NAT price is sourced)."""
    gb = NAT_GB_PER_DAY * hours / 24
    rate = month_usd / (hours + gb)
    return [(EC2_OTHER, f"{REGION_CODE}-NatGateway-Hours", float(hours), rate, rate),
            (EC2_OTHER, f"{REGION_CODE}-NatGateway-Bytes", gb, rate, rate)]


def _ecr_lines(stored_gb: float, month_usd: float) -> list[tuple[str, str, float, float, float]]:
    """The API repository's stored images, billed at the rate that makes the demo bill's ECR
    line (made up, like the bill)."""
    rate = month_usd / stored_gb
    return [(ECR, f"{REGION_CODE}-TimedStorage-ByteHrs", stored_gb, rate, rate)]


def _unit(usage_type: str) -> str:
    # UsageQuantity's unit for one usage type (rightsizer.pricing.account.billed_unit)
    if usage_type.endswith("-Bytes"):
        return "GB"
    return "GB-Mo" if "TimedStorage-" in usage_type else "Hrs"


def usage_results(today: date, services: Sequence[Any], databases: Sequence[Any],
                  nat_month_usd: float = 0.0, ecr: tuple[float, float] | None = None,
                  region: str = "ap-south-1") -> dict[str, Any]:
    """`ecr` is (GB stored, the bill's ECR line for the month)."""
    start, end, hours = _month(today)
    groups = []
    lines = _lines(region, hours, services, databases)
    if nat_month_usd > 0:
        lines += _nat_lines(hours, nat_month_usd)
    if ecr is not None and ecr[0] > 0:
        lines += _ecr_lines(*ecr)
    for service, usage_type, quantity, list_rate, amortized_rate in lines:
        unblended = quantity * list_rate
        amortized = quantity * amortized_rate
        groups.append({"Keys": [service, usage_type], "Metrics": {
            "UnblendedCost": {"Amount": f"{unblended:.10f}", "Unit": "USD"},
            "NetAmortizedCost": {"Amount": f"{amortized:.10f}", "Unit": "USD"},
            "AmortizedCost": {"Amount": f"{amortized:.10f}", "Unit": "USD"},
            "UsageQuantity": {"Amount": f"{quantity:.10f}", "Unit": _unit(usage_type)}}})
    return {"ResultsByTime": [{"TimePeriod": {"Start": start.isoformat(),
                                              "End": end.isoformat()},
                               "Total": {}, "Groups": groups, "Estimated": False}],
            "DimensionValueAttributes": [],
            "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"},
                                 {"Type": "DIMENSION", "Key": "USAGE_TYPE"}]}
