"""elasticache-reserved-node: Redis caches that run 24/7 without a reserved node."""

from __future__ import annotations

import re
import shlex
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from rightsizer import pricing
from rightsizer.rules.base import (
    MetricNeed,
    Rule,
    RuleResult,
    RuleSettings,
    unreadable_reservations_caveat,
    uptime_shortfall,
)
from rightsizer.rules.findings import Finding, Resource, Skipped, finding_for, skipped_for
from rightsizer.rules.support.rds_common import (
    HELD_RESERVATION_STATES,
    NORMALIZED_UNITS,
    family_of,
    reservation_held,
    size_of,
)
from rightsizer.rules.support.status import not_running_detail
from rightsizer.snapshot.store import Snapshot, decode_json_cell, records

RULE_ID = "elasticache-reserved-node"
NAMESPACE = "AWS/ElastiCache"
# The price table holds Redis OSS nodes only; Valkey and Memcached are priced differently
# (Valkey is cheaper), so their savings would be wrong: they are skipped, not guessed.
PRICED_ENGINES = {"redis"}
ONE_YEAR_SECONDS = 31_536_000  # --duration accepts 1 | 3 | 31536000 | 94608000

# CacheClusterStatus: "available, creating, deleted, deleting, incompatible-network, modifying,
# rebooting cluster nodes, restore-failed, or snapshotting"
# (https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CacheCluster.html),
# billed or not as "Viewing ElastiCache Node Status" says
# (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Nodes.viewing.html), which also
# lists "updating" (billed; patching, security groups) and "incompatible_parameters", and
# spells some values with underscores or as "rebooting cache cluster nodes": both spellings
# are read as one.
RUNNING_CACHE_STATUSES = frozenset({
    "available", "modifying", "snapshotting", "rebooting-cluster-nodes",
    "rebooting-cache-cluster-nodes", "updating",
})
NOT_RUNNING_CACHE_STATUSES = {
    "creating": "still being created (not billed)",
    "deleting": "being deleted",
    "deleted": "deleted",
    "incompatible-network": "its subnet has no free IP address or no longer exists",
    "incompatible-parameters": "its parameter group is incompatible with the node",
    "restore-failed": "a restore or node replacement failed",
}

# Reserved nodes are size-flexible within a node family for every reserved node offering
# since October 2024 ("New – Size flexibility for Amazon ElastiCache reserved nodes",
# https://aws.amazon.com/blogs/database/new-size-flexibility-for-amazon-elasticache-reserved-nodes/):
# the discount applies to any node size of the reservation's family in its region, counted in
# normalized units per size. The units are those AWS publishes for size-flexible reservations
# (RDS's table, the same figures as the Redis OSS column of MemoryDB's
# https://docs.aws.amazon.com/memorydb/latest/devguide/reserved-nodes-size.html); the
# ElastiCache page's own table could not be read here, so rds_common.NORMALIZED_UNITS is used.
# Reservations are pooled by family regardless of their engine (product description): a
# reservation of another engine may not apply, but counting it errs towards buying too little,
# never twice.
# Node sizes of each family, as the API reference lists node types
# (https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_ReservedCacheNode.html),
# to express a partial gap in the sizes a reservation can be bought for.
NODE_SIZES: dict[str, tuple[str, ...]] = {
    **{f"cache.{family}": ("micro", "small", "medium") for family in ("t2", "t3", "t4g")},
    "cache.m4": ("large", "xlarge", "2xlarge", "4xlarge", "10xlarge"),
    **{f"cache.{family}": ("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge")
       for family in ("m5", "r5")},
    **{f"cache.{family}": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge",
                           "16xlarge") for family in ("m6g", "m7g", "r6g", "r7g")},
    "cache.r4": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge"),
}


class Settings(RuleSettings):
    min_coverage: float = Field(
        0.8, gt=0, le=1,
        description="Share of the window the cluster must have reported CPU datapoints "
        "(evidence it runs around the clock, not just that it exists).",
    )
    term: Literal["1yr"] = Field("1yr", description="Reservation term to recommend.")
    offering: Literal["No Upfront"] = Field(
        "No Upfront", description="Payment option to recommend."
    )


