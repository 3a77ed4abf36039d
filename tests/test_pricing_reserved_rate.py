"""A reservation finding priced at the rate AWS quotes the account (Cost Explorer's
GetReservationPurchaseRecommendation), only where that rate is unambiguous, and the table rate
with a note otherwise.

Answers are shaped after the API reference, every figure a string and every field optional:
https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetReservationPurchaseRecommendation.html
https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_ReservationPurchaseRecommendation.html
https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_ReservationPurchaseRecommendationDetail.html
https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_RDSInstanceDetails.html
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from rightsizer import pricing
from rightsizer.aws.clients import AwsClients
from rightsizer.collect.collectors import costs
from rightsizer.collect.collectors.base import ErrorLog, Target
from rightsizer.pricing import restate
from rightsizer.pricing.account import AccountRates, account_rates
from rightsizer.report.plans import build_plans
from rightsizer.rules import elasticache_reserved_node, rds_reserved_instance
from rightsizer.rules.findings import Finding
from tests.snapshot_factory import ACCOUNT, REGION, SnapshotBuilder

TODAY = date(2026, 12, 1)
RDS = "Amazon Relational Database Service"
ELASTICACHE = "Amazon ElastiCache"
MUMBAI = "Asia Pacific (Mumbai)"  # REGION (ap-south-1) as Cost Explorer names it
GENERATED = "2026-11-30T06:12:44Z"
# ap-south-1 db.t3.small PostgreSQL Single-AZ on the embedded table: $0.053/h on-demand, and
# no per-class reservation figure, so $0.053 x (1 - 0.3) = $0.0371/h, the flat-ratio ESTIMATE
ON_DEMAND, ESTIMATE = 0.053, 0.0371


def rds_detail(*, instance_type: str = "db.t3.small", region: str = MUMBAI,
               deployment: str | None = "Single-AZ", engine: str | None = "PostgreSQL",
               count: str = "1", recurring: Any = "24.82", upfront: Any = "0.0",
               **extra: Any) -> dict[str, Any]:
    instance = {"Family": "db.t3", "InstanceType": instance_type, "Region": region,
                "LicenseModel": "No license required", "CurrentGeneration": True,
                "SizeFlexEligible": True}
    if deployment is not None:
        instance["DeploymentOption"] = deployment
    if engine is not None:
        instance["DatabaseEngine"] = engine
    detail = {"AccountId": ACCOUNT, "InstanceDetails": {"RDSInstanceDetails": instance},
              "RecommendedNumberOfInstancesToPurchase": count,
              "RecommendedNormalizedUnitsToPurchase": "2", "AverageUtilization": "100.0",
              "CurrencyCode": "USD", "EstimatedMonthlySavingsAmount": "13.87",
              "EstimatedMonthlySavingsPercentage": "35.8",
              "EstimatedMonthlyOnDemandCost": "38.69", "UpfrontCost": upfront,
              "RecurringStandardMonthlyCost": recurring, **extra}
    return {key: value for key, value in detail.items() if value is not None}


def page(*details: dict[str, Any], term: str = "ONE_YEAR",
         payment: str = "NO_UPFRONT") -> dict[str, Any]:
    return {"Metadata": {"RecommendationId": "3e4c0ef6-example", "GenerationTimestamp": GENERATED},
            "Recommendations": [{"AccountScope": "PAYER", "LookbackPeriodInDays": "SIXTY_DAYS",
                                 "TermInYears": term, "PaymentOption": payment,
                                 "RecommendationDetails": list(details),
                                 "RecommendationSummary": {
                                     "TotalEstimatedMonthlySavingsAmount": "13.87",
                                     "TotalEstimatedMonthlySavingsPercentage": "35.8",
                                     "CurrencyCode": "USD"}}]}


def rows_of(answer: dict[str, Any], service: str = RDS) -> list[dict[str, Any]]:
    """The ce_insights row costs.collect_reservation_insights writes for one page."""
    return [{"account": ACCOUNT, "kind": "recommendation", "service": service,
             "data": json.dumps(answer)}]


def rds_finding(rows: list[dict[str, Any]], *, multi_az: bool = False,
                usage: list[dict[str, Any]] | None = None) -> Finding:
    """The rds-reserved-instance finding for one db.t3.small, priced as the report prices it."""
    builder = SnapshotBuilder()
    builder.rds_instance("edufly-db", instance_class="db.t3.small", multi_az=multi_az)
    builder.rds_cpu("edufly-db")
    builder.rows["ce_insights"].extend(rows)
    snapshot = builder.build()
    [finding] = rds_reserved_instance.evaluate(snapshot, rds_reserved_instance.Settings()).findings
    restate.restate([finding], account_rates(usage or []), snapshot)
    return finding


def notes(finding: Finding) -> str:
    return " ".join(finding.to_dict()["pricing"].get("notes", []))


def test_the_collector_asks_for_one_year_no_upfront_and_a_single_reservation_quote_prices_it():
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="x",
                            aws_secret_access_key="x")
    clients = AwsClients(session)
    stubber = Stubber(clients.client("ce", costs.CE_REGION))
    stubber.add_response("get_reservation_purchase_recommendation", page(rds_detail()),
                         {"Service": RDS, "LookbackPeriodInDays": "SIXTY_DAYS",
                          "TermInYears": "ONE_YEAR", "PaymentOption": "NO_UPFRONT"})
    with stubber:
        rows = costs.collect_reservation_insights(Target(ACCOUNT, REGION, clients), ErrorLog(),
                                                  TODAY, reserved_services=set(),
                                                  services={RDS})
        stubber.assert_no_pending_responses()

    finding = rds_finding(rows)
    # $24.82 a month for the one reservation, no upfront: 24.82 / 730 = $0.034/h;
    # 730 h x ($0.053 - $0.034) = $38.69 - $24.82 = $13.87 a month
    assert finding.monthly_savings_usd == pytest.approx(13.87)
    shown = finding.to_dict()["pricing"]
    assert shown["basis"] == "account-effective"
    assert shown["rates"]["rds_reserved_1yr_hour_usd"] == pytest.approx(0.034)
    assert shown["list_rates"] == {"rds_reserved_1yr_hour_usd": ESTIMATE}
    assert shown["as_of"] == "2026-11"
    assert shown["list_monthly_savings_usd"] == pytest.approx((ON_DEMAND - ESTIMATE) * 730,
                                                              abs=0.01)
    assert "estimate" not in shown  # the flat ratio no longer prices anything
    assert "GetReservationPurchaseRecommendation" in notes(finding)
    assert GENERATED in notes(finding) and "RecurringStandardMonthlyCost $24.82" in notes(finding)
    assert finding.evidence["hourly_reserved_quote_usd"] == pytest.approx(0.034)
    assert "AWS quotes this account $0.034/h" in finding.reason
    # AWS's own saving for it agrees with ours now
    assert "why_ours_differs" not in shown["aws_recommendation"]
    # the plan's reservation step is the same figure
    [plan] = build_plans([finding])
    assert plan.steps_detail[0]["monthly_savings_usd"] == pytest.approx(13.87, abs=0.01)


def test_a_quote_for_three_reservations_is_not_used_and_the_estimate_says_how_it_was_made():
    finding = rds_finding(rows_of(page(rds_detail(count="3", recurring="74.46"))))
    assert finding.monthly_savings_usd == pytest.approx((ON_DEMAND - ESTIMATE) * 730)
    shown = finding.to_dict()["pricing"]
    assert shown["basis"] == "embedded-list"
    assert shown["rates"]["rds_reserved_1yr_hour_usd"] == ESTIMATE
    assert "prices 3 reservations together" in notes(finding)
    assert "does not say whether that is for one or for all" in notes(finding)
    estimate = shown["estimate"]
    assert estimate.startswith("rds_reserved_1yr_hour_usd: DERIVED on-demand x (1 - 0.3): "
                               "ESTIMATE, a flat ratio")
    assert "docs.archera.ai" in estimate and "on-demand: https://github.com/vantage-sh" in estimate


def test_recommendations_for_another_deployment_region_engine_or_class_are_left_alone():
    others = [rds_detail(deployment="Multi-AZ", recurring="49.64"),
              rds_detail(region="US East (N. Virginia)", recurring="18.98"),
              rds_detail(engine="MySQL", recurring="20.00"),
              rds_detail(instance_type="db.t3.micro", recurring="12.41"),
              {**rds_detail(recurring="20.00"), "AccountId": "999999999999"}]
    finding = rds_finding(rows_of(page(*others)))
    assert finding.monthly_savings_usd == pytest.approx((ON_DEMAND - ESTIMATE) * 730)
    assert finding.to_dict()["pricing"]["basis"] == "embedded-list"
    assert "purchase recommendation" not in notes(finding)
    # the Multi-AZ one is the Multi-AZ database's quote: $49.64 / 730 = $0.068/h
    multi = rds_finding(rows_of(page(*others)), multi_az=True)
    assert multi.to_dict()["pricing"]["rates"]["rds_reserved_1yr_hour_usd"] == pytest.approx(
        0.068)
    assert multi.monthly_savings_usd == pytest.approx(2 * ON_DEMAND * 730 - 49.64)


@pytest.mark.parametrize(("detail", "said"), [
    (rds_detail(recurring="n/a"), "no numeric"),
    (rds_detail(recurring="NaN"), "no numeric"),
    (rds_detail(upfront=None), "no numeric"),
    (rds_detail(count="one"), "no numeric"),
    (rds_detail(recurring=True), "no numeric"),
    (rds_detail(deployment=None), "names no DeploymentOption"),
    (rds_detail(engine=None), "names no DatabaseEngine"),
    (rds_detail(recurring="-3"), "negative"),
    (rds_detail(CurrencyCode="CNY"), "in CNY"),
])
def test_missing_or_odd_figures_keep_the_table_rate_and_say_why(detail: dict[str, Any],
                                                                said: str) -> None:
    finding = rds_finding(rows_of(page(detail)))
    assert finding.monthly_savings_usd == pytest.approx((ON_DEMAND - ESTIMATE) * 730)
    assert said in notes(finding) and "its rate is not used" in notes(finding)


def test_shapes_that_are_not_recommendations_are_skipped_without_a_crash():
    broken = [{"account": ACCOUNT, "kind": "recommendation", "service": RDS, "data": data}
              for data in ("{not json", "[]", json.dumps({"Recommendations": "x"}),
                           json.dumps({"Recommendations": [None, {"RecommendationDetails": [
                               "x", {"InstanceDetails": "x"},
                               {"InstanceDetails": {"RDSInstanceDetails": "x"}}]}]}))]
    finding = rds_finding(broken)
    assert finding.monthly_savings_usd == pytest.approx((ON_DEMAND - ESTIMATE) * 730)


def test_a_quote_not_below_on_demand_or_far_from_the_table_is_ignored_with_a_note():
    dear = rds_finding(rows_of(page(rds_detail(recurring="40.15"))))  # $0.055/h > $0.053
    assert dear.monthly_savings_usd == pytest.approx((ON_DEMAND - ESTIMATE) * 730)
    assert "is not below the on-demand $0.053/h" in notes(dear)
    cheap = rds_finding(rows_of(page(rds_detail(recurring="0.73"))))  # $0.001/h: another unit
    assert "not comparable with the table's $0.0371/h" in notes(cheap)
    assert cheap.to_dict()["pricing"]["basis"] == "embedded-list"


def test_another_term_or_payment_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    three = rds_finding(rows_of(page(rds_detail(), term="THREE_YEARS")))
    assert "is for THREE_YEARS NO_UPFRONT" in notes(three)
    assert three.monthly_savings_usd == pytest.approx((ON_DEMAND - ESTIMATE) * 730)
    # an answer that does not say is taken as what the collector asked: not 1-year No Upfront
    unsaid = page(rds_detail())
    del unsaid["Recommendations"][0]["TermInYears"]
    del unsaid["Recommendations"][0]["PaymentOption"]
    assert rds_finding(rows_of(unsaid)).monthly_savings_usd == pytest.approx(13.87)
    monkeypatch.setitem(costs.RECOMMENDATION_TERMS, "PaymentOption", "ALL_UPFRONT")
    assert "is for ONE_YEAR ALL_UPFRONT" in notes(rds_finding(rows_of(unsaid)))


def test_two_quotes_that_disagree_are_not_used():
    rows = rows_of(page(rds_detail(), rds_detail(recurring="25.55")))
    finding = rds_finding(rows)
    assert "2 recommendations for it disagree" in notes(finding)
    assert finding.monthly_savings_usd == pytest.approx((ON_DEMAND - ESTIMATE) * 730)


@pytest.fixture
def refreshed_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A refreshed rds_postgres table with a per-class reservation figure for db.t3.small."""
    table = {"table": "rds_postgres", "source": "AWS Price List Query API GetProducts "
             "(AmazonRDS)", "as_of": "2026-11-20",
             "on_demand_single_az": {REGION: {"db.t3.small": ON_DEMAND}},
             "reserved_1yr_no_upfront_single_az": {REGION: {"db.t3.small": 0.036}}}
    (tmp_path / "rds_postgres.json").write_text(json.dumps(table))
    monkeypatch.setenv(pricing.CACHE_ENV, str(tmp_path))
    pricing.reload()
    yield
    monkeypatch.setenv(pricing.CACHE_ENV, "off")
    pricing.reload()


