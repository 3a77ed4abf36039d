"""summary.bill: the last full month's cost by service, and how much of it the rules examined.

The month's figures are the Cost Explorer table the collector already reads (GetCostAndUsage,
MONTHLY, grouped by SERVICE, UnblendedCost: collect/collectors/costs.py). A service line counts
as examined in an account only when a rule that declares the line in `bill_services`

- is enabled (every enabled rule runs), and
- could read its inputs there: no error row in that account for the listing read of the
  inventory its resource type comes from (e.g. logs:DescribeLogGroups for "log-group"), nor
  for cloudwatch:GetMetricData when the rule reads metrics. A rule that judges a line through
  resources of another kind than its own (graviton-migration: an "ecs-service" rule that also
  judges RDS and ElastiCache) depends on that line's own listings (SERVICE_KINDS). A read that
  failed in any region of the account leaves the line unexamined in that account: some of its
  resources were never seen.

Lines that are not usage:
- "Tax" is kept out of `monthly_usd` and the share (no rule can examine a tax: it follows the
  other lines), and reported as `tax_usd`;
- a line whose month is zero or negative (credits and refunds larger than the usage they
  offset are netted into the service's line when grouped by SERVICE) has nothing to examine:
  it is listed with its amount but kept out of `monthly_usd`; their sum is `credits_usd`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from rightsizer.collect import registry
from rightsizer.collect.collectors.costs import month_start
from rightsizer.rules.base import Rule
from rightsizer.snapshot.store import Snapshot

TAX_SERVICE = "Tax"  # the SERVICE key Cost Explorer gives tax lines
METRICS_READ = ("cloudwatch", "GetMetricData")
# The inventory kinds whose resources a bill line is for, where a rule may judge the line
# through a kind other than its own resource_type.
SERVICE_KINDS: dict[str, tuple[str, ...]] = {
    "Amazon Elastic Container Service": ("ecs-service",),
    "Amazon Relational Database Service": ("rds-instance",),
    "Amazon ElastiCache": ("elasticache-cluster",),
}


def _listing(kind: str) -> list[tuple[str, str]]:
    """(service, operation) of the listing read of an inventory kind, as error rows name it."""
    reads = []
    for spec in registry.inventory_specs():
        if spec.inventory is not None and spec.inventory.resource_type == kind:
            service, _, operation = spec.inventory.listing.partition(":")
            reads.append((service, operation))
    return reads


def rule_inputs(rule: Rule, bill_service: str | None = None) -> list[tuple[str, str]]:
    """(service, operation) of each read a rule's judgement of a bill line depends on: the
    listing of its resource type's inventory (of the line's own kinds when the rule's kind is
    not one of them), and GetMetricData if it reads metrics."""
    kinds = SERVICE_KINDS.get(bill_service or "", ())
    inputs = _listing(rule.resource_type) if not kinds or rule.resource_type in kinds else [
        read for kind in kinds for read in _listing(kind)]
    if rule.metric_needs:
        inputs.append(METRICS_READ)
    return inputs


def _failed_reads(snapshot: Snapshot) -> set[tuple[str, str, str]]:
    """(account, service, operation) of every error row, whatever its region."""
    errors = snapshot.table("errors")
    if errors.empty:
        return set()
    return {(str(account), str(service), str(operation)) for account, service, operation in
            zip(errors["account"], errors["service"], errors["operation"], strict=True)}


def bill_month(snapshot: Snapshot) -> str:
    """The last full calendar month before the window's end, as "YYYY-MM"."""
    end: date = snapshot.window_end.date()
    return month_start(end, 1).strftime("%Y-%m")


def bill_summary(snapshot: Snapshot, rules: Iterable[Rule]) -> dict[str, Any] | None:
    """summary.bill for the rules that ran; None when Cost Explorer gave nothing for the month
    (its read failed, or the account is too new)."""
    month = bill_month(snapshot)
    costs = snapshot.table("costs")
    if costs.empty:
        return None
    rows = costs[costs["month"] == month]
    if rows.empty:
        return None
    failed = _failed_reads(snapshot)
    rules = list(rules)
    inputs = {(rule.id, service): rule_inputs(rule, service)
              for rule in rules for service in rule.bill_services}

    def examiners(account: str, service: str) -> list[str]:
        return [rule.id for rule in rules if service in rule.bill_services
                and not any((account, *read) in failed for read in inputs[rule.id, service])]

    amount: dict[str, float] = defaultdict(float)
    examined: dict[str, float] = defaultdict(float)
    examined_by: dict[str, set[str]] = defaultdict(set)
    for (account, service), usd in rows.groupby(["account", "service"])["amount_usd"].sum() \
            .items():
        service, usd = str(service), float(usd)
        amount[service] += usd
        found = examiners(str(account), service) if service != TAX_SERVICE else []
        if found and usd > 0:
            examined[service] += usd
            examined_by[service].update(found)
    tax = amount.pop(TAX_SERVICE, 0.0)
    counted = {service: usd for service, usd in amount.items() if usd > 0}
    monthly = sum(counted.values())
    examined_total = sum(examined.values())
    lines = [
        {"service": service, "monthly_usd": round(usd, 2),
         "examined_usd": round(examined.get(service, 0.0), 2),
         "examined_by": sorted(examined_by.get(service, ()))}
        for service, usd in sorted(amount.items(), key=lambda item: (-item[1], item[0]))
    ]
    if tax:
        lines.append({"service": TAX_SERVICE, "monthly_usd": round(tax, 2),
                      "examined_usd": 0.0, "examined_by": []})
    return {
        "month": month,
        "monthly_usd": round(monthly, 2),
        "examined_usd": round(examined_total, 2),
        "examined_share": round(examined_total / monthly, 4) if monthly > 0 else None,
        "by_service": lines,
        "unexamined": [line["service"] for line in lines
                       if not line["examined_by"] and line["monthly_usd"] > 0
                       and line["service"] != TAX_SERVICE],
        "tax_usd": round(tax, 2),
        "credits_usd": round(sum(usd for usd in amount.values() if usd < 0), 2),
    }