def not_running(status: str) -> str | None:
    """None when a cluster in this CacheClusterStatus is running; else the skipped row's
    detail, naming the status (an unknown one as unknown, never guessed)."""
    return not_running_detail(status, RUNNING_CACHE_STATUSES, NOT_RUNNING_CACHE_STATUSES,
                              "cache cluster status")


def node_units(node_type: str) -> float:
    return float(NORMALIZED_UNITS.get(size_of(node_type), 0))


@dataclass(frozen=True)
class _Cluster:
    resource: Resource
    node_type: str
    engine: str
    num_nodes: int
    status: str

    @property
    def family(self) -> str:
        return family_of(self.node_type)

    @property
    def units(self) -> float:
        return node_units(self.node_type) * self.num_nodes


def _clusters(snapshot: Snapshot) -> list[_Cluster]:
    return [
        _Cluster(
            resource=Resource("elasticache-cluster", str(row["arn"]), str(row["cluster_id"]),
                              str(row["account"]), str(row["region"]),
                              decode_json_cell(row.get("tags"), {})),
            node_type=str(row["node_type"]).lower(),
            engine=str(row.get("engine") or "").lower(),
            num_nodes=max(1, int(row.get("num_nodes") or 1)),
            status=str(row.get("status") or ""),
        )
        for row in records(snapshot.table("elasticache_clusters"))
    ]


@dataclass
class _Held:
    units: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    unknown: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def _reserved_nodes(snapshot: Snapshot) -> dict[tuple[str, str], _Held]:
    """Held (active or payment-pending) reserved units per (account, region), by family."""
    held: dict[tuple[str, str], _Held] = defaultdict(_Held)
    for row in records(snapshot.table("elasticache_reservations")):
        pool = held[(str(row["account"]), str(row["region"]))]
        node_type = str(row["node_type"]).lower()
        state = str(row.get("state") or "")
        verdict = reservation_held(state)
        if verdict is None:
            pool.unknown[family_of(node_type)].append(
                f"{row.get('reservation_id') or '?'} ({state or 'no state'})")
        elif verdict:
            pool.units[family_of(node_type)] += node_units(node_type) * int(
                row.get("node_count") or 1)
    return held


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    held = _reserved_nodes(snapshot)
    expected = snapshot.expected_datapoints
    # Bigger clusters claim reserved units first so a partial match lands on one cluster.
    for cluster in sorted(_clusters(snapshot), key=lambda c: (-c.units, -c.num_nodes)):
        outcome = _judge(snapshot, settings, cluster, held, expected)
        result.add(outcome)
    return result


def _judge(snapshot: Snapshot, settings: Settings, cluster: _Cluster,
           held: dict[tuple[str, str], _Held], expected: int) -> Finding | Skipped | None:
    resource = cluster.resource
    stopped = not_running(cluster.status)
    if stopped:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           f"{stopped}: reserve only caches that run around the clock")
    cpu = snapshot.one_series(resource.account, resource.region, NAMESPACE,
                              "CPUUtilization", resource.name, "Maximum")
    ran = cpu.coverage(expected)
    shortfall = uptime_shortfall(ran, settings.min_coverage)
    if shortfall:
        return skipped_for(resource, RULE_ID, "insufficient-data", shortfall)
    pool = held[(resource.account, resource.region)]
    available = pool.units.get(cluster.family, 0.0)
    covered = min(available, cluster.units)
    pool.units[cluster.family] = available - covered
    if cluster.units and covered >= cluster.units:
        return None  # every node is billed at a reserved rate already
    unknown = pool.unknown.get(cluster.family)
    if unknown:
        return skipped_for(
            resource, RULE_ID, "not-applicable",
            f"reserved node {', '.join(unknown)} is in a state this rule does not know: it "
            f"may already cover this {cluster.family} cluster; check it before buying")
    on_demand = pricing.elasticache_hourly_usd(resource.region, cluster.node_type)
    reserved_price = pricing.elasticache_hourly_usd(resource.region, cluster.node_type,
                                                    term="1yr-no-upfront")
    if cluster.engine not in PRICED_ENGINES or on_demand is None or reserved_price is None:
        return skipped_for(
            resource, RULE_ID, "not-applicable",
            f"no price for {cluster.node_type} ({cluster.engine or 'unknown engine'}) "
            f"in {resource.region}")
    return _finding(cluster, settings, on_demand, reserved_price, ran, cpu.rows, covered,
                    snapshot)


