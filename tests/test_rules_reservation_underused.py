"""reservation-underused: Cost Explorer's per-reservation utilization, collected through
botocore's Stubber and priced by the rule.

Answers are shaped after the API reference (GetReservationUtilization,
ReservationUtilizationGroup, ReservationAggregates: every figure a string, every field optional:
https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_ReservationAggregates.html)
with the attribute keys a SUBSCRIPTION_ID grouping returns (accountId, region, instanceType,
numberOfInstances, startDateTime, endDateTime "2026-12-24T08:55:38.000Z", subscriptionStatus,
subscriptionType, as a public RDS reservation reporter reads them, and leaseId).
"""

from __future__ import annotations

import io
import json
import shlex
from contextlib import redirect_stdout
from datetime import UTC, date, datetime
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from rightsizer.aws.clients import AwsClients
from rightsizer.collect import engine
from rightsizer.collect.collectors import costs
from rightsizer.collect.collectors.base import ErrorLog, Target
from rightsizer.pricing.account import AccountRates
from rightsizer.pricing.basis import ACCOUNT_EFFECTIVE, settle
from rightsizer.rules import reservation_underused as rule
from tests.snapshot_factory import ACCOUNT, REGION, SnapshotBuilder

TODAY = date(2026, 12, 1)
WINDOW_END = datetime(2026, 12, 1, tzinfo=UTC)
PERIOD = {"Start": "2026-11-01", "End": "2026-12-01"}
RDS, ELASTICACHE = rule.RDS, rule.ELASTICACHE


def group(subscription: str, instance_type: str, **figures: str) -> dict[str, Any]:
    attributes = {
        "accountId": ACCOUNT, "accountName": "edufly", "region": REGION,
        "instanceType": instance_type, "platform": "PostgreSQL", "numberOfInstances": "1",
        "leaseId": f"lease-{subscription}", "startDateTime": "2026-03-01T00:00:00.000Z",
        "endDateTime": "2027-03-01T00:00:00.000Z", "subscriptionStatus": "Active",
        "subscriptionType": "No Upfront", "sizeFlexibility": "FlexRI"}
    return {"Key": "SubscriptionId", "Value": subscription, "Attributes": attributes,
            "Utilization": figures}


# November 2026 has 720 hours. A db.r6g.large reservation with a $180 amortized month costs
# $0.25 a reserved hour; at 62% use 273.6 hours went unused: 273.6 x 0.25 = $68.40.
FULL = group("1111111111", "db.t4g.medium", UtilizationPercentage="100", PurchasedHours="720",
             TotalActualHours="720", UnusedHours="0", TotalAmortizedFee="36",
             RICostForUnusedHours="0", NetRISavings="12.5", OnDemandCostOfRIHoursUsed="48.5")
PARTLY = group("2222222222", "db.r6g.large", UtilizationPercentage="62", PurchasedHours="720",
               TotalActualHours="446.4", UnusedHours="273.6", TotalAmortizedFee="180",
               RICostForUnusedHours="68.4", NetRISavings="-2.1",
               OnDemandCostOfRIHoursUsed="177.9")


def page(*groups: dict[str, Any]) -> dict[str, Any]:
    return {"UtilizationsByTime": [{"TimePeriod": PERIOD, "Groups": list(groups),
                                    "Total": {"UtilizationPercentage": "81"}}],
            "Total": {"UtilizationPercentage": "81"}}


def stubbed_target() -> tuple[Target, Stubber]:
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="x",
                            aws_secret_access_key="x")
    clients = AwsClients(session)
    stubber = Stubber(clients.client("ce", costs.CE_REGION))
    return Target(ACCOUNT, REGION, clients), stubber


def snapshot_of(rows: list[dict[str, Any]], builder: SnapshotBuilder | None = None):
    builder = builder or SnapshotBuilder(end=WINDOW_END)
    builder.rows["ce_insights"].extend(rows)
    return builder.build()


def utilization_rows(*groups: dict[str, Any], service: str = RDS) -> list[dict[str, Any]]:
    return [{"account": ACCOUNT, "kind": "utilization", "service": service,
             "data": json.dumps(page(*groups))}]


# --- the collector -----------------------------------------------------------------------------

