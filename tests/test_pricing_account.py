"""The rates the account pays: Cost Explorer's last month by usage type (through botocore's
Stubber, in the shapes GetCostAndUsage answers), the rates taken from it, and findings restated
at them (savings after discounts, the list saving kept beside)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from rightsizer import pricing
from rightsizer.aws.clients import AwsClients
from rightsizer.collect.collectors import costs
from rightsizer.collect.collectors.base import ErrorLog, Target
from rightsizer.demo import account as demo_account
from rightsizer.demo import usage as demo_usage
from rightsizer.demo.account import SERVICES
from rightsizer.pricing import recommendation
from rightsizer.pricing.account import account_rates, split_usage_type
from rightsizer.pricing.basis import settle
from rightsizer.rules.findings import Finding

ACCOUNT = "123456789012"
TODAY = date(2026, 12, 1)
NOVEMBER = {"Start": "2026-11-01", "End": "2026-12-01"}


def _metrics(unblended: float | None, net: float | None, amortized: float | None,
             quantity: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value, unit in (("UnblendedCost", unblended, "USD"),
                              ("NetAmortizedCost", net, "USD"),
                              ("AmortizedCost", amortized, "USD"),
                              ("UsageQuantity", quantity, "N/A")):
        if value is not None:
            out[name] = {"Amount": f"{value:.10f}", "Unit": unit}
    return out


def _page(groups: list[tuple[list[str], dict[str, Any]]], token: str | None = None
          ) -> dict[str, Any]:
    # https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostAndUsage.html
    page: dict[str, Any] = {
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"},
                             {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
        "ResultsByTime": [{"TimePeriod": NOVEMBER, "Total": {}, "Estimated": False,
                           "Groups": [{"Keys": keys, "Metrics": metrics}
                                      for keys, metrics in groups]}],
        "DimensionValueAttributes": []}
    if token:
        page["NextPageToken"] = token
    return page


ECS = "Amazon Elastic Container Service"
RDS = "Amazon Relational Database Service"
S3 = "Amazon Simple Storage Service"
CW = "AmazonCloudWatch"
# ap-south-1 (APS3) and us-east-1 (no prefix) usage types as AWS writes them; Fargate covered
# 60% by a Savings Plan at 20% off (net amortized 0.88 x unblended)
FARGATE_VCPU = 0.04256
PAGE_ONE = [
    ([ECS, "APS3-Fargate-vCPU-Hours:perCPU"],
     _metrics(3420 * FARGATE_VCPU, 3420 * FARGATE_VCPU * 0.88, 3420 * FARGATE_VCPU * 0.9, 3420)),
    ([ECS, "APS3-Fargate-GB-Hours"], _metrics(6840 * 0.004655, 6840 * 0.004655 * 0.88,
                                              6840 * 0.004655 * 0.9, 6840)),
    ([RDS, "APS3-InstanceUsage:db.t3.small"], _metrics(26.64, 26.64, 26.64, 720)),
    ([RDS, "APS3-Multi-AZUsage:db.t3.small"], _metrics(76.32, None, 76.32, 720)),  # no net
    ([RDS, "APS3-RDS:GP2-Storage"], _metrics(2.62, 2.62, 2.62, 20)),
]
PAGE_TWO = [
    ([ECS, "Fargate-GB-Hours"], _metrics(10.0, 10.0, 10.0, 2249.72)),  # us-east-1: no prefix
    ([RDS, "APS3-InstanceUsage:db.t3.micro"], _metrics(0.0, 0.0, 0.0, 0.0)),  # zero usage
    ([RDS, "APS3-InstanceUsage:db.t3.medium"], _metrics(3.0, 3.0, 3.0, 0.0)),  # cost, no hours
    ([S3, "APS3-TimedStorage-ByteHrs"], _metrics(2.5, 2.5, 2.5, 100.0)),
    ([CW, "APS3-TimedStorage-ByteHrs"], _metrics(1.0, 1.0, 1.0, 30.0)),
    ([ECS, "APS3-Fargate-EphemeralStorage-GB-Hours"], _metrics(0.5, 0.5, 0.5, 4000.0)),
    ([RDS, "APS3-RDS:ChargedBackupUsage"], _metrics(0.2, 0.2, 0.2, 2.0)),
    ([RDS, "APS3-InstanceUsage:db.t3.large"], {"UnblendedCost": {"Amount": "5", "Unit": "USD"}}),
]


def _stubbed(responses: list[tuple[str, dict[str, Any] | Exception]]
             ) -> tuple[Target, Stubber]:
    clients = AwsClients(boto3.Session(region_name="us-east-1"))
    stubber = Stubber(clients.client("ce", "us-east-1"))
    for token, response in responses:
        expected = {**costs._usage_requests(TODAY, None)[0][0]}
        if token:
            expected["NextPageToken"] = token
        if isinstance(response, Exception):
            stubber.add_client_error("get_cost_and_usage",
                                     service_error_code="AccessDeniedException",
                                     service_message=str(response), http_status_code=400,
                                     expected_params=expected)
        else:
            stubber.add_response("get_cost_and_usage", response, expected)
    stubber.activate()
    return Target(ACCOUNT, "ap-south-1", clients), stubber


def _collected() -> tuple[list[dict[str, Any]], ErrorLog]:
    target, stubber = _stubbed([("", _page(PAGE_ONE, token="next")), ("next", _page(PAGE_TWO))])
    errors = ErrorLog()
    rows = costs.collect_usage(target, errors, TODAY)
    stubber.assert_no_pending_responses()
    return rows, errors


def test_usage_types_are_read_per_region_with_their_amortized_cost() -> None:
    rows, errors = _collected()
    assert not errors.rows
    by_type = {(row["service"], row["usage_type"]): row for row in rows}
    vcpu = by_type[(ECS, "APS3-Fargate-vCPU-Hours:perCPU")]
    assert vcpu["account"] == ACCOUNT and vcpu["month"] == "2026-11"
    assert vcpu["quantity"] == 3420 and vcpu["amortized_metric"] == "NetAmortizedCost"
    assert vcpu["amortized_usd"] == pytest.approx(3420 * FARGATE_VCPU * 0.88)
    # without NetAmortizedCost the answer's AmortizedCost is used, and said so
    multi = by_type[(RDS, "APS3-Multi-AZUsage:db.t3.small")]
    assert (multi["amortized_metric"], multi["amortized_usd"]) == ("AmortizedCost", 76.32)

    rates = account_rates(rows)
    fargate = rates.rates[(ACCOUNT, "ap-south-1", "Fargate-vCPU-Hours:perCPU")]
    assert fargate.usd == pytest.approx(FARGATE_VCPU * 0.88)  # after the Savings Plan
    assert fargate.list_usd == pytest.approx(FARGATE_VCPU)
    assert rates.rates[(ACCOUNT, "us-east-1", "Fargate-GB-Hours")].usd == pytest.approx(
        10.0 / 2249.72)
    assert rates.rates[(ACCOUNT, "ap-south-1", "Multi-AZUsage:db.t3.small")].usd == \
        pytest.approx(0.106)
    assert rates.rates[(ACCOUNT, "ap-south-1", "RDS:GP2-Storage")].usd == pytest.approx(0.131)
    # S3 and CloudWatch Logs both write TimedStorage-ByteHrs: told apart by service
    assert rates.rates[(ACCOUNT, "ap-south-1", "s3:TimedStorage-ByteHrs")].usd == 0.025
    assert rates.rates[(ACCOUNT, "ap-south-1", "logs:TimedStorage-ByteHrs")].usd == \
        pytest.approx(1 / 30)
    # zero hours: no rate (no division), a cost without hours or a missing metric: a problem
    assert (ACCOUNT, "ap-south-1", "InstanceUsage:db.t3.micro") not in rates.rates
    problems = {row["code"]: row["message"] for row in rates.problems}
    assert set(problems) == {"ZeroUsageQuantity", "MissingMetric"}
    assert "APS3-InstanceUsage:db.t3.medium" in problems["ZeroUsageQuantity"]
    assert "APS3-InstanceUsage:db.t3.large" in problems["MissingMetric"]
    # usage types no rule prices are not rates
    assert not any("Ephemeral" in key[2] or "Backup" in key[2] for key in rates.rates)


@pytest.mark.parametrize(("usage_type", "service", "expected"), [
    ("APS3-Fargate-vCPU-Hours:perCPU", "", ("ap-south-1", "Fargate-vCPU-Hours:perCPU")),
    ("APS3-InstanceUsage:db.t3.small", "", ("ap-south-1", "InstanceUsage:db.t3.small")),
    ("APS3-Multi-AZUsage:db.t3.small", "", ("ap-south-1", "Multi-AZUsage:db.t3.small")),
    ("APS3-RDS:GP2-Storage", "", ("ap-south-1", "RDS:GP2-Storage")),
    ("InstanceUsage:db.t3.small", "", ("us-east-1", "InstanceUsage:db.t3.small")),
    ("USE1-Fargate-GB-Hours", "", ("us-east-1", "Fargate-GB-Hours")),
    ("EU-SpotUsage-Fargate-vCPU-Hours:perCPU", "",
     ("eu-west-1", "SpotUsage-Fargate-vCPU-Hours:perCPU")),
    ("APS3-NodeUsage:cache.t3.micro", "", ("ap-south-1", "NodeUsage:cache.t3.micro")),
    ("APS3-NatGateway-Hours", "", ("ap-south-1", "NatGateway-Hours")),
    ("APS3-TimedStorage-SIA-ByteHrs", S3, ("ap-south-1", "s3:TimedStorage-SIA-ByteHrs")),
    ("APS3-TimedStorage-ByteHrs", "", None),  # stored bytes of which service?
    ("APS3-TimedStorage-ByteHrs", "Amazon EC2 Container Registry (ECR)",
     ("ap-south-1", "ecr:TimedStorage-ByteHrs")),
    ("APS3-ExtendedSupportYr3-NodeUsage:cache.t3.micro", "", None),  # an add-on
    ("XYZ9-Fargate-GB-Hours", "", None),  # a billing code not known
    ("APS3-USE1-AWS-Out-Bytes", "", None),
])
def test_a_usage_type_is_split_into_region_and_meter(usage_type: str, service: str,
                                                     expected: tuple[str, str] | None) -> None:
    assert split_usage_type(usage_type, service) == expected


def test_without_cost_explorer_access_there_are_no_rates_and_one_error_row() -> None:
    target, stubber = _stubbed([("", Exception("User is not authorized to ce:GetCostAndUsage"))])
    errors = ErrorLog()
    assert costs.collect_usage(target, errors, TODAY) == []
    [row] = errors.rows
    assert (row["operation"], row["code"]) == ("GetCostAndUsage", "AccessDeniedException")
    finding = _spot_finding()
    settle(finding, account_rates([]))
    data = finding.to_dict()
    assert data["monthly_savings_usd"] == 10.6
    assert data["pricing"]["basis"] == "embedded-list"
    assert data["pricing"]["list_monthly_savings_usd"] == 10.6


def test_a_payer_asks_twice_storage_by_service_and_compute_by_linked_account() -> None:
    requests = costs._usage_requests(TODAY, {ACCOUNT})
    assert len(requests) == 2
    assert [[g["Key"] for g in params["GroupBy"]] for params, _ in requests] == [
        ["SERVICE", "USAGE_TYPE"], ["LINKED_ACCOUNT", "USAGE_TYPE"]]
    assert requests[0][0]["TimePeriod"] == NOVEMBER  # the last full month
    assert len(costs._usage_requests(TODAY, None)) == 1


def _finding(rule: str, cost: float, savings: float, basis: pricing.PriceBasis) -> Finding:
    return Finding(rule=rule, resource_type="ecs-service", resource_id=f"arn:{rule}",
                   name=rule, account=ACCOUNT, region="ap-south-1", current={},
                   recommended={}, monthly_cost_usd=cost, monthly_savings_usd=savings,
                   evidence={}, reason="", pricing=basis)


def _spot_finding() -> Finding:
    od = pricing.fargate_prices("ap-south-1")
    spot = pricing.fargate_prices("ap-south-1", spot=True)
    return _finding("ecs-fargate-spot", 15.14, 10.6,
                    pricing.basis(*od, recommended=spot, per_unit_change=True))


def test_a_right_size_saves_at_the_savings_plan_rate_and_keeps_the_list_saving() -> None:
    rows, _ = _collected()
    finding = _finding("ecs-rightsize", 80.0, 40.0,
                       pricing.basis(*pricing.fargate_prices("ap-south-1")))
    settle(finding, account_rates(rows))
    data = finding.to_dict()
    assert data["monthly_savings_usd"] == pytest.approx(40.0 * 0.88, abs=0.01)
    assert data["monthly_cost_usd"] == pytest.approx(80.0 * 0.88, abs=0.01)
    priced = data["pricing"]
    assert priced["basis"] == "account-effective" and priced["as_of"] == "2026-11"
    assert priced["list_monthly_savings_usd"] == 40.0
    assert priced["rates"]["fargate_vcpu_hour_usd"] == pytest.approx(FARGATE_VCPU * 0.88, abs=1e-6)
    assert priced["list_rates"]["fargate_vcpu_hour_usd"] == FARGATE_VCPU


def test_spot_is_not_covered_by_the_plan_so_its_saving_shrinks_by_the_on_demand_discount(
        ) -> None:
    rows, _ = _collected()
    finding = _spot_finding()
    settle(finding, account_rates(rows))
    od = sum(p.usd for p in pricing.fargate_prices("ap-south-1"))
    spot = sum(p.usd for p in pricing.fargate_prices("ap-south-1", spot=True))
    assert finding.monthly_savings_usd == pytest.approx(10.6 * (od * 0.88 - spot) / (od - spot))
    notes = finding.to_dict()["pricing"]["notes"]
    assert any("SpotUsage-Fargate-vCPU-Hours:perCPU" in note for note in notes)


def test_a_reservation_already_paid_for_saves_nothing_more() -> None:
    # the account's db.t3.small already costs less than the reservation would
    rows = [{"account": ACCOUNT, "month": "2026-11", "service": RDS,
             "usage_type": "APS3-InstanceUsage:db.t3.small", "unblended_usd": 0.0,
             "amortized_usd": 720 * 0.030, "amortized_metric": "NetAmortizedCost",
             "quantity": 720.0}]
    on_demand = pricing.rds_hourly_usd("ap-south-1", "db.t3.small", multi_az=False)
    reserved = pricing.rds_hourly_usd("ap-south-1", "db.t3.small", multi_az=False,
                                      term="1yr-no-upfront")
    assert on_demand is not None and reserved is not None
    hours = pricing.HOURS_PER_MONTH
    finding = _finding("rds-reserved-instance", on_demand.usd * hours,
                       (on_demand.usd - reserved.usd) * hours,
                       pricing.basis(on_demand, recommended=(reserved,)))
    settle(finding, account_rates(rows))
    data = finding.to_dict()
    assert data["monthly_savings_usd"] == 0.0
    assert "saves nothing" in " ".join(data["pricing"]["notes"])
    # the reservation's rate is the flat-ratio estimate, and the finding says so
    assert "ESTIMATE" in data["pricing"]["estimate"]


def test_a_rate_far_from_list_is_another_unit_and_keeps_the_list_price() -> None:
    rows = [{"account": ACCOUNT, "month": "2026-11", "service": ECS,
             "usage_type": "APS3-Fargate-vCPU-Hours:perCPU", "unblended_usd": 145.0,
             "amortized_usd": 145.0, "amortized_metric": "NetAmortizedCost",
             "quantity": 3420 * 3600.0}]  # vCPU-seconds, say
    finding = _finding("ecs-rightsize", 80.0, 40.0,
                       pricing.basis(*pricing.fargate_prices("ap-south-1")))
    settle(finding, account_rates(rows))
    assert finding.monthly_savings_usd == 40.0
    assert "not comparable" in " ".join(finding.to_dict()["pricing"]["notes"])


def test_the_demos_ecs_services_at_its_own_rates_are_what_cost_explorer_says_ecs_cost() -> None:
    answer = demo_usage.usage_results(TODAY, demo_account.SERVICES, demo_account.DATABASES)
    rows = [{"account": ACCOUNT, "month": "2026-11", "service": group["Keys"][0],
             "usage_type": group["Keys"][1],
             "unblended_usd": float(group["Metrics"]["UnblendedCost"]["Amount"]),
             "amortized_usd": float(group["Metrics"]["NetAmortizedCost"]["Amount"]),
             "amortized_metric": "NetAmortizedCost",
             "quantity": float(group["Metrics"]["UsageQuantity"]["Amount"])}
            for group in answer["ResultsByTime"][0]["Groups"]]
    rates = account_rates(rows)
    ecs_billed = sum(row["amortized_usd"] for row in rows if row["service"] == ECS)
    vcpu, gb = pricing.fargate_prices("ap-south-1")
    monthly = 0.0
    for service in SERVICES:
        for price, amount in ((vcpu, service.cpu / 1024), (gb, service.memory / 1024)):
            rate, _ = rates.rate_for(ACCOUNT, price)
            assert rate is not None
            monthly += rate.usd * amount * service.desired * pricing.HOURS_PER_MONTH
    assert monthly == pytest.approx(ecs_billed, rel=0.05)
    assert ecs_billed < sum(row["unblended_usd"] for row in rows if row["service"] == ECS)


def _recommendation_row(instance_type: str, deployment: str, saving: str) -> dict[str, Any]:
    # GetReservationPurchaseRecommendation, as the collector stores one page
    # https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetReservationPurchaseRecommendation.html
    page = {"Metadata": {"RecommendationId": "r-1", "GenerationTimestamp": "2026-11-30T00:00:00Z",
                         "LookbackPeriodInDays": "SIXTY_DAYS"},
            "Recommendations": [{
                "AccountScope": "PAYER", "LookbackPeriodInDays": "SIXTY_DAYS",
                "TermInYears": "ONE_YEAR", "PaymentOption": "NO_UPFRONT",
                "RecommendationDetails": [{
                    "AccountId": ACCOUNT,
                    "InstanceDetails": {"RDSInstanceDetails": {
                        "Family": "db.t3", "InstanceType": instance_type,
                        "Region": "Asia Pacific (Mumbai)", "DatabaseEngine": "PostgreSQL",
                        "DeploymentOption": deployment, "LicenseModel": "No license required",
                        "CurrentGeneration": True, "SizeFlexEligible": True}},
                    "RecommendedNumberOfInstancesToPurchase": "2",
                    "AverageUtilization": "100.0", "CurrencyCode": "USD",
                    "EstimatedMonthlySavingsAmount": saving,
                    "EstimatedMonthlySavingsPercentage": "36.1",
                    "EstimatedMonthlyOnDemandCost": "77.38", "UpfrontCost": "0.0",
                    "RecurringStandardMonthlyCost": "49.4"}]}]}
    return {"account": ACCOUNT, "kind": "recommendation",
            "service": "Amazon Relational Database Service", "data": json.dumps(page)}


def test_a_reservation_finding_shows_awss_own_recommendation_and_why_it_differs() -> None:
    on_demand = pricing.rds_hourly_usd("ap-south-1", "db.t3.small", multi_az=True)
    reserved = pricing.rds_hourly_usd("ap-south-1", "db.t3.small", multi_az=True,
                                      term="1yr-no-upfront")
    assert on_demand is not None and reserved is not None
    finding = Finding(rule="rds-reserved-instance", resource_type="rds-instance",
                      resource_id="arn:db", name="edufly-db", account=ACCOUNT,
                      region="ap-south-1",
                      current={"instance_class": "db.t3.small", "multi_az": True},
                      recommended={}, monthly_cost_usd=on_demand.usd * 730,
                      monthly_savings_usd=(on_demand.usd - reserved.usd) * 730, evidence={},
                      reason="", pricing=pricing.basis(on_demand, recommended=(reserved,)))
    rows = [_recommendation_row("db.t3.small", "Single-AZ", "9.99"),  # the other deployment
            _recommendation_row("db.t3.small", "Multi-AZ", "27.98")]
    recommendation.attach([finding], rows)
    shown = finding.to_dict()["pricing"]["aws_recommendation"]
    assert shown["estimated_monthly_savings_usd"] == 27.98 and shown["recommended_instances"] == 2
    assert "2 reservation(s)" in shown["why_ours_differs"]
    # an answer that is not JSON, or a class AWS does not recommend: nothing attached
    other = Finding(**{**finding.__dict__, "pricing": pricing.basis(on_demand),
                       "current": {"instance_class": "db.t3.micro", "multi_az": False}})
    recommendation.attach([other], [*rows, {**rows[0], "data": "{not json"}])
    assert "aws_recommendation" not in other.to_dict()["pricing"]


def test_a_priced_meter_behind_an_unknown_region_code_is_an_error_row_not_a_silent_skip() -> None:
    rows = [{"account": ACCOUNT, "month": "2026-11", "service": ECS,
             "usage_type": usage_type, "unblended_usd": 10.0, "amortized_usd": 8.0,
             "amortized_metric": "NetAmortizedCost", "quantity": 200.0}
            for usage_type in ("XYZ9-Fargate-GB-Hours", "APS3-USE1-AWS-Out-Bytes",
                               "SpotUsage-Fargate-vCPU-Hours:perCPU")]
    rates = account_rates(rows)
    [problem] = rates.problems
    assert problem["code"] == "UnknownBillingCode"
    assert "XYZ9-Fargate-GB-Hours" in problem["message"] and "list prices" in problem["message"]
    # the us-east-1 Spot row (no code) is still a rate; the data-transfer row is not priced
    assert set(rates.rates) == {(ACCOUNT, "us-east-1", "SpotUsage-Fargate-vCPU-Hours:perCPU")}


# --- no list price: what the bill shows stands in -----------------------------------------------

def _nat_rows(unit: str = "Hrs", accounts: tuple[tuple[str, float], ...] = ((ACCOUNT, 0.05),)
              ) -> list[dict[str, Any]]:
    # GetCostAndUsage grouped by one usage type names that usage type's unit ("N/A" for a mix)
    return [{"account": account, "month": "2026-11", "service": "EC2 - Other",
             "usage_type": "APS3-NatGateway-Hours", "unblended_usd": 720 * rate,
             "amortized_usd": 720 * rate, "amortized_metric": "NetAmortizedCost",
             "quantity": 720.0, "unit": unit} for account, rate in accounts]


def test_without_a_list_price_a_lookup_takes_the_rate_the_bill_shows_during_a_run() -> None:
    assert pricing.nat_gateway_hourly_usd("ap-south-1") is None  # no table has Mumbai's NAT
    rates = account_rates(_nat_rows())
    with pricing.bill_rates(rates.bill_price):
        price = pricing.nat_gateway_hourly_usd("ap-south-1")
        assert pricing.nat_gateway_gb_usd("ap-south-1") is None  # no NatGateway-Bytes billed
    assert pricing.nat_gateway_hourly_usd("ap-south-1") is None  # only while rules run
    assert price is not None and price.from_bill
    assert price.usd == pytest.approx(0.05) and price.unit == "hour"
    assert "APS3-NatGateway-Hours in 2026-11" in price.source and price.as_of == "2026-11"
    finding = _finding("nat-gateway", 36.5, 36.5, pricing.basis(price, recommended=()))
    settle(finding, rates)
    data = finding.to_dict()["pricing"]
    assert data["basis"] == "account-effective"
    assert data["rates"] == {"nat_gateway_hour_usd": 0.05} and "list_rates" not in data
    assert data["list_monthly_savings_usd"] is None  # there is no list figure to show
    assert any("no list price for NatGateway-Hours in ap-south-1" in n for n in data["notes"])
    assert finding.monthly_savings_usd == pytest.approx(36.5)


def test_the_bill_rate_is_used_only_in_its_own_unit_and_is_the_median_of_accounts() -> None:
    assert account_rates(_nat_rows(unit="N/A")).bill_price("ap-south-1",
                                                             "NatGateway-Hours") is None
    assert account_rates(_nat_rows(unit="GB")).bill_price("ap-south-1",
                                                            "NatGateway-Hours") is None
    three = account_rates(_nat_rows(accounts=(("111111111111", 0.04), ("222222222222", 0.07),
                                              ("333333333333", 0.05))))
    price = three.bill_price("ap-south-1", "NatGateway-Hours")
    assert price is not None and price.usd == pytest.approx(0.05)
    assert "the median of 3 accounts" in price.source
    # an account that used none is priced at that median, and the finding says whose it is
    with pricing.bill_rates(three.bill_price):
        hourly = pricing.nat_gateway_hourly_usd("ap-south-1")
    finding = _finding("nat-gateway", 36.5, 36.5, pricing.basis(hourly, recommended=()))
    settle(finding, three)
    notes = finding.to_dict()["pricing"]["notes"]
    assert any("no usage of this account's: Cost Explorer: what the median" in n for n in notes)
