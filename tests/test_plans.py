"""Plans: the findings on one resource stacked, against hand-computed cases and every conflict."""

from __future__ import annotations

import pytest

from rightsizer import pricing
from rightsizer.report.plans import build_plans
from rightsizer.rules.findings import Finding


def _finding(rule: str, resource: str, cost: float, savings: float, *,
             resource_type: str = "ecs-service") -> Finding:
    return Finding(rule=rule, resource_type=resource_type, resource_id=resource, name=resource,
                   account="123456789012", region="ap-south-1", current={}, recommended={},
                   monthly_cost_usd=cost, monthly_savings_usd=savings, evidence={}, reason="")


def test_right_size_then_arm64_then_spot_compound_on_what_each_step_left():
    # $100/month service: right-size halves it ($50 off), ARM64 is 20% cheaper ($20 off the
    # original), Spot takes 56% ($56 off the original)
    findings = [_finding("ecs-fargate-spot", "api", 100.0, 56.0),
                _finding("graviton-migration", "api", 100.0, 20.0),
                _finding("ecs-rightsize", "api", 100.0, 50.0)]
    [plan] = build_plans(findings)
    # by hand: 100 -> 50 (right-size) -> 40 (20% of 50) -> 17.6 (56% of 40)
    assert [row["rule"] for row in plan.steps_detail] == [
        "ecs-rightsize", "graviton-migration", "ecs-fargate-spot"]
    assert [(row["before_monthly_usd"], row["after_monthly_usd"]) for row in plan.steps_detail] \
        == [(100.0, 50.0), (50.0, 40.0), (40.0, 17.6)]
    assert plan.monthly_savings_usd == pytest.approx(82.4)
    assert 56.0 < plan.monthly_savings_usd < 126.0  # more than any one, less than their sum
    assert plan.steps == [findings[2].id, findings[1].id, findings[0].id]
    assert "Spot" in plan.detail and "Graviton" in plan.detail


def test_one_finding_is_a_one_step_plan_at_its_own_saving():
    [plan] = build_plans([_finding("s3-lifecycle", "bucket", 4.5, 1.07,
                                   resource_type="s3-bucket")])
    assert plan.monthly_savings_usd == pytest.approx(1.07)
    assert plan.to_dict()["steps"] == [plan.steps[0]] and plan.set_aside == []


def test_an_idle_database_is_deleted_not_reserved_or_resized():
    idle = _finding("rds-idle", "db", 80.0, 80.0, resource_type="rds-instance")
    reserved = _finding("rds-reserved-instance", "db", 77.0, 23.0, resource_type="rds-instance")
    smaller = _finding("rds-rightsize", "db", 77.0, 38.0, resource_type="rds-instance")
    [plan] = build_plans([reserved, idle, smaller])
    assert plan.steps == [idle.id]
    assert plan.monthly_savings_usd == 80.0
    assert {row["rule"] for row in plan.set_aside} == {"rds-reserved-instance", "rds-rightsize"}
    assert all("removes the resource" in row["reason"] for row in plan.set_aside)


def test_a_reservation_waits_for_the_class_change_and_is_priced_on_the_new_cost():
    # db.r5 at $200: Graviton saves $20 (10%); the 1-year reservation saves $70 (35%) of $200
    graviton = _finding("graviton-migration", "db", 200.0, 20.0, resource_type="rds-instance")
    reserved = _finding("rds-reserved-instance", "db", 200.0, 70.0, resource_type="rds-instance")
    [plan] = build_plans([reserved, graviton])
    # by hand: 200 -> 180 -> 180 * (1 - 0.35) = 117
    assert plan.monthly_savings_usd == pytest.approx(83.0)
    last = plan.steps_detail[-1]
    assert last["rule"] == "rds-reserved-instance" and last["monthly_savings_usd"] == 63.0
    assert "buy after graviton-migration" in last["note"]


def test_a_reservation_on_the_uncovered_share_removes_that_share_of_the_whole():
    # half the instance's hours already reserved: the finding prices the other half ($50 of
    # $100) and saves 40% of it; the right-size halves the whole instance first
    smaller = _finding("rds-rightsize", "db", 100.0, 50.0, resource_type="rds-instance")
    reserved = _finding("rds-reserved-instance", "db", 50.0, 20.0, resource_type="rds-instance")
    [plan] = build_plans([smaller, reserved])
    # by hand: 100 -> 50 -> 50 * (1 - 20/100) = 40
    assert plan.monthly_savings_usd == pytest.approx(60.0)


def test_spot_hours_are_kept_out_of_a_savings_plan_commitment():
    [plan] = build_plans([_finding("ecs-fargate-spot", "worker", 18.93, 10.6)])
    assert plan.steps_detail[0]["note"] == "its Spot hours stay out of any Savings Plan " \
        "commitment"


def test_storage_and_instance_savings_add_rather_than_compound():
    smaller = _finding("rds-rightsize", "db", 100.0, 50.0, resource_type="rds-instance")
    gp3 = _finding("rds-storage-gp3", "db", 10.0, 2.0, resource_type="rds-instance")
    [plan] = build_plans([gp3, smaller])
    assert plan.monthly_savings_usd == pytest.approx(52.0)
    assert plan.monthly_cost_usd == pytest.approx(110.0)


def test_each_resource_is_one_plan_largest_first_and_nan_counts_nothing():
    plans = build_plans([_finding("ecs-rightsize", "a", 10.0, 5.0),
                         _finding("ecs-rightsize", "b", 100.0, 60.0),
                         _finding("ecs-fargate-spot", "b", 100.0, float("nan"))])
    assert [plan.resource_id for plan in plans] == ["b", "a"]
    assert plans[0].monthly_savings_usd == pytest.approx(60.0)


def test_a_reservation_after_a_class_change_is_priced_at_the_new_class_rate():
    graviton = _finding("graviton-migration", "cache", 15.33, 0.73,
                        resource_type="elasticache-cluster")
    graviton.recommended = {"node_type": "cache.t4g.micro", "num_nodes": 1}
    reserved = _finding("elasticache-reserved-node", "cache", 15.33, 4.38,
                        resource_type="elasticache-cluster")
    [plan] = build_plans([reserved, graviton])
    rate = pricing.elasticache_hourly_usd("ap-south-1", "cache.t4g.micro", term="1yr-no-upfront")
    # by hand: 15.33 -> 14.60 (Graviton) -> the cache.t4g.micro reservation's own rate
    assert plan.steps_detail[-1]["after_monthly_usd"] == round(rate.usd * 730, 2)
    assert plan.monthly_savings_usd == pytest.approx(15.33 - rate.usd * 730)
    assert "cache.t4g.micro x 1 1-year No Upfront rate" in plan.steps_detail[-1]["note"]
