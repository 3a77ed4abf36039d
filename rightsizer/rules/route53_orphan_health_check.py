"""route53-orphan-health-check: Route 53 health checks whose target no longer exists (a
deleted load balancer, an address that answered no check over the whole window)."""

from __future__ import annotations

import re
import shlex
from typing import Any

from pydantic import Field

from rightsizer.pricing import basis, bill_lines
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Resource, finding_for, skipped_for
from rightsizer.snapshot.store import Snapshot, records

RULE_ID = "route53-orphan-health-check"
NAMESPACE, METRIC = "AWS/Route53", "HealthCheckStatus"  # 1 healthy, 0 unhealthy
METRIC_REGION = "us-east-1"  # collect/collectors/route53.py
# Health checks that probe an endpoint (HealthCheckConfig.Type); CALCULATED,
# CLOUDWATCH_METRIC and RECOVERY_CONTROL ones have no target of their own.
ENDPOINT_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")
# Elastic Load Balancing DNS names: "name-123.<region>.elb.amazonaws.com" (Application and
# Classic), "name-abc.elb.<region>.amazonaws.com" (Network); Route 53 aliases add "dualstack.".
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d"
ELB_DNS = re.compile(rf"^(?:dualstack\.)?(?P<host>[a-z0-9.-]+?)\.(?:(?P<alb>{_REGION})\.elb"
                     rf"|elb\.(?P<nlb>{_REGION}))\.amazonaws\.com$")


class Settings(RuleSettings):
    min_coverage: float = Field(
        0.8, gt=0, le=1,
        description="Share of the window a health check's status must have datapoints for "
        "before \"failed every check\" is evidence its target is gone.")


def elb_target(fqdn: str) -> tuple[str, str, str] | None:
    """(DNS name as DescribeLoadBalancers gives it, region, "network" or "application or
    classic") for an Elastic Load Balancing name; None for any other name."""
    match = ELB_DNS.match(fqdn.lower())
    if match is None:
        return None
    region = match.group("alb") or match.group("nlb")
    kind = "network" if match.group("nlb") else "application or classic"
    return fqdn.lower().removeprefix("dualstack."), region, kind


def _status(snapshot: Snapshot, account: str, check_id: str) -> tuple[float | None, float]:
    """(the best hourly status over the window or None without datapoints, share of hours
    with a datapoint)."""
    series = snapshot.series(account, METRIC_REGION, NAMESPACE, METRIC, check_id, "Maximum")
    series = series.dropna()
    hours = max(1.0, (snapshot.window_end - snapshot.window_start).total_seconds() / 3600)
    if not len(series):
        return None, 0.0
    return float(series.max()), min(1.0, len(series) / hours)


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    balancers = snapshot.table("load_balancers")
    known_dns = {str(name) for name in balancers.get("dns_name", [])} if not balancers.empty \
        else set()
    addresses = snapshot.table("public_ips")
    known_ips = {str(ip) for ip in addresses.get("public_ip", [])} if not addresses.empty \
        else set()
    regions = set(snapshot.manifest.get("regions", []))
    for row in records(snapshot.table("route53_health_checks")):
        resource = Resource("route53-health-check", str(row["arn"]),
                            str(row.get("name") or row["health_check_id"]),
                            str(row["account"]), str(row["region"]))
        verdict = _verdict(snapshot, settings, row, resource, known_dns, known_ips, regions)
        if verdict is None:
            continue
        if isinstance(verdict, tuple):
            result.skipped.append(skipped_for(resource, RULE_ID, *verdict))
            continue
        result.findings.append(_finding(snapshot, row, resource, verdict))
    return result


def _verdict(snapshot: Snapshot, settings: Settings, row: dict[str, Any], resource: Resource,
             known_dns: set[str], known_ips: set[str], regions: set[str]
             ) -> dict[str, Any] | tuple[Any, str] | None:
    """A finding's evidence, (skip reason, detail), or None when the target is there."""
    check_type = str(row.get("type") or "")
    if check_type not in ENDPOINT_TYPES:
        return "not-applicable", f"a {check_type or 'typeless'} health check has no endpoint"
    if row.get("disabled") or row.get("inverted"):
        what = "disabled" if row.get("disabled") else "inverted"
        return "not-applicable", f"{what}: its status says nothing about its target"
    fqdn, ip = str(row.get("fqdn") or ""), str(row.get("ip_address") or "")
    target = elb_target(fqdn) if fqdn and not ip else None
    evidence: dict[str, Any] = {"target": ip or fqdn, "type": check_type}
    if target is not None:
        dns, region, kind = target
        evidence.update(load_balancer_dns=dns, load_balancer_region=region,
                        load_balancer_kind=kind)
        if region not in regions:
            return "not-applicable", (f"its load balancer is in {region}, a region this run "
                                      "did not read")
        failure = snapshot.read_failure("elasticloadbalancing", "DescribeLoadBalancers",
                                        resource.account, region)
        if failure is not None:
            return "insufficient-data", f"load balancers in {region} could not be read ({failure})"
        if dns in known_dns:
            return None
        if kind == "network":  # only a Network Load Balancer has this form of name
            return {**evidence, "kind": "deleted-load-balancer"}
        # "<name>.<region>.elb" names a Classic Load Balancer as well, which is not read: the
        # checks' own status must show it gone too.
    elif ip and ip in known_ips:
        return None  # an address of the account: it exists
    failure = snapshot.read_failure("cloudwatch", "GetMetricData", resource.account,
                                    METRIC_REGION)
    if failure is not None:
        return "insufficient-data", f"{METRIC} could not be read ({failure})"
    best, coverage = _status(snapshot, resource.account, str(row["health_check_id"]))
    if best is None or coverage < settings.min_coverage:
        return "insufficient-data", (f"{METRIC} datapoints cover {coverage:.0%} of the window "
                                     f"(needs {settings.min_coverage:.0%})")
    if best > 0:
        return None  # healthy at some point: the target answers
    kind = "deleted-load-balancer" if target is not None else "unreachable"
    return {**evidence, "kind": kind, "status_max": best, "status_coverage": round(coverage, 3)}


