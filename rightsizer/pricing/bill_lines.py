"""Prices for the rules that examine the smaller bill lines: CloudWatch Logs ingestion,
Route 53 health checks, CloudFront's fixed fee. Embedded tables only (data/logs_ingestion.json,
route53.json, cloudfront.json; never refreshed), read through the package's loader; a figure
not tabled is None, never a guess."""

from __future__ import annotations

from rightsizer.pricing import Price, _embedded, _norm_region


def logs_ingestion_gb_usd(region: str, log_group_class: str = "STANDARD") -> Price | None:
    """Custom log data ingested, per GB, for a log group class (STANDARD or
    INFREQUENT_ACCESS, as DescribeLogGroups' logGroupClass names them)."""
    table = _embedded("logs_ingestion")
    usd = table["ingestion_gb_usd"].get(_norm_region(region), {}).get(
        log_group_class.strip().upper())
    if usd is None:
        return None
    return Price(float(usd), "GB ingested", table["source"], table["as_of"])


def health_check_month_usd(*, aws_endpoint: bool) -> Price:
    """A basic Route 53 health check per month (optional features not included)."""
    table = _embedded("route53")
    key = "aws_endpoint" if aws_endpoint else "non_aws_endpoint"
    return Price(float(table["health_check_month_usd"][key]), "health check-month",
                 table["source"], table["as_of"])


def dedicated_ip_certificate_month_usd() -> Price:
    """CloudFront's monthly fee for a custom SSL certificate served on dedicated IPs."""
    table = _embedded("cloudfront")
    return Price(float(table["dedicated_ip_certificate_month_usd"]), "certificate-month",
                 table["source"], table["as_of"])
