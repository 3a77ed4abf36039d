"""The small commands and the one-line-error contract of the command line."""

from __future__ import annotations

import os
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
