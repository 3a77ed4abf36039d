"""reservation-underused: an RDS or ElastiCache reservation last month's usage left partly idle.

Cost Explorer already answered this (GetReservationUtilization, one group per reservation, read
by collect/collectors/costs.py): the rule prices the unused share with the figures of that
answer and says how to fill it or that it runs out on its end date. Neither service can cancel,
sell or modify a reservation: their APIs hold only Describe and Purchase operations for them
(botocore 1.44's rds 2014-10-31 and elasticache 2015-02-02 models), and the ElastiCache
PurchaseReservedCacheNodesOffering documentation in that model says "Reserved nodes are not
eligible for cancellation and are non-refundable".
"""

from __future__ import annotations

import json
import math
import shlex
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field

from rightsizer.pricing import Price
from rightsizer.pricing.account import AccountRate
from rightsizer.pricing.basis import PriceBasis
from rightsizer.pricing.recommendation import REGION_NAMES
from rightsizer.rules.base import Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Resource, Skipped, finding_for, skipped_for
from rightsizer.snapshot.store import Snapshot, records

RULE_ID = "reservation-underused"
RESOURCE_TYPE = "reservation"
RDS = "Amazon Relational Database Service"
ELASTICACHE = "Amazon ElastiCache"
# Shapes: https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_ReservationUtilizationGroup.html
# and .../API_ReservationAggregates.html (every figure a string; every field optional)
SHAPE = ("https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/"
         "API_ReservationAggregates.html")
RATE_KEY = "reservation_amortized_hour_usd"
RATE_USAGE = "reservation-amortized-hour"  # no Cost Explorer usage type: the rule's own rate


class Settings(RuleSettings):
    # 95%: a reservation a day and a half short of full over a 730-hour month (an instance
    # replaced, a restore, a maintenance reboot) is not worth acting on; below that, hours were
    # paid for and nothing ran on them.
    max_utilization_percent: float = Field(
        95.0, gt=0, le=100,
        description="A reservation used less than this share of its hours last month (Cost "
        "Explorer UtilizationPercentage) is a finding; 100 flags any unused hour.")
    min_monthly_unused_usd: float = Field(
        1.0, ge=0, le=100_000,
        description="No finding when the unused hours cost less than this a month.")


