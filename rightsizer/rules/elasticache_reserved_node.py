"""elasticache-reserved-node: Redis caches that run 24/7 without a reserved node."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from rightsizer import pricing
from rightsizer.findings import Finding, Resource, finding_for, skipped_for
from rightsizer.rules.base import (
    MetricNeed,
    Rule,
    RuleResult,
    RuleSettings,
    unreadable_reservations_caveat,
    uptime_shortfall,
)
from rightsizer.snapshot import Snapshot, decode_json_cell, records

RULE_ID = "elasticache-reserved-node"
NAMESPACE = "AWS/ElastiCache"
# The price table holds Redis OSS nodes only; Valkey and Memcached are priced differently
# (Valkey is cheaper), so their savings would be wrong: they are skipped, not guessed.
PRICED_ENGINES = {"redis"}


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


@dataclass(frozen=True)
class _Cluster:
    resource: Resource
    node_type: str
    engine: str
    num_nodes: int
    status: str


def _clusters(snapshot: Snapshot) -> list[_Cluster]:
    return [
        _Cluster(
            resource=Resource("elasticache-cluster", str(row["arn"]), str(row["cluster_id"]),
                              str(row["account"]), str(row["region"]),
                              decode_json_cell(row.get("tags"), {})),
            node_type=str(row["node_type"]).lower(),
            engine=str(row.get("engine") or "").lower(),
            num_nodes=max(1, int(row.get("num_nodes") or 1)),
            status=str(row["status"]),
        )
        for row in records(snapshot.table("elasticache_clusters"))
    ]


def _reserved_nodes(snapshot: Snapshot) -> dict[tuple[str, str, str], int]:
    """Active reserved nodes per (account, region, node type)."""
    nodes: dict[tuple[str, str, str], int] = defaultdict(int)
    for row in records(snapshot.table("elasticache_reservations")):
        if str(row.get("state")) != "active":
            continue  # payment-pending / retired reservations bill nothing against usage
        key = (str(row["account"]), str(row["region"]), str(row["node_type"]).lower())
        nodes[key] += int(row.get("node_count") or 1)
    return nodes


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    reserved = _reserved_nodes(snapshot)
    expected = snapshot.expected_datapoints
    # Bigger clusters claim reserved nodes first so a partial match lands on one cluster.
    for cluster in sorted(_clusters(snapshot), key=lambda c: -c.num_nodes):
        resource = cluster.resource
        if cluster.status != "available":
            result.skipped.append(skipped_for(
                resource, RULE_ID, "not-applicable",
                f"status is {cluster.status}: reserve only caches that run around the clock"))
            continue
        cpu = snapshot.one_series(resource.account, resource.region, NAMESPACE,
                                  "CPUUtilization", resource.name, "Maximum")
        ran = cpu.coverage(expected)
        shortfall = uptime_shortfall(ran, settings.min_coverage)
        if shortfall:
            result.skipped.append(skipped_for(resource, RULE_ID, "insufficient-data", shortfall))
            continue
        key = (resource.account, resource.region, cluster.node_type)
        covered = min(reserved.get(key, 0), cluster.num_nodes)
        reserved[key] = reserved.get(key, 0) - covered
        uncovered = cluster.num_nodes - covered
        if uncovered == 0:
            continue  # every node is billed at a reserved rate already
        on_demand = pricing.elasticache_hourly_usd(resource.region, cluster.node_type)
        reserved_price = pricing.elasticache_hourly_usd(resource.region, cluster.node_type,
                                                        term="1yr-no-upfront")
        if cluster.engine not in PRICED_ENGINES or on_demand is None or reserved_price is None:
            result.skipped.append(skipped_for(
                resource, RULE_ID, "not-applicable",
                f"no price for {cluster.node_type} ({cluster.engine or 'unknown engine'}) "
                f"in {resource.region}"))
            continue
        result.findings.append(_finding(cluster, settings, on_demand, reserved_price, ran,
                                        cpu.rows, covered, snapshot))
    return result


def _finding(cluster: _Cluster, settings: Settings, on_demand: pricing.Price,
             reserved_price: pricing.Price, ran: float, datapoints: int, covered: int,
             snapshot: Snapshot) -> Finding:
    uncovered = cluster.num_nodes - covered
    hours = pricing.HOURS_PER_MONTH
    monthly = on_demand.usd * hours * uncovered
    monthly_reserved = reserved_price.usd * hours * uncovered
    discount = 1 - reserved_price.usd / on_demand.usd
    coverage_text = (f"none of its {cluster.num_nodes} node(s) is reserved" if not covered else
                     f"reservations cover {covered} of its {cluster.num_nodes} nodes")
    reason = (
        f"{uncovered} x {cluster.node_type} reported CPU in {ran:.0%} of the window and "
        f"{coverage_text}; a {settings.term} {settings.offering} reserved node costs "
        f"${reserved_price.usd:g}/h instead of ${on_demand.usd:g}/h ({discount:.0%} less)"
    )
    caveat = unreadable_reservations_caveat(snapshot, "elasticache",
                                            "DescribeReservedCacheNodes", cluster.resource,
                                            "reserved nodes")
    reason += caveat
    evidence = {
        "coverage": round(ran, 3),
        "datapoints": datapoints,
        "engine": cluster.engine,
        "num_nodes": cluster.num_nodes,
        "reserved_nodes_covering": covered,
        "nodes_to_reserve": uncovered,
        "hourly_on_demand_usd": on_demand.usd,
        "hourly_reserved_usd": reserved_price.usd,
        "hours_per_month": hours,
        "reservations_readable": not caveat,
        "price_source": on_demand.source,
        "price_as_of": on_demand.as_of,
    }
    return finding_for(
        cluster.resource, RULE_ID,
        current={"node_type": cluster.node_type, "num_nodes": cluster.num_nodes},
        recommended={"term": settings.term, "offering": settings.offering,
                     "node_count": uncovered},
        monthly_cost_usd=monthly,
        monthly_savings_usd=monthly - monthly_reserved,
        evidence=evidence,
        reason=reason,
    )


def how_to_apply(finding: Finding) -> dict[str, str]:
    node_type = finding.current["node_type"]
    count = finding.recommended["node_count"]
    return {
        "cli": (
            f"aws elasticache describe-reserved-cache-nodes-offerings --region {finding.region} "
            f"--cache-node-type {node_type} --product-description redis "
            f"--duration 31536000 --offering-type \"No Upfront\"\n"
            f"aws elasticache purchase-reserved-cache-nodes-offering --region {finding.region} "
            f"--reserved-cache-nodes-offering-id <offering id> --cache-node-count {count}"
        ),
        "iac": "# Reserved nodes are a billing purchase, not infrastructure: buy in the console "
        "(ElastiCache > Reserved nodes > Purchase reserved nodes) or with the CLI above.",
    }


RULE = Rule(
    id=RULE_ID,
    title="Reserve cache nodes that run 24/7",
    why=(
        "A Redis cache is usually on every hour of the month, yet each node is billed at the "
        "on-demand rate. A 1-year No Upfront reserved node needs no cash up front and lowers "
        "the hourly rate for the same node type in the same region; the rule counts the "
        "reserved nodes you already hold before recommending more."
    ),
    resource_type="elasticache-cluster",
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(
        MetricNeed("elasticache-cluster", NAMESPACE, "CPUUtilization", ("Maximum",)),
    ),
)