def test_one_request_a_reserved_service_filtered_and_grouped_and_an_error_row_for_a_refusal():
    target, stubber = stubbed_target()
    stubber.add_response("get_reservation_utilization", page(FULL, PARTLY),
                         costs.utilization_request(RDS, TODAY))
    stubber.add_client_error("get_reservation_utilization", "AccessDeniedException",
                             "not authorized to perform ce:GetReservationUtilization",
                             expected_params=costs.utilization_request(ELASTICACHE, TODAY))
    errors = ErrorLog()
    with stubber:
        rows = costs.collect_reservation_insights(target, errors, TODAY, services=set())
        stubber.assert_no_pending_responses()
    request = costs.utilization_request(RDS, TODAY)
    assert request["Filter"] == {"Dimensions": {"Key": "SERVICE", "Values": [RDS]}}
    assert request["TimePeriod"] == PERIOD and "Granularity" not in request  # GroupBy set
    assert [(row["kind"], row["service"]) for row in rows] == [("utilization", RDS)]
    assert [(e["service"], e["operation"], e["code"]) for e in errors.rows] == [
        ("ce", "GetReservationUtilization", "AccessDeniedException")]
    # the refused ElastiCache read leaves the RDS answer whole: its finding is still there
    findings = rule.evaluate(snapshot_of(rows), rule.Settings()).findings
    assert [f.resource_id for f in findings] == ["reservation/2222222222"]


def test_the_answer_is_cached_for_the_month(tmp_path):
    target, stubber = stubbed_target()
    stubber.add_response("get_reservation_utilization", page(PARTLY),
                         costs.utilization_request(RDS, TODAY))
    cache = costs.MonthlyCache(tmp_path, TODAY)
    with stubber:  # a second request would find no response queued and raise
        first = costs.collect_reservation_insights(target, ErrorLog(), TODAY, cache=cache,
                                                   reserved_services={RDS}, services=set())
        again = costs.collect_reservation_insights(target, ErrorLog(), TODAY, cache=cache,
                                                   reserved_services={RDS}, services=set())
    assert first == again and len(first) == 1


def test_the_engine_asks_only_for_the_services_holding_reservations():
    target, stubber = stubbed_target()
    stubber.add_response("get_reservation_utilization", page(),
                         costs.utilization_request(ELASTICACHE, TODAY))
    tables: dict[str, list[dict[str, Any]]] = {
        "rds_instances": [], "elasticache_clusters": [], "rds_reservations": [],
        "elasticache_reservations": [{"account": ACCOUNT}]}
    job = engine._reservation_insights_job(target, ErrorLog(), TODAY,
                                           costs.MonthlyCache(None, TODAY), tables, {ACCOUNT})
    with stubber:
        rows = job()
        stubber.assert_no_pending_responses()
    assert [(row["kind"], row["service"]) for row in rows] == [("utilization", ELASTICACHE)]


# --- the rule ----------------------------------------------------------------------------------

def test_the_unused_share_priced_as_cost_explorer_states_it():
    builder = SnapshotBuilder(end=WINDOW_END)
    builder.rds_instance("reports", instance_class="db.r6g.large")
    result = rule.evaluate(snapshot_of(utilization_rows(FULL, PARTLY), builder),
                           rule.Settings())
    assert result.skipped == []
    (finding,) = result.findings  # the fully used one is no finding
    assert finding.monthly_savings_usd == pytest.approx(68.4)
    assert finding.monthly_cost_usd == pytest.approx(180.0)
    assert finding.evidence["amortized_hourly_usd"] == pytest.approx(0.25)  # 180 / 720
    assert finding.evidence["unused_cost_from"] == "RICostForUnusedHours"
    assert finding.current == {
        "service": RDS, "instance_class": "db.r6g.large", "reserved_count": 1,
        "utilization_percent": 62.0, "end_date": "2027-03-01", "lease_id": "lease-2222222222"}
    assert finding.recommended["running_of_class"] == 1
    assert "2027-03-01" in finding.recommended["otherwise"]
    assert "size-flexible" in finding.recommended["fill"]
    assert (finding.account, finding.region) == (ACCOUNT, REGION)


def test_without_ri_cost_for_unused_hours_the_hours_times_the_amortized_hourly_fee():
    figures = dict(PARTLY["Utilization"])
    del figures["RICostForUnusedHours"]
    partly = {**PARTLY, "Utilization": figures}
    (finding,) = rule.evaluate(snapshot_of(utilization_rows(partly)), rule.Settings()).findings
    assert finding.monthly_savings_usd == pytest.approx(273.6 * 180 / 720)  # $68.40
    assert finding.evidence["unused_cost_from"] == \
        "UnusedHours x TotalAmortizedFee / PurchasedHours"


