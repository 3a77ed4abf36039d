"""elasticache-reserved-node: always-on Redis clusters without active reserved nodes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rightsizer import pricing
from rightsizer.rules.elasticache_reserved_node import RULE, Settings, evaluate, how_to_apply
from tests.snapshot_factory import REGION, SnapshotBuilder


def monthly_saving_per_node(node_type: str, region: str = REGION) -> float:
    on_demand = pricing.elasticache_hourly_usd(region, node_type)
    reserved = pricing.elasticache_hourly_usd(region, node_type, term="1yr-no-upfront")
    assert on_demand is not None and reserved is not None
    return (on_demand.usd - reserved.usd) * 730


def test_always_on_cluster_without_reservation_gets_1yr_no_upfront_finding():
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", node_type="cache.t3.medium", num_nodes=2)
    snap.elasticache_cpu("edufly-cache")
    result = evaluate(snap.build(), Settings())

    assert result.skipped == []
    [finding] = result.findings
    assert finding.rule == "elasticache-reserved-node"
    assert finding.resource_type == "elasticache-cluster"
    assert finding.current == {"node_type": "cache.t3.medium", "num_nodes": 2}
    assert finding.recommended == {"term": "1yr", "offering": "No Upfront", "node_count": 2}
    assert finding.monthly_savings_usd == pytest.approx(
        2 * monthly_saving_per_node("cache.t3.medium"))
    # evidence lets a reader redo the arithmetic
    ev = finding.evidence
    assert finding.monthly_savings_usd == pytest.approx(
        (ev["hourly_on_demand_usd"] - ev["hourly_reserved_usd"]) * ev["hours_per_month"]
        * ev["nodes_to_reserve"])
    assert ev["reservations_readable"] is True
    assert "cache.t3.medium" in finding.reason


def test_coverage_exactly_at_minimum_is_judged():
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache")
    snap.elasticache_cpu("edufly-cache", coverage=0.8)
    assert len(evaluate(snap.build(), Settings()).findings) == 1


def test_partial_cpu_data_is_skipped_as_insufficient_data():
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache")
    snap.elasticache_cpu("edufly-cache", coverage=0.5)
    result = evaluate(snap.build(), Settings())
    assert result.findings == []
    assert [row.reason for row in result.skipped] == ["insufficient-data"]
    assert "50%" in result.skipped[0].detail


def test_cluster_without_cpu_data_is_skipped_as_insufficient_data():
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache")
    result = evaluate(snap.build(), Settings())
    assert [row.reason for row in result.skipped] == ["insufficient-data"]


def test_active_reservation_of_same_node_type_covers_every_node():
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", node_type="cache.t3.medium", num_nodes=2)
    snap.elasticache_cpu("edufly-cache")
    snap.elasticache_reservation("cache.t3.medium", count=2)
    result = evaluate(snap.build(), Settings())
    assert result.findings == []
    assert result.skipped == []


def test_reservation_covering_some_nodes_recommends_only_the_rest():
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", node_type="cache.t3.medium", num_nodes=3)
    snap.elasticache_cpu("edufly-cache")
    snap.elasticache_reservation("cache.t3.medium", count=1)
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.recommended["node_count"] == 2
    assert finding.evidence["reserved_nodes_covering"] == 1
    assert finding.monthly_savings_usd == pytest.approx(
        2 * monthly_saving_per_node("cache.t3.medium"))


def test_reservation_of_another_family_does_not_cover():
    """Size flexibility stays inside a node family
    (https://aws.amazon.com/blogs/database/new-size-flexibility-for-amazon-elasticache-reserved-nodes/):
    cache.t4g reservations do not cover a cache.t3 cluster."""
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", node_type="cache.t3.medium")
    snap.elasticache_cpu("edufly-cache")
    snap.elasticache_reservation("cache.t4g.medium", count=4)
    assert len(evaluate(snap.build(), Settings()).findings) == 1


def test_smaller_reserved_nodes_of_the_family_cover_a_larger_node_by_size_flexibility():
    """Since October 2024 reserved nodes are size-flexible within their family (AWS Database
    Blog, "New - Size flexibility for Amazon ElastiCache reserved nodes"): two cache.t3.small
    (1 normalized unit each) cover one cache.t3.medium (2 units)."""
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", node_type="cache.t3.medium")
    snap.elasticache_cpu("edufly-cache")
    snap.elasticache_reservation("cache.t3.small", count=2)
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_retired_or_other_region_reservations_do_not_cover():
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", node_type="cache.t3.medium")
    snap.elasticache_cpu("edufly-cache")
    snap.elasticache_reservation("cache.t3.medium", state="retired")
    snap.elasticache_reservation("cache.t3.medium", region="us-east-1")
    assert len(evaluate(snap.build(), Settings()).findings) == 1


def test_one_reservation_is_not_counted_twice_across_clusters():
    snap = SnapshotBuilder()
    for name in ("cache-a", "cache-b"):
        snap.elasticache_cluster(name, node_type="cache.t3.small")
        snap.elasticache_cpu(name)
    snap.elasticache_reservation("cache.t3.small", count=1)
    assert len(evaluate(snap.build(), Settings()).findings) == 1


def test_creating_cluster_is_skipped_as_not_applicable():
    """creating is not billed and not running
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Nodes.viewing.html)."""
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", status="creating")
    snap.elasticache_cpu("edufly-cache")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable" and "creating" in row.detail


def test_modifying_cluster_is_running_and_judged():
    """modifying is a billed CacheClusterStatus
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CacheCluster.html,
    Nodes.viewing.html): the cluster runs and is judged."""
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", status="modifying")
    snap.elasticache_cpu("edufly-cache")
    assert len(evaluate(snap.build(), Settings()).findings) == 1


def test_node_type_without_price_is_skipped_with_no_price_detail():
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", node_type="cache.r7g.large")
    snap.elasticache_cpu("edufly-cache")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable"
    assert row.detail.startswith("no price for cache.r7g.large")
    assert REGION in row.detail


def test_valkey_cluster_is_not_priced_with_redis_rates():
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", engine="valkey")
    snap.elasticache_cpu("edufly-cache")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable" and "valkey" in row.detail


def test_unreadable_reservations_are_stated_in_the_finding():
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache")
    snap.elasticache_cpu("edufly-cache")
    snap.error("elasticache", "DescribeReservedCacheNodes")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["reservations_readable"] is False
    assert "could not be read" in finding.reason


def test_how_to_apply_names_node_type_and_count():
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", node_type="cache.t3.medium", num_nodes=2)
    snap.elasticache_cpu("edufly-cache")
    [finding] = evaluate(snap.build(), Settings()).findings
    steps = how_to_apply(finding)
    assert "--cache-node-type cache.t3.medium" in steps["cli"]
    assert "--cache-node-count 2" in steps["cli"]
    assert "aws_elasticache_reserved_cache_node" in steps["terraform"]
    assert steps["cdk"] == ""  # CloudFormation has no reserved cache node resource
    assert RULE.id == "elasticache-reserved-node" and RULE.why


def test_settings_reject_unknown_keys_and_bad_bounds():
    with pytest.raises(ValidationError):
        Settings.model_validate({"min_coverage": 1.5})
    with pytest.raises(ValidationError):
        Settings.model_validate({"nope": 1})


# --- statuses, reservation states, size flexibility and the purchase commands ---------------

FLEX_BLOG = ("https://aws.amazon.com/blogs/database/"
             "new-size-flexibility-for-amazon-elasticache-reserved-nodes/")


@pytest.mark.parametrize("status", ["available", "modifying", "snapshotting",
                                    "rebooting cluster nodes", "rebooting cache cluster nodes"])
def test_running_cache_statuses_are_judged(status):
    """available, modifying, snapshotting and rebooting cluster nodes are billed, running
    CacheClusterStatus values (API_CacheCluster.html; Nodes.viewing.html spells the reboot as
    "rebooting cache cluster nodes" too)."""
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", status=status)
    snap.elasticache_cpu("edufly-cache")
    assert len(evaluate(snap.build(), Settings()).findings) == 1


@pytest.mark.parametrize("status", ["creating", "deleting", "deleted", "incompatible-network",
                                    "restore-failed", "incompatible_parameters"])
def test_cache_statuses_that_are_not_running_are_skipped_rows(status):
    """creating, deleting, deleted, incompatible-network, restore-failed (API_CacheCluster.html)
    and incompatible_parameters (Nodes.viewing.html) are not judged."""
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", status=status)
    snap.elasticache_cpu("edufly-cache")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable" and row.detail.startswith(f"status is {status}:")


def test_unknown_cache_status_is_a_skipped_row_never_a_guess():
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", status="scaling-out")
    snap.elasticache_cpu("edufly-cache")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert "unknown cache cluster status 'scaling-out'" in row.detail


def test_payment_pending_reserved_node_counts_as_held():
    """A purchase is returned payment-pending (AWS CLI example
    purchase-reserved-cache-nodes-offering): it covers the node, never bought twice."""
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", node_type="cache.t3.micro")
    snap.elasticache_cpu("edufly-cache")
    snap.elasticache_reservation("cache.t3.micro", state="payment-pending")
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_payment_failed_reserved_node_does_not_cover():
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", node_type="cache.t3.micro")
    snap.elasticache_cpu("edufly-cache")
    snap.elasticache_reservation("cache.t3.micro", state="payment-failed")
    assert len(evaluate(snap.build(), Settings()).findings) == 1


def test_reserved_node_in_an_unknown_state_is_a_skipped_row():
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", node_type="cache.t3.micro")
    snap.elasticache_cpu("edufly-cache")
    snap.elasticache_reservation("cache.t3.small", state="exchanging")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert "rcn-1 (exchanging)" in row.detail and "check it before buying" in row.detail


def test_one_larger_reserved_node_covers_two_smaller_nodes():
    """Size flexibility (FLEX_BLOG): a cache.t3.medium (2 units) covers two cache.t3.small."""
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", node_type="cache.t3.small", num_nodes=2)
    snap.elasticache_cpu("edufly-cache")
    snap.elasticache_reservation("cache.t3.medium")
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_partial_coverage_buys_the_missing_units_in_the_family_sizes():
    """3 x cache.t3.medium = 6 units; one cache.t3.small (1 unit) held: 5 units to buy = two
    cache.t3.medium and one cache.t3.small, and the saving is 5/6 of the cluster's."""
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", node_type="cache.t3.medium", num_nodes=3)
    snap.elasticache_cpu("edufly-cache")
    snap.elasticache_reservation("cache.t3.small")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["purchase"] == [{"node_type": "cache.t3.medium", "count": 2},
                                            {"node_type": "cache.t3.small", "count": 1}]
    assert finding.recommended["node_count"] == 2
    assert finding.monthly_savings_usd == pytest.approx(
        3 * monthly_saving_per_node("cache.t3.medium") * 5 / 6)
    cli = how_to_apply(finding)["cli"]
    assert "--cache-node-type cache.t3.small" in cli and "OFFERING_2" in cli


