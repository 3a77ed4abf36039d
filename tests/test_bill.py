"""summary.bill: the last full month by Cost Explorer service line, and what the rules examined."""

from __future__ import annotations

from typing import Any

import pytest

from rightsizer.report.bill import bill_summary, rule_inputs
from rightsizer.report.model import Report
from rightsizer.rules.registry import REGISTRY
from tests.snapshot_factory import ACCOUNT, SnapshotBuilder

OTHER_ACCOUNT = "210987654321"
MONTH = "2026-10"  # the last full month before the factory's window end (2026-11-01)

# SERVICE keys as GetCostAndUsage returns them, each seen in a recorded response or AWS's docs:
# - https://docs.aws.amazon.com/cli/latest/reference/ce/get-dimension-values.html (example
#   output: "Amazon ElastiCache", "EC2 - Other", "Amazon Elastic Load Balancing")
# - cloudscape-design/components pages/line-chart/popover-drilldown-sample-data.ts (a
#   GetCostAndUsage GroupBy SERVICE answer: "Amazon Elastic Container Service", "EC2 - Other",
#   "Amazon Relational Database Service", "Amazon Route 53", "Amazon CloudFront",
#   "Amazon Simple Storage Service", "AmazonCloudWatch", "AWS Secrets Manager")
# - recorded UnblendedCost groups with "Amazon EC2 Container Registry (ECR)" and "Tax";
# - "Amazon Virtual Private Cloud" carries PublicIPv4:InUseAddress / IdleAddress
#   (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-billing-usage-reports.html).
RECORDED_SERVICE_KEYS = {
    "Amazon Elastic Container Service", "Amazon Relational Database Service", "EC2 - Other",
    "Amazon Elastic Load Balancing", "Amazon CloudFront", "Amazon ElastiCache",
    "AmazonCloudWatch", "Amazon Simple Storage Service", "Amazon Route 53",
    "Amazon Virtual Private Cloud", "Amazon EC2 Container Registry (ECR)", "AWS Secrets Manager",
}


def _cost(snap: SnapshotBuilder, service: str, usd: float, *, month: str = MONTH,
          account: str = ACCOUNT) -> None:
    snap.rows["costs"].append({"account": account, "month": month, "service": service,
                               "amount_usd": usd, "estimated": False})


def _bill(snap: SnapshotBuilder, rule_ids: list[str] | None = None) -> dict[str, Any]:
    rules = [REGISTRY[rule_id] for rule_id in (rule_ids or list(REGISTRY))]
    bill = bill_summary(snap.build(), rules)
    assert bill is not None
    return bill


def _line(bill: dict[str, Any], service: str) -> dict[str, Any]:
    return next(line for line in bill["by_service"] if line["service"] == service)


def test_every_rule_names_bill_lines_cost_explorer_really_returns() -> None:
    for rule in REGISTRY.values():
        assert rule.bill_services, rule.id
        assert set(rule.bill_services) <= RECORDED_SERVICE_KEYS, rule.id


def test_share_counts_examined_lines_and_names_the_rest() -> None:
    snap = SnapshotBuilder()
    _cost(snap, "Amazon Elastic Container Service", 300.0)
    _cost(snap, "Amazon Kinesis", 100.0)
    _cost(snap, "Tax", 72.0)
    _cost(snap, "Amazon Elastic Container Service", 999.0, month="2026-09")  # not the month
    bill = _bill(snap)
    assert bill["month"] == MONTH
    assert bill["monthly_usd"] == 400.0  # tax is not usage a rule could examine
    assert bill["examined_usd"] == 300.0
    assert bill["examined_share"] == 0.75
    assert bill["tax_usd"] == 72.0
    assert _line(bill, "Amazon Elastic Container Service")["examined_by"] == sorted(
        rule.id for rule in REGISTRY.values()
        if "Amazon Elastic Container Service" in rule.bill_services)
    assert {"ecs-autoscaling-missing", "ecs-fargate-spot", "ecs-rightsize"} <= set(
        _line(bill, "Amazon Elastic Container Service")["examined_by"])
    assert _line(bill, "Amazon Kinesis")["examined_by"] == []
    assert bill["unexamined"] == ["Amazon Kinesis"]
    assert [line["service"] for line in bill["by_service"]] == [
        "Amazon Elastic Container Service", "Amazon Kinesis", "Tax"]


def test_a_line_netted_below_zero_by_credits_is_listed_but_not_counted() -> None:
    snap = SnapshotBuilder()
    _cost(snap, "AWS Secrets Manager", 10.0)
    _cost(snap, "Amazon Simple Storage Service", -4.0)  # credits larger than its usage
    bill = _bill(snap)
    assert bill["monthly_usd"] == 10.0
    assert bill["examined_share"] == 1.0
    assert bill["credits_usd"] == -4.0
    assert _line(bill, "Amazon Simple Storage Service")["examined_by"] == []
    assert bill["unexamined"] == []


