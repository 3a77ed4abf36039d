"""Tests for the embedded price tables in rightsizer.pricing."""

from __future__ import annotations

import pytest

from rightsizer import pricing

MAIN_REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "ap-south-1", "ap-southeast-1",
                "ap-southeast-2", "ap-northeast-1", "eu-west-1", "eu-central-1", "eu-west-2",
                "ca-central-1", "sa-east-1"]


def test_every_table_has_source_and_as_of() -> None:
    rows = pricing.all_sources()
    assert {r["table"] for r in rows} >= {"fargate", "rds_postgres", "elasticache_redis", "s3",
                                          "cloudwatch", "vpc"}
    for row in rows:
        assert row["source"].strip()
        assert row["as_of"].strip()
        assert "http" in row["source"]


def test_fargate_covers_main_regions_with_positive_rates() -> None:
    regions = pricing.known_regions()
    for region in MAIN_REGIONS:
        assert region in regions
    for region in regions:
        rates = pricing.fargate_rates(region)
        assert rates is not None
        vcpu, gb = rates
        assert vcpu.usd > 0 and gb.usd > 0
        assert vcpu.unit == "vCPU-hour" and gb.unit == "GB-hour"
        assert vcpu.source and vcpu.as_of


def test_fargate_us_east_1_anchor() -> None:
    got = pricing.fargate_hourly_usd("us-east-1", 1024, 2048)
    assert got == pytest.approx(0.04048 + 2 * 0.004445)


def test_fargate_ap_south_1_anchor() -> None:
    rates = pricing.fargate_rates("ap-south-1")
    assert rates is not None
    assert rates[0].usd == pytest.approx(0.04256)
    # Price List figure; 0.004865 is ca-central-1's GB-hour rate.
    assert rates[1].usd == pytest.approx(0.004655)


def test_fargate_spot_cheaper_everywhere() -> None:
    for region in pricing.known_regions():
        od = pricing.fargate_hourly_usd(region, 512, 1024)
        spot = pricing.fargate_hourly_usd(region, 512, 1024, spot=True)
        assert od is not None and spot is not None
        assert 0 < spot < od


def test_fargate_spot_falls_back_to_documented_discount() -> None:
    # ap-south-1 has no observed Spot rate, so on-demand x 0.3 is used.
    od = pricing.fargate_hourly_usd("ap-south-1", 1024, 2048)
    spot = pricing.fargate_hourly_usd("ap-south-1", 1024, 2048, spot=True)
    assert od is not None and spot == pytest.approx(od * 0.30)


def test_fargate_unknown_region() -> None:
    assert pricing.fargate_rates("mars-north-1") is None
    assert pricing.fargate_hourly_usd("mars-north-1", 256, 512) is None


def test_rds_anchor_us_east_1() -> None:
    single = pricing.rds_hourly_usd("us-east-1", "db.t3.micro", multi_az=False)
    multi = pricing.rds_hourly_usd("us-east-1", "db.t3.micro", multi_az=True)
    assert single is not None and multi is not None
    assert single.usd == pytest.approx(0.018)
    assert multi.usd == pytest.approx(0.036)
    small = pricing.rds_hourly_usd("us-east-1", "DB.T3.SMALL", multi_az=False)
    assert small is not None and small.usd == pytest.approx(0.036)


@pytest.mark.parametrize("region", ["us-east-1", "ap-south-1"])
def test_rds_multi_az_is_double_for_t3(region: str) -> None:
    for cls in pricing.rds_classes_in_family("db.t3"):
        single = pricing.rds_hourly_usd(region, cls, multi_az=False)
        multi = pricing.rds_hourly_usd(region, cls, multi_az=True)
        assert single is not None and multi is not None, cls
        assert multi.usd == pytest.approx(2 * single.usd)


def test_rds_reserved_cheaper_than_on_demand_for_every_class() -> None:
    checked = 0
    for region in ["us-east-1", "ap-south-1", "eu-west-1", "ap-southeast-1", "us-west-2",
                   "eu-central-1"]:
        for family in ["db.t3", "db.t4g", "db.m5", "db.m6g", "db.r5", "db.r6g"]:
            for cls in pricing.rds_classes_in_family(family):
                for multi_az in (False, True):
                    od = pricing.rds_hourly_usd(region, cls, multi_az=multi_az)
                    ri = pricing.rds_hourly_usd(region, cls, multi_az=multi_az,
                                                term="1yr-no-upfront")
                    assert (od is None) == (ri is None)
                    if od is not None and ri is not None:
                        assert 0 < ri.usd < od.usd
                        checked += 1
    assert checked > 100


