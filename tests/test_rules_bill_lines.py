"""cloudfront-idle, route53-orphan-health-check and logs-ingestion on synthetic snapshots.

Rows are shaped as the collectors write them (collect/collectors/cloudfront.py, route53.py,
logs.py); series as the planner stores them (CloudFront and Route 53 in us-east-1).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from rightsizer.rules import cloudfront_idle, logs_ingestion, route53_orphan_health_check
from rightsizer.rules.route53_orphan_health_check import elb_target
from tests.snapshot_factory import ACCOUNT, HOURS, REGION, SnapshotBuilder, flat

GB = 1024**3
US_EAST_1 = "us-east-1"


# --- cloudfront-idle ---------------------------------------------------------------------------

def _distribution(snap: SnapshotBuilder, distribution_id: str, *, enabled: bool = True,
                  ssl: str = "sni-only", certificate: str = "", modified: str = "2025-01-10",
                  web_acl: str = "") -> None:
    snap.rows["cloudfront_distributions"].append({
        "account": ACCOUNT, "region": "global", "metric_region": US_EAST_1,
        "distribution_id": distribution_id,
        "arn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/{distribution_id}",
        "domain_name": f"{distribution_id.lower()}.cloudfront.net", "aliases": "[]",
        "comment": "", "status": "Deployed", "enabled": enabled,
        "last_modified": f"{modified} 10:00:00+00:00", "price_class": "PriceClass_All",
        "ssl_support_method": ssl, "certificate": certificate, "web_acl_id": web_acl,
        "tags_known": True, "tags": "{}"})


def _requests(snap: SnapshotBuilder, distribution_id: str, values: np.ndarray) -> None:
    snap.metric("AWS/CloudFront", "Requests", distribution_id, "Sum", values, region=US_EAST_1)


def _cloudfront(snap: SnapshotBuilder) -> Any:
    return cloudfront_idle.evaluate(snap.build(), cloudfront_idle.Settings())


def test_a_distribution_nobody_requests_is_a_free_cleanup_and_a_requested_one_is_fine() -> None:
    snap = SnapshotBuilder()
    _distribution(snap, "EIDLE")
    _distribution(snap, "EBUSY")
    _requests(snap, "EBUSY", flat(120))
    result = _cloudfront(snap)
    assert [f.resource_id.rsplit("/", 1)[-1] for f in result.findings] == ["EIDLE"]
    finding = result.findings[0]
    assert (finding.monthly_cost_usd, finding.monthly_savings_usd) == (0.0, 0.0)
    assert finding.region == "global" and finding.name == "eidle.cloudfront.net"
    assert "bills nothing" in finding.reason
    assert result.skipped == []


def test_a_dedicated_ip_certificate_only_it_uses_is_the_saving() -> None:
    snap = SnapshotBuilder()
    _distribution(snap, "EVIP", ssl="vip", certificate="arn:aws:acm:us-east-1:1:certificate/a")
    _distribution(snap, "ESHARED1", ssl="vip", certificate="arn:aws:acm:us-east-1:1:certificate/b")
    _distribution(snap, "ESHARED2", ssl="vip", certificate="arn:aws:acm:us-east-1:1:certificate/b")
    _requests(snap, "ESHARED2", flat(5))
    by_id = {f.resource_id.rsplit("/", 1)[-1]: f for f in _cloudfront(snap).findings}
    assert set(by_id) == {"EVIP", "ESHARED1"}
    assert by_id["EVIP"].monthly_savings_usd == 600.0  # the whitepaper's $600 a certificate
    assert "docs.aws.amazon.com/whitepapers" in by_id["EVIP"].evidence["price_source"]
    assert by_id["ESHARED1"].monthly_savings_usd == 0.0
    assert by_id["ESHARED1"].evidence["dedicated_ip_certificate_shared"] is True


def test_disabled_new_and_unmeasured_distributions_are_skipped_with_a_reason() -> None:
    snap = SnapshotBuilder()
    _distribution(snap, "EOFF", enabled=False)
    _distribution(snap, "ENEW", modified="2026-10-30")  # inside the window
    result = _cloudfront(snap)
    assert result.findings == []
    reasons = {row.resource_id.rsplit("/", 1)[-1]: (row.reason, row.detail)
               for row in result.skipped}
    assert reasons["EOFF"][0] == "not-applicable"
    assert reasons["ENEW"][0] == "insufficient-data" and "2026-10-30" in reasons["ENEW"][1]
    failed = SnapshotBuilder()
    _distribution(failed, "EIDLE")
    failed.error("cloudwatch", "GetMetricData", region=US_EAST_1)
    skipped = _cloudfront(failed).skipped
    assert [(row.reason, "us-east-1" in row.detail) for row in skipped] == [
        ("insufficient-data", True)]


def test_the_cloudfront_commands_disable_before_deleting_with_the_etag() -> None:
    snap = SnapshotBuilder()
    _distribution(snap, "EIDLE")
    cli = cloudfront_idle.how_to_apply(_cloudfront(snap).findings[0])["cli"]
    lines = cli.splitlines()
    assert lines[0] == "aws cloudfront get-distribution-config --id EIDLE > distribution.json"
    assert any(".Enabled = false" in line for line in lines)
    assert lines.index(next(line for line in lines if "update-distribution" in line)) < \
        lines.index(next(line for line in lines if "delete-distribution" in line))
    assert "--if-match \"$etag\"" in lines[-1]


# --- route53-orphan-health-check ---------------------------------------------------------------

ALB_DNS = "edufly-web-ec2-1234567890.ap-south-1.elb.amazonaws.com"
NLB_DNS = "edufly-tcp-0123456789abcdef.elb.ap-south-1.amazonaws.com"


def _check(snap: SnapshotBuilder, check_id: str, *, fqdn: str = "", ip: str = "",
           check_type: str = "HTTPS", interval: int = 30, disabled: bool = False,
           inverted: bool = False) -> None:
    snap.rows["route53_health_checks"].append({
        "account": ACCOUNT, "region": "global", "metric_region": US_EAST_1,
        "health_check_id": check_id, "arn": f"arn:aws:route53:::healthcheck/{check_id}",
        "name": check_id, "type": check_type, "ip_address": ip, "fqdn": fqdn, "port": 443,
        "resource_path": "/health", "request_interval": interval, "measure_latency": False,
        "inverted": inverted, "disabled": disabled, "tags": "{}"})


def _status(snap: SnapshotBuilder, check_id: str, values: np.ndarray) -> None:
    snap.metric("AWS/Route53", "HealthCheckStatus", check_id, "Maximum", values,
                region=US_EAST_1)


def _balancer(snap: SnapshotBuilder, dns: str) -> None:
    snap.rows["load_balancers"].append({
        "account": ACCOUNT, "region": REGION, "arn": "arn:lb", "name": "lb",
        "type": "application", "scheme": "internet-facing", "dns_name": dns, "state": "active",
        "created_at": "", "metric_dimension": "app/lb/1", "targets_known": True,
        "target_group_count": 0, "registered_targets": 0, "healthy_targets": 0,
        "target_states": "{}", "target_groups": "[]", "tags": "{}"})


def _route53(snap: SnapshotBuilder) -> Any:
    return route53_orphan_health_check.evaluate(snap.build(),
                                                route53_orphan_health_check.Settings())


@pytest.mark.parametrize(("fqdn", "expected"), [
    (ALB_DNS, (ALB_DNS, "ap-south-1", "application or classic")),
    (f"dualstack.{ALB_DNS}", (ALB_DNS, "ap-south-1", "application or classic")),
    (NLB_DNS, (NLB_DNS, "ap-south-1", "network")),
    ("api.edufly.example", None),
    ("elb.amazonaws.com.example.org", None),
])
def test_load_balancer_dns_names_are_recognised(fqdn: str, expected: Any) -> None:
    assert elb_target(fqdn) == expected


def test_a_check_on_a_deleted_load_balancer_is_flagged_at_the_basic_price() -> None:
    snap = SnapshotBuilder()
    _check(snap, "hc-alb-gone", fqdn=ALB_DNS)
    _status(snap, "hc-alb-gone", flat(0))
    _check(snap, "hc-nlb-gone", fqdn=NLB_DNS, check_type="TCP")  # no status needed
    _check(snap, "hc-alb-live", fqdn="live-1.ap-south-1.elb.amazonaws.com")
    _balancer(snap, "live-1.ap-south-1.elb.amazonaws.com")
    result = _route53(snap)
    by_id = {f.name: f for f in result.findings}
    assert set(by_id) == {"hc-alb-gone", "hc-nlb-gone"}
    assert by_id["hc-alb-gone"].monthly_savings_usd == 0.5
    assert by_id["hc-alb-gone"].evidence["optional_features"] == ["HTTPS"]
    assert "failed every check for 14 days" in by_id["hc-alb-gone"].reason
    assert by_id["hc-nlb-gone"].evidence["kind"] == "deleted-load-balancer"
    assert result.skipped == []


def test_an_alb_shaped_name_that_still_answers_may_be_a_classic_load_balancer() -> None:
    snap = SnapshotBuilder()
    _check(snap, "hc-classic", fqdn=ALB_DNS)
    _status(snap, "hc-classic", np.r_[flat(0, HOURS - 5), flat(1, 5)])
    assert _route53(snap).findings == []


def test_an_address_that_never_answered_is_flagged_and_an_account_address_is_not() -> None:
    snap = SnapshotBuilder()
    _check(snap, "hc-gone", ip="203.0.113.10", check_type="HTTP", interval=10)
    _status(snap, "hc-gone", flat(0))
    _check(snap, "hc-ours", ip="198.51.100.7", check_type="HTTP")
    _status(snap, "hc-ours", flat(0))
    snap.public_ip("198.51.100.7")
    result = _route53(snap)
    assert [f.name for f in result.findings] == ["hc-gone"]
    finding = result.findings[0]
    assert finding.evidence["kind"] == "unreachable"
    assert finding.evidence["optional_features"] == ["fast interval"]
    assert "at least $0.50/month plus fast interval" in finding.reason


def test_checks_that_cannot_be_judged_are_skipped_with_why() -> None:
    snap = SnapshotBuilder()
    _check(snap, "hc-calc", check_type="CALCULATED")
    _check(snap, "hc-off", ip="203.0.113.1", disabled=True)
    _check(snap, "hc-gappy", ip="203.0.113.2")
    _status(snap, "hc-gappy", np.r_[flat(0, 24), flat(np.nan, HOURS - 24)])
    _check(snap, "hc-far", fqdn="web-1.eu-west-1.elb.amazonaws.com")
    skipped = {row.name: (row.reason, row.detail) for row in _route53(snap).skipped}
    assert skipped["hc-calc"][0] == "not-applicable"
    assert skipped["hc-off"][0] == "not-applicable"
    assert skipped["hc-gappy"][0] == "insufficient-data" and "7%" in skipped["hc-gappy"][1]
    assert skipped["hc-far"][0] == "not-applicable" and "eu-west-1" in skipped["hc-far"][1]
    unread = SnapshotBuilder()
    _check(unread, "hc-nlb", fqdn=NLB_DNS)
    unread.error("elasticloadbalancing", "DescribeLoadBalancers")
    assert [row.reason for row in _route53(unread).skipped] == ["insufficient-data"]


def test_the_route53_commands_list_referencing_records_then_delete() -> None:
    snap = SnapshotBuilder()
    _check(snap, "hc-nlb", fqdn=NLB_DNS)
    cli = route53_orphan_health_check.how_to_apply(_route53(snap).findings[0])["cli"]
    assert "HealthCheckId=='hc-nlb'" in cli
    assert cli.splitlines()[-1] == "aws route53 delete-health-check --health-check-id hc-nlb"


# --- logs-ingestion ----------------------------------------------------------------------------

def _ingest(snap: SnapshotBuilder, name: str, gb_per_hour: float, *,
            log_class: str = "STANDARD", region: str = REGION) -> None:
    snap.log_group(name, retention_days=30, log_group_class=log_class, region=region)
    snap.metric("AWS/Logs", "IncomingBytes", name, "Sum", flat(gb_per_hour * GB),
                region=region)


def test_the_largest_ingesting_groups_are_listed_with_their_cost_largest_first() -> None:
    snap = SnapshotBuilder()
    _ingest(snap, "/ecs/api", 0.02)  # 14.6 GB a month at $0.67
    _ingest(snap, "/ecs/worker", 0.005)
    _ingest(snap, "/ecs/quiet", 0.0001)  # $0.05 a month: under min_monthly_usd
    snap.log_group("/ecs/silent")
    result = logs_ingestion.evaluate(snap.build(), logs_ingestion.Settings())
    assert [f.name for f in result.findings] == ["/ecs/api", "/ecs/worker"]
    api = result.findings[0]
    assert api.current["monthly_gb"] == pytest.approx(14.6)
    assert api.monthly_cost_usd == pytest.approx(14.6 * 0.67)
    assert api.monthly_savings_usd == pytest.approx(14.6 * (0.67 - 0.335))
    assert api.recommended["log_group_class"] == "INFREQUENT_ACCESS"
    assert api.evidence["rank"] == 1 and "DuckbillGroup" in api.evidence["price_source"]
    top1 = logs_ingestion.evaluate(snap.build(), logs_ingestion.Settings(top=1))
    assert [f.name for f in top1.findings] == ["/ecs/api"]


def test_an_infrequent_access_group_is_listed_without_a_class_saving() -> None:
    snap = SnapshotBuilder()
    _ingest(snap, "/archive", 0.02, log_class="INFREQUENT_ACCESS")
    finding = logs_ingestion.evaluate(snap.build(), logs_ingestion.Settings()).findings[0]
    assert finding.monthly_cost_usd == pytest.approx(14.6 * 0.335)
    assert finding.monthly_savings_usd == 0.0
    assert "log_group_class" not in finding.recommended
    assert "create-log-group" not in logs_ingestion.how_to_apply(finding)["cli"]


def test_unpriced_regions_and_unread_metrics_are_skipped() -> None:
    snap = SnapshotBuilder()
    _ingest(snap, "/eu", 0.02, region="eu-west-1")  # no ingestion figure for eu-west-1
    result = logs_ingestion.evaluate(snap.build(), logs_ingestion.Settings())
    assert [(row.reason, "no price" in row.detail) for row in result.skipped] == [
        ("not-applicable", True)]
    failed = SnapshotBuilder()
    _ingest(failed, "/ecs/api", 0.02)
    failed.error("cloudwatch", "GetMetricData")
    assert [row.reason for row in logs_ingestion.evaluate(
        failed.build(), logs_ingestion.Settings()).skipped] == ["insufficient-data"]


def test_the_log_commands_are_read_only_then_one_create() -> None:
    snap = SnapshotBuilder()
    _ingest(snap, "/ecs/api", 0.02)
    cli = logs_ingestion.how_to_apply(
        logs_ingestion.evaluate(snap.build(), logs_ingestion.Settings()).findings[0])["cli"]
    assert "describe-log-streams --log-group-name /ecs/api" in cli
    assert cli.splitlines()[-1] == ("aws logs create-log-group --log-group-name /ecs/api-ia "
                                    "--log-group-class INFREQUENT_ACCESS --region ap-south-1")
    assert json.loads(json.dumps(cli)) == cli
