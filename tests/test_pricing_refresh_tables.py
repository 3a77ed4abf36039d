"""`rightsizer pricing refresh` for the newer tables: RDS storage, S3, CloudWatch Logs, NAT
gateways and public IPv4, load balancers and the Fargate ARM64 / Windows platforms.

Items are shaped like real GetProducts answers (PriceList entries are JSON documents in strings:
https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html),
after recorded ones such as the AmazonECS product 9D3ZWXRS2VXMZET6 (usagetype
USE1-Fargate-Windows-OS-Hours:perCPU, cputype "perCPU OS License Fee", locationType "AWS
Region"): product.attributes with usagetype, terms.OnDemand.<sku>.<term>.priceDimensions with
beginRange / endRange / unit / pricePerUnit.USD. The dollar figures are test values.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rightsizer import pricing
from rightsizer.cli import app
from rightsizer.pricing import refresh
from tests.test_pricing_refresh import (
    ON_DEMAND_CODE,
    nothing_for,
    page,
    query_params,
    run_cli,
    stubbed_clients,
)

TODAY = "2026-11-30"
API = "AWS Price List Query API GetProducts"
MUMBAI, VIRGINIA = "ap-south-1", "us-east-1"
LOCATIONS = {MUMBAI: "Asia Pacific (Mumbai)", VIRGINIA: "US East (N. Virginia)"}
TIER_CODES = ("PGHJ3S3EYE", "D42MF2PVJS", "PXJDJ3YRG3")  # one rate code a tier


def item(sku: str, service: str, family: str, region: str, usagetype: str,
         tiers: list[tuple[str, str, str]], unit: str = "GB-Mo", **attributes: str) -> str:
    """One PriceList entry; tiers are (beginRange, endRange, USD)."""
    dims = {f"{sku}.{ON_DEMAND_CODE}.{code}": {
        "unit": unit, "endRange": end, "description": f"${usd} per {unit}", "appliesTo": [],
        "rateCode": f"{sku}.{ON_DEMAND_CODE}.{code}", "beginRange": begin,
        "pricePerUnit": {"USD": usd}} for code, (begin, end, usd) in zip(TIER_CODES, tiers,
                                                                          strict=False)}
    attrs = {"regionCode": region, "location": LOCATIONS.get(region, region),
             "locationType": "AWS Region", "servicecode": service, "usagetype": usagetype,
             **attributes}
    return json.dumps({
        "product": {"productFamily": family, "attributes": attrs, "sku": sku},
        "serviceCode": service,
        "terms": {"OnDemand": {f"{sku}.{ON_DEMAND_CODE}": {
            "priceDimensions": dims, "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z",
            "offerTermCode": ON_DEMAND_CODE, "termAttributes": {}}}},
        "version": "20261101000000", "publicationDate": "2026-11-01T00:00:00Z"})


def flat(sku: str, service: str, family: str, region: str, usagetype: str, usd: str,
         unit: str = "GB-Mo", **attributes: str) -> str:
    return item(sku, service, family, region, usagetype, [("0", "Inf", usd)], unit, **attributes)


def rds_storage(sku: str, region: str, usagetype: str, usd: str, engine: str = "Any",
                volume: str = "General Purpose-GP3", deployment: str = "Single-AZ") -> str:
    return flat(sku, "AmazonRDS", "Database Storage", region, usagetype, usd,
                databaseEngine=engine, volumeType=volume, deploymentOption=deployment)


def s3_storage(sku: str, region: str, usagetype: str, usd: str, volume: str,
               service: str = "AmazonS3") -> str:
    return flat(sku, service, "Storage", region, usagetype, usd, volumeType=volume,
                storageClass="General Purpose", operation="")


def s3_request(sku: str, region: str, usagetype: str, usd: str, operation: str) -> str:
    return flat(sku, "AmazonS3", "API Request", region, usagetype, usd, unit="Requests",
                operation=operation)


def nat(sku: str, region: str, usagetype: str, usd: str, location_type: str = "AWS Region"
        ) -> str:
    data = json.loads(flat(sku, "AmazonEC2", "NAT Gateway", region, usagetype, usd,
                           unit="Hrs" if "Hours" in usagetype else "GB",
                           operation="NatGateway", group="NGW:NatGateway"))
    data["product"]["attributes"]["locationType"] = location_type
    return json.dumps(data)


def ipv4(sku: str, region: str, usagetype: str, usd: str) -> str:
    # recorded AmazonVPC public IPv4 products carry no productFamily
    return flat(sku, "AmazonVPC", "", region, usagetype, usd, unit="Hrs")


def elb(sku: str, region: str, family: str, usagetype: str, usd: str) -> str:
    return flat(sku, "AWSELB", family, region, usagetype, usd,
                unit="LCU-Hrs" if "LCU" in usagetype else "Hrs",
                operation=f"LoadBalancing:{family.rsplit('-', 1)[-1]}")


def ecs(sku: str, region: str, usagetype: str, usd: str) -> str:
    return flat(sku, "AmazonECS", "Compute", region, usagetype, usd, unit="hours",
                servicename="Amazon Elastic Container Service", tenancy="Shared")


# What the API answers, by (table, region, query number); anything absent answers nothing.
ANSWERS: dict[tuple[str, str, int], list[str]] = {
    ("fargate", MUMBAI, 0): [
        ecs("F1", MUMBAI, "APS3-Fargate-vCPU-Hours:perCPU", "0.0425600000"),
        ecs("F2", MUMBAI, "APS3-Fargate-GB-Hours", "0.0046700000"),
        ecs("F3", MUMBAI, "APS3-Fargate-ARM-vCPU-Hours:perCPU", "0.0340500000"),
        ecs("F4", MUMBAI, "APS3-Fargate-ARM-GB-Hours", "0.0037400000"),
        ecs("F5", MUMBAI, "APS3-Fargate-Windows-vCPU-Hours:perCPU", "0.0489400000"),
        ecs("F6", MUMBAI, "APS3-Fargate-Windows-GB-Hours", "0.0053700000"),
        ecs("F7", MUMBAI, "APS3-Fargate-Windows-OS-Hours:perCPU", "0.0460000000"),
        ecs("F8", MUMBAI, "APS3-SpotUsage-Fargate-ARM-vCPU-Hours:perCPU", "0.0102000000"),
        ecs("F9", MUMBAI, "APS3-Fargate-EphemeralStorage-GB-Hours", "0.0001300000"),
    ],
    ("fargate", VIRGINIA, 0): [  # Windows without its licence fee row: no Windows figure
        ecs("G1", VIRGINIA, "USE1-Fargate-ARM-vCPU-Hours:perCPU", "0.0323800000"),
        ecs("G2", VIRGINIA, "USE1-Fargate-ARM-GB-Hours", "0.0035600000"),
        ecs("G3", VIRGINIA, "USE1-Fargate-Windows-vCPU-Hours:perCPU", "0.0465520000"),
        ecs("G4", VIRGINIA, "USE1-Fargate-Windows-GB-Hours", "0.0051117500"),
    ],
    ("rds_storage", MUMBAI, 0): [
        rds_storage("R1", MUMBAI, "APS3-RDS:GP2-Storage", "0.1310000000", volume="General Purpose"),
        rds_storage("R2", MUMBAI, "APS3-RDS:GP3-Storage", "0.1310000000"),
        rds_storage("R3", MUMBAI, "APS3-RDS:Multi-AZ-GP3-Storage", "0.2620000000",
                    deployment="Multi-AZ"),
        rds_storage("R4", MUMBAI, "APS3-RDS:PIOPS-Storage", "0.1500000000",
                    volume="Provisioned IOPS"),
        rds_storage("R5", MUMBAI, "APS3-RDS:PIOPS-Storage-IO2", "0.1510000000",
                    volume="Provisioned IOPS-IO2"),
        # look-alikes: Aurora, backups, Multi-AZ DB clusters, IOPS, another engine's own row
        rds_storage("X1", MUMBAI, "APS3-Aurora:StorageUsage", "0.1100000000",
                    engine="Aurora PostgreSQL", volume="General Purpose-Aurora"),
        rds_storage("X2", MUMBAI, "APS3-RDS:ChargedBackupUsage", "0.0950000000"),
        rds_storage("X3", MUMBAI, "APS3-RDS:Multi-AZCluster-GP3-Storage", "0.3930000000",
                    deployment="Multi-AZ (readable standbys)"),
        rds_storage("X4", MUMBAI, "APS3-RDS:GP3-PIOPS", "0.0200000000"),
        rds_storage("X5", MUMBAI, "APS3-RDS:GP2-Storage", "0.2620000000", engine="SQL Server",
                    volume="General Purpose"),
    ],
    ("rds_storage", VIRGINIA, 0): [  # us-east-1 writes no billing code
        rds_storage("V1", VIRGINIA, "RDS:GP2-Storage", "0.1150000000", volume="General Purpose"),
        rds_storage("V2", VIRGINIA, "RDS:GP3-Storage", "0.1150000000"),
    ],
    ("s3", MUMBAI, 0): [
        item("S1", "AmazonS3", "Storage", MUMBAI, "APS3-TimedStorage-ByteHrs",
             [("512000", "Inf", "0.0230000000"), ("0", "51200", "0.0250000000"),
              ("51200", "512000", "0.0240000000")], volumeType="Standard",
             storageClass="General Purpose"),
        s3_storage("S2", MUMBAI, "APS3-TimedStorage-SIA-ByteHrs", "0.0190000000",
                   "Standard - Infrequent Access"),
        s3_storage("S3", MUMBAI, "APS3-TimedStorage-GIR-ByteHrs", "0.0050000000",
                   "Glacier Instant Retrieval"),
        s3_storage("S4", MUMBAI, "APS3-TimedStorage-GlacierByteHrs", "0.0045000000",
                   "Amazon Glacier"),
        # look-alikes: Intelligent-Tiering's tiers and its overhead on Standard's meter
        s3_storage("X6", MUMBAI, "APS3-TimedStorage-INT-FA-ByteHrs", "0.0250000000",
                   "Intelligent-Tiering Frequent Access"),
        s3_storage("X7", MUMBAI, "APS3-TimedStorage-ByteHrs", "0.0230000000",
                   "Intelligent-Tiering Archive Instant Access"),
    ],
    ("s3", MUMBAI, 1): [
        s3_request("T1", MUMBAI, "APS3-Requests-Tier4", "0.0000100000", "S3-SIATransition"),
        s3_request("T2", MUMBAI, "APS3-Requests-Tier3", "0.0000360000", "S3-GlacierTransition"),
        # the same meters for restores and PUTs are not transitions
        s3_request("X8", MUMBAI, "APS3-Requests-Tier3", "0.0000600000", "RestoreObject"),
        s3_request("X9", MUMBAI, "APS3-Requests-GLACIER-Tier1", "0.0000360000", "PutObject"),
    ],
    ("s3", MUMBAI, 2): [
        s3_storage("D1", MUMBAI, "APS3-TimedStorage-GDA-ByteHrs", "0.0020000000",
                   "Glacier Deep Archive", service="AmazonS3GlacierDeepArchive"),
    ],
    ("s3", VIRGINIA, 0): [  # a tiered product whose tiers do not start at 0: not guessed
        item("U1", "AmazonS3", "Storage", VIRGINIA, "TimedStorage-ByteHrs",
             [("51200", "512000", "0.0220000000"), ("512000", "Inf", "0.0210000000")],
             volumeType="Standard"),
        s3_storage("U2", VIRGINIA, "TimedStorage-SIA-ByteHrs", "0.0125000000",
                   "Standard - Infrequent Access"),
    ],
    ("cloudwatch", MUMBAI, 0): [
        flat("L1", "AmazonCloudWatch", "Storage Snapshot", MUMBAI, "APS3-TimedStorage-ByteHrs",
             "0.0330000000"),
        flat("X10", "AmazonCloudWatch", "Storage Snapshot", MUMBAI,
             "APS3-VendedLog-TimedStorage-ByteHrs", "0.0150000000"),
    ],
    ("vpc", MUMBAI, 0): [
        nat("N1", MUMBAI, "APS3-NatGateway-Hours", "0.0560000000"),
        nat("N2", MUMBAI, "APS3-NatGateway-Bytes", "0.0560000000"),
        nat("X11", MUMBAI, "APS3-RegionalNatGateway-Hours", "0.0560000000"),
        nat("X12", MUMBAI, "APS3-NatGateway-Hours", "0.0700000000", "AWS Local Zone"),
        nat("X13", MUMBAI, "APS3-NatGateway-Hours", "0.0900000000", "AWS Outposts"),
    ],
    ("vpc", MUMBAI, 1): [
        ipv4("P1", MUMBAI, "APS3-PublicIPv4:InUseAddress", "0.0050000000"),
        ipv4("X14", MUMBAI, "APS3-PublicIPv4:IdleAddress", "0.0060000000"),
    ],
    ("vpc", VIRGINIA, 0): [  # two products disagree on the GB price: dropped, counted
        nat("M1", VIRGINIA, "NatGateway-Hours", "0.0450000000"),
        nat("M2", VIRGINIA, "USE1-NatGateway-Bytes", "0.0450000000"),
        nat("M3", VIRGINIA, "NatGateway-Bytes", "0.0480000000"),
    ],
    ("elb", MUMBAI, 0): [
        elb("E1", MUMBAI, "Load Balancer-Application", "APS3-LoadBalancerUsage", "0.0239000000"),
        elb("E2", MUMBAI, "Load Balancer-Application", "APS3-LCUUsage", "0.0080000000"),
        elb("E3", MUMBAI, "Load Balancer-Network", "APS3-LoadBalancerUsage", "0.0239000000"),
        elb("E4", MUMBAI, "Load Balancer-Network", "APS3-LCUUsage", "0.0060000000"),
        elb("X15", MUMBAI, "Load Balancer-Application", "APS3-TS-LoadBalancerUsage",
            "0.0055000000"),
        elb("X16", MUMBAI, "Load Balancer-Gateway", "APS3-LoadBalancerUsage", "0.0130000000"),
    ],
}
NEW_TABLES = ("fargate", "rds_storage", "s3", "cloudwatch", "vpc", "elb")
REGIONS = [MUMBAI, VIRGINIA]


def calls(regions: list[str], answers: dict[tuple[str, str, int], list[str]] | None = None
          ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """A refresh of `regions` in the order the command asks: table, region, query."""
    answers = ANSWERS if answers is None else answers
    answered: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for spec in refresh.SPECS:
        if spec.name not in NEW_TABLES:
            answered += nothing_for(regions, skip=tuple(s.name for s in refresh.SPECS
                                                        if s is not spec))
            continue
        for region in regions:
            for number, query in enumerate(spec.queries):
                answered.append((query_params(query.service_code, region, query.filters),
                                 page(answers.get((spec.name, region, number), []))))
    return answered


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "pricing-cache"
    monkeypatch.setenv(pricing.CACHE_ENV, str(directory))
    pricing.reload()
    yield directory
    pricing.reload()


def refreshed(cache: Path) -> list[refresh.Outcome]:
    clients, stubber = stubbed_clients(calls(REGIONS))
    outcomes = refresh.refresh(clients, cache, REGIONS, today=TODAY)
    stubber.assert_no_pending_responses()
    pricing.reload()
    return outcomes


def cached(cache: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((cache / f"{name}.json").read_text())
    return data


# --------------------------------------------------------------------------- what is asked


def test_each_table_asks_few_server_side_filters() -> None:
    asked = {spec.name: [(q.service_code, q.filters) for q in spec.queries]
             for spec in refresh.SPECS}
    assert asked["rds_storage"] == [("AmazonRDS", (("productFamily", "Database Storage"),))]
    assert asked["s3"] == [("AmazonS3", (("productFamily", "Storage"),)),
                           ("AmazonS3", (("productFamily", "API Request"),)),
                           ("AmazonS3GlacierDeepArchive", ())]
    assert asked["cloudwatch"] == [("AmazonCloudWatch", (("productFamily", "Storage Snapshot"),))]
    assert asked["vpc"] == [("AmazonEC2", (("productFamily", "NAT Gateway"),)), ("AmazonVPC", ())]
    assert asked["elb"] == [("AWSELB", ())]
    assert asked["fargate"] == [("AmazonECS", ())]  # ARM and Windows come on the same pages


def test_without_regions_the_newer_tables_ask_for_the_rds_regions_and_their_own(
        tmp_path: Path) -> None:
    specs = {spec.name: spec for spec in refresh.SPECS}
    rds_regions = sorted(pricing._embedded("rds_postgres")["on_demand_single_az"])
    assert MUMBAI in rds_regions
    for name in ("rds_storage", "s3", "cloudwatch", "vpc", "elb"):
        regions = refresh.default_regions(specs[name], tmp_path)
        assert set(rds_regions) <= set(regions), name
    # and any region an earlier refresh cached
    (tmp_path / "vpc.json").write_text(json.dumps({
        "table": "vpc", "source": "x", "as_of": TODAY,
        "nat_gateway": {"sa-east-1": {"hour": 0.093}}}))
    assert "sa-east-1" in refresh.default_regions(specs["vpc"], tmp_path)
    assert "ap-northeast-1" in refresh.default_regions(specs["cloudwatch"], tmp_path)  # embedded


# --------------------------------------------------------------------------- the cached tables


def test_refresh_caches_each_newer_table_from_its_own_usage_types(cache: Path) -> None:
    outcomes = {o.fetched.spec.name: o for o in refreshed(cache)}

    storage = cached(cache, "rds_storage")
    assert storage["source"] == f"{API} (AmazonRDS)" and storage["as_of"] == TODAY
    assert storage["storage_gb_month_single_az"] == {
        MUMBAI: {"gp2": 0.131, "gp3": 0.131, "io1": 0.15, "io2": 0.151},
        VIRGINIA: {"gp2": 0.115, "gp3": 0.115}}
    assert storage["storage_gb_month_multi_az"] == {MUMBAI: {"gp3": 0.262}}

    s3 = cached(cache, "s3")
    assert s3["source"] == f"{API} (AmazonS3, AmazonS3GlacierDeepArchive)"
    assert s3["storage_gb_month"] == {
        MUMBAI: {"DEEP_ARCHIVE": 0.002, "GLACIER": 0.0045, "GLACIER_IR": 0.005,
                 "STANDARD": 0.025, "STANDARD_IA": 0.019},  # STANDARD: the tier from 0
        VIRGINIA: {"STANDARD_IA": 0.0125}}  # no tier began at 0: no STANDARD figure
    assert s3["transition_per_1000_requests"] == {MUMBAI: {"GLACIER": 0.036, "STANDARD_IA": 0.01}}

    assert cached(cache, "cloudwatch")["logs_storage"] == {MUMBAI: {"standard": 0.033}}
    assert outcomes["cloudwatch"].fetched.empty_regions == [VIRGINIA]

    vpc = cached(cache, "vpc")
    assert vpc["source"] == f"{API} (AmazonEC2, AmazonVPC)"
    assert vpc["nat_gateway"] == {MUMBAI: {"gb_processed": 0.056, "hour": 0.056},
                                  VIRGINIA: {"hour": 0.045}}
    assert vpc["public_ipv4"] == {MUMBAI: {"in_use_hour": 0.005}}
    assert outcomes["vpc"].fetched.conflicting == 1  # us-east-1's two GB prices

    assert cached(cache, "elb")["hourly"] == {MUMBAI: {"application": 0.0239, "network": 0.0239}}
    assert cached(cache, "elb")["capacity_unit_hour"] == {
        MUMBAI: {"application": 0.008, "network": 0.006}}

    fargate = cached(cache, "fargate")
    assert fargate["linux_arm64"] == {MUMBAI: {"gb_hour": 0.00374, "vcpu_hour": 0.03405},
                                      VIRGINIA: {"gb_hour": 0.00356, "vcpu_hour": 0.03238}}
    assert fargate["windows_x86_64"] == {MUMBAI: {
        "gb_hour": 0.00537, "os_license_vcpu_hour": 0.046, "vcpu_hour": 0.04894}}
    assert fargate["on_demand"] == {MUMBAI: {"gb_hour": 0.00467, "vcpu_hour": 0.04256}}

    lines = refresh.summary_lines(list(outcomes.values()))
    # us-east-1's ARM64 rates equal the embedded `platforms` ones: new are Mumbai's ARM64 and
    # Windows rates
    assert lines[0] == ("fargate (AmazonECS, 2 requests): 9 prices for 2 regions (1 changed, "
                        f"5 new) -> {cache / 'fargate.json'}")
    assert any(line.startswith("s3 (AmazonS3, AmazonS3GlacierDeepArchive, 6 requests): 8 prices "
                               "for 2 regions") and line.endswith(str(cache / "s3.json"))
               for line in lines)
    assert any(line.startswith("rds_storage (AmazonRDS, 2 requests): 7 prices for 2 regions "
                               "(0 changed, 5 new)") for line in lines)
    assert any(line.startswith("vpc (AmazonEC2, AmazonVPC, 4 requests): 4 prices for 2 regions")
               for line in lines)
    assert "  skipped 0 unreadable products and 1 figures two products disagreed on" in lines


def test_a_region_the_api_returns_nothing_for_keeps_its_cached_figures(cache: Path) -> None:
    refreshed(cache)
    next_month = {**ANSWERS, ("vpc", MUMBAI, 0): [], ("vpc", MUMBAI, 1): []}
    clients, _ = stubbed_clients(calls(REGIONS, next_month))
    refresh.refresh(clients, cache, REGIONS, today="2026-12-31")
    vpc = cached(cache, "vpc")
    assert vpc["nat_gateway"][MUMBAI] == {"gb_processed": 0.056, "hour": 0.056}
    assert vpc["as_of_by_region"] == {MUMBAI: TODAY, VIRGINIA: "2026-12-31"}
    pricing.reload()
    kept = pricing.nat_gateway_hourly_usd(MUMBAI)
    assert kept is not None and (kept.usd, kept.as_of) == (0.056, TODAY)


def test_a_section_one_query_returns_nothing_for_keeps_its_figures_and_their_date(
        cache: Path) -> None:
    refreshed(cache)
    before = cached(cache, "vpc")
    # next month the NAT gateway query answers nothing for Mumbai, the IPv4 query does answer
    next_month = {**ANSWERS, ("vpc", MUMBAI, 0): []}
    clients, _ = stubbed_clients(calls(REGIONS, next_month))
    refresh.refresh(clients, cache, REGIONS, today="2026-12-31")
    vpc = cached(cache, "vpc")
    assert vpc["nat_gateway"][MUMBAI] == before["nat_gateway"][MUMBAI]  # not lost
    assert vpc["public_ipv4"][MUMBAI] == before["public_ipv4"][MUMBAI]
    # Mumbai's date stays that of its oldest figure, never the new day for the old NAT rates
    assert vpc["as_of_by_region"] == {MUMBAI: TODAY, VIRGINIA: "2026-12-31"}


# --------------------------------------------------------------------------- the lookups


def test_lookups_use_the_refreshed_figure_then_the_embedded_one(cache: Path) -> None:
    embedded_eu_gp2 = pricing.rds_storage_gb_month_usd("eu-west-1", "gp2", multi_az=False)
    embedded_us_logs = pricing.logs_storage_gb_month_usd(VIRGINIA)
    embedded_us_elb = pricing.elb_hourly_usd(VIRGINIA, "application")
    embedded_windows = pricing.fargate_platform_rates(VIRGINIA, os_kind="WINDOWS")
    embedded_us_standard = pricing.s3_gb_month_usd(VIRGINIA, "STANDARD")
    embedded_us_nat_gb = pricing.nat_gateway_gb_usd(VIRGINIA)
    assert pricing.nat_gateway_hourly_usd(MUMBAI) is None  # no embedded ap-south-1 figure
    refreshed(cache)

    multi = pricing.rds_storage_gb_month_usd(MUMBAI, "GP3", multi_az=True)
    assert multi is not None  # the explicit Multi-AZ figure, not 2 x 0.131
    assert (multi.usd, multi.source, multi.as_of) == (0.262, f"{API} (AmazonRDS)", TODAY)
    assert (multi.usage, multi.table) == ("RDS:Multi-AZ-GP3-Storage", "rds_storage")
    io2 = pricing.rds_storage_gb_month_usd(MUMBAI, "io2", multi_az=True)
    assert io2 is not None and io2.usd == pytest.approx(0.302)  # no explicit one: x 2
    assert "Multi-AZ = Single-AZ x 2.0" in io2.source
    assert io2.usage == "RDS:Multi-AZ-PIOPS-Storage-IO2"
    assert pricing.rds_storage_gb_month_usd("eu-west-1", "gp2", multi_az=False) == embedded_eu_gp2

    standard = pricing.s3_gb_month_usd(MUMBAI, "standard")
    assert standard is not None
    assert (standard.usd, standard.source, standard.as_of) == (
        0.025, f"{API} (AmazonS3, AmazonS3GlacierDeepArchive)", TODAY)
    # not refreshed (no tier began at 0): the embedded figure
    assert pricing.s3_gb_month_usd(VIRGINIA, "STANDARD") == embedded_us_standard
    glacier = pricing.s3_transition_usd_per_1000(MUMBAI, "GLACIER")
    assert glacier is not None and (glacier.usd, glacier.as_of) == (0.036, TODAY)

    logs = pricing.logs_storage_gb_month_usd(MUMBAI)
    assert logs is not None and (logs.usd, logs.as_of) == (0.033, TODAY)
    assert logs.usage == "logs:TimedStorage-ByteHrs"
    assert pricing.logs_storage_gb_month_usd(VIRGINIA) == embedded_us_logs

    hour, per_gb = pricing.nat_gateway_hourly_usd(MUMBAI), pricing.nat_gateway_gb_usd(MUMBAI)
    assert hour is not None and per_gb is not None and (hour.usd, per_gb.usd) == (0.056, 0.056)
    assert hour.source == f"{API} (AmazonEC2, AmazonVPC)" and hour.usage == "NatGateway-Hours"
    # us-east-1's refreshed GB figure was disputed (dropped): the embedded one stays
    assert embedded_us_nat_gb is not None
    assert pricing.nat_gateway_gb_usd(VIRGINIA) == embedded_us_nat_gb
    ipv4_price = pricing.public_ipv4_hourly_usd(MUMBAI)
    assert ipv4_price is not None and (ipv4_price.usd, ipv4_price.as_of) == (0.005, TODAY)

    alb = pricing.elb_hourly_usd(MUMBAI, "application")
    nlcu = pricing.elb_capacity_unit_hour_usd(MUMBAI, "network")
    assert alb is not None and nlcu is not None and (alb.usd, nlcu.usd) == (0.0239, 0.006)
    assert nlcu.unit == "NLCU-hour" and nlcu.as_of == TODAY
    assert pricing.elb_hourly_usd(VIRGINIA, "application") == embedded_us_elb

    arm = pricing.fargate_platform_rates(MUMBAI, os_kind="LINUX", arch="ARM64")
    assert arm is not None and (arm.vcpu.usd, arm.gb.usd) == (0.03405, 0.00374)
    assert arm.vcpu.source == f"{API} (AmazonECS) (linux_arm64)" and arm.vcpu.as_of == TODAY
    windows = pricing.fargate_platform_rates(MUMBAI, os_kind="WINDOWS")
    assert windows is not None and windows.os_license is not None
    assert windows.os_license.usd == 0.046
    assert pricing.fargate_hourly_usd(MUMBAI, 1024, 2048, os_kind="WINDOWS") == pytest.approx(
        0.04894 + 2 * 0.00537 + 0.046)
    # us-east-1's refreshed Windows rates came without the licence fee: the embedded ones stay
    assert pricing.fargate_platform_rates(VIRGINIA, os_kind="WINDOWS") == embedded_windows

    rows = {(row["table"], row["origin"]): row for row in pricing.all_sources()}
    for name in ("rds_storage", "s3", "cloudwatch", "vpc", "elb", "fargate"):
        assert rows[(name, "cache")]["as_of"] == TODAY, name
    assert rows[("rds_storage", "cache")]["source"] == f"{API} (AmazonRDS)"
    assert ("rds_postgres", "embedded") in rows and ("rds_postgres", "cache") not in rows


@pytest.mark.parametrize(("name", "content"), [
    ("vpc", {"nat_gateway": {MUMBAI: {"hour": -0.056}}}),
    ("rds_storage", {"storage_gb_month_multi_az": {"eu-west-1": {"gp2": True}}}),
    ("s3", {"storage_gb_month": {VIRGINIA: 0.023}}),
    ("elb", {"hourly": {VIRGINIA: {"application": "0.0225"}}}),
], ids=["negative", "bool", "not-per-name", "string"])
def test_a_damaged_newer_table_is_ignored_with_a_warning(
        cache: Path, name: str, content: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    cache.mkdir()
    (cache / f"{name}.json").write_text(json.dumps(
        {"table": name, "source": "x", "as_of": "2026-01-01", **content}))
    with caplog.at_level(logging.WARNING, logger="rightsizer"):
        assert pricing.nat_gateway_hourly_usd(MUMBAI) is None
        rds_gp2 = pricing.rds_storage_gb_month_usd("eu-west-1", "gp2", multi_az=True)
        s3_standard = pricing.s3_gb_month_usd(VIRGINIA, "STANDARD")
        alb = pricing.elb_hourly_usd(VIRGINIA, "application")
        rows = pricing.all_sources()
    assert rds_gp2 is not None and rds_gp2.usd == pytest.approx(0.254)  # embedded x 2
    assert s3_standard is not None and s3_standard.usd == 0.023
    assert alb is not None and alb.usd == 0.0225
    assert f"ignoring the cached price table {cache / f'{name}.json'}" in caplog.text
    assert not [row for row in rows if row["origin"] == "cache"]


# --------------------------------------------------------------------------- command line


def test_cli_refresh_then_show_lists_the_newer_tables(cache: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    clients, stubber = stubbed_clients(calls(REGIONS))
    result = run_cli(monkeypatch, clients, "--regions", "ap-south-1,us-east-1")
    assert result.exit_code == 0, result.output
    stubber.assert_no_pending_responses()
    lines = result.stdout.splitlines()
    assert any(line.startswith("rds_storage (AmazonRDS, 2 requests): 7 prices for 2 regions")
               for line in lines)
    assert any(line.startswith("elb (AWSELB, 2 requests): 4 prices for 1 region")
               for line in lines)
    assert "  no prices for us-east-1 (the figures used before, cached or embedded, stay in use)" \
        in lines
    total = len(calls(REGIONS))
    assert lines[-1] == f"{total} API requests (pricing:GetProducts, us-east-1)."
    nat_hour = pricing.nat_gateway_hourly_usd(MUMBAI)  # the refreshing process sees it at once
    assert nat_hour is not None and nat_hour.usd == 0.056
    shown = CliRunner().invoke(app, ["pricing", "show"])
    assert shown.exit_code == 0, shown.output
    today = refresh.today_utc()
    for name in ("rds_storage", "vpc", "s3", "cloudwatch", "elb"):
        assert f"{name}  as of {today}  {cache / f'{name}.json'}" in shown.stdout, name
    assert f"  {API} (AmazonEC2, AmazonVPC)" in shown.stdout
