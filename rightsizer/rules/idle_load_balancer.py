"""idle-load-balancer: ALBs and NLBs that serve nothing (no targets, or no requests over the
window) or cannot serve (targets registered, none healthy)."""

from __future__ import annotations

import json
import shlex
from typing import Any

from rightsizer import pricing
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Resource, finding_for, skipped_for, unpriced
from rightsizer.snapshot.store import Snapshot, decode_json_cell, records

RULE_ID = "idle-load-balancer"
# The traffic count of each type, summed over the window. ALB RequestCount "Reporting
# criteria: There is a nonzero value", so an hour without a datapoint had no request.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
# https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html
TRAFFIC = {"application": ("AWS/ApplicationELB", "RequestCount"),
           "network": ("AWS/NetworkELB", "NewFlowCount")}
LABEL = {"application": "Application Load Balancer", "network": "Network Load Balancer"}


class Settings(RuleSettings):
    pass


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    for row in records(snapshot.table("load_balancers")):
        lb_type = str(row.get("type") or "")
        resource = Resource("load-balancer", str(row["arn"]), str(row["name"]),
                            str(row["account"]), str(row["region"]))
        if lb_type not in TRAFFIC:
            result.skipped.append(skipped_for(
                resource, RULE_ID, "not-applicable",
                f"a {lb_type or 'unknown'} load balancer: only Application and Network Load "
                "Balancers are judged"))
            continue
        state = str(row.get("state") or "")
        if state != "active":
            result.skipped.append(skipped_for(
                resource, RULE_ID, "not-applicable",
                f"state {state or 'unknown'}: only an active load balancer is judged"))
            continue
        if not row.get("targets_known"):
            failure = (snapshot.read_failure("elasticloadbalancing", "DescribeTargetGroups",
                                             resource.account, resource.region)
                       or snapshot.read_failure("elasticloadbalancing", "DescribeTargetHealth",
                                                resource.account, resource.region))
            result.skipped.append(skipped_for(
                resource, RULE_ID, "insufficient-data",
                "its target groups' health could not be read"
                + (f" ({failure})" if failure else "")))
            continue
        verdict = _verdict(snapshot, row, lb_type, resource)
        if verdict is None:
            continue  # healthy targets and traffic: in use
        if isinstance(verdict, str):
            result.skipped.append(skipped_for(resource, RULE_ID, "insufficient-data", verdict))
            continue
        hourly = pricing.elb_hourly_usd(resource.region, lb_type)
        unit = pricing.elb_capacity_unit_hour_usd(resource.region, lb_type)
        if hourly is None or unit is None:
            result.skipped.append(unpriced(resource, RULE_ID, f"{LABEL[lb_type]} hours"))
            continue
        result.findings.append(_finding(snapshot, row, lb_type, resource, verdict, hourly,
                                        unit))
    return result


def _verdict(snapshot: Snapshot, row: dict[str, Any], lb_type: str, resource: Resource
             ) -> dict[str, Any] | str | None:
    """The finding's kind and traffic, a reason to skip (str), or None when in use."""
    registered = int(row.get("registered_targets") or 0)
    healthy = int(row.get("healthy_targets") or 0)
    namespace, metric = TRAFFIC[lb_type]
    failure = snapshot.read_failure("cloudwatch", "GetMetricData", resource.account,
                                    resource.region)
    traffic: float | None = None
    if failure is None:
        series = snapshot.series(resource.account, resource.region, namespace, metric,
                                 str(row.get("metric_dimension") or ""), "Sum")
        traffic = float(series.fillna(0).sum()) if len(series) else 0.0
    if registered and not healthy:
        # Requests reach no healthy target: whatever traffic there is gets errors.
        return {"kind": "broken", "traffic": traffic}
    if traffic is None:
        return f"{metric} could not be read ({failure}): traffic unknown"
    if traffic > 0:
        # Traffic with no target at all is served by redirect or fixed-response rules.
        return None
    return {"kind": "no-targets" if not registered else "no-traffic", "traffic": traffic}


