"""nat-gateway: idle NAT gateways, NAT traffic a free gateway endpoint could carry, and more
than one NAT gateway in a non-production VPC."""

from __future__ import annotations

import fnmatch
import json
import shlex
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from rightsizer import pricing
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Resource, finding_for, skipped_for, unpriced
from rightsizer.snapshot.store import Snapshot, decode_json_cell, records

RULE_ID = "nat-gateway"
NAMESPACE = "AWS/NATGateway"
GB = 1024**3
# NAT gateway metrics (BytesOutToDestination: bytes sent out through the NAT gateway to the
# destination; ActiveConnectionCount: concurrent active TCP connections):
# https://docs.aws.amazon.com/vpc/latest/userguide/metrics-dimensions-nat-gateway.html
# Gateway endpoints for S3 and DynamoDB carry no hourly or data processing charge:
# https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html
GATEWAY_SERVICES = ("s3", "dynamodb")


class Settings(RuleSettings):
    min_coverage: float = Field(
        0.8, gt=0, le=1,
        description="Share of the window that must have NAT gateway datapoints: a NAT gateway "
        "is called idle only on evidence, never on missing data.",
    )
    non_production_tag_keys: list[str] = Field(
        default_factory=lambda: ["env", "environment", "stage"],
        description="VPC tag keys (case-insensitive) that name its environment.",
    )
    non_production_tag_values: list[str] = Field(
        default_factory=lambda: ["dev", "development", "staging", "stage", "test", "qa",
                                 "nonprod", "non-prod", "sandbox"],
        description="Values of those tags (case-insensitive) that make a VPC non-production: "
        "one NAT gateway is enough there.",
    )
    non_production_name_patterns: list[str] = Field(
        default_factory=lambda: ["*dev*", "*staging*", "*test*", "*qa*", "*nonprod*",
                                 "*non-prod*", "*sandbox*"],
        description="Glob patterns (case-insensitive) on the VPC's Name tag that make it "
        "non-production.",
    )


@dataclass(frozen=True)
class _Nat:
    row: dict[str, Any]
    resource: Resource

    @property
    def vpc(self) -> tuple[str, str, str]:
        return (self.resource.account, self.resource.region, str(self.row.get("vpc_id") or ""))

    def json(self, column: str, default: Any) -> Any:
        return decode_json_cell(self.row.get(column), default)


def non_production(row: dict[str, Any], settings: Settings) -> str | None:
    """Why the NAT gateway's VPC is non-production (None when it is not)."""
    tags = {str(k).lower(): str(v) for k, v in decode_json_cell(row.get("vpc_tags"), {}).items()}
    values = {value.lower() for value in settings.non_production_tag_values}
    for key in settings.non_production_tag_keys:
        value = tags.get(key.lower())
        if value is not None and value.strip().lower() in values:
            return f"tag {key}={value}"
    name = str(row.get("vpc_name") or tags.get("name") or "")
    for pattern in settings.non_production_name_patterns:
        if name and fnmatch.fnmatch(name.lower(), pattern.lower()):
            return f"name {name!r} matches {pattern!r}"
    return None


