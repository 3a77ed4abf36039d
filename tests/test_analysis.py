"""The report's own figures: the run's API bill, savings that never count twice, and the
report and context built from the findings."""

from __future__ import annotations

import dataclasses

import pytest

from rightsizer import pricing
from rightsizer.outputs.json_report import FINDING_KEYS
from rightsizer.report import build as analysis
from rightsizer.report.build import api_cost_usd, build_context, non_overlapping_savings
from rightsizer.rules.findings import Finding
from tests.snapshot_factory import SnapshotBuilder


def test_api_bill_counts_every_cost_explorer_request_and_metric_requested():
    manifest = {"metric_queries": 2500, "api_calls": {
        "ce:GetCostAndUsage": 1, "ce:GetReservationCoverage": 1,
        "ce:GetReservationPurchaseRecommendation": 2, "ecs:ListClusters": 40,
        "cloudwatch:GetMetricData": 5}}
    expected = 2.5 * pricing.GET_METRIC_DATA_USD_PER_1000_METRICS + \
        4 * pricing.COST_EXPLORER_USD_PER_REQUEST
    assert api_cost_usd(manifest) == pytest.approx(expected)
    assert api_cost_usd({"metric_queries": 0, "api_calls": {"ecs:ListClusters": 3}}) == 0


def _finding(rule: str, resource: str, savings: float) -> Finding:
    return Finding(rule=rule, resource_type="rds-instance", resource_id=resource, name=resource,
                   account="123456789012", region="ap-south-1", current={}, recommended={},
                   monthly_cost_usd=100.0, monthly_savings_usd=savings, evidence={}, reason="")


def test_overlapping_findings_on_one_resource_count_once_at_the_largest():
    findings = [_finding("rds-idle", "db-1", 77.0), _finding("rds-reserved-instance", "db-1", 23.0),
                _finding("rds-rightsize", "db-2", 10.0)]
    assert non_overlapping_savings(findings) == pytest.approx(87.0)


def test_a_report_finding_is_a_copy_in_schema_order_as_asdict_made_it() -> None:
    finding = dataclasses.replace(
        _finding("s3-lifecycle", "bucket-1", 12.345),
        current={"lifecycle": "absent"},
        recommended={"transitions": [{"days": 90, "storage_class": "STANDARD_IA"}]},
        evidence={"daily": [1.0, 2.5], "pair": (1, (2, 3)), "sizes": {"gb": 10}, "n": None},
        monthly_cost_usd=10.005)
    data = finding.to_dict()
    assert list(data) == list(FINDING_KEYS)
    expected = {**dataclasses.asdict(finding), "id": finding.id, "monthly_cost_usd": 10.01,
                "monthly_savings_usd": 12.35}
    assert data == expected and data["evidence"]["pair"] == (1, (2, 3))
    data["evidence"]["daily"].append(9.0)
    data["recommended"]["transitions"][0]["days"] = 1
    data["evidence"]["sizes"]["gb"] = 0
    assert finding.evidence == {"daily": [1.0, 2.5], "pair": (1, (2, 3)), "sizes": {"gb": 10},
                                "n": None}
    assert finding.recommended["transitions"][0]["days"] == 90


def test_every_report_finding_carries_its_commands_for_each_tool() -> None:
    findings = [dataclasses.replace(_finding("rds-reserved-instance", f"db-{index}", 9.0 - index),
                                    current={"instance_class": "db.t3.medium",
                                             "multi_az": False})
                for index in range(5)]
    report = analysis.build_report(SnapshotBuilder().build(), findings, [])
    for row, finding in zip(report["findings"], findings, strict=True):
        assert list(row) == [*FINDING_KEYS, "how_to_apply"]
        assert set(row["how_to_apply"]) == {"cli", "terraform", "cdk"}
        assert row["how_to_apply"] == analysis.how_to_apply(finding)
    assert "purchase-reserved-db-instances-offering" in report["findings"][0]["how_to_apply"]["cli"]
    assert "apply" not in build_context(SnapshotBuilder().build(), findings)


def test_findings_are_ordered_by_savings_then_rule_then_name() -> None:
    findings = [_finding("rds-idle", "db-b", 5.0), _finding("rds-idle", "db-a", 5.0),
                _finding("rds-rightsize", "db-c", 9.0), _finding("ecs-rightsize", "db-d", 5.0)]
    expected = sorted(findings, key=lambda f: (-f.monthly_savings_usd, f.rule, f.name))
    analysis._largest_first(findings)
    assert findings == expected
    with_nan = [_finding("rds-idle", "db-b", float("nan")), _finding("rds-idle", "db-a", 1.0)]
    analysis._largest_first(with_nan)  # NaN keeps the tuple key's order
    assert [f.name for f in with_nan] == ["db-b", "db-a"]
