"""EC2 networking that bills by the hour: NAT gateways (with their VPC's gateway endpoints,
route tables and tags) and every public IPv4 address (Elastic IPs and the public IPs of network
interfaces), each named by what owns it."""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa

from rightsizer.collect.collectors.base import (
    ErrorLog,
    Target,
    chunks,
    recorded_failure,
    tags_to_dict,
    to_json,
)
from rightsizer.collect.spec import CollectorSpec, Inventory, MetricResource, same_name, schema

SERVICE = "ec2"
# DescribeVpcs / DescribeRouteTables / DescribeVpcEndpoints filter values per request: AWS caps
# a filter at 200 values (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Using_Filtering.html).
FILTER_VALUES = 200
# NAT gateways that still bill (deleting/deleted/failed ones do not).
LIVE_NAT_STATES = ["pending", "available"]
ECS_ATTACHMENT = re.compile(r"^arn:aws[a-z-]*:ecs:")


def _nat_arn(region: str, account: str, nat_id: str) -> str:
    return f"arn:aws:ec2:{region}:{account}:natgateway/{nat_id}"


def _vpcs(target: Target, errors: ErrorLog, vpc_ids: list[str]) -> dict[str, dict[str, str]]:
    tags: dict[str, dict[str, str]] = {}
    ec2 = target.client("ec2")
    with recorded_failure(errors, target.account, target.region, SERVICE, "DescribeVpcs"):
        for batch in chunks(vpc_ids, FILTER_VALUES):
            for page in ec2.get_paginator("describe_vpcs").paginate(
                    Filters=[{"Name": "vpc-id", "Values": batch}]):
                for vpc in page.get("Vpcs", []):
                    tags[vpc["VpcId"]] = tags_to_dict(vpc.get("Tags"))
    return tags


def _gateway_endpoints(target: Target, errors: ErrorLog,
                       vpc_ids: list[str]) -> dict[str, list[str]]:
    """VPC -> service names of its gateway endpoints (S3, DynamoDB)."""
    found: dict[str, list[str]] = {}
    ec2 = target.client("ec2")
    with recorded_failure(errors, target.account, target.region, SERVICE,
                          "DescribeVpcEndpoints"):
        for batch in chunks(vpc_ids, FILTER_VALUES):
            for page in ec2.get_paginator("describe_vpc_endpoints").paginate(
                    Filters=[{"Name": "vpc-id", "Values": batch},
                             {"Name": "vpc-endpoint-type", "Values": ["Gateway"]}]):
                for endpoint in page.get("VpcEndpoints", []):
                    if str(endpoint.get("VpcEndpointType", "Gateway")).lower() != "gateway":
                        continue
                    if endpoint.get("State", "available").lower() in {"deleted", "deleting",
                                                                       "failed", "rejected"}:
                        continue
                    found.setdefault(endpoint["VpcId"], []).append(
                        str(endpoint.get("ServiceName", "")))
    return found


