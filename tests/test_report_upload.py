"""The opt-in report upload behind the Slack "Full report" link ([report] s3_bucket): one new
key per run, a presigned GET of it, the IAM grant only when configured, and one-line errors."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from moto import mock_aws
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from rightsizer import cli
from rightsizer.aws.iam_policy import policy_document
from rightsizer.config import Config, _validate
from rightsizer.errors import RightsizerError
from rightsizer.integrations import slack
from rightsizer.integrations.report_upload import object_key, publish_report
from tests.test_slack import HOOK_PATH, sample_report

BUCKET = "edufly-cost-reports"
REGION = "ap-south-1"


def config_with(**report: object) -> Config:
    return _validate({"aws": {"regions": [REGION]}, "report": report}, "test")


@pytest.fixture()
def written(tmp_path: Path) -> Path:
    out = tmp_path / "2026-12"
    out.mkdir()
    (out / "report.json").write_text(json.dumps(sample_report()))
    (out / "report.html").write_text("<html>the report</html>")
    return out / "report.json"


def test_object_key_is_one_per_run_under_the_prefix() -> None:
    assert object_key("rightsizer/", "2026-12-01T06:00:00.123456Z", "report.html") == \
        "rightsizer/2026-12-01T060000Z/report.html"


@mock_aws
def test_publish_uploads_the_html_and_returns_a_presigned_get(written: Path) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    url = publish_report(written, "2026-12-01T06:00:00Z", config_with(s3_bucket=BUCKET))
    key = "rightsizer/2026-12-01T060000Z/report.html"
    stored = s3.get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read() == b"<html>the report</html>"
    assert stored["ContentType"] == "text/html; charset=utf-8"
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    assert parsed.scheme == "https" and BUCKET in parsed.netloc + parsed.path
    assert parsed.path.endswith(f"/{key}")
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["604800"]  # 7 days: the SigV4 maximum
    assert f"/{REGION}/s3/" in query["X-Amz-Credential"][0]
    short = publish_report(written, "2026-12-01T06:00:00Z",
                           config_with(s3_bucket=BUCKET, link_expires_days=1))
    assert parse_qs(urlparse(short).query)["X-Amz-Expires"] == ["86400"]


@mock_aws
def test_a_missing_bucket_is_one_line_naming_the_bucket_and_the_code(written: Path) -> None:
    with pytest.raises(RightsizerError) as raised:
        publish_report(written, "2026-12-01T06:00:00Z", config_with(s3_bucket="not-there-x"))
    message = str(raised.value)
    assert message.startswith("cannot upload the report to s3://not-there-x/rightsizer/")
    assert "NoSuchBucket" in message and "\n" not in message


def test_an_unreachable_endpoint_is_one_line_naming_the_cause(
        written: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(RightsizerError) as raised:
        publish_report(written, "2026-12-01T06:00:00Z", config_with(s3_bucket=BUCKET))
    assert "EndpointConnectionError" in str(raised.value)
    assert "\n" not in str(raised.value)


@mock_aws
def test_send_summary_links_the_uploaded_report(
        written: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    monkeypatch.setenv("RIGHTSIZER_SLACK_WEBHOOK", httpserver.url_for(HOOK_PATH))
    slack.send_summary(sample_report(), written, config_with(s3_bucket=BUCKET))
    posted = json.loads(httpserver.log[0][0].get_data())
    link = posted["blocks"][-1]["elements"][0]["text"]
    assert link.startswith("Full report: <https://") and link.endswith("|open the report>")
    assert "X-Amz-Signature=" in link and "rightsizer/2026-12-01T060000Z/report.html" in link


@mock_aws
def test_a_failed_upload_still_posts_the_summary_and_says_why(
        written: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    monkeypatch.setenv("RIGHTSIZER_SLACK_WEBHOOK", httpserver.url_for(HOOK_PATH))
    with caplog.at_level(logging.WARNING):
        slack.send_summary(sample_report(), written, config_with(s3_bucket="not-there-x"))
    posted = json.loads(httpserver.log[0][0].get_data())
    link = posted["blocks"][-1]["elements"][0]["text"]
    assert "the upload to s3://not-there-x/rightsizer/ failed" in link
    assert "NoSuchBucket" in caplog.text


def test_report_url_wins_and_a_dry_run_uploads_nothing(written: Path) -> None:
    config = _validate({"report": {"s3_bucket": BUCKET},
                        "slack": {"report_url": "https://reports.example.com/"}}, "t")
    assert slack.report_link(config, written, "2026-12-01T06:00:00Z", upload=True) == \
        ("https://reports.example.com/", None)
    url, hint = slack.report_link(config_with(s3_bucket=BUCKET), written,
                                  "2026-12-01T06:00:00Z", upload=False)
    assert url is None and "dry run: not uploaded" in str(hint)


def test_notify_dry_run_with_a_bucket_says_it_would_upload(written: Path,
                                                           tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[report]\ns3_bucket = "{BUCKET}"\n')
    result = CliRunner().invoke(cli.app, ["notify", str(written), "--dry-run", "--config",
                                          str(config)])
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert f"uploaded to s3://{BUCKET}/rightsizer/… and linked when posted" in \
        payload["blocks"][-1]["elements"][0]["text"]


def granted(policy: dict) -> set[str]:
    return {action for statement in policy["Statement"] for action in statement["Action"]}


def test_the_write_is_in_the_policy_only_when_a_bucket_is_configured() -> None:
    assert not granted(policy_document()) & {"s3:PutObject", "s3:GetObject"}
    policy = policy_document(config_with(s3_bucket=BUCKET, s3_prefix="cost/"))
    [statement] = [s for s in policy["Statement"] if "s3:PutObject" in s["Action"]]
    assert statement == {"Sid": "PublishReportForSlackLink", "Effect": "Allow",
                         "Action": ["s3:GetObject", "s3:PutObject"],
                         "Resource": f"arn:aws:s3:::{BUCKET}/cost/*"}
    assert granted(policy) - granted(policy_document(config_with())) == \
        {"s3:GetObject", "s3:PutObject"}


@pytest.mark.parametrize(("value", "says"), [
    ('"s3://edufly-cost-reports"', "is not an S3 bucket name"),
    ('"Edufly_Reports"', "is not an S3 bucket name"),
])
def test_a_bad_bucket_name_is_one_line_exit_2(tmp_path: Path, value: str, says: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[report]\ns3_bucket = {value}\n")
    result = CliRunner().invoke(cli.app, ["iam-policy", "--config", str(config)])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"rightsizer: {config}: [report] s3_bucket: ") and says in line


def test_link_expiry_over_seven_days_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[report]\nlink_expires_days = 30\n")
    result = CliRunner().invoke(cli.app, ["iam-policy", "--config", str(config)])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert "[report] link_expires_days" in line and "7" in line