def test_how_to_apply_captures_the_offering_id_then_purchases_it():
    """PurchaseReservedCacheNodesOffering needs ReservedCacheNodesOfferingId: it is captured
    from describe-reserved-cache-nodes-offerings and bought only when found."""
    snap = SnapshotBuilder()
    snap.elasticache_cluster("edufly-cache", node_type="cache.t3.micro")
    snap.elasticache_cpu("edufly-cache")
    [finding] = evaluate(snap.build(), Settings()).findings
    steps = how_to_apply(finding)
    assert set(steps) == {"cli", "terraform", "cdk"}
    describe, purchase = [line for line in steps["cli"].splitlines()
                          if not line.startswith("#")]
    assert describe.startswith(
        "OFFERING=$(aws elasticache describe-reserved-cache-nodes-offerings ")
    for part in ("--cache-node-type cache.t3.micro", "--product-description redis",
                 "--duration 31536000", '--offering-type "No Upfront"', "--output text",
                 f"--region {REGION}"):
        assert part in describe
    assert purchase == (
        'if [ -n "$OFFERING" ] && [ "$OFFERING" != None ]; then aws elasticache '
        'purchase-reserved-cache-nodes-offering --reserved-cache-nodes-offering-id '
        f'"$OFFERING" --cache-node-count 1 --region {REGION}; else echo "no matching '
        'offering for cache.t3.micro redis: nothing bought" >&2; fi')
    assert 'duration            = "P1Y"' in steps["terraform"]
