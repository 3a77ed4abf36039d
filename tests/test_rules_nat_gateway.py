"""nat-gateway: idle NAT gateways, missing gateway endpoints, extra NATs in non-production.

AWS behaviour relied on:
- a NAT gateway bills per hour it exists and per GB it processes; its Elastic IP keeps billing
  after the NAT is deleted until released (https://aws.amazon.com/vpc/pricing/,
  https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-pricing.html);
- BytesOutToDestination / ActiveConnectionCount in AWS/NATGateway, dimension NatGatewayId
  (https://docs.aws.amazon.com/vpc/latest/userguide/metrics-dimensions-nat-gateway.html);
- S3 and DynamoDB gateway endpoints are free
  (https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html).
"""

from __future__ import annotations

import pytest

from rightsizer import pricing
from rightsizer.rules.nat_gateway import RULE, Settings, evaluate, how_to_apply, non_production
from tests.snapshot_factory import DAYS, SnapshotBuilder

PRICED = "us-east-1"  # $0.045/hour and $0.045/GB in vpc.json
GB = 1024**3
S3 = f"com.amazonaws.{PRICED}.s3"
DDB = f"com.amazonaws.{PRICED}.dynamodb"


def test_idle_nat_gateway_zero_bytes_is_deleted_with_its_eip():
    snap = SnapshotBuilder()
    snap.nat_gateway("nat-idle", endpoints=[S3, DDB], public_ips=["3.3.3.3"],
                     allocation_ids=["eipalloc-1"], region=PRICED)
    snap.nat_traffic("nat-idle", 0, 0, region=PRICED)
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["kind"] == "idle"
    hours = 0.045 * 730
    assert finding.monthly_savings_usd == pytest.approx(hours + 0.005 * 730)
    assert "keeps billing" in finding.reason
    steps = how_to_apply(finding)
    assert "aws ec2 delete-nat-gateway --nat-gateway-id nat-idle --region us-east-1" in \
        steps["cli"]
    assert "aws ec2 release-address --allocation-id eipalloc-1 --region us-east-1" in \
        steps["cli"]
    assert set(steps) == {"cli", "terraform", "cdk"}


def test_busy_nat_gateway_in_vpc_with_both_endpoints_is_left_alone():
    snap = SnapshotBuilder()
    snap.nat_gateway("nat-busy", endpoints=[S3, DDB], region=PRICED)
    snap.nat_traffic("nat-busy", GB, 40, region=PRICED)
    result = evaluate(snap.build(), Settings())
    assert result.findings == [] and result.skipped == []


def test_vpc_without_s3_endpoint_saving_is_upper_bound_on_processed_bytes():
    snap = SnapshotBuilder()
    snap.nat_gateway("nat-busy", endpoints=[DDB], route_tables=["rtb-a", "rtb-b"],
                     region=PRICED)
    snap.nat_traffic("nat-busy", GB, 40, region=PRICED)  # 1 GB an hour
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["kind"] == "gateway-endpoint"
    assert finding.evidence["missing_gateway_endpoints"] == ["s3"]
    assert finding.monthly_savings_usd == pytest.approx(730 * 0.045)
    assert "upper bound" in finding.reason and "upper bound" in finding.evidence["saving_basis"]
    cli = how_to_apply(finding)["cli"]
    assert ("aws ec2 create-vpc-endpoint --vpc-id vpc-edufly --vpc-endpoint-type Gateway "
            "--service-name com.amazonaws.us-east-1.s3 --route-table-ids rtb-a rtb-b") in cli


def test_vpc_that_already_has_an_s3_endpoint_gets_only_the_missing_dynamodb_one():
    snap = SnapshotBuilder()
    snap.nat_gateway("nat-busy", endpoints=[S3], region=PRICED)
    snap.nat_traffic("nat-busy", GB, 5, region=PRICED)
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.evidence["missing_gateway_endpoints"] == ["dynamodb"]
    assert "DynamoDB" in finding.reason and "S3" not in finding.reason.split("gateway")[0]


def test_staging_vpc_with_two_nats_flags_the_second():
    snap = SnapshotBuilder()
    tags = {"Name": "edufly-staging", "env": "staging"}
    for nat in ("nat-a", "nat-b"):
        snap.nat_gateway(nat, vpc_id="vpc-stg", vpc_tags=tags, endpoints=[S3, DDB],
                         region=PRICED)
        snap.nat_traffic(nat, GB, 3, region=PRICED)
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.name == "nat-b" and finding.evidence["kind"] == "consolidate"
    assert finding.recommended == {"nat_gateways_in_vpc": 1, "keep": "nat-a"}
    assert finding.monthly_savings_usd == pytest.approx(0.045 * 730)
    assert "tag env=staging" in finding.reason


def test_production_vpc_with_two_nats_is_not_flagged():
    snap = SnapshotBuilder()
    for nat in ("nat-a", "nat-b"):
        snap.nat_gateway(nat, vpc_tags={"Name": "edufly-prod", "env": "production"},
                         endpoints=[S3, DDB], region=PRICED)
        snap.nat_traffic(nat, GB, 3, region=PRICED)
    assert evaluate(snap.build(), Settings()).findings == []


def test_non_production_by_name_pattern_and_configurable_values():
    row = {"vpc_name": "team-sandbox-1", "vpc_tags": "{}"}
    assert "sandbox" in non_production(row, Settings())
    assert non_production({"vpc_tags": '{"Stage": "perf"}'}, Settings()) is None
    assert non_production({"vpc_tags": '{"Stage": "perf"}'},
                          Settings(non_production_tag_values=["perf"])) == "tag stage=perf"


def test_missing_metrics_are_insufficient_data_never_idle():
    snap = SnapshotBuilder()
    snap.nat_gateway("nat-new", endpoints=[S3, DDB], region=PRICED)
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.reason == "insufficient-data"


def test_unreadable_endpoints_are_not_taken_for_missing_ones():
    snap = SnapshotBuilder()
    snap.nat_gateway("nat-busy", endpoints=None, region=PRICED)
    snap.nat_traffic("nat-busy", GB, 3, region=PRICED)
    [row] = evaluate(snap.build(), Settings()).skipped
    assert "DescribeVpcEndpoints" in row.detail


def test_region_without_a_sourced_nat_price_is_skipped_not_guessed():
    snap = SnapshotBuilder()  # ap-south-1
    snap.nat_gateway("nat-0", endpoints=[])
    snap.nat_traffic("nat-0", 0, 0)
    [row] = evaluate(snap.build(), Settings()).skipped
    if pricing.nat_gateway_hourly_usd("ap-south-1") is None:
        assert row.detail == "no price for NAT gateway hours in ap-south-1"


def test_rule_declares_its_metric_needs():
    assert {(n.resource_kind, n.metric, n.stats) for n in RULE.metric_needs} == {
        ("nat-gateway", "BytesOutToDestination", ("Sum",)),
        ("nat-gateway", "ActiveConnectionCount", ("Maximum",))}
    assert DAYS == 14