@dataclass(frozen=True)
class Reservation:
    """One ReservationUtilizationGroup of a SUBSCRIPTION_ID-grouped answer."""

    service: str
    account: str
    region: str
    subscription_id: str
    attributes: dict[str, str]
    figures: dict[str, float | None]
    month: str

    @property
    def instance_type(self) -> str:
        return self.attributes.get("instanceType", "")

    @property
    def count(self) -> int | None:
        return _integer(self.attributes.get("numberOfInstances"))

    @property
    def lease_id(self) -> str:
        return self.attributes.get("leaseId", "")


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _integer(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number == int(number) else None


def _end(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None


FIGURES = ("UtilizationPercentage", "PurchasedHours", "TotalActualHours", "UnusedHours",
           "TotalAmortizedFee", "RICostForUnusedHours", "OnDemandCostOfRIHoursUsed",
           "NetRISavings")


def reservations(snapshot: Snapshot) -> list[Reservation]:
    """Every reservation group of the snapshot's utilization pages (odd entries left out)."""
    frame = snapshot.table("ce_insights")
    found: list[Reservation] = []
    for row in records(frame) if not frame.empty else []:
        if row.get("kind") != "utilization" or row.get("service") not in (RDS, ELASTICACHE):
            continue
        try:
            page = json.loads(row["data"]) if isinstance(row.get("data"), str) else row["data"]
        except (KeyError, TypeError, ValueError):
            continue
        for period in (page or {}).get("UtilizationsByTime") or []:
            if not isinstance(period, dict):
                continue
            month = str((period.get("TimePeriod") or {}).get("Start", ""))[:7]
            for group in period.get("Groups") or []:
                if not isinstance(group, dict) or not isinstance(group.get("Utilization"), dict):
                    continue
                attributes = {str(k): str(v) for k, v in (group.get("Attributes") or {}).items()}
                region = attributes.get("region", "")
                found.append(Reservation(
                    service=str(row["service"]),
                    account=attributes.get("accountId") or str(row.get("account", "")),
                    region=REGION_NAMES.get(region, region),
                    subscription_id=str(group.get("Value") or attributes.get(
                        "subscriptionId", "")),
                    attributes=attributes,
                    figures={name: _number(group["Utilization"].get(name))
                             for name in FIGURES},
                    month=month))
    return found


def unused_cost(figures: dict[str, float | None]) -> tuple[float, str] | None:
    """The month's cost of the unused hours and how it was read: RICostForUnusedHours as Cost
    Explorer states it, else UnusedHours x the amortized hourly fee (TotalAmortizedFee /
    PurchasedHours). None when the answer holds neither."""
    stated = figures.get("RICostForUnusedHours")
    if stated is not None:
        return stated, "RICostForUnusedHours"
    unused, fee, bought = (figures.get("UnusedHours"), figures.get("TotalAmortizedFee"),
                           figures.get("PurchasedHours"))
    if unused is None or fee is None or not bought:
        return None
    return unused * fee / bought, "UnusedHours x TotalAmortizedFee / PurchasedHours"


def _running(snapshot: Snapshot, reservation: Reservation) -> int:
    """Instances (RDS) or nodes (ElastiCache) of the reserved type in its account and region."""
    table, column, count = (("rds_instances", "instance_class", None) if reservation.service
                            == RDS else ("elasticache_clusters", "node_type", "num_nodes"))
    frame = snapshot.table(table)
    total = 0
    for row in records(frame) if not frame.empty else []:
        if (row.get("account"), row.get("region"), row.get(column)) == (
                reservation.account, reservation.region, reservation.instance_type):
            total += int(row.get(count) or 1) if count else 1
    return total


def _judge(snapshot: Snapshot, settings: Settings, reservation: Reservation
           ) -> Finding | Skipped | None:
    figures = reservation.figures
    kind = "DB instance" if reservation.service == RDS else "cache node"
    resource = Resource(RESOURCE_TYPE, f"reservation/{reservation.subscription_id}",
                        f"{reservation.instance_type or '?'} reserved {kind}"
                        f"{' ' + reservation.lease_id if reservation.lease_id else ''}",
                        reservation.account, reservation.region or "global")
    end = _end(reservation.attributes.get("endDateTime", ""))
    if end is not None and end <= snapshot.window_end:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           f"the reservation ended on {end.date().isoformat()}")
    utilization = figures.get("UtilizationPercentage")
    bought = figures.get("PurchasedHours")
    priced = unused_cost(figures)
    missing = [name for name, value in (("UtilizationPercentage", utilization),
                                        ("PurchasedHours", bought)) if value is None]
    if utilization is None or not bought or priced is None or not reservation.instance_type:
        why = ", ".join(missing) or ("instanceType" if not reservation.instance_type else
                                     "non-zero PurchasedHours" if not bought else
                                     "RICostForUnusedHours or UnusedHours")
        return skipped_for(resource, RULE_ID, "insufficient-data",
                           f"Cost Explorer's utilization answer for {reservation.month} "
                           f"holds no {why} for this reservation")
    unused_usd, method = priced
    if utilization >= settings.max_utilization_percent or \
            unused_usd < settings.min_monthly_unused_usd:
        return None  # used as bought: nothing to say
    fee = figures.get("TotalAmortizedFee")
    # the amortized fee of one reserved hour; without TotalAmortizedFee, RICostForUnusedHours
    # over the unused hours (the same fee when Cost Explorer states both)
    unused_hours = figures.get("UnusedHours")
    hourly, hourly_from = ((fee / bought, "TotalAmortizedFee / PurchasedHours")
                           if fee is not None else
                           (unused_usd / unused_hours if unused_hours else 0.0,
                            "RICostForUnusedHours / UnusedHours"))
    running = _running(snapshot, reservation)
    count = reservation.count
    until = end.date().isoformat() if end is not None else "its end date"
    unit = "instance" if reservation.service == RDS else "node"
    fill = (f"run {reservation.instance_type} {unit}s in {reservation.region} for the "
            f"unused hours (the reservation applies to matching usage by itself)"
            + ("; size-flexible (Cost Explorer sizeFlexibility), it also applies to other "
               "sizes of the family" if reservation.attributes.get("sizeFlexibility", "")
               .lower() in ("flexri", "true", "yes") else ""))
    rate = AccountRate(usd=hourly, month=reservation.month, metric="TotalAmortizedFee",
                       usage_type=RATE_USAGE, list_usd=hourly)
    price = Price(usd=hourly, unit="reservation hour",
                  source=f"Cost Explorer GetReservationUtilization, {reservation.month}: "
                  f"{hourly_from} of this reservation ({SHAPE})",
                  as_of=reservation.month, name=RATE_KEY, usage=RATE_USAGE,
                  region=reservation.region)
    pricing = PriceBasis((price,), (price,), effective={RATE_USAGE: rate})
    return finding_for(
        resource, RULE_ID,
        current={"service": reservation.service, "instance_class": reservation.instance_type,
                 "reserved_count": count, "utilization_percent": round(utilization, 1),
                 "end_date": until, "lease_id": reservation.lease_id or None},
        recommended={"action": "fill-or-let-expire", "fill": fill,
                     "otherwise": f"let it expire on {until}: it cannot be cancelled, sold "
                     "or modified",
                     "running_of_class": running},
        monthly_cost_usd=fee if fee is not None else unused_usd,
        monthly_savings_usd=unused_usd,
        evidence={"month": reservation.month, "utilization_percent": round(utilization, 1),
                  "purchased_hours": bought, "used_hours": figures.get("TotalActualHours"),
                  "unused_hours": figures.get("UnusedHours"),
                  "total_amortized_fee_usd": fee, "unused_cost_usd": round(unused_usd, 2),
                  "unused_cost_from": method, "amortized_hourly_usd": round(hourly, 6),
                  "net_ri_savings_usd": figures.get("NetRISavings"),
                  "subscription_id": reservation.subscription_id,
                  "attributes": reservation.attributes, "source": SHAPE},
        reason=(f"{reservation.month}: {utilization:.1f}% of {bought:g} reserved hours used; "
                f"the unused hours cost ${unused_usd:,.2f} ({method}). {running} "
                f"{reservation.instance_type} {unit}(s) run in {reservation.region} now; "
                f"the reservation ends {until}"),
        severity="medium" if unused_usd >= 100 else "low",
        pricing=pricing,
    )


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    for reservation in reservations(snapshot):
        outcome = _judge(snapshot, settings, reservation)
        result.add(outcome)
    return result


def how_to_apply(finding: Finding) -> dict[str, str]:
    """Read-only: see the reservation and what runs of its class, then move usage onto it or
    wait for its end date. Nothing here changes the account."""
    region = shlex.quote(finding.region)
    cls = str(finding.current.get("instance_class", ""))
    quoted = shlex.quote(cls)
    if finding.current.get("service") == RDS:
        lines = [
            "# reservation-underused: read-only look at the reservation and the instances of "
            "its class",
            f"aws rds describe-reserved-db-instances --region {region} --db-instance-class "
            f"{quoted} --query 'ReservedDBInstances[].[ReservedDBInstanceId,LeaseId,State,"
            "DBInstanceCount,MultiAZ,ProductDescription,StartTime,Duration]' --output table",
            f"aws rds describe-db-instances --region {region} --query "
            + shlex.quote(f"DBInstances[?DBInstanceClass=='{cls}'].[DBInstanceIdentifier,"
                          "Engine,MultiAZ,DBInstanceStatus]") + " --output table",
            "# Then run the unused hours on this class (modify-db-instance --db-instance-class "
            f"{cls} on an on-demand instance of the same engine and deployment), or let the "
            f"reservation expire on {finding.current.get('end_date')}: RDS cannot cancel it.",
        ]
    else:
        lines = [
            "# reservation-underused: read-only look at the reserved nodes and the clusters "
            "of their type",
            f"aws elasticache describe-reserved-cache-nodes --region {region} "
            f"--cache-node-type {quoted} --query 'ReservedCacheNodes[].[ReservedCacheNodeId,"
            "State,CacheNodeCount,ProductDescription,StartTime,Duration]' --output table",
            f"aws elasticache describe-cache-clusters --region {region} --query "
            + shlex.quote(f"CacheClusters[?CacheNodeType=='{cls}'].[CacheClusterId,Engine,"
                          "NumCacheNodes,CacheClusterStatus]") + " --output table",
            f"# Then run the unused node hours on {cls} (or its family: reserved nodes are "
            "size-flexible), or let the reservation expire on "
            f"{finding.current.get('end_date')}: ElastiCache cannot cancel or refund it.",
        ]
    note = "# A reservation is billed, not declared: nothing to change in Terraform or CDK"
    return {"cli": "\n".join(lines), "terraform": note, "cdk": note.replace("#", "//", 1)}


RULE = Rule(
    id=RULE_ID,
    title="Use or let expire reservations that sit partly idle",
    why=(
        "A reservation bills every hour of its term whether or not a matching instance runs. "
        "Cost Explorer reports each reservation's used and unused hours; the unused ones are "
        "paid for nothing. Running matching usage on them recovers that cost; otherwise the "
        "loss ends only on the end date, since RDS and ElastiCache reservations cannot be "
        "cancelled or sold."
    ),
    resource_type=RESOURCE_TYPE,
    bill_services=(RDS, ELASTICACHE),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
)
