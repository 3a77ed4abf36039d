"""EC2 network collector against moto: NAT gateways with their VPC's gateway endpoints and
route tables (DescribeNatGateways / DescribeVpcEndpoints / DescribeRouteTables), and public
IPv4 addresses from DescribeAddresses + DescribeNetworkInterfaces
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAddresses.html)."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from rightsizer.aws.clients import AwsClients
from rightsizer.collect.collectors.base import ErrorLog, Target
from rightsizer.collect.collectors.ec2_network import collect_nat_gateways, collect_public_ips

REGION = "us-east-1"


@mock_aws
def test_nat_gateway_endpoints_routes_and_every_public_ip_with_its_owner():
    session = boto3.Session(region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "edufly-staging"}])
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    nat_eip = ec2.allocate_address(Domain="vpc")
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=nat_eip["AllocationId"])[
        "NatGateway"]["NatGatewayId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.dynamodb",
                            RouteTableIds=[table], VpcEndpointType="Gateway")
    free = ec2.allocate_address(Domain="vpc")
    task_eni = ec2.create_network_interface(
        SubnetId=subnet, Description=f"arn:aws:ecs:{REGION}:123456789012:attachment/abc")[
        "NetworkInterface"]["NetworkInterfaceId"]
    task_eip = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(AllocationId=task_eip["AllocationId"], NetworkInterfaceId=task_eni)
    errors = ErrorLog()
    target = Target("123456789012", REGION, AwsClients(session))

    [row] = collect_nat_gateways(target, errors)
    assert row["nat_gateway_id"] == nat and row["vpc_name"] == "edufly-staging"
    assert json.loads(row["gateway_endpoints"]) == [f"com.amazonaws.{REGION}.dynamodb"]
    assert json.loads(row["route_table_ids"]) == [table]
    assert json.loads(row["public_ips"]) == [nat_eip["PublicIp"]]

    ips = {r["public_ip"]: r for r in collect_public_ips(target, errors)}
    assert ips[free["PublicIp"]]["owner_kind"] == "unattached"
    assert ips[task_eip["PublicIp"]]["owner_kind"] == "ecs-task"
    assert nat_eip["PublicIp"] in ips  # one row; the rule names the NAT from its addresses
    assert len(ips) == 3 and errors.rows == []
