"""public-ipv4: every public IPv4 address bills $0.005 an hour since 1 February 2024; an
unattached Elastic IP is pure waste."""

from __future__ import annotations

import shlex
from typing import Any

from rightsizer import pricing
from rightsizer.rules.base import Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Resource, finding_for, skipped_for, unpriced
from rightsizer.snapshot.store import Snapshot, decode_json_cell, records

RULE_ID = "public-ipv4"
# The charge: https://aws.amazon.com/blogs/aws/new-aws-public-ipv4-address-charge-public-ip-insights/
# ("Public IPv4 Address" tab of https://aws.amazon.com/vpc/pricing/); BYOIP addresses are exempt.
SEVERITY = {"unattached": "high", "ecs-task": "medium", "ec2-instance": "low", "nat-gateway": "low"}


class Settings(RuleSettings):
    pass


def _nat_owners(snapshot: Snapshot) -> dict[tuple[str, str, str], str]:
    """(account, region, public IP) -> NAT gateway id, from the NAT gateways' own addresses
    (an interface's type or description may not say so)."""
    owners: dict[tuple[str, str, str], str] = {}
    for row in records(snapshot.table("nat_gateways")):
        for ip in decode_json_cell(row.get("public_ips"), []):
            owners[(str(row["account"]), str(row["region"]), str(ip))] = str(
                row["nat_gateway_id"])
    return owners


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    nat_owners = _nat_owners(snapshot)
    rows = records(snapshot.table("public_ips"))
    # unattached Elastic IPs first: pure waste
    rows.sort(key=lambda row: (row.get("owner_kind") != "unattached", str(row["public_ip"])))
    for row in rows:
        kind, owner, label = (str(row.get("owner_kind") or "other"),
                              str(row.get("owner_id") or ""), str(row.get("owner_label") or ""))
        nat = nat_owners.get((str(row["account"]), str(row["region"]), str(row["public_ip"])))
        if nat:
            kind, owner, label = "nat-gateway", nat, f"NAT gateway {nat}"
        name = str(row["public_ip"])
        resource = Resource("public-ipv4", str(row["resource_id"]), name, str(row["account"]),
                            str(row["region"]), decode_json_cell(row.get("tags"), {}))
        price = pricing.public_ipv4_hourly_usd(resource.region)
        if price is None:
            result.skipped.append(unpriced(resource, RULE_ID, "public IPv4"))
            continue
        monthly = price.usd * pricing.HOURS_PER_MONTH
        if kind == "load-balancer":
            result.skipped.append(skipped_for(
                resource, RULE_ID, "not-applicable",
                f"owned by {label}: an internet-facing load balancer has one public IPv4 per "
                f"Availability Zone (${monthly:,.2f}/month each) that cannot be released on its "
                "own; only an internal scheme (or dualstack-without-public-IPv4) removes it"))
            continue
        if kind == "other":
            result.skipped.append(skipped_for(
                resource, RULE_ID, "not-applicable",
                f"owned by {label}: could not tell which service owns it, so no change is "
                f"proposed (${monthly:,.2f}/month)"))
            continue
        result.findings.append(_finding(resource, row, kind, owner, label, price, monthly))
    return result