def _features(row: dict[str, Any]) -> list[str]:
    """The optional features a check pays extra for (their extras are not tabled)."""
    check_type = str(row.get("type") or "")
    found = []
    if check_type.startswith("HTTPS"):
        found.append("HTTPS")
    if check_type.endswith("STR_MATCH"):
        found.append("string matching")
    if int(row.get("request_interval") or 30) == 10:
        found.append("fast interval")
    if row.get("measure_latency"):
        found.append("latency measurement")
    return found


def _finding(snapshot: Snapshot, row: dict[str, Any], resource: Resource,
             evidence: dict[str, Any]) -> Finding:
    days = snapshot.manifest["window"]["days"]
    on_elb = evidence["kind"] == "deleted-load-balancer"
    # A load balancer is an AWS endpoint; for any other target the cheaper basic price is
    # the one counted, so the saving is never overstated.
    price = bill_lines.health_check_month_usd(aws_endpoint=True)
    features = _features(row)
    if on_elb:
        what = (f"checks {evidence['target']}, a load balancer that no longer exists in "
                f"{evidence['load_balancer_region']}")
        if "status_max" in evidence:
            what += f", and failed every check for {days} days"
    else:
        what = (f"checks {evidence['target']}, which is no address of the account and failed "
                f"every check for {days} days")
    extra = (f" plus {', '.join(features)} (their extras not counted)" if features else "")
    reason = (f"{what}; it bills at least ${price.usd:.2f}/month{extra} for checking nothing")
    evidence = {
        **evidence,
        "window_days": days,
        "optional_features": features,
        "price_month_usd": price.usd,
        "price_basis": "basic health check on an AWS endpoint, the lowest figure: optional "
        "features and a non-AWS endpoint cost more",
        "price_source": price.source,
        "price_as_of": price.as_of,
    }
    return finding_for(
        resource, RULE_ID,
        current={"target": evidence["target"], "type": evidence["type"]},
        recommended={"action": "delete"},
        monthly_cost_usd=price.usd,
        monthly_savings_usd=price.usd,
        pricing=basis(price),
        evidence=evidence,
        reason=reason,
    )


def how_to_apply(finding: Finding) -> dict[str, str]:
    check_id = finding.resource_id.rsplit("/", 1)[-1]
    quoted = shlex.quote(check_id)
    # Records that name the health check would lose it: they are listed (read-only) first.
    # https://docs.aws.amazon.com/Route53/latest/APIReference/API_DeleteHealthCheck.html
    # Health check ids are UUIDs; anything else is quoted whole rather than interpolated.
    query = (f"\"ResourceRecordSets[?HealthCheckId=='{check_id}'].[Name,Type]\""
             if re.fullmatch(r"[A-Za-z0-9-]+", check_id)
             else shlex.quote(f"ResourceRecordSets[?HealthCheckId=='{check_id}'].[Name,Type]"))
    lines = [
        "# Records that still name it (edit or delete them too):",
        "for zone in $(aws route53 list-hosted-zones --query 'HostedZones[].Id' --output text);"
        " do",
        f"  aws route53 list-resource-record-sets --hosted-zone-id \"$zone\" --query {query} "
        "--output text",
        "done",
        f"aws route53 delete-health-check --health-check-id {quoted}",
    ]
    return {
        "cli": "\n".join(lines),
        "terraform": f"# Remove the aws_route53_health_check (id {check_id}) and apply.",
        "cdk": f"// Remove the route53.CfnHealthCheck (id {check_id}) and deploy.",
    }


RULE = Rule(
    id=RULE_ID,
    title="Delete Route 53 health checks whose target is gone",
    why=(
        "A Route 53 health check bills every month for as long as it exists. One left behind "
        "by a deleted load balancer or a retired server checks nothing that anyone serves: "
        "its target no longer exists, or has failed every check for the whole window."
    ),
    resource_type="route53-health-check",
    bill_services=("Amazon Route 53",),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(
        MetricNeed("route53-health-check", NAMESPACE, METRIC, ("Maximum",),
                   where=lambda row: str(row.get("type") or "") in ENDPOINT_TYPES),
    ),
)
