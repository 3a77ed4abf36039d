"""Collection end to end: regions, accounts, pagination, batching, failures, cache, snapshots.

moto covers what it implements faithfully (regions, AssumeRole into another account); the
synthetic AWS (tests.support.synthetic_aws) covers scale, pagination, throttling and
injected failures quickly.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from rightsizer.aws.clients import AwsClients
from rightsizer.cli import app
from rightsizer.collect.collectors import cloudwatch
from rightsizer.collect.collectors.base import ErrorLog, Target
from rightsizer.collect.collectors.costs import MonthlyCache
from rightsizer.collect.run import collect_snapshot
from rightsizer.config import Config
from rightsizer.pricing import HOURS_PER_MONTH, basis
from rightsizer.pricing.basis import settle
from rightsizer.pricing.restate import snapshot_rates
from rightsizer.report.build import analyze
from rightsizer.rules.findings import Finding
from rightsizer.rules.support.ecs_common import ecs_services
from rightsizer.snapshot.store import Snapshot, merge_snapshots
from tests.support.synthetic_aws import SyntheticAws, SyntheticSpec

NOW = datetime(2026, 1, 15, 6, tzinfo=UTC)
ACCOUNTS = ("111111111111", "222222222222")
REGIONS = ("us-east-1", "ap-south-1")


def config(**aws: object) -> Config:
    settings = {"regions": list(REGIONS), "accounts": list(ACCOUNTS), "role_name": "R", **aws}
    return Config.model_validate({"aws": settings})


def small_spec(**changes: object) -> SyntheticSpec:
    values: dict = {"latency": 0, "accounts": ACCOUNTS, "regions": REGIONS, "ecs_services": 16,
                    "rds_instances": 8, "buckets": 12, "suspended_accounts": ()}
    values.update(changes)
    return SyntheticSpec(**values)


def collect(fake: SyntheticAws, cfg: Config | None = None, cache: MonthlyCache | None = None,
            **kwargs: object) -> Snapshot:
    return collect_snapshot(cfg or config(), fake.session(), now=NOW,
                            cost_cache=cache or MonthlyCache(None, NOW.date()), **kwargs)


@pytest.fixture
def fake():
    fake = SyntheticAws(small_spec())
    with fake.installed():
        yield fake


# --- moto ----------------------------------------------------------------------------------

def _moto_resources(session: boto3.Session, region: str, name: str) -> None:
    ecs = session.client("ecs", region_name=region)
    ecs.create_cluster(clusterName=f"{name}-cluster")
    ecs.register_task_definition(family=name, requiresCompatibilities=["FARGATE"],
                                 networkMode="awsvpc", cpu="512", memory="1024",
                                 containerDefinitions=[{"name": "app", "image": "nginx"}])
    ecs.create_service(cluster=f"{name}-cluster", serviceName=name, taskDefinition=name,
                       desiredCount=1, launchType="FARGATE")
    session.client("rds", region_name=region).create_db_instance(
        DBInstanceIdentifier=f"{name}-db", DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="admin", MasterUserPassword="password123", AllocatedStorage=20)


def test_moto_resources_of_every_region_are_collected_with_their_region():
    from moto import mock_aws

    with mock_aws():
        session = boto3.Session(region_name="ap-south-1")
        _moto_resources(session, "ap-south-1", "mumbai")
        _moto_resources(session, "us-east-1", "virginia")
        cfg = Config.model_validate({"aws": {"regions": ["ap-south-1", "us-east-1"]}})
        snapshot = collect_snapshot(cfg, session, now=datetime.now(UTC),
                                    cost_cache=MonthlyCache(None, NOW.date()))
    services = snapshot.table("ecs_services").set_index("service")["region"].to_dict()
    assert services == {"mumbai": "ap-south-1", "virginia": "us-east-1"}
    databases = snapshot.table("rds_instances").set_index("db_instance_id")["region"].to_dict()
    assert databases == {"mumbai-db": "ap-south-1", "virginia-db": "us-east-1"}


def test_moto_assumed_role_collects_the_other_accounts_resources_under_its_id():
    from moto import mock_aws

    with mock_aws():
        session = boto3.Session(region_name="ap-south-1")
        home = session.client("sts").get_caller_identity()["Account"]
        other = "222233334444"
        credentials = session.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{other}:role/R", RoleSessionName="setup")["Credentials"]
        second = boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                               aws_secret_access_key=credentials["SecretAccessKey"],
                               aws_session_token=credentials["SessionToken"],
                               region_name="ap-south-1")
        assert second.client("sts").get_caller_identity()["Account"] == other
        _moto_resources(session, "ap-south-1", "home")
        _moto_resources(second, "ap-south-1", "member")
        cfg = Config.model_validate({"aws": {"regions": ["ap-south-1"],
                                             "accounts": [home, other], "role_name": "R"}})
        snapshot = collect_snapshot(cfg, session, now=datetime.now(UTC),
                                    cost_cache=MonthlyCache(None, NOW.date()))
    services = snapshot.table("ecs_services").set_index("service")["account"].to_dict()
    assert services == {"home": home, "member": other}
    assert sorted(snapshot.manifest["accounts"]) == sorted([home, other])


# --- pagination and batching -------------------------------------------------------------

def test_list_services_and_describe_db_instances_follow_their_tokens():
    fake = SyntheticAws(small_spec(ecs_services=4 * 230, services_per_cluster=230,
                                   rds_instances=4 * 130, buckets=0))
    with fake.installed():
        snapshot = collect(fake)
    assert len(snapshot.table("ecs_services")) == 920
    assert len(snapshot.table("rds_instances")) == 520
    # 230 services a cluster at 100 a page: 3 ListServices pages in each of 4 places
    assert fake.calls["ecs:ListServices"] == 12
    assert fake.calls["rds:DescribeDBInstances"] == 8  # 130 instances: 100 + 30
    assert fake.calls["ecs:DescribeServices"] == 4 * 23


def _target(fake: SyntheticAws) -> Target:
    return Target(ACCOUNTS[0], REGIONS[0], AwsClients(fake.session()))


def _queries(count: int, period: int) -> list[cloudwatch.MetricQuery]:
    return [cloudwatch.MetricQuery("AWS/ECS", "CPUUtilization",
                                   (("ClusterName", "c"), ("ServiceName", f"s{i}")), "Average",
                                   period, f"c/s{i}") for i in range(count)]


def test_1200_queries_take_three_calls(fake):
    errors = ErrorLog()
    frame = cloudwatch.fetch_metrics(_target(fake), errors, _queries(1200, 3600),
                                     NOW - timedelta(days=8), NOW)
    assert fake.calls["cloudwatch:GetMetricData"] == 3  # 500 + 500 + 200 (192 points each)
    assert fake.metric_queries == 1200  # each series asked for (and billed) once
    assert len(frame) == 1200 * 192 and not errors.rows


def test_queries_are_packed_by_datapoints_not_sliced_in_time(fake):
    frame = cloudwatch.fetch_metrics(_target(fake), ErrorLog(), _queries(836, 3600),
                                     NOW - timedelta(days=14), NOW)
    # 336 points a series: 300 fit in 100,800 datapoints, so 3 calls (not 2 x 2 slices)
    assert fake.calls["cloudwatch:GetMetricData"] == 3
    assert fake.metric_queries == 836
    assert len(frame) == 836 * 336


def test_a_series_longer_than_a_call_is_sliced_in_time(fake):
    frame = cloudwatch.fetch_metrics(_target(fake), ErrorLog(), _queries(2, 60),
                                     NOW - timedelta(days=90), NOW)
    # 129,600 one-minute points a series > 100,800: two slices each
    assert fake.calls["cloudwatch:GetMetricData"] == 4
    assert len(frame) == 2 * 129_600
    assert frame["timestamp"].is_unique is False  # two series share timestamps
    assert frame.groupby("resource")["timestamp"].nunique().tolist() == [129_600, 129_600]


def test_daily_series_take_one_call_not_a_stub_for_the_last_hours(fake):
    cloudwatch.fetch_metrics(_target(fake), ErrorLog(), _queries(10, 86_400),
                             NOW - timedelta(days=14), NOW)
    assert fake.calls["cloudwatch:GetMetricData"] == 1


def test_get_metric_data_next_token_is_followed():
    fake = SyntheticAws(small_spec(metric_page_datapoints=1_000))
    with fake.installed():
        frame = cloudwatch.fetch_metrics(_target(fake), ErrorLog(), _queries(10, 3600),
                                         NOW - timedelta(days=14), NOW)
    assert fake.calls["cloudwatch:GetMetricData"] == 4  # 3,360 points, 1,000 a page
    assert len(frame) == 3_360
    assert frame.groupby("resource").size().eq(336).all()


# --- failures ------------------------------------------------------------------------------

def test_throttled_calls_are_retried_and_leave_no_error():
    fake = SyntheticAws(small_spec(throttle=0.15, seed=3))
    with fake.installed():
        snapshot = collect(fake)
    assert sum(fake.throttled.values()) > 0
    assert snapshot.table("errors").empty
    assert len(snapshot.table("ecs_services")) == 16
    assert len(snapshot.table("s3_buckets")) == 12
    assert not snapshot.table("metrics").empty


def test_access_denied_in_one_region_is_an_error_row_and_the_rest_is_collected():
    fake = SyntheticAws(small_spec(deny=[(None, "ap-south-1", "ecs")]))
    with fake.installed():
        snapshot = collect(fake)
    errors = snapshot.table("errors")
    assert set(errors["region"]) == {"ap-south-1"} and set(errors["service"]) == {"ecs"}
    assert set(errors["code"]) == {"AccessDeniedException"}
    services = snapshot.table("ecs_services")
    assert set(services["region"]) == {"us-east-1"} and len(services) == 8
    assert set(snapshot.table("rds_instances")["region"]) == set(REGIONS)


def test_an_account_whose_role_cannot_be_assumed_is_an_error_row():
    fake = SyntheticAws(small_spec(unassumable={ACCOUNTS[1]}))
    with fake.installed():
        snapshot = collect(fake)
    errors = snapshot.table("errors").to_dict("records")
    assert [(e["account"], e["service"], e["operation"]) for e in errors] == \
        [(ACCOUNTS[1], "sts", "AssumeRole")]
    assert snapshot.manifest["accounts"] == [ACCOUNTS[0]]
    assert set(snapshot.table("ecs_services")["account"]) == {ACCOUNTS[0]}


def test_organization_accounts_are_listed_and_only_active_ones_assumed():
    fake = SyntheticAws(small_spec(suspended_accounts=("999999999999",)))
    with fake.installed():
        snapshot = collect(fake, config(accounts=[], organization=True))
    assert sorted(snapshot.manifest["accounts"]) == list(ACCOUNTS)
    assert fake.calls["organizations:ListAccounts"] == 1
    assert fake.calls["sts:AssumeRole"] == 2
    assert set(snapshot.table("ecs_services")["account"]) == set(ACCOUNTS)


# --- cache and snapshots -------------------------------------------------------------------

def test_cost_explorer_answers_are_cached_for_the_month(fake, tmp_path):
    collect(fake, cache=MonthlyCache(tmp_path, NOW.date()))
    assert sum(n for name, n in fake.calls.items() if name.startswith("ce:")) > 0
    fake.reset_counts()
    second = collect(fake, cache=MonthlyCache(tmp_path, NOW.date()))
    assert sum(n for name, n in fake.calls.items() if name.startswith("ce:")) == 0
    assert not second.table("costs").empty


def _report_without_run_data(report: dict) -> dict:
    return {key: report[key] for key in ("findings", "summary", "skipped", "accounts",
                                         "regions", "window")}


def test_saved_snapshot_reports_the_same_as_analyze(fake, tmp_path):
    snapshot = collect(fake)
    expected, _ = analyze(snapshot, Config())
    assert expected["findings"], "the synthetic organization should produce findings"
    snapshot.save(tmp_path / "snapshot")
    config_file = tmp_path / "config.toml"
    config_file.write_text("")
    result = CliRunner().invoke(app, ["report", str(tmp_path / "snapshot"), "--config",
                                      str(config_file), "--output", str(tmp_path / "out"),
                                      "--format", "json", "--quiet"])
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "out" / "report.json").read_text())
    assert _report_without_run_data(written) == \
        json.loads(json.dumps(_report_without_run_data(expected), default=str))


def test_merged_account_shards_equal_one_run_over_both(fake, tmp_path: Path):
    whole = collect(fake)
    shards = [collect(fake, account_filter={account}) for account in ACCOUNTS]
    for index, shard in enumerate(shards):
        shard.save(tmp_path / f"shard{index}")
    merged = merge_snapshots([Snapshot.load(tmp_path / f"shard{i}") for i in range(2)])
    assert merged.manifest["accounts"] == sorted(ACCOUNTS)
    one, _ = analyze(whole, Config())
    two, _ = analyze(merged, Config())
    assert one["findings"] and one["findings"] == two["findings"]
    assert one["summary"] == two["summary"]


@mock_aws
def test_cost_explorer_reservation_reads_are_asked_only_where_they_can_answer():
    from rightsizer.aws.clients import CallRecorder
    from rightsizer.config import _validate

    session = boto3.Session(region_name="ap-south-1")
    config = _validate({"aws": {"regions": ["ap-south-1"]}}, "test")
    empty = CallRecorder()
    collect_snapshot(config, session, recorder=empty)
    assert not [name for name in empty.calls if name.startswith("ce:GetReservation")]

    session.client("rds").create_db_instance(
        DBInstanceIdentifier="edufly-db", DBInstanceClass="db.t3.small", Engine="postgres",
        AllocatedStorage=20, MasterUsername="edufly", MasterUserPassword="not-a-secret-1")
    with_db = CallRecorder()
    collect_snapshot(config, boto3.Session(region_name="ap-south-1"), recorder=with_db)
    # one purchase recommendation (RDS); no utilization/coverage without reservations
    assert with_db.calls["ce:GetReservationPurchaseRecommendation"] == 1
    assert "ce:GetReservationUtilization" not in with_db.calls


def test_bucket_tags_come_from_the_tagging_api_in_bulk_not_one_call_a_bucket(fake):
    snapshot = collect(fake)
    buckets = snapshot.table("s3_buckets")
    assert len(buckets) == 12
    assert fake.calls["resourcegroupstaggingapi:GetResources"] == 4  # 2 accounts x 2 regions
    assert fake.calls["s3:GetBucketTagging"] == 0
    tagged = [json.loads(tags) for tags in buckets["tags"] if json.loads(tags)]
    assert 0 < len(tagged) < len(buckets)  # every other bucket carries a team tag
    assert all(set(tags) == {"team"} for tags in tagged)


def test_bucket_tags_are_read_one_by_one_when_the_tagging_api_is_refused():
    bulk = SyntheticAws(small_spec())
    with bulk.installed():
        expected = collect(bulk).table("s3_buckets")
    refused = SyntheticAws(small_spec(deny=[(None, None, "resourcegroupstaggingapi")]))
    with refused.installed():
        snapshot = collect(refused)
    assert refused.calls["s3:GetBucketTagging"] == 12
    assert snapshot.table("errors").empty  # a refused shortcut is not a lost resource
    by_name = dict(zip(snapshot.table("s3_buckets")["bucket"],
                       snapshot.table("s3_buckets")["tags"], strict=True))
    assert by_name == dict(zip(expected["bucket"], expected["tags"], strict=True))


# --- what a run pays for -------------------------------------------------------------------

def _ce_cost_calls(fake: SyntheticAws) -> int:
    """Monthly cost requests: each Savings Plans read (one GetSavingsPlansCoverage) also asks
    GetCostAndUsage once, for the hourly Fargate spend."""
    return fake.calls.get("ce:GetCostAndUsage", 0) - fake.calls.get(
        "ce:GetSavingsPlansCoverage", 0)


def test_several_accounts_ask_cost_explorer_once_from_the_caller(fake):
    snapshot = collect(fake)
    # one by SERVICE for the bill, two by USAGE_TYPE for the rates each account pays
    assert _ce_cost_calls(fake) == 1 + 2
    costs = snapshot.table("costs")
    # the payer's one answer is split by linked account, each row under its own account
    assert set(costs["account"]) == set(ACCOUNTS)
    per_account = costs.groupby("account")["amount_usd"].sum()
    assert per_account[ACCOUNTS[0]] != per_account[ACCOUNTS[1]]


def test_each_accounts_ecs_services_at_its_own_rates_are_what_cost_explorer_says_ecs_cost(fake):
    snapshot = collect(fake)
    rates = snapshot_rates(snapshot)
    usage = snapshot.table("ce_usage")
    # the payer's compute answer by linked account; its storage answer (none here) payer-wide
    assert set(usage["account"]) == set(ACCOUNTS)
    for account in ACCOUNTS:
        billed = usage[usage["account"] == account]["amortized_usd"].sum()
        ours = 0.0
        for view in ecs_services(snapshot):
            if view.account != account:
                continue
            hourly = view.hourly_usd(view.cpu_units, view.memory_mib)
            assert hourly is not None
            finding = Finding(rule="ecs-rightsize", resource_type="ecs-service",
                              resource_id=view.arn, name=view.name, account=account,
                              region=view.region, current={}, recommended={},
                              monthly_cost_usd=hourly * HOURS_PER_MONTH * view.task_count,
                              monthly_savings_usd=0.0, evidence={}, reason="",
                              pricing=basis(*view.prices()))
            settle(finding, rates)
            assert finding.pricing.basis == "account-effective"
            ours += finding.monthly_cost_usd
        assert ours == pytest.approx(billed, rel=0.05)  # 730 h against December's 744


def test_accounts_the_callers_cost_explorer_cannot_see_are_asked_directly():
    fake = SyntheticAws(small_spec(payer_account="444444444444"))
    with fake.installed():
        snapshot = collect(fake)
    # the caller (a member, not the payer) sees only itself; the other account is asked
    # (its costs; its usage rates stay list prices rather than cost two more requests)
    assert _ce_cost_calls(fake) == 2 + 2
    assert set(snapshot.table("costs")["account"]) == set(ACCOUNTS)


def test_each_account_mode_asks_every_account(fake):
    snapshot = collect(fake, config(cost_explorer="each-account"))
    assert _ce_cost_calls(fake) == 2 * len(ACCOUNTS)  # costs by service and by usage type
    assert set(snapshot.table("costs")["account"]) == set(ACCOUNTS)


def test_shards_in_caller_mode_never_count_a_cost_twice(fake):
    whole = collect(fake).table("costs")
    shards = [collect(fake, account_filter={account}).table("costs") for account in ACCOUNTS]
    assert [set(shard["account"]) for shard in shards] == [{account} for account in ACCOUNTS]
    assert sum(shard["amount_usd"].sum() for shard in shards) == \
        pytest.approx(whole["amount_usd"].sum())


def test_only_the_statistics_rules_read_are_fetched(fake):
    metrics = collect(fake).table("metrics")
    ecs = metrics[metrics["namespace"] == "AWS/ECS"]
    # the hourly Maximum of the window and of the sizing history before it, and
    # ecs-rightsize's daily Maximum of a year ago
    assert not ecs.empty and set(ecs["stat"]) == {"Maximum", "Maximum@history",
                                                  "Maximum@year-ago"}
    rds = metrics[metrics["namespace"] == "AWS/RDS"]
    assert set(zip(rds["metric"], rds["stat"], strict=True)) == {
        ("CPUUtilization", "Maximum"), ("FreeableMemory", "Minimum"),
        ("DatabaseConnections", "Maximum")}


def test_bucket_sizes_are_fetched_only_for_buckets_without_tiering(fake):
    snapshot = collect(fake)
    buckets = snapshot.table("s3_buckets")
    tiering = {row["bucket"] for row in buckets.to_dict("records")
               if "Transition" in str(row["lifecycle_rules"])}
    assert tiering and len(tiering) < len(buckets), "the fixture needs both kinds of bucket"
    metrics = snapshot.table("metrics")
    sized = {resource.split("/")[0] for resource in
             metrics.loc[metrics["metric"] == "BucketSizeBytes", "resource"]}
    assert sized == set(buckets["bucket"]) - tiering


def test_a_disabled_rule_fetches_none_of_its_series(fake):
    cfg = Config.model_validate({"aws": config().aws.model_dump(),
                                 "rules": {"s3-lifecycle": {"enabled": False}}})
    metrics = collect(fake, cfg).table("metrics")
    assert not metrics.empty
    assert "AWS/S3" not in set(metrics["namespace"])


def test_the_sizing_history_is_one_query_a_series_over_the_long_range(fake):
    snapshot = collect(fake)
    window_start = NOW.replace(minute=0) - timedelta(days=14)
    history_start = NOW.replace(minute=0) - timedelta(days=56)
    assert snapshot.history_start == history_start
    metrics = snapshot.table("metrics")
    ecs = metrics[(metrics["namespace"] == "AWS/ECS") & (metrics["metric"] == "CPUUtilization")]
    hourly = ecs[ecs["stat"].isin(["Maximum", "Maximum@history"])]
    # the window's part under its own statistic, the weeks before it apart
    assert hourly.loc[hourly["stat"] == "Maximum", "timestamp"].min() >= window_start
    assert hourly.loc[hourly["stat"] == "Maximum@history", "timestamp"].max() < window_start
    assert hourly["timestamp"].min() == history_start
    # other rules' series keep the lookback window
    rds = metrics[metrics["namespace"] == "AWS/RDS"]
    assert rds["timestamp"].min() >= window_start
    # the window and the weeks before it are one query a series: as many series as the
    # window alone would have
    services = len(snapshot.table("ecs_services"))
    both = metrics[(metrics["namespace"] == "AWS/ECS") & metrics["stat"].isin(
        ["Maximum", "Maximum@history"])]
    assert len(both.groupby(["account", "region", "metric", "resource"])) == 2 * services
    # a history no longer than the lookback is the window alone, with as many queries
    only_window = collect(fake, Config.model_validate({
        "aws": config().aws.model_dump(), "analysis": {"sizing_history_days": 14}}))
    assert only_window.manifest["metric_queries"] == snapshot.manifest["metric_queries"]
    assert only_window.history_start == only_window.window_start
    assert "Maximum@history" not in set(only_window.table("metrics")["stat"])


def test_history_queries_are_packed_by_their_own_datapoints(fake):
    queries = [cloudwatch.MetricQuery("AWS/ECS", "CPUUtilization",
                                      (("ClusterName", "c"), ("ServiceName", f"s{i}")),
                                      "Maximum", 3600, f"c/s{i}", history=True)
               for i in range(150)]
    frame = cloudwatch.fetch_metrics(_target(fake), ErrorLog(), queries,
                                     NOW - timedelta(days=14), NOW, NOW - timedelta(days=56))
    # 1,344 points a series: 75 series fill a call's 100,800 datapoints, so 2 calls
    assert fake.calls["cloudwatch:GetMetricData"] == 2
    assert fake.metric_queries == 150
    assert len(frame) == 150 * 1344
    assert (frame["stat"] == "Maximum@history").sum() == 150 * (1344 - 336)
