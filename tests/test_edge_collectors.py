"""The CloudFront and Route 53 collectors against moto (mock_aws), and answers moto does not give.

- ListDistributions: DistributionList.Items of DistributionSummary, Items absent when there is
  none (API_ListDistributions.html); tags one distribution a call (API_ListTagsForResource.html).
- ListHealthChecks: HealthChecks with HealthCheckConfig (API_HealthCheckConfig.html); tags 10
  ids a call (API_ListTagsForResources.html).
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from rightsizer.aws.clients import AwsClients, CallRecorder
from rightsizer.collect.collectors.base import ErrorLog, Target
from rightsizer.collect.collectors.cloudfront import collect_distributions
from rightsizer.collect.collectors.route53 import collect_health_checks
from rightsizer.collect.engine import metric_regions, plan_metric_queries
from rightsizer.rules.registry import REGISTRY

ACCOUNT = "123456789012"
REGION = "ap-south-1"


@pytest.fixture
def aws(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def target(recorder: CallRecorder) -> Target:
    session = boto3.Session(region_name=REGION)
    recorder.attach(session)
    return Target(ACCOUNT, REGION, AwsClients(session))


def _distribution(session, comment: str, enabled: bool = True) -> str:
    cloudfront = session.client("cloudfront", region_name="us-east-1")
    return cloudfront.create_distribution_with_tags(DistributionConfigWithTags={
        "DistributionConfig": {
            "CallerReference": comment, "Comment": comment, "Enabled": enabled,
            "Origins": {"Quantity": 1, "Items": [{
                "Id": "o", "DomainName": "assets.s3.amazonaws.com",
                "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all", "MinTTL": 0,
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}}},
        "Tags": {"Items": [{"Key": "team", "Value": comment}]}})["Distribution"]["Id"]


def test_distributions_with_tags_and_their_us_east_1_series(aws):
    live = _distribution(aws, "assets")
    off = _distribution(aws, "old", enabled=False)
    recorder, errors = CallRecorder(), ErrorLog()
    rows = collect_distributions(target(recorder), errors)
    assert errors.rows == []
    by_id = {row["distribution_id"]: row for row in rows}
    assert set(by_id) == {live, off}
    assert by_id[live]["enabled"] is True and by_id[off]["enabled"] is False
    assert by_id[live]["region"] == "global" and by_id[live]["metric_region"] == "us-east-1"
    assert json.loads(by_id[live]["tags"]) == {"team": "assets"}
    assert by_id[live]["arn"].endswith(f":distribution/{live}")
    assert recorder.calls == {"cloudfront:ListDistributions": 1,
                              "cloudfront:ListTagsForResource": 2}
    # the planner asks for Requests of the enabled one only, in us-east-1 with Region=Global
    need = REGISTRY["cloudfront-idle"].metric_needs
    tables = {"cloudfront_distributions": rows}
    assert metric_regions([REGION], tables) == [REGION, "us-east-1"]
    queries = plan_metric_queries(list(need), tables, 3600)
    assert [(q.metric, q.dimensions, q.stat) for q in queries] == [
        ("Requests", (("DistributionId", live), ("Region", "Global")), "Sum")]


def test_no_distribution_is_one_call_and_an_empty_list(aws):
    recorder, errors = CallRecorder(), ErrorLog()
    assert collect_distributions(target(recorder), errors) == []
    assert errors.rows == [] and recorder.calls == {"cloudfront:ListDistributions": 1}


def test_a_summary_as_the_api_reference_shapes_it_with_a_dedicated_ip_certificate():
    """Fields moto leaves out: Aliases with Items, an ACM certificate on dedicated IPs."""
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="x",
                            aws_secret_access_key="x")
    clients = AwsClients(session)
    client = clients.client("cloudfront", "us-east-1")
    arn = f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2QWRUHEXAMPLE"
    summary = {
        "Id": "E2QWRUHEXAMPLE", "ARN": arn, "Status": "Deployed",
        "LastModifiedTime": "2025-06-01T10:00:00Z", "DomainName": "d111111abcdef8.cloudfront.net",
        "Aliases": {"Quantity": 1, "Items": ["www.example.com"]},
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "example.com"}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all"},
        "CacheBehaviors": {"Quantity": 0}, "CustomErrorResponses": {"Quantity": 0},
        "Comment": "", "PriceClass": "PriceClass_100", "Enabled": True,
        "ViewerCertificate": {"ACMCertificateArn": "arn:aws:acm:us-east-1:1:certificate/c",
                              "SSLSupportMethod": "vip", "MinimumProtocolVersion": "TLSv1"},
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "WebACLId": "", "HttpVersion": "http2", "IsIPV6Enabled": True, "Staging": False,
    }
    with Stubber(client) as stub:
        stub.add_response("list_distributions", {"DistributionList": {
            "Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": 1,
            "Items": [summary]}})
        stub.add_client_error("list_tags_for_resource", "AccessDenied", "no tags for you")
        errors = ErrorLog()
        rows = collect_distributions(Target(ACCOUNT, REGION, clients), errors)
    assert rows[0]["aliases"] == '["www.example.com"]'
    assert rows[0]["ssl_support_method"] == "vip"
    assert rows[0]["certificate"] == "arn:aws:acm:us-east-1:1:certificate/c"
    assert rows[0]["tags_known"] is False
    assert [(e["operation"], e["code"]) for e in errors.rows] == [
        ("ListTagsForResource", "AccessDenied")]


def test_health_checks_with_their_names_batched_ten_a_call(aws):
    route53 = aws.client("route53", region_name="us-east-1")
    ids = []
    for number in range(12):
        ids.append(route53.create_health_check(CallerReference=str(number), HealthCheckConfig={
            "Type": "HTTP", "IPAddress": f"203.0.113.{number}", "Port": 80,
            "ResourcePath": "/", "RequestInterval": 10, "FailureThreshold": 3})[
            "HealthCheck"]["Id"])
        route53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=ids[-1],
                                         AddTags=[{"Key": "Name", "Value": f"web-{number}"}])
    recorder, errors = CallRecorder(), ErrorLog()
    rows = collect_health_checks(target(recorder), errors)
    assert errors.rows == []
    assert recorder.calls == {"route53:ListHealthChecks": 1, "route53:ListTagsForResources": 2}
    first = next(row for row in rows if row["health_check_id"] == ids[0])
    assert (first["name"], first["ip_address"], first["type"], first["request_interval"]) == (
        "web-0", "203.0.113.0", "HTTP", 10)
    assert first["arn"] == f"arn:aws:route53:::healthcheck/{ids[0]}"
    assert first["region"] == "global" and first["metric_region"] == "us-east-1"


def test_a_failed_listing_is_an_error_row_not_a_crash():
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="x",
                            aws_secret_access_key="x")
    clients = AwsClients(session)
    client = clients.client("route53", "us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("list_health_checks", "AccessDenied", "denied")
        errors = ErrorLog()
        assert collect_health_checks(Target(ACCOUNT, REGION, clients), errors) == []
    assert [(e["region"], e["service"], e["operation"]) for e in errors.rows] == [
        ("global", "route53", "ListHealthChecks")]


def test_only_rows_naming_a_metric_region_add_a_region_to_the_metric_pass():
    tables = {"s3_buckets": [{"account": ACCOUNT, "region": "eu-west-1"}],  # as before
              "route53_health_checks": [{"account": ACCOUNT, "region": "global",
                                         "metric_region": "us-east-1"}]}
    assert metric_regions([REGION], tables) == [REGION, "us-east-1"]
    assert metric_regions([REGION, "us-east-1"], tables) == [REGION, "us-east-1"]
    assert metric_regions([REGION], {"s3_buckets": tables["s3_buckets"]}) == [REGION]
