"""idle-load-balancer: ALBs/NLBs with no targets, no healthy target, or no traffic.

AWS behaviour the tests lean on:
- an ALB bills "each hour or partial hour" it runs plus the LCUs used
  (https://aws.amazon.com/elasticloadbalancing/pricing/): no traffic, no LCU, the hour still;
- RequestCount is reported only when non-zero (load-balancer-cloudwatch-metrics.html), so no
  datapoint in the window means no request;
- target health states (healthy, unhealthy, unused, ...) come from DescribeTargetHealth
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html).
"""

from __future__ import annotations

import json

import pytest

from rightsizer import pricing
from rightsizer.rules.idle_load_balancer import RULE, Settings, evaluate, how_to_apply
from tests.snapshot_factory import ACCOUNT, SnapshotBuilder, flat

PRICED = "us-east-1"  # $0.0225/hour ALB and NLB in elb.json
ALB_MONTH = 0.0225 * pricing.HOURS_PER_MONTH


def add_lb(snap: SnapshotBuilder, name: str, *, lb_type: str = "application",
           states: dict[str, int] | None = None, groups: int = 1, state: str = "active",
           targets_known: bool = True, region: str = PRICED) -> str:
    prefix = {"application": "app", "network": "net", "gateway": "gwy"}[lb_type]
    dimension = f"{prefix}/{name}/50dc6c495c0c9188"
    arn = f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:loadbalancer/{dimension}"
    states = states or {}
    snap.rows["load_balancers"].append({
        "account": ACCOUNT, "region": region, "arn": arn, "name": name, "type": lb_type,
        "scheme": "internet-facing", "state": state, "created_at": "2025-01-01 00:00:00+00:00",
        "metric_dimension": dimension, "targets_known": targets_known,
        "target_group_count": groups, "registered_targets": sum(states.values()),
        "healthy_targets": states.get("healthy", 0), "target_states": json.dumps(states),
        "target_groups": "[]", "tags": "{}",
    })
    return dimension


def traffic(snap: SnapshotBuilder, dimension: str, per_hour: float, *,
            namespace: str = "AWS/ApplicationELB", metric: str = "RequestCount",
            region: str = PRICED) -> None:
    snap.metric(namespace, metric, dimension, "Sum", flat(per_hour), region=region)


def test_alb_without_registered_targets_and_no_requests_is_idle_at_its_hourly_rate():
    snap = SnapshotBuilder()
    add_lb(snap, "edufly-legacy-alb", groups=1)  # no RequestCount datapoint: no request
    result = evaluate(snap.build(), Settings())
    assert result.skipped == []
    [finding] = result.findings
    assert finding.rule == "idle-load-balancer" and finding.resource_type == "load-balancer"
    assert finding.evidence["kind"] == "no-targets"
    assert finding.monthly_savings_usd == pytest.approx(ALB_MONTH)
    assert finding.evidence["traffic_sum"] == 0
    assert "no LCU is used" in finding.evidence["capacity_unit_charge"]
    assert "no registered targets" in finding.reason


def test_no_target_groups_at_all_is_idle():
    snap = SnapshotBuilder()
    add_lb(snap, "empty", groups=0)
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["target_group_count"] == 0 and finding.evidence["kind"] == "no-targets"


def test_registered_but_unhealthy_targets_is_broken_not_idle():
    snap = SnapshotBuilder()
    dim = add_lb(snap, "api", states={"unhealthy": 2})
    traffic(snap, dim, 100)  # requests arrive and fail: still a finding, with another reason
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["kind"] == "broken"
    assert finding.recommended == {"action": "fix the targets or delete"}
    assert "broken, not idle" in finding.reason and "2 unhealthy" in finding.reason
    assert finding.severity == "medium"


def test_healthy_targets_and_requests_is_in_use():
    snap = SnapshotBuilder()
    dim = add_lb(snap, "api", states={"healthy": 2})
    traffic(snap, dim, 40)
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_healthy_targets_but_zero_requests_is_idle():
    snap = SnapshotBuilder()
    dim = add_lb(snap, "api", states={"healthy": 2})
    traffic(snap, dim, 0)
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["kind"] == "no-traffic"
    assert "no RequestCount in 14 days" in finding.reason


def test_requests_with_no_targets_are_redirects_or_fixed_responses_not_idle():
    snap = SnapshotBuilder()
    dim = add_lb(snap, "http-to-https", groups=0)
    traffic(snap, dim, 5)
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_nlb_reads_new_flow_count_and_is_priced():
    snap = SnapshotBuilder()
    dim = add_lb(snap, "tcp", lb_type="network", states={"healthy": 1})
    traffic(snap, dim, 0, namespace="AWS/NetworkELB", metric="NewFlowCount")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["traffic_metric"] == "AWS/NetworkELB NewFlowCount Sum"
    assert finding.evidence["capacity_unit_hour_usd"] == pytest.approx(0.006)
    assert finding.monthly_savings_usd == pytest.approx(ALB_MONTH)


def test_nlb_with_flows_is_in_use():
    snap = SnapshotBuilder()
    dim = add_lb(snap, "tcp", lb_type="network", states={"healthy": 1})
    traffic(snap, dim, 3, namespace="AWS/NetworkELB", metric="NewFlowCount")
    assert evaluate(snap.build(), Settings()).findings == []


def test_region_without_elb_price_is_skipped_not_guessed():
    snap = SnapshotBuilder()
    add_lb(snap, "legacy", region="ap-south-1")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable"
    assert row.detail == "no price for Application Load Balancer hours in ap-south-1"


def test_unreadable_target_health_is_insufficient_data():
    snap = SnapshotBuilder()
    add_lb(snap, "api", targets_known=False)
    snap.error("elasticloadbalancing", "DescribeTargetGroups", region=PRICED)
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "insufficient-data" and "AccessDenied" in row.detail


def test_unreadable_metrics_never_call_a_load_balancer_idle():
    snap = SnapshotBuilder()
    add_lb(snap, "api", states={"healthy": 1})
    snap.error("cloudwatch", "GetMetricData", region=PRICED)
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "insufficient-data" and "RequestCount could not be read" in row.detail


@pytest.mark.parametrize(("lb_type", "state"), [("gateway", "active"),
                                                 ("application", "provisioning")])
def test_gateway_and_not_yet_active_load_balancers_are_skipped(lb_type, state):
    snap = SnapshotBuilder()
    add_lb(snap, "x", lb_type=lb_type, state=state)
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "not-applicable"


def test_how_to_apply_checks_read_only_then_deletes():
    snap = SnapshotBuilder()
    add_lb(snap, "legacy")
    [finding] = evaluate(snap.build(), Settings()).findings
    steps = how_to_apply(finding)
    cli = steps["cli"]
    assert cli.index("describe-listeners") < cli.index("describe-target-health") < cli.index(
        "delete-load-balancer")
    assert "deletion_protection.enabled" in cli
    assert "\n# aws elbv2 modify-load-balancer-attributes" in cli  # only if set: commented
    assert f"--region {PRICED}" in cli.splitlines()[-1]
    assert "enable_deletion_protection" in steps["terraform"]
    assert "deletionProtection" in steps["cdk"]
    assert RULE.id == "idle-load-balancer"
    assert {need.metric for need in RULE.metric_needs} == {"RequestCount", "NewFlowCount"}
