"""Secrets never leave the process: no AWS credential or Slack webhook URL in any file written,
on stdout or stderr, or in what is posted to Slack, on the success and on the failure path.

Three real command lines run at once (each is a few seconds of demo pipeline) against a local
webhook: `analyze --notify` (Slack answers 200), `collect` (a snapshot on disk) and
`schedule --once` (Slack answers 500: the failure path).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

OK_PATH = "/services/T000/B000/SeCrEtToKeN123"
FAILING_PATH = "/services/T000/B999/SeCrEtToKeN456"
AWS_SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIARECOGNISABLE0001",
    "AWS_SECRET_ACCESS_KEY": "SeCrEtAcCeSsKeYvAlUe0123456789",
    "AWS_SESSION_TOKEN": "SeCrEtSeSsIoNtOkEnVaLuE987654321",
}


@dataclass
class Run:
    result: subprocess.CompletedProcess[bytes]
    directory: Path


@dataclass
class Runs:
    server: HTTPServer
    secrets: list[str]
    analyze: Run
    collect: Run
    schedule: Run


def _config(path: Path, reports: Path) -> Path:
    # 3 days of data instead of 14 (and of 56 for the sizing history) keeps each demo run to a
    # few seconds; formats: every one
    path.write_text(f'[analysis]\nlookback_days = 3\nsizing_history_days = 3\n'
                    f'[report]\ndirectory = "{reports}"\n'
                    'formats = ["html", "json", "csv", "md"]\n')
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    server = HTTPServer()
    server.expect_request(OK_PATH, method="POST").respond_with_data("ok")
    server.expect_request(FAILING_PATH, method="POST").respond_with_data("boom", status=500)
    server.start()
    try:
        root = tmp_path_factory.mktemp("secrets")
        ok_url, failing_url = server.url_for(OK_PATH), server.url_for(FAILING_PATH)
        base_env = {key: value for key, value in os.environ.items()
                    if not key.startswith(("AWS_", "RIGHTSIZER_"))}
        base_env.update(AWS_SECRETS, AWS_DEFAULT_REGION="ap-south-1",
                        AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                        XDG_CACHE_HOME=str(root / "cache"))
        plans = {  # schedule first: its retries' backoff overlaps the other two runs
            "schedule": (["schedule", "--once", "--demo"], failing_url),
            "analyze": (["analyze", "--demo", "--output", "{dir}/out", "--format",
                         "html,json,csv,md", "--notify"], ok_url),
            "collect": (["collect", "--demo", "--output", "{dir}/snapshot"], ok_url),
        }
        processes = {}
        for name, (args, url) in plans.items():
            directory = root / name
            directory.mkdir()
            config = _config(directory / "config.toml", directory / "reports")
            command = [sys.executable, "-m", "rightsizer", *[a.format(dir=directory)
                                                             for a in args],
                       "--config", str(config)]
            processes[name] = (directory, subprocess.Popen(
                command, cwd=directory, env={**base_env, "RIGHTSIZER_SLACK_WEBHOOK": url},
                stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        finished = {}
        for name, (directory, process) in processes.items():
            stdout, stderr = process.communicate(timeout=180)
            finished[name] = Run(subprocess.CompletedProcess(process.args, process.returncode,
                                                             stdout, stderr), directory)
        secrets = [ok_url, failing_url, OK_PATH, FAILING_PATH, "SeCrEtToKeN",
                   *AWS_SECRETS.values()]
        yield Runs(server, secrets, **finished)
    finally:
        server.clear()
        server.stop()


def _leaks(data: bytes, secrets: list[str]) -> list[str]:
    return [secret for secret in secrets if secret.encode() in data]


def _scan(run: Run, secrets: list[str]) -> dict[str, list[str]]:
    """Every file the run wrote (config.toml excepted: the test wrote it), stdout, stderr."""
    found = {str(path): _leaks(path.read_bytes(), secrets)
             for path in run.directory.rglob("*") if path.is_file()
             and path.name != "config.toml"}
    found["stdout"] = _leaks(run.result.stdout, secrets)
    found["stderr"] = _leaks(run.result.stderr, secrets)
    return {where: leaks for where, leaks in found.items() if leaks}


def test_analyze_notify_writes_and_posts_no_secret(runs: Runs):
    run = runs.analyze
    assert run.result.returncode == 0, run.result.stderr.decode()
    written = {path.name for path in (run.directory / "out").iterdir()}
    assert {"report.json", "report.html", "findings.csv", "report.md"} <= written
    assert b"posted the Slack summary" in run.result.stderr
    assert _scan(run, runs.secrets) == {}


def test_what_is_posted_to_slack_holds_no_credential(runs: Runs):
    bodies = [request.get_data() for request, _ in runs.server.log
              if request.path == OK_PATH]
    assert len(bodies) == 1  # analyze --notify posted once (collect never posts)
    assert _leaks(bodies[0], runs.secrets) == []


def test_collected_snapshot_holds_no_secret(runs: Runs):
    run = runs.collect
    assert run.result.returncode == 0, run.result.stderr.decode()
    assert (run.directory / "snapshot" / "manifest.json").is_file()
    assert len(list((run.directory / "snapshot").glob("*.parquet"))) > 5
    assert _scan(run, runs.secrets) == {}


def test_scheduled_run_with_a_failing_webhook_logs_no_secret(runs: Runs):
    run = runs.schedule
    stderr = run.result.stderr.decode()
    assert run.result.returncode == 2, stderr  # the report is written, the post failed
    assert "Slack webhook answered 500" in stderr
    assert list((run.directory / "reports").glob("*/report.json"))
    assert sum(request.path == FAILING_PATH for request, _ in runs.server.log) == 4
    assert _scan(run, runs.secrets) == {}


def test_security_doc_lists_every_policy_action():
    """docs/security.md cannot drift from the policy `rightsizer iam-policy` prints."""
    from rightsizer.aws.iam_policy import all_actions

    doc = (Path(__file__).parent.parent / "docs" / "security.md").read_text()
    missing = [action for action in sorted(all_actions()) if f"`{action}`" not in doc]
    assert missing == []