def missing_endpoints(row: dict[str, Any]) -> list[str] | None:
    """Gateway endpoint services (s3, dynamodb) the VPC lacks; None when unknown."""
    raw = row.get("gateway_endpoints")
    if raw is None or raw == "" or (isinstance(raw, float) and raw != raw):
        return None
    names = [str(name).rsplit(".", 1)[-1].lower() for name in decode_json_cell(raw, [])]
    return [service for service in GATEWAY_SERVICES if service not in names]


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    nats = []
    for row in records(snapshot.table("nat_gateways")):
        if str(row.get("state") or "available") not in {"available", "pending"}:
            continue
        resource = Resource("nat-gateway", str(row["arn"]), str(row["nat_gateway_id"]),
                            str(row["account"]), str(row["region"]),
                            decode_json_cell(row.get("tags"), {}))
        nats.append(_Nat(row, resource))
    by_vpc: dict[tuple[str, str, str], list[_Nat]] = {}
    for nat in nats:
        by_vpc.setdefault(nat.vpc, []).append(nat)
    expected = snapshot.expected_datapoints
    hours = max(1.0, (snapshot.window_end - snapshot.window_start).total_seconds() / 3600)
    for nat in nats:
        resource = nat.resource
        hourly = pricing.nat_gateway_hourly_usd(resource.region)
        per_gb = pricing.nat_gateway_gb_usd(resource.region)
        if hourly is None or per_gb is None:
            result.skipped.append(unpriced(
                resource, RULE_ID,
                f"NAT gateway {'hours' if hourly is None else 'data processing'}"))
            continue
        out = snapshot.series(resource.account, resource.region, NAMESPACE,
                              "BytesOutToDestination", resource.name, "Sum").dropna()
        connections = snapshot.one_series(resource.account, resource.region, NAMESPACE,
                                          "ActiveConnectionCount", resource.name, "Maximum")
        seen = min(1.0, len(out) / expected) if expected else 0.0
        if seen < settings.min_coverage:
            result.skipped.append(skipped_for(
                resource, RULE_ID, "insufficient-data",
                f"BytesOutToDestination datapoints cover {seen:.0%} of the window; needs "
                f"{settings.min_coverage:.0%} to judge the NAT gateway"))
            continue
        bytes_out = float(out.sum())
        max_connections = connections.maximum if connections.count else 0.0
        context = _Context(nat, hourly, per_gb, bytes_out, max_connections, hours, seen)
        if bytes_out == 0 and not max_connections > 0:
            result.findings.append(_idle(context))
            continue
        siblings = sorted(by_vpc[nat.vpc], key=lambda other: other.resource.name)
        why_non_prod = non_production(nat.row, settings)
        if why_non_prod and len(siblings) > 1 and siblings[0] is not nat:
            result.findings.append(_consolidate(context, siblings[0], len(siblings),
                                                why_non_prod))
            continue
        missing = missing_endpoints(nat.row)
        if missing is None:
            result.skipped.append(skipped_for(
                resource, RULE_ID, "insufficient-data",
                "the VPC's gateway endpoints could not be read (ec2:DescribeVpcEndpoints)"))
            continue
        if missing and bytes_out > 0:
            result.findings.append(_endpoint(context, missing))
    return result


@dataclass(frozen=True)
class _Context:
    nat: _Nat
    hourly: pricing.Price
    per_gb: pricing.Price
    bytes_out: float
    max_connections: float
    window_hours: float
    coverage: float

    @property
    def monthly_gb(self) -> float:
        return self.bytes_out / GB * pricing.HOURS_PER_MONTH / self.window_hours

    @property
    def hours_monthly(self) -> float:
        return self.hourly.usd * pricing.HOURS_PER_MONTH

    def evidence(self) -> dict[str, Any]:
        row = self.nat.row
        return {
            "vpc_id": row.get("vpc_id") or None,
            "vpc_name": row.get("vpc_name") or None,
            "subnet_id": row.get("subnet_id") or None,
            "bytes_out_to_destination_sum": self.bytes_out,
            "gb_out_per_month": round(self.monthly_gb, 3),
            "active_connections_max": self.max_connections,
            "coverage": round(self.coverage, 3),
            "price_hour_usd": self.hourly.usd,
            "price_gb_processed_usd": self.per_gb.usd,
            "hours_per_month": pricing.HOURS_PER_MONTH,
            "price_source": self.hourly.source,
            "price_as_of": self.hourly.as_of,
            "allocation_ids": self.nat.json("allocation_ids", []),
            "public_ips": self.nat.json("public_ips", []),
        }


def _ip_monthly(context: _Context) -> tuple[float, pricing.Price | None]:
    ips = context.nat.json("public_ips", [])
    price = pricing.public_ipv4_hourly_usd(context.nat.resource.region)
    if price is None:
        return 0.0, None
    return len(ips) * price.usd * pricing.HOURS_PER_MONTH, price