def _purchase(cluster: _Cluster, units: float) -> list[dict[str, Any]]:
    """Reserved nodes adding up to `units`: the cluster's own node type first, then the
    family's smaller sizes for what is left (size flexibility applies them to any size)."""
    per_node = node_units(cluster.node_type)
    if not per_node:
        return [{"node_type": cluster.node_type, "count": cluster.num_nodes}]
    sizes = [size for size in NODE_SIZES.get(cluster.family, ())
             if 0 < NORMALIZED_UNITS.get(size, 0) <= per_node]
    if size_of(cluster.node_type) not in sizes:
        sizes.append(size_of(cluster.node_type))
    plan: list[dict[str, Any]] = []
    for size in sorted(sizes, key=lambda size: -NORMALIZED_UNITS[size]):
        count = int(units // NORMALIZED_UNITS[size])
        if count:
            plan.append({"node_type": f"{cluster.family}.{size}", "count": count})
            units -= count * NORMALIZED_UNITS[size]
    return plan


def _finding(cluster: _Cluster, settings: Settings, on_demand: pricing.Price,
             reserved_price: pricing.Price, ran: float, datapoints: int, covered: float,
             snapshot: Snapshot) -> Finding:
    uncovered_units = cluster.units - covered
    uncovered_share = uncovered_units / cluster.units if cluster.units else 1.0
    purchase = _purchase(cluster, uncovered_units)
    own_type = sum(item["count"] for item in purchase if item["node_type"] == cluster.node_type)
    hours = pricing.HOURS_PER_MONTH
    monthly = on_demand.usd * hours * cluster.num_nodes * uncovered_share
    monthly_reserved = reserved_price.usd * hours * cluster.num_nodes * uncovered_share
    discount = 1 - reserved_price.usd / on_demand.usd
    coverage_text = (f"none of its {cluster.num_nodes} node(s) is reserved" if not covered else
                     f"reserved nodes cover {covered:g} of its {cluster.units:g} normalized "
                     "units")
    bought = ", ".join(f"{item['count']} x {item['node_type']}" for item in purchase)
    reason = (
        f"{cluster.num_nodes} x {cluster.node_type} reported CPU in {ran:.0%} of the window "
        f"and {coverage_text}; {bought} {settings.term} {settings.offering} reserved "
        f"node(s) cost ${reserved_price.usd:g}/h a {cluster.node_type} instead of "
        f"${on_demand.usd:g}/h ({discount:.0%} less)"
    )
    caveat = unreadable_reservations_caveat(snapshot, "elasticache",
                                            "DescribeReservedCacheNodes", cluster.resource,
                                            "reserved nodes")
    reason += caveat
    evidence = {
        "coverage": round(ran, 3),
        "datapoints": datapoints,
        "engine": cluster.engine,
        "product_description": cluster.engine,
        "num_nodes": cluster.num_nodes,
        "normalized_units": cluster.units,
        "covered_units": covered,
        "reserved_nodes_covering": covered / node_units(cluster.node_type)
        if node_units(cluster.node_type) else 0,
        "nodes_to_reserve": uncovered_units / node_units(cluster.node_type)
        if node_units(cluster.node_type) else cluster.num_nodes,
        "purchase": purchase,
        "hourly_on_demand_usd": on_demand.usd,
        "hourly_reserved_usd": reserved_price.usd,
        "hours_per_month": hours,
        "reservations_readable": not caveat,
        "reservation_states_counted": sorted(HELD_RESERVATION_STATES),
        "price_source": on_demand.source,
        "price_as_of": on_demand.as_of,
    }
    return finding_for(
        cluster.resource, RULE_ID,
        current={"node_type": cluster.node_type, "num_nodes": cluster.num_nodes},
        recommended={"term": settings.term, "offering": settings.offering,
                     "node_count": own_type},
        monthly_cost_usd=monthly,
        monthly_savings_usd=monthly - monthly_reserved,
        pricing=pricing.basis(on_demand, recommended=(reserved_price,)),
        evidence=evidence,
        reason=reason,
    )


def _tf_name(*parts: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))
    return name if re.match(r"[A-Za-z_]", name) else f"r_{name}"


