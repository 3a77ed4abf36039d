"""The report's own figures: the run's API bill and savings that never count twice."""

from __future__ import annotations

import pytest

from rightsizer import pricing
from rightsizer.analysis import api_cost_usd, non_overlapping_savings
from rightsizer.findings import Finding


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
