"""The optional report file in the Slack channel ([slack] channel_id + a bot token): Slack's
three upload steps, against a local server answering as Slack does."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from rightsizer import cli
from rightsizer.config import SlackSettings
from rightsizer.errors import RightsizerError
from rightsizer.integrations import slack, slack_file
from tests.test_slack import HOOK_PATH, sample_report

TOKEN = "xoxb-0000-secretBOTtoken"
CHANNEL = "C0123456789"


@pytest.fixture()
def written(tmp_path: Path) -> Path:
    (tmp_path / "report.json").write_text(json.dumps(sample_report()))
    (tmp_path / "report.html").write_text("<html>the report</html>")
    return tmp_path / "report.json"


@pytest.fixture()
def slack_api(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    monkeypatch.setattr(slack_file, "SLACK_API_URL", httpserver.url_for("/api/"))
    monkeypatch.setenv("RIGHTSIZER_SLACK_BOT_TOKEN", TOKEN)
    return httpserver


def answer_upload(server: HTTPServer, complete: dict) -> None:
    # https://docs.slack.dev/reference/methods/files.getUploadURLExternal/ answers an upload
    # URL and a file ID; completeUploadExternal answers the files shared
    server.expect_request("/api/files.getUploadURLExternal", method="POST").respond_with_json(
        {"ok": True, "upload_url": server.url_for("/upload/v1/abc"), "file_id": "F0ABC"})
    server.expect_request("/upload/v1/abc", method="POST").respond_with_data("OK - 23")
    server.expect_request("/api/files.completeUploadExternal",
                          method="POST").respond_with_json(complete)


def test_the_html_is_uploaded_and_shared_in_the_channel(slack_api: HTTPServer,
                                                        written: Path) -> None:
    answer_upload(slack_api, {"ok": True, "files": [{"id": "F0ABC", "title": "x"}]})
    file_id = slack_file.upload_report_file(written, SlackSettings(channel_id=CHANNEL), "title")
    assert file_id == "F0ABC"
    requests = {request.path: request for request, _ in slack_api.log}
    asked = parse_qs(requests["/api/files.getUploadURLExternal"].get_data(as_text=True))
    assert asked["filename"] == ["report.html"] and asked["length"] == ["23"]
    assert b"<html>the report</html>" in requests["/upload/v1/abc"].get_data()
    done = parse_qs(requests["/api/files.completeUploadExternal"].get_data(as_text=True))
    assert done["channel_id"] == [CHANNEL]
    assert json.loads(done["files"][0])[0]["id"] == "F0ABC"
    assert requests["/api/files.getUploadURLExternal"].headers["Authorization"] == \
        f"Bearer {TOKEN}"


def test_slacks_refusal_is_one_line_with_what_to_do_and_no_token(slack_api: HTTPServer,
                                                                 written: Path) -> None:
    answer_upload(slack_api, {"ok": False, "error": "not_in_channel"})
    with pytest.raises(RightsizerError) as raised:
        slack_file.upload_report_file(written, SlackSettings(channel_id=CHANNEL), "t")
    assert str(raised.value) == (f"could not upload report.html into Slack channel {CHANNEL}: "
                                 "not_in_channel (invite the app to the channel)")


def test_send_summary_posts_first_and_a_failed_upload_is_a_warning(
        slack_api: HTTPServer, written: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    slack_api.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    monkeypatch.setenv("RIGHTSIZER_SLACK_WEBHOOK", slack_api.url_for(HOOK_PATH))
    slack_api.expect_request("/api/files.getUploadURLExternal").respond_with_json(
        {"ok": False, "error": "missing_scope"})
    with caplog.at_level(logging.DEBUG):
        slack.send_summary(sample_report(), written, SlackSettings(channel_id=CHANNEL))
    assert [request.path for request, _ in slack_api.log] == [
        HOOK_PATH, "/api/files.getUploadURLExternal"]
    assert "missing_scope (give the app the files:write scope and reinstall it)" in caplog.text
    assert TOKEN not in caplog.text and "secretBOT" not in caplog.text


def test_without_a_channel_or_a_token_nothing_is_uploaded(
        httpserver: HTTPServer, written: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    httpserver.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    monkeypatch.setenv("RIGHTSIZER_SLACK_WEBHOOK", httpserver.url_for(HOOK_PATH))
    monkeypatch.delenv("RIGHTSIZER_SLACK_BOT_TOKEN", raising=False)
    slack.send_summary(sample_report(), written, SlackSettings(channel_id=CHANNEL))
    assert [request.path for request, _ in httpserver.log] == [HOOK_PATH]


def test_a_channel_name_instead_of_an_id_is_one_line_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[slack]\nchannel_id = "#costs"\n')
    result = CliRunner().invoke(cli.app, ["iam-policy", "--config", str(config)])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"rightsizer: {config}: [slack] channel_id: '#costs' is not a "
                           "channel ID")