def test_rds_main_regions_cover_required_families() -> None:
    for region in ["us-east-1", "ap-south-1"]:
        for family in ["db.t3", "db.m5", "db.m6g", "db.r5", "db.r6g"]:
            for cls in pricing.rds_classes_in_family(family):
                assert pricing.rds_hourly_usd(region, cls, multi_az=False) is not None, cls


def test_rds_unknowns_return_none() -> None:
    assert pricing.rds_hourly_usd("mars-north-1", "db.t3.micro", multi_az=False) is None
    assert pricing.rds_hourly_usd("us-east-1", "db.z9.huge", multi_az=False) is None
    assert pricing.rds_hourly_usd("us-east-1", "db.t3.micro", multi_az=False,
                                  engine="mysql") is None
    assert pricing.rds_hourly_usd("us-east-1", "db.t3.micro", multi_az=False,
                                  term="3yr-all-upfront") is None


def test_rds_classes_in_family_ordering() -> None:
    assert pricing.rds_classes_in_family("db.t3") == [
        "db.t3.micro", "db.t3.small", "db.t3.medium", "db.t3.large", "db.t3.xlarge",
        "db.t3.2xlarge"]
    assert pricing.rds_classes_in_family("db.r6g") == [
        "db.r6g.large", "db.r6g.xlarge", "db.r6g.2xlarge", "db.r6g.4xlarge"]
    assert pricing.rds_classes_in_family("db.nope") == []


def test_rds_storage() -> None:
    single = pricing.rds_storage_gb_month_usd("us-east-1", "gp3", multi_az=False)
    multi = pricing.rds_storage_gb_month_usd("us-east-1", "GP3", multi_az=True)
    assert single is not None and multi is not None
    assert multi.usd == pytest.approx(2 * single.usd)
    assert single.unit == "GB-month"
    assert pricing.rds_storage_gb_month_usd("us-east-1", "io9", multi_az=False) is None
    assert pricing.rds_storage_gb_month_usd("mars-north-1", "gp2", multi_az=False) is None


def test_elasticache_reserved_cheaper_and_anchors() -> None:
    micro = pricing.elasticache_hourly_usd("us-east-1", "cache.t3.micro")
    assert micro is not None and micro.usd == pytest.approx(0.017)
    for region in ["us-east-1", "ap-south-1"]:
        for node in ["cache.t3.micro", "cache.t4g.micro", "cache.m6g.large", "cache.r6g.large"]:
            od = pricing.elasticache_hourly_usd(region, node)
            ri = pricing.elasticache_hourly_usd(region, node, term="1yr-no-upfront")
            assert od is not None and ri is not None, (region, node)
            assert 0 < ri.usd < od.usd
    assert pricing.elasticache_hourly_usd("us-east-1", "cache.x9.huge") is None
    assert pricing.elasticache_hourly_usd("mars-north-1", "cache.t3.micro") is None


def test_s3_class_ordering_and_case() -> None:
    std = pricing.s3_gb_month_usd("us-east-1", "STANDARD")
    ia = pricing.s3_gb_month_usd("us-east-1", "standard_ia")
    glacier = pricing.s3_gb_month_usd("us-east-1", "Glacier")
    deep = pricing.s3_gb_month_usd("us-east-1", "DEEP_ARCHIVE")
    assert std and ia and glacier and deep
    assert std.usd > ia.usd > glacier.usd > deep.usd
    assert std.usd == pytest.approx(0.023)
    assert pricing.s3_gb_month_usd("mars-north-1", "STANDARD") is None
    assert pricing.s3_gb_month_usd("us-east-1", "NOPE") is None
    # no openable source for lifecycle transition request prices: None, never a guess
    assert pricing.s3_transition_usd_per_1000("us-east-1", "STANDARD_IA") is None


def test_logs_and_api_constants() -> None:
    logs = pricing.logs_storage_gb_month_usd("us-east-1")
    assert logs is not None and logs.usd == pytest.approx(0.03)
    assert pricing.logs_storage_gb_month_usd("mars-north-1") is None
    # The module constants must agree with the sourced table.
    cw = pricing._embedded("cloudwatch")  # constants are never refreshed
    gmd = pricing.GET_METRIC_DATA_USD_PER_1000_METRICS
    assert cw["get_metric_data_usd_per_1000_metrics"] == pytest.approx(gmd)
    ce = pricing.COST_EXPLORER_USD_PER_REQUEST
    assert cw["cost_explorer_usd_per_request"] == pytest.approx(ce)
    assert pricing.HOURS_PER_MONTH == 730.0