def _route_tables(target: Target, errors: ErrorLog,
                  vpc_ids: list[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(NAT id -> route tables with a route through it, VPC -> all its route tables)."""
    via_nat: dict[str, list[str]] = {}
    by_vpc: dict[str, list[str]] = {}
    ec2 = target.client("ec2")
    with recorded_failure(errors, target.account, target.region, SERVICE,
                          "DescribeRouteTables"):
        for batch in chunks(vpc_ids, FILTER_VALUES):
            for page in ec2.get_paginator("describe_route_tables").paginate(
                    Filters=[{"Name": "vpc-id", "Values": batch}]):
                for table in page.get("RouteTables", []):
                    table_id = table["RouteTableId"]
                    by_vpc.setdefault(table.get("VpcId", ""), []).append(table_id)
                    for route in table.get("Routes", []):
                        nat = route.get("NatGatewayId")
                        if nat and table_id not in via_nat.get(nat, []):
                            via_nat.setdefault(nat, []).append(table_id)
    return via_nat, by_vpc


def collect_nat_gateways(target: Target, errors: ErrorLog) -> list[dict[str, Any]]:
    gateways: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, target.region, SERVICE,
                          "DescribeNatGateways"):
        paginator = target.client("ec2").get_paginator("describe_nat_gateways")
        for page in paginator.paginate(Filters=[{"Name": "state", "Values": LIVE_NAT_STATES}]):
            gateways.extend(page.get("NatGateways", []))
    if not gateways:
        return []
    vpc_ids = sorted({str(nat.get("VpcId", "")) for nat in gateways if nat.get("VpcId")})
    vpc_tags = _vpcs(target, errors, vpc_ids)
    endpoints = _gateway_endpoints(target, errors, vpc_ids)
    via_nat, by_vpc = _route_tables(target, errors, vpc_ids)
    endpoints_read = target_read_ok(errors, target, "DescribeVpcEndpoints")
    rows = []
    for nat in gateways:
        nat_id = nat["NatGatewayId"]
        vpc_id = str(nat.get("VpcId", ""))
        addresses = nat.get("NatGatewayAddresses", [])
        tags = vpc_tags.get(vpc_id, {})
        rows.append({
            "account": target.account, "region": target.region,
            "nat_gateway_id": nat_id, "arn": _nat_arn(target.region, target.account, nat_id),
            "vpc_id": vpc_id, "subnet_id": str(nat.get("SubnetId", "")),
            "state": str(nat.get("State", "")),
            "connectivity_type": str(nat.get("ConnectivityType", "public")),
            "created_at": str(nat.get("CreateTime", "")),
            "allocation_ids": to_json([a["AllocationId"] for a in addresses
                                       if a.get("AllocationId")]),
            "public_ips": to_json([a["PublicIp"] for a in addresses if a.get("PublicIp")]),
            "tags": to_json(tags_to_dict(nat.get("Tags"))),
            "vpc_name": tags.get("Name", ""),
            "vpc_tags": to_json(tags),
            # null when the endpoints could not be read: the rule must not assume "none"
            "gateway_endpoints": to_json(sorted(endpoints.get(vpc_id, [])))
            if endpoints_read else "",
            "route_table_ids": to_json(via_nat.get(nat_id, [])),
            "vpc_route_table_ids": to_json(by_vpc.get(vpc_id, [])),
        })
    return rows


def target_read_ok(errors: ErrorLog, target: Target, operation: str) -> bool:
    return not any(row["operation"] == operation and row["account"] == target.account
                   and row["region"] == target.region and row["service"] == SERVICE
                   for row in errors.rows)


# ------------------------------------------------------------------------- public IPv4

def _interface_owner(eni: dict[str, Any]) -> tuple[str, str, str]:
    """(kind, owner id, label) of a network interface, from its type, requester and
    description (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_NetworkInterface.html)."""
    kind = str(eni.get("InterfaceType", "interface"))
    description = str(eni.get("Description", ""))
    requester = str(eni.get("RequesterId", ""))
    attachment = eni.get("Attachment") or {}
    if kind == "nat_gateway" or description.startswith("Interface for NAT Gateway"):
        nat_id = description.rsplit(" ", 1)[-1] if "nat-" in description else ""
        return "nat-gateway", nat_id, f"NAT gateway {nat_id}".strip()
    if kind in {"network_load_balancer", "gateway_load_balancer"} or \
            requester == "amazon-elb" or description.startswith("ELB "):
        name = description.removeprefix("ELB ")
        return "load-balancer", name, f"load balancer {name}".strip()
    if ECS_ATTACHMENT.match(description):
        return "ecs-task", description, "ECS task (Fargate, assignPublicIp ENABLED)"
    if attachment.get("InstanceId"):
        return "ec2-instance", str(attachment["InstanceId"]), \
            f"EC2 instance {attachment['InstanceId']}"
    label = description or kind
    return "other", str(eni.get("NetworkInterfaceId", "")), f"network interface ({label})"


def collect_public_ips(target: Target, errors: ErrorLog) -> list[dict[str, Any]]:
    ec2 = target.client("ec2")
    rows: dict[str, dict[str, Any]] = {}
    interfaces: dict[str, dict[str, Any]] = {}
    with recorded_failure(errors, target.account, target.region, SERVICE,
                          "DescribeNetworkInterfaces"):
        for page in ec2.get_paginator("describe_network_interfaces").paginate():
            for eni in page.get("NetworkInterfaces", []):
                interfaces[eni["NetworkInterfaceId"]] = eni
    with recorded_failure(errors, target.account, target.region, SERVICE, "DescribeAddresses"):
        # DescribeAddresses has no paginator: it returns every address of the Region at once
        for address in ec2.describe_addresses().get("Addresses", []):
            ip = address.get("PublicIp")
            if not ip:
                continue
            eni = interfaces.get(str(address.get("NetworkInterfaceId", "")), {})
            if address.get("AssociationId") or address.get("NetworkInterfaceId") \
                    or address.get("InstanceId"):
                kind, owner, label = _interface_owner(eni) if eni else (
                    ("ec2-instance", str(address["InstanceId"]),
                     f"EC2 instance {address['InstanceId']}") if address.get("InstanceId")
                    else ("other", str(address.get("NetworkInterfaceId", "")),
                          "network interface"))
            else:
                kind, owner, label = "unattached", "", "nothing (unattached Elastic IP)"
            rows[ip] = _ip_row(target, ip, True, address, kind, owner, label,
                               tags_to_dict(address.get("Tags")))
    for eni_id, eni in interfaces.items():
        ip = (eni.get("Association") or {}).get("PublicIp")
        if not ip or ip in rows:
            continue
        kind, owner, label = _interface_owner(eni)
        rows[ip] = _ip_row(target, ip, False, {"NetworkInterfaceId": eni_id}, kind, owner,
                           label, tags_to_dict(eni.get("TagSet")))
    return list(rows.values())


def _ip_row(target: Target, ip: str, elastic: bool, address: dict[str, Any], kind: str,
            owner: str, label: str, tags: dict[str, str]) -> dict[str, Any]:
    allocation = str(address.get("AllocationId", ""))
    resource_id = (f"arn:aws:ec2:{target.region}:{target.account}:elastic-ip/{allocation}"
                   if allocation else f"public-ip/{target.region}/{ip}")
    return {
        "account": target.account, "region": target.region, "public_ip": ip,
        "resource_id": resource_id, "elastic": elastic, "allocation_id": allocation,
        "association_id": str(address.get("AssociationId", "")),
        "network_interface_id": str(address.get("NetworkInterfaceId", "")),
        "owner_kind": kind, "owner_id": owner, "owner_label": label,
        "tags": to_json(tags),
    }


def _nat_dimensions(_metric: str, row: Any) -> tuple[tuple[tuple[str, str], ...], str]:
    return (("NatGatewayId", row["nat_gateway_id"]),), row["nat_gateway_id"]


SPECS = (
    CollectorSpec(
        table="nat_gateways", label="nat gateways",
        schema=schema("account", "region", "nat_gateway_id", "arn", "vpc_id", "subnet_id",
                      "state", "connectivity_type", "created_at", "allocation_ids",
                      "public_ips", "tags", "vpc_name", "vpc_tags", "gateway_endpoints",
                      "route_table_ids", "vpc_route_table_ids"),
        operations=same_name("ec2:DescribeNatGateways", "ec2:DescribeVpcs",
                             "ec2:DescribeVpcEndpoints", "ec2:DescribeRouteTables"),
        collect=lambda target, errors, _run: collect_nat_gateways(target, errors),
        id_column="arn",
        inventory=Inventory("nat-gateway", "NAT gateways", "ec2:DescribeNatGateways"),
        metric_resources=(MetricResource("nat-gateway", _nat_dimensions),),
    ),
    CollectorSpec(
        table="public_ips", label="public ipv4",
        schema=schema("account", "region", "public_ip", "resource_id", "elastic",
                      "allocation_id", "association_id", "network_interface_id", "owner_kind",
                      "owner_id", "owner_label", "tags", elastic=pa.bool_()),
        operations=same_name("ec2:DescribeAddresses", "ec2:DescribeNetworkInterfaces"),
        collect=lambda target, errors, _run: collect_public_ips(target, errors),
        id_column="resource_id",
        inventory=Inventory("public-ipv4", "public IPv4 addresses", "ec2:DescribeAddresses"),
    ),
)
