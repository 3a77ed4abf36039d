"""The Slack summary: payload shape and limits, escaping, webhook retries, `rightsizer notify`."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from rightsizer import cli, pipeline
from rightsizer.config import SlackSettings
from rightsizer.errors import RightsizerError
from rightsizer.integrations import slack
from rightsizer.report.model import Report
from tests.conftest import free_port

HOOK_PATH = "/services/T0000/B0000/XXXXsecretTOKENXXXX"


def finding(index: int, name: str | None = None, savings: float = 40.0) -> dict[str, Any]:
    return {
        "id": f"{index:016x}",
        "rule": "ecs-rightsize",
        "severity": "high" if savings >= 25 else "medium" if savings >= 5 else "low",
        "resource_type": "ecs-service",
        "resource_id": f"arn:aws:ecs:ap-south-1:123456789012:service/edufly/svc-{index}",
        "name": name or f"edufly-svc-{index}",
        "account": "123456789012",
        "region": "ap-south-1",
        "current": {"cpu": 1024, "memory": 2048},
        "recommended": {"cpu": 512, "memory": 1024},
        "monthly_cost_usd": savings * 2,
        "monthly_savings_usd": savings,
        "evidence": {"cpu_p95_percent": 31.0, "memory_max_percent": 38.0, "coverage": 0.99},
        "reason": "CPU p95 31% and memory max 38% of the task size over 14 days",
    }


def sample_report(findings: list[dict[str, Any]] | None = None, errors: int = 1
                  ) -> dict[str, Any]:
    findings = findings if findings is not None else [
        finding(1, "edufly-api", 40.0),
        {**finding(2, "edufly-worker", 18.5), "rule": "ecs-fargate-spot",
         "current": {"capacity_provider": "FARGATE"},
         "recommended": {"capacity_provider": "FARGATE_SPOT"}},
        {**finding(3, "edufly-db", 61.2), "rule": "rds-reserved-instance",
         "resource_type": "rds-instance",
         "current": {"instance_class": "db.t4g.medium", "multi_az": True},
         "recommended": {"term": "1yr", "offering": "No Upfront"}},
    ]
    total = round(sum(f["monthly_savings_usd"] for f in findings), 2)
    return {
        "schema_version": "1",
        "generated_at": "2026-12-01T06:00:00Z",
        "window": {"start": "2026-11-17T00:00:00Z", "end": "2026-12-01T00:00:00Z", "days": 14},
        "accounts": ["123456789012"],
        "regions": ["ap-south-1"],
        "summary": {"findings": len(findings), "monthly_savings_usd": total, "by_rule": {}},
        "findings": findings,
        "skipped": [],
        "errors": [{"account": "123456789012", "region": "ap-south-1", "service": "rds",
                    "operation": "DescribeReservedDBInstances", "code": "AccessDenied",
                    "message": "not authorized"}] * errors,
    }


def texts(payload: dict[str, Any]) -> list[str]:
    """Every text string in the blocks."""
    found: list[str] = []
    for block in payload["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        for element in block.get("elements", []):
            found.append(element["text"])
    return found


# --- payload --------------------------------------------------------------------------------------

def test_payload_shape() -> None:
    payload = slack.build_blocks(sample_report(), report_url="https://reports.example.com/2026-12",
                                 history={"new": 2, "resolved": 1, "realized_savings_usd": 12.5})
    blocks = payload["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["type"] == "plain_text"
    assert "$119.70/month potential savings" in blocks[0]["text"]["text"]
    assert "ap-south-1" in blocks[0]["text"]["text"] and "14-day" in blocks[0]["text"]["text"]
    summary = blocks[1]["text"]["text"]
    assert "*Findings:* 3 (2 high, 1 medium)" in summary
    assert "2 new, 1 resolved, $12.50/month from resolved findings" in summary
    listing = "\n".join(texts(payload))
    # biggest first, with rule and current -> recommended
    assert listing.index("edufly-db") < listing.index("edufly-api") < listing.index("edufly-worker")
    assert "1 vCPU / 2 GB → 0.5 vCPU / 1 GB" in listing
    assert "db.t4g.medium Multi-AZ: 1-year No Upfront reservation" in listing
    assert "Fargate → Fargate Spot" in listing
    assert "*$61.20/month*" in listing
    assert "*Window:* 17 Nov → 1 Dec 2026 (14 days)" in summary
    context = blocks[-1]
    assert context["type"] == "context"
    assert "<https://reports.example.com/2026-12|open the report>" in context["elements"][0]["text"]
    assert "1 collection error" in context["elements"][1]["text"]
    assert context["elements"][2]["text"] == "Generated 1 Dec 2026, 06:00 UTC"
    assert payload["text"].startswith("rightsizer: $119.70/month potential savings in 3 findings")


def test_no_findings_and_no_link_says_how_to_set_one() -> None:
    payload = slack.build_blocks(sample_report([], errors=0), report_url=None)
    joined = "\n".join(texts(payload))
    assert "No findings" in joined
    assert payload["blocks"][-1]["elements"][0]["text"] == (
        "Full report: no link: set [slack] report_url, or [report] s3_bucket to upload the "
        "report and link it")
    assert "0 collection errors" in joined


def test_500_findings_stay_within_slack_limits() -> None:
    findings = [finding(i, f"service-{i}-" + "x" * 200, savings=1000 - i) for i in range(500)]
    payload = slack.build_blocks(sample_report(findings), report_url=None)
    blocks = payload["blocks"]
    assert len(blocks) <= slack.MAX_BLOCKS == 50
    assert len(blocks[0]["text"]["text"]) <= 150
    for block in blocks:
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
    assert sum(len(text) for text in texts(payload)) <= slack.TOTAL_BLOCK_TEXT_BUDGET
    assert len(payload["text"]) <= 40_000
    listed = sum(text.count("\n• ") + text.startswith("• ") for text in texts(payload))
    assert 1 <= listed <= slack.MAX_LISTED_FINDINGS
    assert f"…and {500 - listed} more" in "\n".join(texts(payload))


def test_aws_strings_are_escaped() -> None:
    evil = [finding(1, "<script>alert(1)</script>", 30), finding(2, "R&D <!channel>", 20),
            {**finding(3, "<http://evil.example|click me>", 10),
             "current": {"lifecycle": "<!here>"}, "account": "<@U123>"}]
    report = sample_report(evil)
    report["regions"] = ["ap-south-1", "<!everyone>"]
    payload = slack.build_blocks(report, report_url=None)
    raw = json.dumps(payload, ensure_ascii=False)
    for dangerous in ("<script>", "<!channel>", "<http://evil", "<!here>", "<@U123>",
                      "<!everyone>"):
        assert dangerous not in raw
    joined = "\n".join(texts(payload))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in joined
    assert "R&amp;D &lt;!channel&gt;" in joined
    assert "&lt;http://evil.example|click me&gt;" in joined
    assert "&amp;lt;" not in joined  # escaped once, not twice


def test_escape_order() -> None:
    assert slack.escape("a & <b>") == "a &amp; &lt;b&gt;"


# --- posting --------------------------------------------------------------------------------------

def test_429_with_retry_after_then_200(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(HOOK_PATH, method="POST").respond_with_data(
        "rate_limited", status=429, headers={"Retry-After": "0"})
    httpserver.expect_ordered_request(HOOK_PATH, method="POST").respond_with_data("ok")
    payload = slack.build_blocks(sample_report(), report_url=None)
    slack.post(payload, httpserver.url_for(HOOK_PATH), backoff=0.01)
    assert len(httpserver.log) == 2
    body = json.loads(httpserver.log[1][0].get_data())
    assert body["blocks"] == payload["blocks"]
    httpserver.check_assertions()


def test_5xx_retried_then_error_without_url(httpserver: HTTPServer) -> None:
    httpserver.expect_request(HOOK_PATH).respond_with_data("bad gateway", status=502)
    url = httpserver.url_for(HOOK_PATH)
    with pytest.raises(RightsizerError) as caught:
        slack.post({"text": "x"}, url, max_retries=2, backoff=0.01)
    assert str(caught.value) == "Slack webhook answered 502 after 3 attempts (bad gateway)"
    assert len(httpserver.log) == 3


def test_4xx_is_not_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_request(HOOK_PATH).respond_with_data("invalid_blocks", status=400)
    with pytest.raises(RightsizerError, match="answered 400 after 1 attempts"):
        slack.post({"text": "x"}, httpserver.url_for(HOOK_PATH), backoff=0.01)
    assert len(httpserver.log) == 1


def test_unreachable_webhook_names_no_url(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"http://127.0.0.1:{free_port()}{HOOK_PATH}"
    with pytest.raises(RightsizerError) as caught:
        slack.post({"text": "x"}, url, backoff=0.01)
    assert "could not be reached" in str(caught.value)
    assert "secretTOKEN" not in str(caught.value) and "secretTOKEN" not in caplog.text


def test_not_a_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(RightsizerError) as caught:
        slack.post({"text": "x"}, "hooks.slack.com/services/secretTOKEN")
    assert "secretTOKEN" not in str(caught.value)


# --- webhook URL ----------------------------------------------------------------------------------

def test_webhook_url_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_HOOK", "https://hooks.example.com/x")
    assert slack.webhook_url(SlackSettings(webhook_url_env="MY_HOOK")) == \
        "https://hooks.example.com/x"
    monkeypatch.delenv("MY_HOOK")
    with pytest.raises(RightsizerError, match="set the MY_HOOK environment variable"):
        slack.webhook_url(SlackSettings(webhook_url_env="MY_HOOK"))
    assert not slack.webhook_configured(SlackSettings(webhook_url_env="MY_HOOK"))


@pytest.mark.parametrize("stored", ["https://hooks.example.com/from-secret",
                                    '{"webhook_url": "https://hooks.example.com/from-secret"}'])
def test_webhook_url_from_secrets_manager(monkeypatch: pytest.MonkeyPatch, stored: str) -> None:
    monkeypatch.delenv("RIGHTSIZER_SLACK_WEBHOOK", raising=False)
    with mock_aws():
        arn = boto3.client("secretsmanager", region_name="ap-south-1").create_secret(
            Name="rightsizer/slack", SecretString=stored)["ARN"]
        for secret_id in ("rightsizer/slack", arn):
            settings = SlackSettings(secret_id=secret_id)
            assert slack.webhook_configured(settings)
            assert slack.webhook_url(settings) == "https://hooks.example.com/from-secret"
        with pytest.raises(RightsizerError, match="ResourceNotFoundException"):
            slack.webhook_url(SlackSettings(secret_id="missing"))


def test_a_secret_name_is_read_in_aws_region_and_without_a_region_is_one_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore reads AWS_DEFAULT_REGION but not AWS_REGION; a plain secret name is looked up in
    either. Without any region: one line naming the fix, never NoRegionError's traceback."""
    monkeypatch.delenv("RIGHTSIZER_SLACK_WEBHOOK", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with mock_aws():
        boto3.client("secretsmanager", region_name="eu-west-1").create_secret(
            Name="rightsizer/slack", SecretString="https://hooks.example.com/x")
        assert slack.webhook_url(SlackSettings(secret_id="rightsizer/slack")) == \
            "https://hooks.example.com/x"
        monkeypatch.delenv("AWS_REGION")
        with pytest.raises(RightsizerError) as raised:
            slack.webhook_url(SlackSettings(secret_id="rightsizer/slack"))
    assert str(raised.value) == (
        "cannot read the Slack webhook from Secrets Manager secret 'rightsizer/slack': no AWS "
        "region (set AWS_REGION, or name the resource by its ARN)")


# --- history ----------------------------------------------------------------------------------

def test_history_from_last_months_report(tmp_path: Path) -> None:
    old = sample_report([finding(1, savings=40), finding(2, savings=10)])
    new = sample_report([finding(1, savings=40), finding(3, savings=5), finding(4, savings=7)])
    for month, report in (("2026-10", sample_report([])), ("2026-11", old), ("2026-12", new)):
        (tmp_path / month).mkdir()
        (tmp_path / month / "report.json").write_text(json.dumps(report))
    current = tmp_path / "2026-12" / "report.json"
    assert slack.previous_report(current) == (tmp_path / "2026-11" / "report.json").resolve()
    assert slack.history_for(new, current) == {"new": 2, "resolved": 1,
                                               "realized_savings_usd": 10.0}
    assert slack.history_for(old, tmp_path / "2026-10" / "report.json") is None


# --- CLI ----------------------------------------------------------------------------------------

@pytest.fixture()
def report_file(tmp_path: Path) -> Path:
    path = tmp_path / "reports" / "2026-12" / "report.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(sample_report()))
    return path


@pytest.fixture()
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[report]\ndirectory = "{tmp_path / "reports"}"\nformats = ["json"]\n')
    return path


def test_notify_dry_run_prints_json_without_webhook(report_file: Path, config_file: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RIGHTSIZER_SLACK_WEBHOOK", raising=False)
    result = CliRunner().invoke(cli.app, ["notify", str(report_file), "--dry-run",
                                          "--config", str(config_file)])
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["blocks"][0]["type"] == "header"
    # a local path is no link for a Slack reader: never posted
    assert str(report_file.parent) not in json.dumps(payload)
    assert "set [slack] report_url" in json.dumps(payload)


def test_notify_posts(httpserver: HTTPServer, report_file: Path, config_file: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    monkeypatch.setenv("RIGHTSIZER_SLACK_WEBHOOK", httpserver.url_for(HOOK_PATH))
    result = CliRunner().invoke(cli.app, ["notify", str(report_file), "--config",
                                          str(config_file)])
    assert result.exit_code == 0, result.stderr
    assert len(httpserver.log) == 1
    assert json.loads(httpserver.log[0][0].get_data())["blocks"][0]["type"] == "header"


def test_notify_500_exits_2_with_one_line_and_no_url(
        httpserver: HTTPServer, report_file: Path, config_file: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    httpserver.expect_request(HOOK_PATH).respond_with_data("internal error", status=500)
    url = httpserver.url_for(HOOK_PATH)
    monkeypatch.setenv("RIGHTSIZER_SLACK_WEBHOOK", url)
    monkeypatch.setattr(slack, "DEFAULT_BACKOFF_SECONDS", 0.01)
    result = CliRunner().invoke(cli.app, ["notify", str(report_file), "--config",
                                          str(config_file)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "rightsizer: Slack webhook answered 500 after 4 attempts (internal error)"]
    assert len(httpserver.log) == 1 + slack.DEFAULT_MAX_RETRIES
    for where in (result.stdout, result.stderr, caplog.text):
        assert url not in where and "secretTOKEN" not in where


@pytest.mark.parametrize(("content", "says"), [
    ("{not json", "not valid JSON"), ('{"schema_version": "1"}', "generated_at: missing"),
    ("[]", "not a JSON object"),
    ('{"schema_version": "9", "summary": {}, "findings": []}', "unsupported schema_version"),
    # read through the model: a field of the wrong shape is named, never a KeyError
    (json.dumps({**sample_report(), "findings": [{"id": "x"}]}), "findings.0.rule: missing"),
    (json.dumps({**sample_report(), "summary": {"findings": "many"}}), "summary.findings"),
    (json.dumps({**sample_report(), "window": None}), "window"),
])
def test_notify_invalid_report_exits_2(tmp_path: Path, config_file: Path, content: str,
                                       says: str) -> None:
    bad = tmp_path / "report.json"
    bad.write_text(content)
    result = CliRunner().invoke(cli.app, ["notify", str(bad), "--dry-run", "--config",
                                          str(config_file)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"rightsizer: {bad}: "), lines
    assert says in lines[0] and "Traceback" not in result.output


def test_notify_missing_webhook_names_the_env_var(report_file: Path, config_file: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RIGHTSIZER_SLACK_WEBHOOK", raising=False)
    result = CliRunner().invoke(cli.app, ["notify", str(report_file), "--config",
                                          str(config_file)])
    assert result.exit_code == 2
    assert "RIGHTSIZER_SLACK_WEBHOOK" in result.stderr


def test_analyze_notify_posts_after_writing(httpserver: HTTPServer, tmp_path: Path,
                                            config_file: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """analyze --notify: the report is written first, then the summary posted (the pipeline
    itself is stubbed: it has its own tests)."""
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    monkeypatch.setenv("RIGHTSIZER_SLACK_WEBHOOK", httpserver.url_for(HOOK_PATH))
    out = tmp_path / "out"
    monkeypatch.setattr(pipeline, "run_analysis",
                        lambda config, demo, output, **_: (
                            Report.model_validate(sample_report()), {}, out))
    result = CliRunner().invoke(cli.app, ["analyze", "--config", str(config_file), "--format",
                                          "json", "--notify", "--fail-on", "high"])
    assert result.exit_code == 1, result.stderr  # --fail-on still decides the exit code
    assert (out / "report.json").is_file()
    assert len(httpserver.log) == 1
    assert "posted the Slack summary" in result.stderr


def test_post_failure(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    monkeypatch.setenv("RIGHTSIZER_SLACK_WEBHOOK", httpserver.url_for(HOOK_PATH))
    assert slack.post_failure("ConfigError: <bad> & worse", SlackSettings())
    body = json.loads(httpserver.log[0][0].get_data())
    assert "the scheduled run failed: ConfigError: &lt;bad&gt; &amp; worse" in body["text"]
    monkeypatch.delenv("RIGHTSIZER_SLACK_WEBHOOK")
    assert not slack.post_failure("x", SlackSettings())  # no webhook: logged, never raises


# --- human words, every finding shape, plans, risks, verified changes ---------------------------

# One finding of each shape the rules write (rightsizer/rules/*: current / recommended).
EVERY_SHAPE: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("ecs-rightsize", {"cpu": 2048, "memory": 4096}, {"cpu": 1024, "memory": 2048}),
    ("ecs-fargate-spot", {"capacity_provider": "FARGATE"},
     {"capacity_provider": "FARGATE_SPOT", "strategy": [
         {"capacityProvider": "FARGATE", "weight": 1, "base": 0},
         {"capacityProvider": "FARGATE_SPOT", "weight": 4}]}),
    ("rds-reserved-instance", {"instance_class": "db.t3.small", "multi_az": True},
     {"term": "1yr", "offering": "No Upfront"}),
    ("rds-multi-az-nonprod", {"instance_class": "db.t3.micro", "multi_az": True},
     {"instance_class": "db.t3.micro", "multi_az": False}),
    ("rds-rightsize", {"instance_class": "db.m5.large", "multi_az": False},
     {"instance_class": "db.t3.medium", "multi_az": False}),
    ("elasticache-reserved-node", {"node_type": "cache.t3.micro", "num_nodes": 2},
     {"term": "1yr", "offering": "No Upfront", "node_count": 2}),
    ("public-ipv4", {"public_ipv4": "203.0.113.7", "owner": "nothing (unattached Elastic IP)"},
     {"action": "release the Elastic IP"}),
    ("s3-lifecycle", {"lifecycle": "absent"},
     {"transitions": [{"days": 90, "storage_class": "STANDARD_IA"},
                      {"days": 365, "storage_class": "GLACIER"}],
      "abort_incomplete_multipart_upload_days": 7}),
    ("ecr-lifecycle", {"lifecycle_policy": "absent"},
     {"untagged_expire_days": 14, "keep_tagged_images": 30}),
    ("secrets-unused", {"last_accessed": "2026-05-05", "days_unused": 210},
     {"action": "delete", "recovery_window_days": 30}),
    ("logs-retention", {"retention_days": None}, {"retention_days": 30}),
    ("rds-storage-gp3", {"storage_type": "gp2", "allocated_storage_gb": 100,
                         "baseline_iops": 300},
     {"storage_type": "gp3", "allocated_storage_gb": 100, "baseline_iops": 3000,
      "throughput_mibps": 125}),
    ("ecs-autoscaling-missing", {"desired_count": 4, "autoscaling": "none"},
     {"policy": "TargetTrackingScaling", "metric": "ECSServiceAverageCPUUtilization",
      "target_percent": 60, "min_capacity": 1, "max_capacity": 4}),
    ("rds-idle", {"instance_class": "db.t3.micro", "multi_az": False, "connections_max": 0},
     {"action": "stop, or snapshot and delete"}),
    ("nat-gateway", {"nat_gateways_in_vpc": 3}, {"nat_gateways_in_vpc": 1, "keep": "nat-1"}),
    ("nat-gateway", {"gateway_endpoints": []}, {"gateway_endpoints": ["s3", "dynamodb"]}),
    ("idle-load-balancer", {"type": "application", "registered_targets": 0,
                            "healthy_targets": 0, "traffic": None}, {"action": "delete"}),
    ("graviton-migration", {"cpu_architecture": "X86_64"},
     {"cpu_architecture": "ARM64", "operating_system_family": "LINUX"}),
    ("graviton-migration", {"node_type": "cache.t3.micro", "num_nodes": 1},
     {"node_type": "cache.t4g.micro", "num_nodes": 1}),
    ("compute-savings-plan", {"savings_plans_coverage_percent": 12.5},
     {"plan_type": "Compute", "term": "1yr", "payment_option": "No Upfront",
      "hourly_commitment_usd": 0.0512}),
    ("logs-ingestion", {"log_group_class": "STANDARD", "monthly_gb": 9.92},
     {"action": "log less, or send it to an Infrequent Access log group",
      "log_group_class": "INFREQUENT_ACCESS"}),
    ("route53-orphan-health-check", {"target": "old-lb.elb.amazonaws.com", "type": "HTTPS"},
     {"action": "delete"}),
    ("cloudfront-idle", {"enabled": True, "requests": 0}, {"action": "disable, then delete"}),
    ("some-future-rule", {"nested": {"a": 1}, "flag": True}, {"items": [{"k": "v"}, 2]}),
]


def every_shape_report() -> dict[str, Any]:
    return sample_report([
        {**finding(index, f"resource-{index}", savings=50.0 - index), "rule": rule,
         "current": current, "recommended": recommended}
        for index, (rule, current, recommended) in enumerate(EVERY_SHAPE)], errors=0)


def test_payload_has_no_raw_json_dict_text_or_iso_dates() -> None:
    """The issue's "done when": no raw JSON or dict text in what Slack shows."""
    payload = slack.build_blocks(every_shape_report(), report_url="https://r.example.com/x")
    shown = "\n".join(texts(payload)) + "\n" + payload["text"]
    for raw in ("{", "}", "[", "]", '"', "':", "True", "False", "None", "multi_az",
                "instance_class", "capacityProvider", "strategy", "num_nodes",
                "untagged_expire_days", "abort_incomplete", "cpu_architecture",
                "payment_option"):
        assert raw not in shown, raw
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d", shown)  # no ISO timestamps
    for words in ("db.t3.small Multi-AZ: 1-year No Upfront reservation",
                  "2 vCPU / 4 GB → 1 vCPU / 2 GB",
                  "Fargate → Fargate Spot (FARGATE weight 1, FARGATE_SPOT weight 4)",
                  "db.t3.micro Multi-AZ → Single-AZ",
                  "cache.t3.micro (2 nodes): 1-year No Upfront reservation for 2 nodes",
                  "no lifecycle policy → STANDARD_IA after 90 days, GLACIER after 365 days",
                  "kept forever (no retention) → 30-day retention",
                  "gp2 100 GB (300 IOPS) → gp3 100 GB (3,000 IOPS, 125 MiB/s)",
                  "x86_64 → ARM64 (Graviton) Linux",
                  "12.5% covered by Savings Plans: Compute Savings Plan, 1-year No Upfront, "
                  "$0.0512/hour commitment",
                  "delete (30-day recovery window)",
                  "nested a 1, flag yes → items k v, 2",
                  "9.9 GB/month ingested (Standard class): log less",
                  "HTTPS health check of old-lb.elb.amazonaws.com: delete",
                  "enabled, 0 requests: disable, then delete",
                  "public IP 203.0.113.7 (owner: nothing (unattached Elastic IP)): release the "
                  "Elastic IP"):
        assert words in shown, words


def test_findings_that_save_nothing_are_not_listed_but_counted() -> None:
    report = sample_report([finding(1, "edufly-api", 40.0), finding(2, "tiny", 0.004),
                            finding(3, "nat-owned-ip", 0.0)], errors=0)
    payload = slack.build_blocks(report, report_url=None)
    shown = "\n".join(texts(payload))
    assert "$0.00" not in shown
    assert "tiny" not in shown and "nat-owned-ip" not in shown
    assert "*Findings:* 3" in shown
    assert "…and 2 more findings in the full report" in shown
    nothing = slack.build_blocks(sample_report([finding(2, "tiny", 0.0)]), report_url=None)
    assert "none saving a cent" in "\n".join(texts(nothing))


def plans_risks_history_report() -> dict[str, Any]:
    """A report.json with the additive keys of DESIGN.md: plans, risks, history.verified."""
    api_size = {**finding(1, "edufly-api", 40.0), "id": "f-size"}
    api_spot = {**finding(2, "edufly-api", 30.0), "id": "f-spot", "rule": "ecs-fargate-spot",
                "current": {"capacity_provider": "FARGATE"},
                "recommended": {"capacity_provider": "FARGATE_SPOT"}}
    db = {**finding(3, "edufly-db", 23.2), "id": "f-ri", "rule": "rds-reserved-instance",
          "current": {"instance_class": "db.t3.small", "multi_az": True},
          "recommended": {"term": "1yr", "offering": "No Upfront"}}
    report = sample_report([api_size, api_spot, db], errors=0)
    report["plans"] = [
        {"resource_id": api_size["resource_id"], "name": "edufly-api",
         "steps": ["f-size", "f-spot"], "monthly_savings_usd": 61.2,
         "detail": "right-size, then Spot: each step priced on the one before"},
        {"resource_id": db["resource_id"], "name": "edufly-db", "steps": ["f-ri"],
         "monthly_savings_usd": 23.2, "detail": "reservation"},
    ]
    report["risks"] = [{
        "id": "r1", "rule": "ecs-underprovisioned", "kind": "under-provisioned",
        "severity": "high", "resource_type": "ecs-service", "resource_id": "arn:x:svc/exam",
        "name": "edufly-exam", "account": "123456789012", "region": "ap-south-1",
        "current": {"cpu": 512, "memory": 1024}, "recommended": {"cpu": 1024, "memory": 2048},
        "monthly_cost_change_usd": 18.9, "evidence": {}, "reason": "CPU p95 97%"}]
    report["history"] = {
        "month": "2026-12", "previous_month": "2026-11", "new": 1, "persisting": 2,
        "resolved": 3, "realized_savings_usd": 41.2,
        "verified": [
            {"finding_id": "a", "applied": "2026-11-10", "status": "held", "detail": "",
             "monthly_savings_usd": 30.0},
            {"finding_id": "b", "applied": "2026-11-12", "status": "held", "detail": "",
             "monthly_savings_usd": 11.2},
            {"finding_id": "c", "applied": None, "status": "regressed", "detail": "",
             "monthly_savings_usd": 9.0}]}
    return report


def test_plans_risks_and_verified_changes_are_shown_in_words() -> None:
    payload = slack.build_blocks(plans_risks_history_report(),
                                 report_url="https://r.example.com/x")
    shown = "\n".join(texts(payload))
    assert "*Verified:* 3 changes applied since last month: 2 held, 1 regressed, " \
        "$41.20/month realized" in shown
    assert "Top changes by monthly savings" in shown
    assert ("• *edufly-api* (ecs-rightsize, ecs-fargate-spot): 1 vCPU / 2 GB → 0.5 vCPU / "
            "1 GB; then Fargate → Fargate Spot — *$61.20/month*") in shown
    assert "• *edufly-db* (rds-reserved-instance): db.t3.small Multi-AZ: 1-year No Upfront " \
        "reservation — *$23.20/month*" in shown
    # one line a resource: the plan's findings are not listed again on their own
    assert shown.count("edufly-api") == 1
    assert "*Risks:* 1 resource short of capacity (fixing it costs $18.90/month more" in shown
    assert "• *edufly-exam* (ecs-underprovisioned): 0.5 vCPU / 1 GB → 1 vCPU / 2 GB — " \
        "*+$18.90/month*" in shown


def test_verified_line_reads_the_changes_totals_when_present() -> None:
    report = plans_risks_history_report()
    report["history"]["changes"] = {"applied": 1, "held": 1, "regressed": 0,
                                    "realized_monthly_usd": 1234.5}
    shown = "\n".join(texts(slack.build_blocks(report, report_url=None)))
    assert "1 change applied since last month: 1 held, 0 regressed, $1,234.50/month " \
        "realized" in shown


def test_counts_have_thousands_separators() -> None:
    findings = [finding(i, f"svc-{i}", savings=10.0) for i in range(1200)]
    shown = "\n".join(texts(slack.build_blocks(sample_report(findings, errors=1500),
                                               report_url=None)))
    assert "*Findings:* 1,200" in shown and "1,500 collection errors" in shown
    assert re.search(r"…and 1,1\d\d more findings \(\$1\d,\d\d\d\.00/month\)", shown)
