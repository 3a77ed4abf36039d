"""End to end: a moto server holds an EduFly-like account; `rightsizer` runs as a subprocess
against it through AWS_ENDPOINT_URL, exactly as a user would run it against AWS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from rightsizer.demo.account import DemoAccount, build_demo_account
from rightsizer.rules.support.fargate_sizes import is_valid_size
from tests.conftest import FAKE_CREDENTIALS, free_port
from tests.support.moto_server import moto_server_config


@pytest.fixture(scope="module")
def moto_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # The server shares moto's process-wide state with in-process mocks: start from empty.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    yield endpoint
    server.stop()


@pytest.fixture(scope="module")
def account(moto_endpoint: str) -> DemoAccount:
    env = {**FAKE_CREDENTIALS}
    old = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        session = boto3.Session(region_name="ap-south-1")
        return build_demo_account(session, now=datetime.now(UTC), days=14,
                                  endpoint_url=moto_endpoint)
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_cli(args: list[str], endpoint: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The module's fixtures run outside the autouse fixture's environment: without a cache
    # of this process's own, Cost Explorer answers cached by an earlier run (~/.cache) came back.
    env = {**os.environ, **FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint,
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
           "XDG_CACHE_HOME": str(Path(tempfile.gettempdir()) / f"rightsizer-e2e-{os.getpid()}")}
    return subprocess.run([sys.executable, "-m", "rightsizer", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def analyzed(moto_endpoint: str, account: DemoAccount,
             tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """One `analyze` of the account for the whole module (each run is the slow part), with
    --fail-on low: the demo has low findings, so it exits 1 after writing the report."""
    out = tmp_path_factory.mktemp("report")
    config = moto_server_config(tmp_path_factory.mktemp("config"))
    result = run_cli(["analyze", "--output", str(out), "--format", "json,html",
                      "--region", "ap-south-1", "--quiet", "--fail-on", "low",
                      "--config", str(config)],
                     moto_endpoint, out)
    return result, out


@pytest.fixture(scope="module")
def report(analyzed: tuple[subprocess.CompletedProcess, Path]) -> dict:
    result, out = analyzed
    assert result.returncode in (0, 1), result.stderr
    assert (out / "report.html").is_file()
    return json.loads((out / "report.json").read_text())


def findings(report: dict, rule: str) -> dict[str, dict]:
    return {f["name"]: f for f in report["findings"] if f["rule"] == rule}


def skipped(report: dict, rule: str) -> dict[str, dict]:
    return {s["name"]: s for s in report["skipped"] if s["rule"] == rule}


def test_over_provisioned_service_gets_a_smaller_valid_size(report, account):
    admin = findings(report, "ecs-rightsize")[account.services["admin"]]
    current, recommended = admin["current"], admin["recommended"]
    assert is_valid_size(recommended["cpu"], recommended["memory"])
    assert recommended["cpu"] * recommended["memory"] < current["cpu"] * current["memory"]
    assert admin["monthly_savings_usd"] > 0
    assert admin["evidence"]["cpu_max_percent"] * current["cpu"] / 100 <= recommended["cpu"]


def test_last_years_term_end_read_through_cloudwatch_holds_the_admin_size(report, account):
    # the demo account's admin service peaked a year ago in the weeks after today's date: the
    # daily series a year back goes through moto, the collector and the rule
    evidence = findings(report, "ecs-rightsize")[account.services["admin"]]["evidence"]
    assert evidence["year_ago"] == "compared"
    assert evidence["cpu_year_ago_rise"] > 1.5
    assert evidence["cpu_seasonal_peak_percent"] > evidence["cpu_max_percent"]
    admin = findings(report, "ecs-rightsize")[account.services["admin"]]
    seasonal_units = evidence["cpu_seasonal_peak_percent"] / 100 * admin["current"]["cpu"]
    assert admin["recommended"]["cpu"] >= seasonal_units * 1.2  # with the full headroom
    assert "last year's season" in admin["reason"]


def test_low_average_high_peak_service_is_not_downsized(report, account):
    assert account.services["api"] not in findings(report, "ecs-rightsize")


def test_service_with_little_data_is_skipped_as_insufficient(report, account):
    row = skipped(report, "ecs-rightsize")[account.services["notifications"]]
    assert row["reason"] == "insufficient-data"


def test_pinned_service_is_a_risk_with_a_larger_size_not_a_finding(report, account):
    [risk] = [r for r in report["risks"] if r["name"] == account.services["report-cards"]]
    assert (risk["rule"], risk["severity"]) == ("ecs-underprovisioned", "high")
    assert risk["recommended"] == {"cpu": 512, "memory": 1024}
    assert risk["monthly_cost_change_usd"] > 0
    assert "aws ecs register-task-definition" in risk["how_to_apply"]["cli"]
    assert account.services["report-cards"] not in findings(report, "ecs-rightsize")


def test_background_worker_without_load_balancer_gets_spot(report, account):
    worker = findings(report, "ecs-fargate-spot")[account.services["worker"]]
    assert worker["recommended"]["capacity_provider"] == "FARGATE_SPOT"
    assert worker["monthly_savings_usd"] > 0


def test_service_behind_load_balancer_gets_no_spot_finding(report, account):
    assert account.services["api"] not in findings(report, "ecs-fargate-spot")
    assert skipped(report, "ecs-fargate-spot")[account.services["api"]]["reason"] == \
        "not-applicable"


def test_running_database_without_reservation_gets_a_finding(report, account):
    primary = findings(report, "rds-reserved-instance")[account.databases["primary"]]
    assert primary["recommended"] == {"term": "1yr", "offering": "No Upfront"}
    assert primary["current"]["multi_az"] is True
    assert primary["monthly_savings_usd"] > 0
    # moto has no DescribeReservedDBInstances: the finding says so and an error row records it
    assert "could not be read" in primary["reason"]
    assert any(e["operation"] == "DescribeReservedDBInstances" for e in report["errors"])


def test_stopped_database_gets_no_reservation_finding(report, account):
    assert account.databases["staging"] not in findings(report, "rds-reserved-instance")
    assert skipped(report, "rds-reserved-instance")[account.databases["staging"]]["reason"] == \
        "not-applicable"


def test_buckets_without_lifecycle_or_only_disabled_rules_get_findings(report, account):
    s3 = findings(report, "s3-lifecycle")
    assert s3[account.buckets["documents"]]["current"] == {"lifecycle": "absent"}
    assert s3[account.buckets["exports"]]["current"] == {"lifecycle": "disabled"}
    assert account.buckets["assets"] not in s3


def test_report_matches_the_design_schema(report):
    assert report["schema_version"] == "1"
    contract = {"schema_version", "generated_at", "window", "accounts", "regions", "summary",
                "findings", "skipped", "errors"}
    assert contract <= set(report)
    # additions to schema_version "1"
    assert set(report) - contract <= {"inventory", "plans", "risks", "notices"}
    assert report["inventory"]["empty"] is False
    assert report["summary"]["findings"] == len(report["findings"])
    # each resource counts once, in its plan: overlapping findings never add up
    planned = [step for plan in report["plans"] for step in plan["steps"]]
    assert len(planned) == len(set(planned))
    assert {plan["resource_id"] for plan in report["plans"]} == {
        f["resource_id"] for f in report["findings"]}
    assert report["summary"]["monthly_savings_usd"] == pytest.approx(
        sum(plan["monthly_savings_usd"] for plan in report["plans"]), abs=0.05)
    for finding in report["findings"]:
        assert finding["severity"] in {"high", "medium", "low"}
        assert len(finding["id"]) == 16
    savings = [f["monthly_savings_usd"] for f in report["findings"]]
    assert savings == sorted(savings, reverse=True)


def test_every_finding_names_its_price_basis_and_the_plan_shows_in_the_savings(report):
    for finding in report["findings"]:
        priced = finding["pricing"]
        assert priced["basis"] in {"account-effective", "price-list-cache", "embedded-list"}
        if not priced["rates"]:  # no sourced price in its region: it claims no saving
            assert finding["monthly_savings_usd"] == 0 == priced["list_monthly_savings_usd"]
            continue
        assert priced["as_of"]
    # the team's Compute Savings Plan covers part of Fargate: a right-size saves less than
    # list, and the Spot move saves less (Spot is not covered, the on-demand it leaves is)
    for rule in ("ecs-rightsize", "ecs-fargate-spot"):
        for finding in findings(report, rule).values():
            priced = finding["pricing"]
            assert priced["basis"] == "account-effective"
            assert finding["monthly_savings_usd"] < priced["list_monthly_savings_usd"]
    assert any("priced at the rates this account paid" in notice["text"]
               for notice in report["notices"])


def test_bad_config_exits_2_with_one_line(moto_endpoint, tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text("[analysis]\nlookback_days = -3\n")
    result = run_cli(["analyze", "--config", str(bad)], moto_endpoint, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "lookback_days" in lines[0] and str(bad) in lines[0]


def test_fail_on_exits_1_when_findings_reach_the_severity(analyzed, report):
    result, _ = analyzed
    assert result.returncode == 1, result.stderr
    # the findings that tripped it are named, even with --quiet
    tripped = [f for f in report["findings"] if f["severity"] in ("low", "medium", "high")]
    assert tripped and tripped[0]["name"] in result.stderr


# --- the rest of the bill: CloudFront, Route 53, log ingestion, summary.bill --------------------

def test_the_rules_examine_at_least_98_percent_of_the_demo_bill(report):
    bill = report["summary"]["bill"]
    assert bill["examined_share"] >= 0.98
    assert bill["examined_usd"] == pytest.approx(bill["monthly_usd"] * bill["examined_share"],
                                                 abs=0.05)
    lines = {line["service"]: line for line in bill["by_service"]}
    assert "cloudfront-idle" in lines["Amazon CloudFront"]["examined_by"]
    assert "route53-orphan-health-check" in lines["Amazon Route 53"]["examined_by"]
    assert {"logs-retention", "logs-ingestion"} <= set(lines["AmazonCloudWatch"]["examined_by"])
    assert lines["Tax"]["examined_by"] == [] and bill["tax_usd"] == lines["Tax"]["monthly_usd"]
    assert bill["unexamined"] == [name for name, line in lines.items()
                                  if not line["examined_by"] and name != "Tax"]


def test_the_demo_edge_leftovers_and_the_heaviest_log_group_are_found(report):
    idle = list(findings(report, "cloudfront-idle").values())
    assert [f["evidence"]["comment"] for f in idle] == ["edufly web (EC2 era)"]
    orphan = findings(report, "route53-orphan-health-check")
    assert list(orphan) == ["edufly-web-ec2"]
    assert orphan["edufly-web-ec2"]["evidence"]["kind"] == "deleted-load-balancer"
    assert orphan["edufly-web-ec2"]["monthly_savings_usd"] == 0.5
    ingestion = findings(report, "logs-ingestion")
    assert list(ingestion) == ["/ecs/edufly-api"]
    assert ingestion["/ecs/edufly-api"]["monthly_cost_usd"] > 5


def _run_pasted(cli: str, endpoint: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint,
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", cli], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_health_check_and_distribution_commands_work_as_pasted(report, moto_endpoint,
                                                                  tmp_path):
    # runs last in this module: it deletes what the report found
    session = boto3.Session(**{"region_name": "us-east-1",
                               "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                               "aws_secret_access_key": "testing"})
    route53 = session.client("route53", endpoint_url=moto_endpoint)
    cloudfront = session.client("cloudfront", endpoint_url=moto_endpoint)
    check = next(iter(findings(report, "route53-orphan-health-check").values()))
    result = _run_pasted(check["how_to_apply"]["cli"], moto_endpoint, tmp_path)
    assert result.returncode == 0, result.stderr
    left = {hc["Id"] for hc in route53.list_health_checks()["HealthChecks"]}
    assert check["resource_id"].rsplit("/", 1)[-1] not in left and len(left) == 1
    idle = next(iter(findings(report, "cloudfront-idle").values()))
    result = _run_pasted(idle["how_to_apply"]["cli"], moto_endpoint, tmp_path)
    assert result.returncode == 0, result.stderr
    remaining = cloudfront.list_distributions()["DistributionList"].get("Items", [])
    assert [d["Comment"] for d in remaining] == ["edufly static assets"]