@pytest.mark.usefixtures("refreshed_cache")
def test_the_quote_comes_before_the_refreshed_per_class_rate_and_on_demand_is_what_is_paid():
    cached = rds_finding([])
    assert cached.to_dict()["pricing"]["basis"] == "price-list-cache"
    assert cached.monthly_savings_usd == pytest.approx((ON_DEMAND - 0.036) * 730)
    # the account pays $0.05/h on demand (Cost Explorer's November, net amortized / hours)
    usage = [{"account": ACCOUNT, "month": "2026-11", "service": RDS,
              "usage_type": "APS3-InstanceUsage:db.t3.small", "unblended_usd": 38.69,
              "amortized_usd": 36.5, "amortized_metric": "NetAmortizedCost", "quantity": 730.0}]
    quoted = rds_finding(rows_of(page(rds_detail())), usage=usage)
    shown = quoted.to_dict()["pricing"]
    assert shown["basis"] == "account-effective"
    assert shown["rates"] == {"rds_instance_hour_usd": 0.05,
                              "rds_reserved_1yr_hour_usd": pytest.approx(0.034)}
    assert shown["list_rates"] == {"rds_instance_hour_usd": ON_DEMAND,
                                   "rds_reserved_1yr_hour_usd": 0.036}
    assert quoted.monthly_savings_usd == pytest.approx(36.5 - 24.82)  # $11.68
    assert shown["list_monthly_savings_usd"] == pytest.approx((ON_DEMAND - 0.036) * 730,
                                                              abs=0.01)


