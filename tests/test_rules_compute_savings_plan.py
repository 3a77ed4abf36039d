"""compute-savings-plan: Cost Explorer and Savings Plans answers shaped as AWS sends them, the
sizing arithmetic by hand, and the commitment taken after the recommended moves."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import numpy as np
import pytest
from botocore.stub import ANY, Stubber

from rightsizer import pricing
from rightsizer.aws.clients import AwsClients
from rightsizer.collect.collectors.base import ErrorLog, Target
from rightsizer.collect.collectors.costs import MonthlyCache
from rightsizer.collect.collectors.savings_plans import collect_savings_plans
from rightsizer.config import Config
from rightsizer.report.build import run_rules
from rightsizer.rules import compute_savings_plan as rule
from rightsizer.rules.support.savings_plans import savings_plans_views
from tests.snapshot_factory import ACCOUNT, REGION, SnapshotBuilder

NOW = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
PREFIX = "APS3"  # ap-south-1's usage-type prefix


def _hour(index: int) -> tuple[str, str]:
    start = NOW.replace(minute=0) - timedelta(hours=336 - index)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return start.strftime(stamp), (start + timedelta(hours=1)).strftime(stamp)


def _group(usage_type: str, amount: float) -> dict[str, object]:
    return {"Keys": [usage_type], "Metrics": {"UnblendedCost": {"Amount": f"{amount:.8f}",
                                                                 "Unit": "USD"}}}


def hourly_page(amounts: list[float]) -> dict[str, object]:
    """GetCostAndUsage HOURLY by USAGE_TYPE (API_GetCostAndUsage.html, API_ResultByTime.html):
    each hour's on-demand vCPU and GB lines (9:1), plus lines that must not be committed."""
    results = []
    for index, amount in enumerate(amounts):
        start, end = _hour(index)
        results.append({"TimePeriod": {"Start": start, "End": end}, "Total": {},
                        "Groups": [_group(f"{PREFIX}-Fargate-vCPU-Hours:perCPU", amount * 0.9),
                                   _group(f"{PREFIX}-Fargate-GB-Hours", amount * 0.1),
                                   _group(f"{PREFIX}-SpotUsage-Fargate-vCPU-Hours:perCPU", 5.0),
                                   _group(f"{PREFIX}-Fargate-EphemeralStorage-GB-Hours", 1.0),
                                   _group(f"{PREFIX}-Lambda-GB-Second", 0.25),
                                   _group(f"{PREFIX}-Request", 0.01)],
                        "Estimated": True})
    return {"GroupDefinitions": [{"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
            "ResultsByTime": results, "DimensionValueAttributes": []}


COVERAGE = {"SavingsPlansCoverages": [{
    "Attributes": {},
    "Coverage": {"SpendCoveredBySavingsPlans": "2.0", "OnDemandCost": "6.0",
                 "TotalCost": "8.0", "CoveragePercentage": "25"},
    "TimePeriod": {"Start": "2026-11-30", "End": "2026-12-01"}}]}
UTILIZATION = {"SavingsPlansUtilizationsByTime": [], "Total": {
    "Utilization": {"TotalCommitment": "60.0", "UsedCommitment": "57.0",
                    "UnusedCommitment": "3.0", "UtilizationPercentage": "95"},
    "Savings": {"NetSavings": "12.0", "OnDemandCostEquivalent": "72.0"},
    "AmortizedCommitment": {"AmortizedRecurringCommitment": "60.0",
                            "AmortizedUpfrontCommitment": "0", "TotalAmortizedCommitment": "60.0"}}}


def recommendation_page(term: str, hourly: str) -> dict[str, object]:
    # API_SavingsPlansPurchaseRecommendation.html / ..._Summary.html: amounts are strings
    return {"Metadata": {"RecommendationId": "r-1",
                         "GenerationTimestamp": "2026-11-30T00:00:00Z"},
            "SavingsPlansPurchaseRecommendation": {
                "AccountScope": "PAYER", "SavingsPlansType": "COMPUTE_SP", "TermInYears": term,
                "PaymentOption": "NO_UPFRONT", "LookbackPeriodInDays": "THIRTY_DAYS",
                "SavingsPlansPurchaseRecommendationDetails": [],
                "SavingsPlansPurchaseRecommendationSummary": {
                    "CurrencyCode": "USD", "HourlyCommitmentToPurchase": hourly,
                    "EstimatedMonthlySavingsAmount": "21.4",
                    "EstimatedSavingsPercentage": "19.8", "TotalRecommendationCount": "1"}}}


def rates_page(vcpu: float, gb: float) -> dict[str, object]:
    # API_SavingsPlanOfferingRate.html
    def item(usage: str, rate: float) -> dict[str, object]:
        return {"savingsPlanOffering": {"offeringId": "0bd1...", "paymentOption": "No Upfront",
                                        "planType": "Compute", "durationSeconds": 31536000,
                                        "currency": "USD", "planDescription": "1 year"},
                "rate": f"{rate}", "unit": "Hrs", "productType": "Fargate",
                "serviceCode": "AmazonECS", "usageType": usage, "operation": "",
                "properties": [{"name": "region", "value": REGION}]}
    return {"searchResults": [item(f"{PREFIX}-Fargate-vCPU-Hours:perCPU", vcpu),
                              item(f"{PREFIX}-Fargate-GB-Hours", gb)]}


def _snapshot_with(rows: list[dict[str, object]], builder: SnapshotBuilder | None = None):
    snap = builder or SnapshotBuilder()
    snap.rows["sp_insights"] = [{"account": ACCOUNT, "kind": kind, "data": json.dumps(data)}
                                for kind, data in rows]
    return snap.build()


# --- the arithmetic ---------------------------------------------------------------------------

def test_the_commitment_covers_the_floor_and_loses_what_an_hour_below_it_leaves_unused():
    # 9 hours at $1.00 and one at $0.50, the floor at the median ($1.00), 20% off:
    # C = 1.00 x 0.8 = 0.80; nine hours save 1.00 - 0.80, the tenth 0.50 - 0.80
    sized = rule.size_commitment(np.array([1.0] * 9 + [0.5]), 0.2, 50)
    assert sized["floor_on_demand_hourly_usd"] == 1.0
    assert sized["hourly_commitment_usd"] == 0.8
    assert sized["monthly_savings_usd"] == pytest.approx((9 * 0.2 - 0.3) / 10 * 730)
    assert sized["hours_below_floor"] == 1 and sized["utilization_percent"] == 95.0


# --- the reads, parsed ------------------------------------------------------------------------

def test_only_on_demand_fargate_vcpu_and_memory_count_as_committable_spend():
    snapshot = _snapshot_with([
        ("hourly_spend", hourly_page([1.0, 2.0])), ("coverage", COVERAGE),
        ("utilization", UTILIZATION), ("recommendation", recommendation_page("ONE_YEAR", "0.9")),
        ("offering_rates", rates_page(0.034, 0.0037))])
    view = savings_plans_views(snapshot)[ACCOUNT]
    assert list(view.fargate_hourly.values()) == pytest.approx([1.0, 2.0])  # no Spot, storage
    assert list(view.lambda_hourly.values()) == pytest.approx([0.25, 0.25])
    assert view.coverage_percent == 25.0 and view.utilization_percent == 95.0
    assert view.recommendation["1yr"]["hourly_commitment_usd"] == 0.9
    assert view.rates[("1yr", REGION)] == {"vcpu_hour": 0.034, "gb_hour": 0.0037}


def test_a_finding_priced_at_the_offering_rates_beside_aws_recommendation():
    builder = SnapshotBuilder()
    snapshot = _snapshot_with([
        ("hourly_spend", hourly_page([1.0] * 300 + [0.5] * 36)),
        ("recommendation", recommendation_page("ONE_YEAR", "0.9")),
        ("offering_rates", rates_page(0.034, 0.0037))], builder)
    [finding] = rule.evaluate(snapshot, rule.Settings()).findings
    on_demand = pricing.fargate_platform_rates(REGION)
    discount = ((1 - 0.034 / on_demand.vcpu.usd) + (1 - 0.0037 / on_demand.gb.usd)) / 2
    one_year = finding.evidence["options"]["1yr"]
    # p10 of the hours is $1.00: the 36 cheaper hours are the lowest 10.7%
    floor = float(np.percentile([1.0] * 300 + [0.5] * 36, 10))
    assert one_year["floor_on_demand_hourly_usd"] == pytest.approx(floor)
    assert finding.recommended["hourly_commitment_usd"] == pytest.approx(
        floor * (1 - discount), abs=0.001)
    assert "DescribeSavingsPlansOfferingRates" in one_year["discount_source"]
    assert one_year["break_even_month"] == 1
    assert finding.evidence["aws_recommendation"]["1yr"]["hourly_commitment_usd"] == 0.9
    assert "AWS recommends $0.900/hour" in finding.reason
    # no 3-year rate was read: the embedded estimate, said to be one
    assert finding.evidence["options"]["3yr"]["discount_source"].startswith("ESTIMATE")
    # the spend is the account's own (Cost Explorer), the plan's rate AWS's offering rate
    priced = finding.to_dict()["pricing"]
    assert priced["basis"] == "account-effective"
    assert priced["rates"]["on_demand_fargate_floor_hour_usd"] == pytest.approx(floor, abs=1e-4)
    assert priced["rates"]["savings_plan_commitment_hour_usd"] == \
        finding.recommended["hourly_commitment_usd"]
    assert "estimate" not in priced


def test_spot_moves_leave_their_hours_out_of_the_commitment():
    builder = SnapshotBuilder()
    builder.ecs_service("worker", cpu=1024, memory=2048, desired=5)  # no load balancer
    hourly = pricing.fargate_hourly_usd(REGION, 1024, 2048) * 5
    snapshot = _snapshot_with([("hourly_spend", hourly_page([hourly] * 336))], builder)
    [finding] = rule.evaluate(snapshot, rule.Settings()).findings
    # FARGATE_SPOT 4 : FARGATE 1 puts 4 of the 5 tasks on Spot: one task stays on-demand
    assert finding.evidence["recommended_moves_by_service"]["worker"] == pytest.approx(
        hourly * 0.8, abs=1e-4)
    assert finding.evidence["options"]["1yr"]["floor_on_demand_hourly_usd"] == pytest.approx(
        hourly * 0.2, abs=1e-4)


def _run_commitment(rules: dict[str, dict[str, object]]) -> dict[str, object]:
    """The compute-savings-plan finding's 1-year option in a full run at these rule settings."""
    builder = SnapshotBuilder()
    builder.ecs_service("worker", cpu=1024, memory=2048, desired=5)  # no load balancer
    hourly = pricing.fargate_hourly_usd(REGION, 1024, 2048) * 5
    snapshot = _snapshot_with([("hourly_spend", hourly_page([hourly] * 336))], builder)
    findings, _ = run_rules(snapshot, Config.model_validate({"rules": rules}), NOW.date())
    [finding] = [f for f in findings if f.rule == rule.RULE_ID]
    return {"hourly": hourly, **finding.evidence["options"]["1yr"]}


def test_the_commitment_follows_the_users_settings_of_the_move_rules():
    default = _run_commitment({})
    assert default["floor_on_demand_hourly_usd"] == pytest.approx(default["hourly"] * 0.2,
                                                                 abs=1e-4)
    # with Spot moves switched off, no task leaves on-demand: the whole spend is the floor
    no_spot = _run_commitment({"ecs-fargate-spot": {"enabled": False}})
    assert no_spot["floor_on_demand_hourly_usd"] == pytest.approx(no_spot["hourly"], abs=1e-4)
    # a Spot share of one task in two (the user's setting) leaves half on-demand
    half = _run_commitment({"ecs-fargate-spot": {"spot_weight": 1, "on_demand_weight": 1}})
    assert half["floor_on_demand_hourly_usd"] == pytest.approx(half["hourly"] * 0.5, abs=1e-4)


def test_without_hourly_data_the_spend_is_estimated_from_the_tasks_and_said_so():
    builder = SnapshotBuilder()
    builder.ecs_service("api", cpu=1024, memory=2048, desired=2, load_balancers=1)
    snapshot = _snapshot_with([("hourly_unavailable", {"message": "hourly not enabled"})],
                              builder)
    [finding] = rule.evaluate(snapshot, rule.Settings()).findings
    assert finding.evidence["series"].startswith("ESTIMATE: hourly not enabled")
    # no spend of the account's was read: list-priced, and the estimates named
    priced = finding.to_dict()["pricing"]
    assert priced["basis"] == "embedded-list"
    assert "on_demand_fargate_floor_hour_usd: ESTIMATE" in priced["estimate"]
    assert "savings_plan_commitment_hour_usd: ESTIMATE" in priced["estimate"]
    hourly = pricing.fargate_hourly_usd(REGION, 1024, 2048) * 2
    assert finding.evidence["options"]["1yr"]["floor_on_demand_hourly_usd"] == pytest.approx(
        hourly, abs=1e-4)


def test_nothing_steady_to_commit_is_a_skipped_row():
    snapshot = _snapshot_with([("hourly_spend", hourly_page([0.0] * 300 + [2.0] * 36))])
    result = rule.evaluate(snapshot, rule.Settings())
    assert result.findings == []
    assert "nothing steady to commit to" in result.skipped[0].detail


# --- the collector ----------------------------------------------------------------------------

def test_the_collector_reads_each_answer_once_a_month_and_records_what_failed(tmp_path):
    clients = AwsClients(boto3.Session(region_name="us-east-1"))
    ce = clients.client("ce", "us-east-1")
    plans = clients.client("savingsplans", "us-east-1")
    cache = MonthlyCache(tmp_path, NOW.date())
    target = Target(ACCOUNT, REGION, clients)
    with Stubber(ce) as ce_stub, Stubber(plans) as plans_stub:
        ce_stub.add_response("get_cost_and_usage", hourly_page([1.0, 1.0]),
                             {"TimePeriod": {"Start": "2026-11-17T00:00:00Z",
                                             "End": "2026-12-01T00:00:00Z"},
                              "Granularity": "HOURLY", "Metrics": ["UnblendedCost"],
                              "Filter": ANY, "GroupBy": ANY})
        ce_stub.add_response("get_savings_plans_coverage", COVERAGE)
        ce_stub.add_client_error("get_savings_plans_utilization", "DataUnavailableException")
        ce_stub.add_response("get_savings_plans_purchase_recommendation",
                             recommendation_page("ONE_YEAR", "0.9"))
        ce_stub.add_client_error("get_savings_plans_purchase_recommendation", "AccessDenied",
                                 http_status_code=403)
        plans_stub.add_response("describe_savings_plans_offering_rates",
                                rates_page(0.034, 0.0037))
        errors = ErrorLog()
        rows = collect_savings_plans(target, errors, NOW, [REGION], cache=cache)
        ce_stub.assert_no_pending_responses()
        plans_stub.assert_no_pending_responses()
    assert [row["kind"] for row in rows] == ["hourly_spend", "coverage", "recommendation",
                                             "offering_rates"]
    assert [(e["operation"], e["code"]) for e in errors.rows] == [
        ("GetSavingsPlansPurchaseRecommendation", "AccessDenied")]
    # a second run this month: Cost Explorer answers come from the cache (no stubbed answer
    # left, so any request would fail), the refused one is asked again
    with Stubber(ce) as ce_stub, Stubber(plans) as plans_stub:
        ce_stub.add_response("get_savings_plans_purchase_recommendation",
                             recommendation_page("THREE_YEARS", "0.6"))
        plans_stub.add_response("describe_savings_plans_offering_rates", {"searchResults": []})
        again = collect_savings_plans(target, ErrorLog(), NOW, [REGION], cache=cache)
        ce_stub.assert_no_pending_responses()
    assert [row["kind"] for row in again].count("recommendation") == 2