def _finding(resource: Resource, row: dict[str, Any], kind: str, owner: str, label: str,
             price: pricing.Price, monthly: float) -> Finding:
    elastic = bool(row.get("elastic"))
    savings = monthly
    if kind == "unattached":
        action = "release the Elastic IP"
        reason = (f"Elastic IP {resource.name} is attached to nothing and bills "
                  f"${monthly:,.2f}/month for nothing: release it")
    elif kind == "nat-gateway":
        savings = 0.0
        action = "none on its own (it belongs to the NAT gateway)"
        reason = (f"{resource.name} is the public IPv4 of NAT gateway {owner} "
                  f"(${monthly:,.2f}/month): it goes with the NAT gateway; the nat-gateway "
                  "rule counts it when it proposes deleting that NAT, so it is not counted here")
    elif kind == "ecs-task":
        action = "set assignPublicIp DISABLED"
        reason = (f"{resource.name} is the public IPv4 of an ECS task "
                  f"(Fargate, assignPublicIp ENABLED): ${monthly:,.2f}/month for each running "
                  "task. With assignPublicIp DISABLED the task needs a NAT gateway or VPC "
                  "endpoints (ECR api and dkr, S3, CloudWatch Logs, Secrets Manager) to pull "
                  "images, send logs and read secrets: price those before switching")
    else:  # ec2-instance
        action = "drop the public IPv4 if the instance needs no inbound internet"
        reason = (f"{resource.name} is the public IPv4 of {label}: ${monthly:,.2f}/month; "
                  "reach it through a load balancer, SSM Session Manager or IPv6 instead")
    evidence = {
        "public_ip": resource.name,
        "elastic_ip": elastic,
        "allocation_id": row.get("allocation_id") or None,
        "association_id": row.get("association_id") or None,
        "network_interface_id": row.get("network_interface_id") or None,
        "owner": label,
        "owner_kind": kind,
        "owner_id": owner or None,
        "price_ip_hour_usd": price.usd,
        "hours_per_month": pricing.HOURS_PER_MONTH,
        "price_source": price.source,
        "price_as_of": price.as_of,
    }
    if kind == "nat-gateway":
        evidence["counted_by"] = "nat-gateway"
    return finding_for(
        resource, RULE_ID,
        current={"public_ipv4": resource.name, "owner": label},
        recommended={"action": action},
        monthly_cost_usd=monthly,
        monthly_savings_usd=savings,
        pricing=pricing.basis(price),
        evidence=evidence,
        reason=reason,
        severity=SEVERITY.get(kind, "low"),
    )


def how_to_apply(finding: Finding) -> dict[str, str]:
    ev = finding.evidence
    region = shlex.quote(finding.region)
    kind = ev.get("owner_kind")
    if kind == "unattached":
        allocation = shlex.quote(str(ev.get("allocation_id") or ""))
        return {
            "cli": f"aws ec2 release-address --allocation-id {allocation} --region {region}",
            "terraform": ("# remove the aws_eip resource that allocated it, then apply\n"
                          f"# (allocation {ev.get('allocation_id')})"),
            "cdk": "// remove the ec2.CfnEIP construct that allocated it, then deploy",
        }
    if kind == "ecs-task":
        return {
            "cli": ("# Needs a NAT gateway or VPC endpoints (ECR api/dkr, S3, logs, secrets) "
                    "first, or tasks cannot pull images.\n"
                    "aws ecs update-service --cluster CLUSTER --service SERVICE "
                    "--network-configuration 'awsvpcConfiguration={subnets=[PRIVATE_SUBNETS],"
                    f"securityGroups=[SG],assignPublicIp=DISABLED}}' --region {region}"),
            "terraform": ("network_configuration {\n  subnets          = var.private_subnets\n"
                          "  assign_public_ip = false\n}"),
            "cdk": ("assignPublicIp: false,\n"
                    "vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },"),
        }
    if kind == "nat-gateway":
        return {
            "cli": (f"# Nothing to do on its own: it is NAT gateway {ev.get('owner_id')}'s "
                    "address (see the nat-gateway finding)."),
            "terraform": "# managed with the aws_nat_gateway's aws_eip",
            "cdk": "// managed with the NAT gateway (ec2.Vpc natGateways)",
        }
    eni = shlex.quote(str(ev.get("network_interface_id") or ""))
    return {
        "cli": (f"aws ec2 modify-network-interface-attribute --network-interface-id {eni} "
                f"--no-associate-public-ip-address --region {region}"),
        "terraform": "associate_public_ip_address = false",
        "cdk": "associatePublicIpAddress: false",
    }


RULE = Rule(
    id=RULE_ID,
    title="Release public IPv4 addresses nobody needs",
    why=(
        "Since 1 February 2024 AWS bills every public IPv4 address, attached or not, at $0.005 "
        "an hour (about $3.65 a month each). An Elastic IP attached to nothing is pure waste; "
        "a Fargate task with assignPublicIp ENABLED pays for one per running task."
    ),
    resource_type="public-ipv4",
    bill_services=('Amazon Virtual Private Cloud', 'EC2 - Other'),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
)
