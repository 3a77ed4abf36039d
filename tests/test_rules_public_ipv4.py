"""public-ipv4: $0.005 per public IPv4 per hour since 2024-02-01
(https://aws.amazon.com/blogs/aws/new-aws-public-ipv4-address-charge-public-ip-insights/,
"Public IPv4 Address" tab of https://aws.amazon.com/vpc/pricing/)."""

from __future__ import annotations

import pytest

from rightsizer.rules.public_ipv4 import RULE, Settings, evaluate, how_to_apply
from tests.snapshot_factory import SnapshotBuilder

MONTH = 0.005 * 730


def test_unattached_elastic_ip_is_pure_waste_and_listed_first():
    snap = SnapshotBuilder()
    snap.public_ip("13.0.0.9", owner_kind="ec2-instance", owner_id="i-1",
                   owner_label="EC2 instance i-1")
    snap.public_ip("13.0.0.1", allocation_id="eipalloc-free")
    findings = evaluate(snap.build(), Settings()).findings
    assert [f.name for f in findings] == ["13.0.0.1", "13.0.0.9"]
    free = findings[0]
    assert free.severity == "high" and free.monthly_savings_usd == pytest.approx(MONTH)
    assert how_to_apply(free)["cli"] == (
        "aws ec2 release-address --allocation-id eipalloc-free --region ap-south-1")


def test_eip_attached_to_a_nat_gateway_is_one_row_owned_by_the_nat_not_double_counted():
    snap = SnapshotBuilder()
    snap.nat_gateway("nat-0abc", public_ips=["15.0.0.5"], allocation_ids=["eipalloc-n"])
    # the interface says nothing about the NAT (as moto's does): the NAT's addresses do
    snap.public_ip("15.0.0.5", owner_kind="other", allocation_id="eipalloc-n")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.current["owner"] == "NAT gateway nat-0abc"
    assert finding.monthly_cost_usd == pytest.approx(MONTH)
    assert finding.monthly_savings_usd == 0
    assert finding.evidence["counted_by"] == "nat-gateway"


def test_fargate_task_public_ip_says_it_needs_nat_or_endpoints():
    snap = SnapshotBuilder()
    snap.public_ip("13.2.2.2", elastic=False, owner_kind="ecs-task",
                   owner_id="arn:aws:ecs:ap-south-1:123456789012:attachment/x",
                   network_interface_id="eni-1")
    [finding] = evaluate(snap.build(), Settings()).findings
    assert finding.resource_id == "public-ip/ap-south-1/13.2.2.2"
    assert "NAT gateway or VPC endpoints" in finding.reason
    assert "assignPublicIp=DISABLED" in how_to_apply(finding)["cli"]


def test_load_balancer_and_unknown_owners_are_skipped_with_their_cost():
    snap = SnapshotBuilder()
    snap.public_ip("13.3.3.3", elastic=False, owner_kind="load-balancer",
                   owner_label="load balancer app/edufly/1")
    snap.public_ip("13.4.4.4", elastic=False, owner_kind="other")
    result = evaluate(snap.build(), Settings())
    assert result.findings == []
    assert [row.reason for row in result.skipped] == ["not-applicable", "not-applicable"]
    assert all("$3.65" in row.detail for row in result.skipped)


def test_china_region_has_no_tabled_price():
    snap = SnapshotBuilder()
    snap.public_ip("1.1.1.1", region="cn-north-1")
    [row] = evaluate(snap.build(), Settings()).skipped
    assert row.detail == "no price for public IPv4 in cn-north-1"
    assert RULE.resource_type == "public-ipv4"