def _finding(snapshot: Snapshot, row: dict[str, Any], lb_type: str, resource: Resource,
             verdict: dict[str, Any], hourly: pricing.Price, unit: pricing.Price) -> Finding:
    hours = pricing.HOURS_PER_MONTH
    monthly = hourly.usd * hours
    days = snapshot.manifest["window"]["days"]
    namespace, metric = TRAFFIC[lb_type]
    registered = int(row.get("registered_targets") or 0)
    groups = int(row.get("target_group_count") or 0)
    states = decode_json_cell(row.get("target_states"), {})
    traffic = verdict["traffic"]
    label = LABEL[lb_type]
    kind = verdict["kind"]
    if kind == "broken":
        what = (f"is broken, not idle: {registered} registered target(s), none healthy "
                f"({', '.join(f'{n} {s}' for s, n in sorted(states.items()))})")
        action = "fix the targets or delete"
        severity = "medium"
    elif kind == "no-targets":
        what = (f"has no registered targets ({groups} target group(s)) and had no "
                f"{metric} in {days} days")
        action = "delete"
        severity = "low"
    else:
        what = f"had no {metric} in {days} days ({registered} registered target(s))"
        action = "delete"
        severity = "low"
    reason = (f"{label} {what}; it bills its hourly charge, ${monthly:,.2f}/month, with or "
              "without traffic")
    evidence: dict[str, Any] = {
        "kind": kind,
        "type": lb_type,
        "scheme": row.get("scheme") or None,
        "target_group_count": groups,
        "registered_targets": registered,
        "healthy_targets": int(row.get("healthy_targets") or 0),
        "target_states": states,
        "traffic_metric": f"{namespace} {metric} Sum",
        "traffic_sum": None if traffic is None else round(traffic, 1),
        "window_days": days,
        "hourly_usd": hourly.usd,
        "hours_per_month": hours,
        "capacity_unit_hour_usd": unit.usd,
        "capacity_unit_charge": "LCUs are billed on use: with no traffic no LCU is used, so "
        "the saving counted is the hourly charge alone (a broken load balancer's failed "
        "requests may add some LCU charge, not counted)",
        "price_source": hourly.source,
        "price_as_of": hourly.as_of,
    }
    return finding_for(
        resource, RULE_ID,
        current={"type": lb_type, "registered_targets": registered,
                 "healthy_targets": int(row.get("healthy_targets") or 0),
                 "traffic": None if traffic is None else round(traffic, 1)},
        recommended={"action": action},
        monthly_cost_usd=monthly,
        monthly_savings_usd=monthly,
        pricing=pricing.basis(hourly),
        evidence=evidence,
        reason=reason,
        severity=severity,
    )


def how_to_apply(finding: Finding) -> dict[str, str]:
    arn, region = shlex.quote(finding.resource_id), shlex.quote(finding.region)
    broken = finding.evidence.get("kind") == "broken"
    # DeleteLoadBalancer fails while deletion protection is on; deleting also deletes the
    # listeners, never the target groups or the targets.
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteLoadBalancer.html
    lines = [
        "# Read-only check first: what still points at it, and its targets' health.",
        f"aws elbv2 describe-listeners --load-balancer-arn {arn} --region {region}",
        f"for tg in $(aws elbv2 describe-target-groups --load-balancer-arn {arn} "
        f"--region {region} --query 'TargetGroups[].TargetGroupArn' --output text); do",
        f"  aws elbv2 describe-target-health --target-group-arn \"$tg\" --region {region}",
        "done",
    ]
    if broken:
        lines.append("# Its targets are registered but unhealthy: fix them if it should serve; "
                     "delete it only if nothing should.")
    lines += [
        "# Deletion protection must be off; turn it off only if this prints true:",
        f"aws elbv2 describe-load-balancer-attributes --load-balancer-arn {arn} "
        f"--region {region} --query \"Attributes[?Key=='deletion_protection.enabled'].Value\" "
        "--output text",
        f"# aws elbv2 modify-load-balancer-attributes --load-balancer-arn {arn} "
        f"--attributes Key=deletion_protection.enabled,Value=false --region {region}",
        "# Deletes the load balancer and its listeners (target groups stay; delete them "
        "with delete-target-group):",
        f"aws elbv2 delete-load-balancer --load-balancer-arn {arn} --region {region}",
    ]
    return {
        "cli": "\n".join(lines),
        "terraform": (
            "# Remove the aws_lb (and its aws_lb_listener / aws_lb_target_group) resources\n"
            "# and apply. If enable_deletion_protection = true, set it to false and apply first.\n"
            f"# load balancer: {json.dumps(finding.name)}\n"
            "enable_deletion_protection = false"
        ),
        "cdk": (
            "// Remove the elbv2.ApplicationLoadBalancer / NetworkLoadBalancer construct and\n"
            "// deploy; if deletionProtection: true, deploy with false first.\n"
            "deletionProtection: false,"
        ),
    }


RULE = Rule(
    id=RULE_ID,
    title="Delete load balancers that serve nothing",
    why=(
        "An Application or Network Load Balancer bills its hourly charge from creation to "
        "deletion, traffic or not. One left from a migration, with no registered targets or "
        "no request in the whole window, is pure cost. One whose targets are registered but "
        "none healthy is broken rather than idle: fix it or delete it."
    ),
    resource_type="load-balancer",
    bill_services=('Amazon Elastic Load Balancing',),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(
        MetricNeed("load-balancer", "AWS/ApplicationELB", "RequestCount", ("Sum",),
                   where=lambda row: row.get("type") == "application"),
        MetricNeed("load-balancer", "AWS/NetworkELB", "NewFlowCount", ("Sum",),
                   where=lambda row: row.get("type") == "network"),
    ),
)
