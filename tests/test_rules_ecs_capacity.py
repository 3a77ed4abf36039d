"""Where the tasks run decides whether Fargate sizes and prices apply, and how much of a service
runs on Spot.

- DAEMON services run one task per container instance; "Fargate tasks don't support the DAEMON
  scheduling strategy" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Service.html).
- EC2, EXTERNAL and MANAGED_INSTANCES launch types and Auto Scaling group capacity providers are
  billed by their instances, not per Fargate task size.
- A capacity provider strategy places each provider's base first, then splits the rest by
  weight (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html).
"""

from __future__ import annotations

import pytest

from rightsizer import pricing
from rightsizer.rules import ecs_fargate_spot, ecs_rightsize
from rightsizer.rules.support.ecs_common import placement, spot_share_of
from tests.ecs_rows import add_service
from tests.snapshot_factory import REGION, SnapshotBuilder, flat


def snapshot(**service):
    snap = SnapshotBuilder()
    add_service(snap, "svc", **service)
    snap.ecs_usage("svc", cpu_max=flat(10), memory_max=flat(12))
    return snap.build()


def both(**service):
    snap = snapshot(**service)
    return (ecs_rightsize.evaluate(snap, ecs_rightsize.Settings()),
            ecs_fargate_spot.evaluate(snap, ecs_fargate_spot.Settings()))


@pytest.mark.parametrize(("service", "named"), [
    ({"scheduling": "DAEMON", "launch_type": "EC2"}, "DAEMON"),
    ({"launch_type": "EC2"}, "EC2 launch type"),
    ({"launch_type": "EXTERNAL"}, "EXTERNAL launch type"),
    ({"launch_type": "MANAGED_INSTANCES"}, "MANAGED_INSTANCES"),
    ({"launch_type": None, "strategy": [{"capacityProvider": "asg-provider", "weight": 1}]},
     "asg-provider"),
    ({"launch_type": None, "strategy": [{"capacityProvider": "FARGATE", "weight": 1},
                                        {"capacityProvider": "ec2-spot", "weight": 1}]},
     "ec2-spot"),
])
def test_services_not_billed_per_fargate_task_get_a_skipped_row_from_both_rules(service, named):
    for result in both(**service):
        assert result.findings == []
        [row] = result.skipped
        assert row.reason == "not-applicable"
        assert named in row.detail


def test_service_with_no_launch_type_strategy_or_cluster_default_is_skipped_as_unknown():
    for result in both(launch_type=None):
        [row] = result.skipped
        assert "unknown" in row.detail


def test_placement_puts_the_base_first_then_splits_by_weight():
    strategy = (("FARGATE", 1, 2), ("FARGATE_SPOT", 3, 0))
    assert placement(strategy, 2) == {"FARGATE": 2.0, "FARGATE_SPOT": 0.0}
    assert placement(strategy, 6) == {"FARGATE": 3.0, "FARGATE_SPOT": 3.0}
    # weight 1 to 4: "for every 1 task on A, 4 tasks will run on B"
    assert placement((("FARGATE", 1, 0), ("FARGATE_SPOT", 4, 0)), 5) == \
        {"FARGATE": 1.0, "FARGATE_SPOT": 4.0}
    # the base can be on Spot as well
    assert spot_share_of((("FARGATE_SPOT", 1, 1), ("FARGATE", 1, 0)), 1) == 1.0


def test_rightsize_prices_a_mixed_strategy_on_its_actual_placement():
    """4 tasks, FARGATE base 2 weight 1, FARGATE_SPOT weight 1: 2 + 1 on-demand, 1 on Spot."""
    strategy = [{"capacityProvider": "FARGATE", "weight": 1, "base": 2},
                {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    snap = snapshot(launch_type=None, strategy=strategy, desired=4, cpu=2048, memory=4096)
    [finding] = ecs_rightsize.evaluate(snap, ecs_rightsize.Settings()).findings
    od = pricing.fargate_hourly_usd(REGION, 2048, 4096)
    sp = pricing.fargate_hourly_usd(REGION, 2048, 4096, spot=True)
    assert finding.evidence["hourly_cost_current_usd"] == round(0.25 * sp + 0.75 * od, 5)


def test_rightsize_prices_tasks_the_base_keeps_on_demand_at_on_demand_rates():
    strategy = [{"capacityProvider": "FARGATE", "weight": 1, "base": 2},
                {"capacityProvider": "FARGATE_SPOT", "weight": 4, "base": 0}]
    snap = snapshot(launch_type=None, strategy=strategy, desired=2, cpu=2048, memory=4096)
    [finding] = ecs_rightsize.evaluate(snap, ecs_rightsize.Settings()).findings
    assert finding.evidence["hourly_cost_current_usd"] == round(
        pricing.fargate_hourly_usd(REGION, 2048, 4096), 5)


def test_spot_savings_count_only_the_tasks_placed_on_spot_after_the_base():
    """5 tasks, recommended FARGATE base 1 weight 1 + FARGATE_SPOT weight 4: 1 + 0.8 on-demand,
    3.2 on Spot."""
    settings = ecs_fargate_spot.Settings(on_demand_base=1)
    [finding] = ecs_fargate_spot.evaluate(snapshot(desired=5), settings).findings
    od = pricing.fargate_hourly_usd(REGION, 1024, 2048)
    sp = pricing.fargate_hourly_usd(REGION, 1024, 2048, spot=True)
    assert finding.monthly_savings_usd == pytest.approx((od - sp) * 730 * 3.2)
    assert finding.evidence["spot_share"] == 0.64
    assert finding.recommended["strategy"][0] == {"capacityProvider": "FARGATE", "weight": 1,
                                                  "base": 1}


def test_spot_is_not_recommended_when_the_base_keeps_every_task_on_demand():
    result = ecs_fargate_spot.evaluate(snapshot(desired=2),
                                       ecs_fargate_spot.Settings(on_demand_base=2))
    [row] = result.skipped
    assert result.findings == [] and "stay on-demand" in row.detail


@pytest.mark.parametrize("controller", ["CODE_DEPLOY", "EXTERNAL"])
def test_spot_is_not_recommended_for_services_update_service_cannot_move(controller):
    """UpdateService changes a blue/green or external service's desired count and a few
    settings only; "Cannot force a new deployment on services with a CODE_DEPLOY deployment
    controller" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html)."""
    result = ecs_fargate_spot.evaluate(snapshot(controller=controller),
                                       ecs_fargate_spot.Settings())
    [row] = result.skipped
    assert result.findings == [] and controller in row.detail


def test_how_to_apply_has_cli_terraform_and_cdk_for_both_rules():
    snap = snapshot(desired=2, cpu=2048, memory=4096)
    [resize] = ecs_rightsize.evaluate(snap, ecs_rightsize.Settings()).findings
    [to_spot] = ecs_fargate_spot.evaluate(snap, ecs_fargate_spot.Settings()).findings
    for rule, finding in ((ecs_rightsize, resize), (ecs_fargate_spot, to_spot)):
        steps = rule.how_to_apply(finding)
        assert set(steps) == {"cli", "terraform", "cdk"}
        assert all(steps.values())
    assert f'cpu    = "{resize.recommended["cpu"]}"' in ecs_rightsize.how_to_apply(resize)[
        "terraform"]
    assert "capacityProviderStrategies" in ecs_fargate_spot.how_to_apply(to_spot)["cdk"]
    assert "put-cluster-capacity-providers" not in ecs_fargate_spot.how_to_apply(to_spot)["cli"]