def _idle(context: _Context) -> Finding:
    resource = context.nat.resource
    ip_monthly, ip_price = _ip_monthly(context)
    monthly = context.hours_monthly + ip_monthly
    ips = context.nat.json("public_ips", [])
    ip_text = (f" + ${ip_monthly:,.2f} for its Elastic IP{'s' if len(ips) > 1 else ''} "
               f"{', '.join(ips)}, which stays allocated and keeps billing until released"
               if ip_monthly else "")
    reason = (f"no traffic: 0 bytes out and no active connection at any hour "
              f"({context.coverage:.0%} of the window reported); delete it: "
              f"${context.hours_monthly:,.2f}/month in NAT gateway hours{ip_text}")
    evidence = {**context.evidence(), "kind": "idle",
                "public_ipv4_monthly_usd": round(ip_monthly, 2),
                "public_ipv4_price_source": ip_price.source if ip_price else None}
    return finding_for(resource, RULE_ID,
                       current={"nat_gateway": resource.name, "bytes_out": 0},
                       recommended={"action": "delete the NAT gateway and release its EIP"},
                       monthly_cost_usd=monthly, monthly_savings_usd=monthly,
                       pricing=pricing.basis(context.hourly, ip_price),
                       evidence=evidence, reason=reason, severity="high")


def _consolidate(context: _Context, keep: _Nat, count: int, why: str) -> Finding:
    resource = context.nat.resource
    ip_monthly, ip_price = _ip_monthly(context)
    savings = context.hours_monthly + ip_monthly
    reason = (f"{count} NAT gateways in non-production VPC {context.nat.row.get('vpc_id')} "
              f"({why}): route its private subnets through {keep.resource.name} and delete "
              f"this one: ${savings:,.2f}/month (hours and its public IPv4). One NAT gateway "
              "is one Availability Zone: an AZ outage cuts egress, and traffic from other AZs "
              "pays cross-AZ data transfer")
    evidence = {**context.evidence(), "kind": "consolidate", "non_production": why,
                "nat_gateways_in_vpc": count, "keep": keep.resource.name,
                "public_ipv4_monthly_usd": round(ip_monthly, 2)}
    return finding_for(resource, RULE_ID,
                       current={"nat_gateways_in_vpc": count},
                       recommended={"nat_gateways_in_vpc": 1, "keep": keep.resource.name},
                       monthly_cost_usd=savings, monthly_savings_usd=savings,
                       pricing=pricing.basis(context.hourly, ip_price),
                       evidence=evidence, reason=reason, severity="medium")


def _endpoint(context: _Context, missing: list[str]) -> Finding:
    resource = context.nat.resource
    processing = context.monthly_gb * context.per_gb.usd
    services = " and ".join(s.upper() if s == "s3" else "DynamoDB" for s in missing)
    reason = (f"VPC {context.nat.row.get('vpc_id')} has no {services} gateway endpoint, so that "
              f"traffic pays NAT processing at ${context.per_gb.usd:.4g}/GB; "
              f"{context.monthly_gb:,.1f} GB/month went out through this NAT gateway "
              f"(${processing:,.2f}/month processed). An upper bound: it assumes all of it "
              f"was {services} traffic (a gateway endpoint is free and takes only that)")
    route_tables = context.nat.json("route_table_ids", [])
    evidence = {**context.evidence(), "kind": "gateway-endpoint",
                "missing_gateway_endpoints": missing, "route_table_ids": route_tables,
                "monthly_processing_usd": round(processing, 2),
                "saving_basis": "upper bound: BytesOutToDestination sum scaled to a month x the "
                "per-GB processing price, as if all of it were S3/DynamoDB traffic"}
    return finding_for(resource, RULE_ID,
                       current={"gateway_endpoints": [s for s in GATEWAY_SERVICES
                                                      if s not in missing]},
                       recommended={"gateway_endpoints": list(GATEWAY_SERVICES)},
                       monthly_cost_usd=context.hours_monthly + processing,
                       monthly_savings_usd=processing,
                       pricing=pricing.basis(context.hourly, context.per_gb,
                                             recommended=(context.hourly,)),
                       evidence=evidence, reason=reason, severity="medium")