def test_pricing_is_the_accounts_own_and_settling_leaves_it_alone():
    (finding,) = rule.evaluate(snapshot_of(utilization_rows(PARTLY)), rule.Settings()).findings
    settle(finding, AccountRates(accounts={ACCOUNT}))  # Cost Explorer answered, no such usage
    pricing = finding.to_dict()["pricing"]
    assert pricing["basis"] == ACCOUNT_EFFECTIVE
    assert pricing["rates"] == {rule.RATE_KEY: 0.25} and pricing["as_of"] == "2026-11"
    assert "notes" not in pricing and finding.monthly_savings_usd == pytest.approx(68.4)


def test_missing_or_zero_figures_are_skipped_rows_and_no_groups_is_nothing():
    no_unused = group("3333333333", "cache.r7g.large", UtilizationPercentage="40",
                      PurchasedHours="720", TotalActualHours="288", TotalAmortizedFee="90")
    zero_hours = group("4444444444", "cache.r7g.large", UtilizationPercentage="0",
                       PurchasedHours="0", UnusedHours="0", TotalAmortizedFee="0")
    expired = {**PARTLY, "Value": "5555555555",
               "Attributes": {**PARTLY["Attributes"], "endDateTime": "2026-11-20T00:00:00Z"}}
    rows = (utilization_rows(no_unused, zero_hours, service=ELASTICACHE)
            + utilization_rows(expired)
            + [{"account": ACCOUNT, "kind": "utilization", "service": RDS,
                "data": json.dumps({"UtilizationsByTime": [{"TimePeriod": PERIOD}]})},
               {"account": ACCOUNT, "kind": "utilization", "service": RDS, "data": "{oops"}])
    result = rule.evaluate(snapshot_of(rows), rule.Settings())
    assert result.findings == []
    assert {(s.resource_id, s.reason) for s in result.skipped} == {
        ("reservation/3333333333", "insufficient-data"),
        ("reservation/4444444444", "insufficient-data"),
        ("reservation/5555555555", "not-applicable")}
    detail = {s.resource_id: s.detail for s in result.skipped}
    assert "RICostForUnusedHours or UnusedHours" in detail["reservation/3333333333"]
    assert "PurchasedHours" in detail["reservation/4444444444"]
    assert "2026-11-20" in detail["reservation/5555555555"]


def test_the_threshold_and_the_floor_are_settings():
    nearly = group("6666666666", "db.r6g.large", UtilizationPercentage="97",
                   PurchasedHours="720", UnusedHours="21.6", TotalAmortizedFee="180",
                   RICostForUnusedHours="5.4")
    snapshot = snapshot_of(utilization_rows(nearly, PARTLY))
    assert [f.resource_id for f in rule.evaluate(snapshot, rule.Settings()).findings] == [
        "reservation/2222222222"]
    every_hour = rule.Settings(max_utilization_percent=100)
    assert len(rule.evaluate(snapshot, every_hour).findings) == 2
    assert rule.evaluate(snapshot, rule.Settings(min_monthly_unused_usd=100)).findings == []


# --- how to apply: read-only commands the AWS CLI accepts ----------------------------------------

def _operation(service: str, command: str) -> Any:
    model = botocore.session.get_session().get_service_model(service)
    name = next(op for op in model.operation_names
                if botocore.xform_name(op, "-") == command)
    return model.operation_model(name)


@mock_aws
def test_the_commands_are_read_only_and_name_real_options(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    boto3.client("rds", region_name=REGION).create_db_instance(
        DBInstanceIdentifier="reports", DBInstanceClass="db.r6g.large", Engine="postgres",
        AllocatedStorage=20, MasterUsername="edufly", MasterUserPassword="not-a-secret-1")
    cache_rows = utilization_rows({**PARTLY, "Attributes": {
        **PARTLY["Attributes"], "instanceType": "cache.r7g.large"}}, service=ELASTICACHE)
    from awscli.clidriver import create_clidriver

    for rows in (utilization_rows(PARTLY), cache_rows):
        (finding,) = rule.evaluate(snapshot_of(rows), rule.Settings()).findings
        commands = [line for line in rule.how_to_apply(finding)["cli"].splitlines()
                    if line.startswith("aws ")]
        assert len(commands) == 2
        for command in commands:
            words = shlex.split(command)
            operation = _operation(words[1], words[2])
            assert operation.name.startswith("Describe")
            members = {botocore.xform_name(m, "-") for m in operation.input_shape.members}
            options = {w[2:] for w in words[3:] if w.startswith("--")}
            assert options - {"region", "query", "output"} <= members, command
            if "reserved" not in words[2]:  # moto implements neither Describe*Reserved*
                out = io.StringIO()
                with redirect_stdout(out):
                    assert create_clidriver().main(words[1:]) == 0, command
                if words[1] == "rds":
                    assert "reports" in out.getvalue()