def how_to_apply(finding: Finding) -> dict[str, str]:
    region = shlex.quote(finding.region)
    product = str(finding.evidence.get("product_description") or "redis")
    purchase = finding.evidence.get("purchase") or [
        {"node_type": finding.current["node_type"],
         "count": int(finding.recommended.get("node_count") or 1)}]
    cli = ["# A reserved node is a 1-year billing commitment that cannot be cancelled. Each "
           "block finds the offering, then buys it only if one was found."]
    terraform = ["# Terraform AWS provider: a reserved node cannot be cancelled or refunded "
                 "(terraform destroy does not end it)."]
    for number, item in enumerate(purchase, start=1):
        node_type, count = str(item["node_type"]), int(item["count"])
        variable = "OFFERING" if len(purchase) == 1 else f"OFFERING_{number}"
        label = f"{node_type} {product}"
        # exact match on the engine (the API filter is on the product description)
        query = (f"ReservedCacheNodesOfferings[?ProductDescription==`\"{product}\"`]"
                 ".ReservedCacheNodesOfferingId | [0]")
        cli.append(
            f"{variable}=$(aws elasticache describe-reserved-cache-nodes-offerings "
            f"--cache-node-type {shlex.quote(node_type)} --product-description "
            f"{shlex.quote(product)} --duration {ONE_YEAR_SECONDS} "
            f"--offering-type \"No Upfront\" --query {shlex.quote(query)} --output text "
            f"--region {region})")
        cli.append(
            f"if [ -n \"${variable}\" ] && [ \"${variable}\" != None ]; then "
            f"aws elasticache purchase-reserved-cache-nodes-offering "
            f"--reserved-cache-nodes-offering-id \"${variable}\" --cache-node-count {count} "
            f"--region {region}; else echo \"no matching offering for {label}: nothing "
            f"bought\" >&2; fi")
        name = _tf_name(finding.name, str(number)) if len(purchase) > 1 else _tf_name(
            finding.name)
        terraform.append(
            f"data \"aws_elasticache_reserved_cache_node_offering\" \"{name}\" {{\n"
            f"  cache_node_type     = \"{node_type}\"\n"
            f"  duration            = \"P1Y\"\n"
            f"  offering_type       = \"No Upfront\"\n"
            f"  product_description = \"{product}\"\n}}\n"
            f"resource \"aws_elasticache_reserved_cache_node\" \"{name}\" {{\n"
            f"  reserved_cache_nodes_offering_id = "
            f"data.aws_elasticache_reserved_cache_node_offering.{name}.offering_id\n"
            f"  cache_node_count                 = {count}\n}}")
    return {
        "cli": "\n".join(cli),
        "terraform": "\n".join(terraform),
        # CloudFormation (and so CDK) has no resource for a reserved cache node.
        "cdk": "",
    }


RULE = Rule(
    id=RULE_ID,
    title="Reserve cache nodes that run 24/7",
    why=(
        "A Redis cache is usually on every hour of the month, yet each node is billed at the "
        "on-demand rate. A 1-year No Upfront reserved node needs no cash up front and lowers "
        "the hourly rate for any node size of its family in the same region (reserved nodes "
        "are size-flexible); the rule counts the active and payment-pending reserved nodes "
        "you already hold before recommending more."
    ),
    resource_type="elasticache-cluster",
    bill_services=('Amazon ElastiCache',),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(
        MetricNeed("elasticache-cluster", NAMESPACE, "CPUUtilization", ("Maximum",)),
    ),
)