def how_to_apply(finding: Finding) -> dict[str, str]:
    ev = finding.evidence
    region = shlex.quote(finding.region)
    nat = shlex.quote(finding.name)
    kind = ev.get("kind")
    if kind in {"idle", "consolidate"}:
        releases = "\n".join(
            f"aws ec2 release-address --allocation-id {shlex.quote(str(a))} --region {region}"
            for a in ev.get("allocation_ids") or [])
        prefix = ""
        if kind == "consolidate":
            prefix = (f"# First point the private route tables at {ev.get('keep')}:\n"
                      "# aws ec2 replace-route --route-table-id RTB --destination-cidr-block "
                      f"0.0.0.0/0 --nat-gateway-id {ev.get('keep')} --region {finding.region}\n")
        cli = (prefix + f"aws ec2 delete-nat-gateway --nat-gateway-id {nat} --region {region}\n"
               "# Its Elastic IP stays allocated and keeps billing: once the NAT gateway is "
               "deleted, release it\n" + (releases or "# (no Elastic IP recorded)"))
        return {
            "cli": cli,
            "terraform": ("# remove the aws_nat_gateway and its aws_eip (and the routes that "
                          "point at it), then apply"),
            "cdk": ("// ec2.Vpc: natGateways: " + ("1" if kind == "consolidate" else "0") +
                    " (with 0, private subnets become PRIVATE_ISOLATED)"),
        }
    tables = [str(t) for t in ev.get("route_table_ids") or []]
    table_args = " ".join(shlex.quote(t) for t in tables) or "RTB_OF_EACH_PRIVATE_SUBNET"
    vpc = shlex.quote(str(ev.get("vpc_id") or ""))
    missing = ev.get("missing_gateway_endpoints") or ["s3"]
    cli = "\n".join(
        f"aws ec2 create-vpc-endpoint --vpc-id {vpc} --vpc-endpoint-type Gateway "
        f"--service-name com.amazonaws.{finding.region}.{service} "
        f"--route-table-ids {table_args} --region {region}" for service in missing)
    terraform = "\n\n".join(
        f"resource \"aws_vpc_endpoint\" \"{service}\" {{\n"
        f"  vpc_id            = {json.dumps(ev.get('vpc_id'))}\n"
        f"  service_name      = \"com.amazonaws.{finding.region}.{service}\"\n"
        "  vpc_endpoint_type = \"Gateway\"\n"
        f"  route_table_ids   = {json.dumps(tables)}\n}}" for service in missing)
    cdk = "\n".join(
        f"vpc.addGatewayEndpoint('{service.title()}', {{ service: "
        f"ec2.GatewayVpcEndpointAwsService.{service.upper()} }});" for service in missing)
    return {"cli": "# the route tables of the private subnets that route through the NAT\n"
            + cli, "terraform": terraform, "cdk": cdk}


RULE = Rule(
    id=RULE_ID,
    title="Delete idle NAT gateways and keep S3/DynamoDB traffic off them",
    why=(
        "A NAT gateway bills every hour it exists plus every GB it processes. One with no "
        "traffic is pure cost (and its Elastic IP bills too); S3 and DynamoDB traffic can go "
        "through a free gateway endpoint instead; a non-production VPC rarely needs a NAT "
        "gateway in every Availability Zone."
    ),
    resource_type="nat-gateway",
    bill_services=('EC2 - Other',),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(
        MetricNeed("nat-gateway", NAMESPACE, "BytesOutToDestination", ("Sum",)),
        MetricNeed("nat-gateway", NAMESPACE, "ActiveConnectionCount", ("Maximum",)),
    ),
)