def test_a_failed_listing_read_leaves_its_line_unexamined() -> None:
    snap = SnapshotBuilder()
    _cost(snap, "AmazonCloudWatch", 20.0)
    _cost(snap, "AWS Secrets Manager", 5.0)
    snap.error("logs", "DescribeLogGroups", region="eu-west-1")  # any region of the account
    bill = _bill(snap, ["logs-retention", "secrets-unused"])
    assert _line(bill, "AmazonCloudWatch")["examined_by"] == []
    assert bill["examined_usd"] == 5.0
    assert bill["examined_share"] == 0.2
    assert bill["unexamined"] == ["AmazonCloudWatch"]


def test_failed_metrics_leave_only_the_rules_that_need_none() -> None:
    snap = SnapshotBuilder()
    _cost(snap, "Amazon Elastic Container Service", 50.0)
    snap.error("cloudwatch", "GetMetricData")
    bill = _bill(snap)
    examined = _line(bill, "Amazon Elastic Container Service")["examined_by"]
    assert "ecs-fargate-spot" in examined and "ecs-rightsize" not in examined
    assert examined == sorted(rule.id for rule in REGISTRY.values()
                              if "Amazon Elastic Container Service" in rule.bill_services
                              and not rule.metric_needs)
    assert ("cloudwatch", "GetMetricData") in rule_inputs(REGISTRY["ecs-rightsize"])
    assert rule_inputs(REGISTRY["ecs-fargate-spot"]) == [("ecs", "ListClusters")]


def test_a_rule_judging_another_kinds_line_depends_on_that_lines_listing() -> None:
    # graviton-migration is an "ecs-service" rule that also judges RDS classes
    snap = SnapshotBuilder()
    _cost(snap, "Amazon Relational Database Service", 80.0)
    _cost(snap, "Amazon Elastic Container Service", 20.0)
    snap.error("rds", "DescribeDBInstances")
    bill = _bill(snap, ["graviton-migration", "rds-idle"])
    assert _line(bill, "Amazon Relational Database Service")["examined_by"] == []
    assert _line(bill, "Amazon Elastic Container Service")["examined_by"] == [
        "graviton-migration"]
    assert rule_inputs(REGISTRY["graviton-migration"], "Amazon ElastiCache") == [
        ("elasticache", "DescribeCacheClusters")]


def test_a_disabled_rule_examines_nothing() -> None:
    snap = SnapshotBuilder()
    _cost(snap, "Amazon Elastic Load Balancing", 16.0)
    bill = _bill(snap, ["ecs-rightsize"])
    assert bill["examined_share"] == 0.0
    assert bill["unexamined"] == ["Amazon Elastic Load Balancing"]


def test_each_account_is_examined_on_its_own() -> None:
    snap = SnapshotBuilder()
    _cost(snap, "AWS Secrets Manager", 3.0)
    _cost(snap, "AWS Secrets Manager", 1.0, account=OTHER_ACCOUNT)
    snap.error("secretsmanager", "ListSecrets", account=OTHER_ACCOUNT)
    bill = _bill(snap)
    line = _line(bill, "AWS Secrets Manager")
    assert (line["monthly_usd"], line["examined_usd"]) == (4.0, 3.0)
    assert line["examined_by"] == ["secrets-unused"]
    assert bill["examined_share"] == 0.75


@pytest.mark.parametrize("months", [[], ["2026-09"]])
def test_no_bill_without_the_months_costs(months: list[str]) -> None:
    snap = SnapshotBuilder()
    for month in months:
        _cost(snap, "AWS Secrets Manager", 3.0, month=month)
    assert bill_summary(snap.build(), list(REGISTRY.values())) is None


def test_the_report_model_carries_the_bill_into_report_json() -> None:
    snap = SnapshotBuilder()
    _cost(snap, "AWS Secrets Manager", 3.0)
    bill = _bill(snap)
    data = {"schema_version": "1", "generated_at": "2026-11-01T00:00:00Z",
            "window": {"start": "a", "end": "b", "days": 14}, "accounts": [ACCOUNT],
            "regions": ["ap-south-1"],
            "summary": {"findings": 0, "monthly_savings_usd": 0, "by_rule": {}, "bill": bill},
            "findings": []}
    for report in (Report.from_build(data), Report.model_validate(data)):
        assert report.summary.bill is not None
        assert report.summary.bill.by_service[0].examined_by == ["secrets-unused"]
        assert report.to_json_dict()["summary"]["bill"] == bill