def test_an_elasticache_node_is_priced_at_its_quote_for_one_node_only():
    def finding_for(nodes: int, count: str) -> Finding:
        builder = SnapshotBuilder()
        builder.elasticache_cluster("edufly-cache", node_type="cache.t3.medium", num_nodes=nodes)
        builder.elasticache_cpu("edufly-cache")
        # https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_ElastiCacheInstanceDetails.html
        detail = {"AccountId": ACCOUNT, "InstanceDetails": {"ElastiCacheInstanceDetails": {
                      "Family": "cache.t3", "NodeType": "cache.t3.medium", "Region": MUMBAI,
                      "ProductDescription": "redis", "CurrentGeneration": True,
                      "SizeFlexEligible": True}},
                  "RecommendedNumberOfInstancesToPurchase": count, "CurrencyCode": "USD",
                  "UpfrontCost": "0.0", "RecurringStandardMonthlyCost": "36.50",
                  "EstimatedMonthlySavingsAmount": "25.55"}
        builder.rows["ce_insights"].extend(rows_of(page(detail), ELASTICACHE))
        snapshot = builder.build()
        rule = elasticache_reserved_node
        [finding] = rule.evaluate(snapshot, rule.Settings()).findings
        restate.restate([finding], AccountRates(), snapshot)
        return finding

    one = finding_for(1, "1")
    # $36.50 / 730 = $0.05/h against $0.085/h on demand: 730 x $0.035 = $25.55 a month
    assert one.monthly_savings_usd == pytest.approx(25.55)
    assert one.to_dict()["pricing"]["rates"]["elasticache_reserved_1yr_hour_usd"] == 0.05
    three = finding_for(3, "3")
    assert three.monthly_savings_usd == pytest.approx((0.085 - 0.058) * 730 * 3)
    assert "prices 3 reservations together" in notes(three)


def test_the_report_says_which_findings_are_priced_at_awss_quote():
    finding = rds_finding(rows_of(page(rds_detail())))
    texts = [n["text"] for n in restate.notices(SnapshotBuilder().build(), [finding],
                                                AccountRates())]
    assert any(text.startswith("1 reservation finding is priced at the reservation rate AWS "
                               "quotes this account") for text in texts)
    assert not any("rates this account paid in" in text for text in texts)
