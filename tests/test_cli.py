"""The small commands and the one-line-error contract of the command line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rightsizer.cli import app
from rightsizer.config import load_config
from rightsizer.config_template import config_text
from rightsizer.rules.registry import REGISTRY


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-m", "rightsizer", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=120)


def test_rules_lists_every_rule_with_its_settings_and_bounds(tmp_path):
    result = run(["rules"], tmp_path)
    assert result.returncode == 0, result.stderr
    for rule_id, rule in REGISTRY.items():
        assert rule_id in result.stdout
        for setting in rule.settings_model.model_fields:
            assert setting in result.stdout
    assert "[> 0, <= 100]" in result.stdout  # bounds come from the settings model


def test_init_writes_a_config_that_loads_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / "config.toml"
    assert run(["init", str(target)], tmp_path).returncode == 0
    tomllib.loads(target.read_text())
    assert load_config(target).enabled_rules() == list(REGISTRY)
    again = run(["init", str(target)], tmp_path)
    assert again.returncode == 2
    assert again.stderr.strip().count("\n") == 0 and "exists" in again.stderr


def test_init_force_overwrites_with_the_config_written_from_the_settings(tmp_path):
    target = tmp_path / "config.toml"  # the default path, in the working directory
    target.write_text("# someone's own config\n")
    done = run(["init", "--force"], tmp_path, AWS_REGION="us-west-2")
    assert done.returncode == 0, done.stderr
    assert target.read_text(encoding="utf-8") == config_text(region="us-west-2")


@pytest.mark.parametrize(("args", "expected"), [
    (["analyze", "--demo", "--format", "pdf"], "--format"),
    (["analyze", "--demo", "--fail-on", "urgent"], "--fail-on"),
    (["analyze", "--config", "missing.toml"], "missing.toml"),
    (["report", "not-a-snapshot"], "not-a-snapshot"),
])
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, args, expected):
    result = run(args, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_absent_credentials_are_one_line_and_exit_2(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("AWS_") or key in ("AWS_CONFIG_FILE",
                                                   "AWS_SHARED_CREDENTIALS_FILE")}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_EC2_METADATA_DISABLED="true", AWS_DEFAULT_REGION="ap-south-1")
    result = subprocess.run([sys.executable, "-m", "rightsizer", "analyze", "--output",
                             str(tmp_path / "out")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "rightsizer: no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID, "
        "or try --demo"]
    assert not (tmp_path / "out").exists()


def test_demo_without_the_demo_extra_is_one_line_naming_the_extra(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """moto is the optional `demo` extra: without it, --demo says how to install it (exit 2)."""
    import sys

    monkeypatch.setitem(sys.modules, "moto", None)  # `import moto` raises ModuleNotFoundError
    for name in [name for name in sys.modules if name.startswith("rightsizer.demo")]:
        monkeypatch.delitem(sys.modules, name)
    result = CliRunner().invoke(app, ["analyze", "--demo", "--output", str(tmp_path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines == ['rightsizer: --demo needs moto, which the demo extra installs: '
                     'pip install "rightsizer[demo]" (or ".[demo]" in a checkout)']
    assert not (tmp_path / "report.json").exists()


# --- polish: --version, help texts, what analyze prints, --fail-on --------------------------

def test_version_alone_prints_the_version() -> None:
    from rightsizer import __version__

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == __version__


COMMANDS = [["analyze"], ["collect"], ["report"], ["notify"], ["iam-policy"], ["init"],
            ["rules"], ["schedule"], ["pricing", "refresh"], ["pricing", "show"], []]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_help_keeps_brackets_shows_flags_as_flags_and_cuts_nothing(command) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "<bool>" not in text and "<str>" not in text and "list[str]" not in text
    commands = text.partition("\nCommands:\n")[2]
    assert not [line for line in commands.splitlines() if line.endswith("...")]  # none cut
    if command == ["analyze"]:
        words = " ".join(text.split())
        assert "([slack] in config.toml)" in words and "Replaces [report] formats" in words
        assert re.search(r"^\s+--demo\s{2,}Analyze", text, re.MULTILINE)


def stub_pipeline(monkeypatch: pytest.MonkeyPatch, out: Path, report: dict) -> None:
    from rightsizer import pipeline
    from rightsizer.report.model import Report

    monkeypatch.setattr(pipeline, "run_analysis", lambda config, demo, output, **_: (
        Report.model_validate(report), {}, out))


def test_analyze_prints_the_report_path_on_a_pipe_and_the_table_on_a_terminal(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from rightsizer import cli_output
    from tests.test_slack import sample_report

    out = tmp_path / "out"
    stub_pipeline(monkeypatch, out, sample_report())
    piped = CliRunner().invoke(app, ["analyze", "--format", "json"])
    assert piped.exit_code == 0, piped.stderr
    assert piped.stdout.strip() == str(out / "report.json")
    monkeypatch.setattr(cli_output, "stdout_is_terminal", lambda: True)
    terminal = CliRunner().invoke(app, ["analyze", "--format", "json"], env={"COLUMNS": "120"})
    assert "Top findings by monthly savings" in terminal.stdout
    assert "db.t4g.medium Multi-AZ: 1-year No Upfront reservation" in terminal.stdout
    quiet = CliRunner().invoke(app, ["analyze", "--format", "json", "--quiet"])
    assert quiet.stdout == "" and quiet.stderr == ""


def test_format_table_prints_the_table_and_replaces_the_configured_formats(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.test_slack import sample_report

    out = tmp_path / "out"
    stub_pipeline(monkeypatch, out, sample_report())
    result = CliRunner().invoke(app, ["analyze", "--format", "table,md"])
    assert result.exit_code == 0, result.stderr
    assert "Top findings by monthly savings" in result.stdout
    assert "$119.70/month potential savings" in result.stdout
    assert sorted(path.name for path in out.iterdir()) == ["report.json", "report.md"]
    assert "3 findings, $119.70/month potential savings; 0 skipped, 1 error" in result.stderr


def test_fail_on_lists_the_findings_that_tripped_it(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    from tests.test_slack import sample_report

    stub_pipeline(monkeypatch, tmp_path / "out", sample_report())
    result = CliRunner().invoke(app, ["analyze", "--format", "json", "--fail-on", "high",
                                      "--quiet"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "rightsizer: --fail-on high: 2 findings at or above high:",
        "  high   edufly-db (rds-reserved-instance, 123456789012/ap-south-1): db.t4g.medium "
        "Multi-AZ: 1-year No Upfront reservation, $61.20/month",
        "  high   edufly-api (ecs-rightsize, 123456789012/ap-south-1): 1 vCPU / 2 GB → "
        "0.5 vCPU / 1 GB, $40.00/month",
    ]
    report = sample_report()
    report["findings"] = [f for f in report["findings"] if f["severity"] != "high"]
    stub_pipeline(monkeypatch, tmp_path / "out", report)
    below = CliRunner().invoke(app, ["analyze", "--format", "json", "--fail-on", "high",
                                     "--quiet"])
    assert below.exit_code == 0 and below.stderr == ""


def test_fail_on_counts_a_risk_at_or_above_the_severity(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    from tests.test_slack import plans_risks_history_report

    report = plans_risks_history_report()
    report["findings"] = [{**f, "severity": "low"} for f in report["findings"]]
    stub_pipeline(monkeypatch, tmp_path / "out", report)
    result = CliRunner().invoke(app, ["analyze", "--format", "json", "--fail-on", "high",
                                      "--quiet"])
    assert result.exit_code == 1  # no high finding: the high risk alone trips it
    assert result.stderr.splitlines() == [
        "rightsizer: --fail-on high: 1 risk at or above high:",
        "  high   edufly-exam (ecs-underprovisioned, 123456789012/ap-south-1): at risk: "
        "0.5 vCPU / 1 GB → 1 vCPU / 2 GB, +$18.90/month to fix",
    ]
    report["risks"][0]["severity"] = "medium"
    stub_pipeline(monkeypatch, tmp_path / "out", report)
    below = CliRunner().invoke(app, ["analyze", "--format", "json", "--fail-on", "high",
                                     "--quiet"])
    assert below.exit_code == 0 and below.stderr == ""


def test_summary_counts_have_thousands_separators(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    from tests.test_slack import finding, sample_report

    report = sample_report([finding(i, savings=1.0) for i in range(1234)], errors=0)
    stub_pipeline(monkeypatch, tmp_path / "out", report)
    result = CliRunner().invoke(app, ["analyze", "--format", "json"])
    assert result.stderr.splitlines()[0] == \
        "1,234 findings, $1,234.00/month potential savings; 0 skipped, 0 errors"


def test_a_malformed_endpoint_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    """botocore's ValueError("Invalid endpoint: ...") is no "unexpected error". (A missing
    profile and an unreachable endpoint: tests/test_faults.py, test_config.py.)"""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "localhost:5000")
    result = CliRunner().invoke(app, ["analyze", "--output", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "rightsizer: invalid AWS endpoint 'localhost:5000' (from AWS_ENDPOINT_URL or the "
        "profile's endpoint_url): expected a URL such as http://localhost:5000"]
