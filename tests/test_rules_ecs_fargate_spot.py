"""ecs-fargate-spot: background services on on-demand Fargate are moved to Fargate Spot."""

from __future__ import annotations

import pytest

from rightsizer import pricing
from rightsizer.rules.ecs_fargate_spot import Settings, evaluate
from tests.snapshot_factory import REGION, SnapshotBuilder

SPOT_ONLY = [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
FARGATE_ONLY = [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]


def judge(settings: Settings | None = None, **service):
    snap = SnapshotBuilder()
    snap.ecs_service("worker", **service)
    return evaluate(snap.build(), settings or Settings())


def test_fargate_service_without_load_balancer_gets_spot_finding():
    result = judge(cpu=1024, memory=2048, desired=2)
    assert result.skipped == []
    [finding] = result.findings
    assert finding.rule == "ecs-fargate-spot"
    assert finding.current == {"capacity_provider": "FARGATE"}
    assert finding.recommended["capacity_provider"] == "FARGATE_SPOT"
    # FARGATE carries the base (0 by default), placed before the weights split the rest
    assert finding.recommended["strategy"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 0},
        {"capacityProvider": "FARGATE_SPOT", "weight": 4},
    ]
    assert finding.monthly_savings_usd > 0


def test_savings_are_four_fifths_of_the_spot_discount():
    result = judge(cpu=1024, memory=2048, desired=2)
    [finding] = result.findings
    on_demand = pricing.fargate_hourly_usd(REGION, 1024, 2048)
    spot = pricing.fargate_hourly_usd(REGION, 1024, 2048, spot=True)
    assert spot < on_demand
    assert finding.monthly_cost_usd == pytest.approx(on_demand * 730 * 2)
    assert finding.monthly_savings_usd == pytest.approx((on_demand - spot) * 0.8 * 730 * 2)
    assert finding.evidence["spot_share"] == 0.8


def test_service_behind_load_balancer_is_skipped_as_not_applicable():
    result = judge(load_balancers=1)
    assert result.findings == []
    assert [row.reason for row in result.skipped] == ["not-applicable"]
    assert "load balancer" in result.skipped[0].detail


def test_service_behind_load_balancer_matching_name_pattern_is_included():
    result = judge(Settings(include_name_patterns=["*-api", "work*"]), load_balancers=1)
    assert result.skipped == []
    [finding] = result.findings
    assert "include patterns" in finding.reason


def test_service_behind_load_balancer_with_included_tag_is_included():
    settings = Settings(include_tags={"workload": "batch"})
    assert len(judge(settings, load_balancers=1, tags={"workload": "batch"}).findings) == 1
    other = judge(settings, load_balancers=1, tags={"workload": "web"})
    assert other.findings == []
    assert [row.reason for row in other.skipped] == ["not-applicable"]


def test_service_already_on_fargate_spot_gives_nothing():
    result = judge(launch_type=None, strategy=SPOT_ONLY + FARGATE_ONLY)
    assert result.findings == []
    assert result.skipped == []


def test_service_without_launch_type_uses_cluster_default_with_spot():
    result = judge(launch_type=None, strategy=None, cluster_default=SPOT_ONLY)
    assert result.findings == []
    assert result.skipped == []


def test_service_without_launch_type_uses_cluster_default_without_spot():
    result = judge(launch_type=None, strategy=None, cluster_default=FARGATE_ONLY)
    assert len(result.findings) == 1


def test_explicit_strategy_wins_over_cluster_default():
    result = judge(launch_type=None, strategy=FARGATE_ONLY, cluster_default=SPOT_ONLY)
    assert len(result.findings) == 1


def test_ec2_service_is_skipped_as_not_applicable():
    result = judge(launch_type="EC2")
    assert result.findings == []
    assert [row.reason for row in result.skipped] == ["not-applicable"]


def test_service_scaled_to_zero_is_skipped():
    result = judge(desired=0, running=0)
    assert result.findings == []
    assert [row.reason for row in result.skipped] == ["not-applicable"]


def test_custom_weights_change_strategy_and_savings():
    result = judge(Settings(spot_weight=1, on_demand_weight=1), cpu=512, memory=1024)
    [finding] = result.findings
    assert finding.recommended["strategy"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 0},
        {"capacityProvider": "FARGATE_SPOT", "weight": 1},
    ]
    on_demand = pricing.fargate_hourly_usd(REGION, 512, 1024)
    spot = pricing.fargate_hourly_usd(REGION, 512, 1024, spot=True)
    assert finding.monthly_savings_usd == pytest.approx((on_demand - spot) * 0.5 * 730)
