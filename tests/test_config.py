"""config.toml: the shipped file loads; every bad file is one line naming the file and the key."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from rightsizer.config import AwsSettings, Config, SuppressEntry, _validate, load_config
from rightsizer.config_template import WIDTH, config_text, default_value, example_value
from rightsizer.errors import ConfigError
from rightsizer.rules.ecs_rightsize import Settings as RightsizeSettings
from rightsizer.rules.registry import REGISTRY
from rightsizer.rules.s3_lifecycle import Settings as LifecycleSettings
from tests.conftest import FAKE_CREDENTIALS

REPO = Path(__file__).resolve().parents[1]
MISSING = None  # marks the case where no file is written at all

# (case id, file text, text the one-line message must contain besides the path)
BAD_CONFIGS: list[tuple[str, str | None, str]] = [
    ("missing-file", MISSING, "not found"),
    ("invalid-toml", "[aws\nregions = [", "invalid TOML"),
    ("invalid-toml-value", "[analysis]\nlookback_days = fourteen\n", "invalid TOML"),
    ("unknown-section", "[aws]\n[costs]\nfoo = 1\n", "costs"),
    ("unknown-top-level-key", "verbose = true\n", "verbose"),
    ("unknown-key-in-aws", "[aws]\nregion = \"ap-south-1\"\n", "[aws] region"),
    ("unknown-key-in-analysis", "[analysis]\ndays = 14\n", "[analysis] days"),
    ("unknown-key-in-rule", "[rules.ecs-rightsize]\nthreshold = 40\n",
     "[rules.ecs-rightsize] threshold"),
    ("unknown-key-in-suppress-entry",
     "[suppress]\nresources = [{ resource = \"x\", until = 2027-01-01 }]\n",
     "[suppress] resources.0.until"),
    ("lookback-days-text", "[analysis]\nlookback_days = \"two weeks\"\n",
     "[analysis] lookback_days"),
    ("regions-not-a-list", "[aws]\nregions = 5\n", "[aws] regions"),
    ("formats-not-a-list", "[report]\nformats = 5\n", "[report] formats"),
    ("section-not-a-table", "aws = \"ap-south-1\"\n", "[aws]"),
    ("max-workers-fraction", "[aws]\nmax_workers = 2.5\n", "[aws] max_workers"),
    ("threshold-text", "[rules.ecs-rightsize]\nthreshold_percent = \"half\"\n",
     "[rules.ecs-rightsize] threshold_percent"),
    ("lookback-days-zero", "[analysis]\nlookback_days = 0\n", "[analysis] lookback_days"),
    ("lookback-days-negative", "[analysis]\nlookback_days = -3\n",
     "[analysis] lookback_days"),
    ("percentile-zero", "[rules.ecs-rightsize]\npercentile = 0\n",
     "[rules.ecs-rightsize] percentile"),
    ("percentile-120", "[rules.ecs-rightsize]\npercentile = 120\n",
     "[rules.ecs-rightsize] percentile"),
    ("headroom-negative", "[rules.ecs-rightsize]\nheadroom_percent = -1\n",
     "[rules.ecs-rightsize] headroom_percent"),
    ("min-coverage-1.5", "[rules.ecs-rightsize]\nmin_coverage = 1.5\n",
     "[rules.ecs-rightsize] min_coverage"),
    ("rds-min-coverage-zero", "[rules.rds-reserved-instance]\nmin_coverage = 0\n",
     "[rules.rds-reserved-instance] min_coverage"),
    ("rds-term-3yr", "[rules.rds-reserved-instance]\nterm = \"3yr\"\n",
     "[rules.rds-reserved-instance] term"),
    ("spot-weight-zero", "[rules.ecs-fargate-spot]\nspot_weight = 0\n",
     "[rules.ecs-fargate-spot] spot_weight"),
    ("ia-days-under-30", "[rules.s3-lifecycle]\nia_days = 10\n", "[rules.s3-lifecycle] ia_days"),
    ("glacier-not-after-ia", "[rules.s3-lifecycle]\nia_days = 90\nglacier_days = 90\n",
     "glacier_days"),
    ("unknown-region", "[aws]\nregions = [\"ap-south-9\"]\n", "ap-south-9"),
    ("empty-regions", "[aws]\nregions = []\n", "[aws] regions"),
    ("region-twice", "[aws]\nregions = [\"ap-south-1\", \"ap-south-1\"]\n", "[aws] regions"),
    ("unknown-rule-id", "[rules.ecs-rightsizing]\nenabled = true\n", "ecs-rightsizing"),
    ("rule-not-a-table", "[rules]\necs-rightsize = 5\n", "rules.ecs-rightsize"),
    ("bad-cron", "[schedule]\ncron = \"0 6 1 *\"\n", "cron"),
    ("cron-out-of-range", "[schedule]\ncron = \"61 6 1 * *\"\n", "cron"),
    ("bad-timezone", "[schedule]\ntimezone = \"Asia/Bangalore\"\n", "[schedule] timezone"),
    ("duplicate-suppress-entries",
     "[suppress]\nresources = [{ resource = \"edufly-api\" }, { resource = \"edufly-api\" }]\n",
     "[suppress] resources"),
    ("suppress-entry-unknown-rule",
     "[suppress]\nresources = [{ resource = \"edufly-api\", rule = \"ecs-spot\" }]\n",
     "ecs-spot"),
    ("suppress-entry-empty-resource", "[suppress]\nresources = [{ resource = \"\" }]\n",
     "[suppress] resources.0.resource"),
    ("suppress-entry-bad-expiry",
     "[suppress]\nresources = [{ resource = \"x\", expires = \"soon\" }]\n",
     "[suppress] resources.0.expires"),
    ("accounts-without-role-name", "[aws]\naccounts = [\"123456789012\"]\n", "role_name"),
    ("organization-without-role-name", "[aws]\norganization = true\n", "role_name"),
    ("bad-account-id", "[aws]\naccounts = [\"12345\"]\nrole_name = \"R\"\n", "[aws] accounts"),
    ("severity-medium-above-high", "[severity]\nhigh_usd = 5\nmedium_usd = 25\n",
     "medium_usd"),
    ("severity-high-zero", "[severity]\nhigh_usd = 0\n", "[severity] high_usd"),
    ("period-seconds-90", "[analysis]\nperiod_seconds = 90\n", "[analysis] period_seconds"),
    ("period-seconds-30", "[analysis]\nperiod_seconds = 30\n", "[analysis] period_seconds"),
    ("format-pdf", "[report]\nformats = [\"pdf\"]\n", "[report] formats"),
]


def write_config(tmp_path: Path, text: str | None) -> Path:
    path = tmp_path / "bad.toml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    return path


def test_repository_config_toml_loads_with_its_documented_values():
    config = load_config(REPO / "config.toml")
    assert config.aws.regions is None  # the example's region is commented out: the session's
    assert config.aws.resolved_regions() == ["ap-south-1"]  # conftest's AWS_DEFAULT_REGION
    assert config.schedule.timezone == "UTC"
    assert config.analysis.lookback_days == 14
    assert config.analysis.period_seconds == 3600
    rightsize = config.rule_settings("ecs-rightsize")
    assert isinstance(rightsize, RightsizeSettings)
    assert (rightsize.threshold_percent, rightsize.percentile, rightsize.headroom_percent,
            rightsize.min_coverage) == (50, 95, 20, 0.8)
    assert (rightsize.peak_headroom_percent, rightsize.trend_horizon_days) == (10, 30)
    assert config.enabled_rules() == list(REGISTRY)  # every rule is on by default
    assert config.suppress.tag == "rightsizer:ignore"
    assert config.suppress.resources == []  # the suppression entries are an example only


# --- config.toml is written from the settings models ---------------------------------------

REGENERATE = ("regenerate it: python -c 'from rightsizer.config_template import config_text; "
              "open(\"config.toml\", \"w\").write(config_text())'")


def _tables() -> list[tuple[str, type[BaseModel]]]:
    """(table name, settings model) of every table config.toml has."""
    tables = [(section, info.annotation) for section, info in Config.model_fields.items()
              if section != "rules"]
    return tables + [(f"rules.{rule.id}", rule.settings_model) for rule in REGISTRY.values()]


def _table(data: dict, name: str) -> dict:
    for part in name.split("."):
        data = data[part]
    return data


def test_repository_config_toml_is_exactly_what_init_writes():
    assert (REPO / "config.toml").read_text(encoding="utf-8") == config_text(), REGENERATE


def test_every_setting_has_a_description():
    """config.toml, `rightsizer rules` and the README's promise that config.toml shows every
    setting all read the Field descriptions: a setting without one fails here."""
    models = [("(top level)", Config), *_tables(), ("suppress.resources[]", SuppressEntry)]
    missing = [f"{table}.{key}" for table, model in models
               for key, info in model.model_fields.items() if not (info.description or "").strip()]
    assert missing == []


def test_written_config_round_trips_with_every_key_at_its_default():
    text = config_text()
    data = tomllib.loads(text)
    assert set(data) == set(Config.model_fields)
    assert set(data["rules"]) == set(REGISTRY)
    for table, model in _tables():
        written = _table(data, table)
        for key, info in model.model_fields.items():
            default = default_value(info)
            if default is None:  # no default value: shown commented out, with an example
                assert key not in written, (table, key)
                assert re.search(rf"^# {key} = .+", text, re.MULTILINE), (table, key)
                assert example_value(info) is not None, (table, key)
            else:
                assert written.get(key, "missing") == default, (table, key)
        assert set(written) <= set(model.model_fields), table


@pytest.mark.parametrize("region", [None, "eu-central-1"])
def test_init_text_loads_as_the_defaults_plus_the_region(tmp_path, region):
    path = tmp_path / "config.toml"
    path.write_text(config_text(region=region), encoding="utf-8")
    loaded = load_config(path)
    expected = Config(aws=AwsSettings(regions=[region] if region else None))
    assert loaded.model_dump(exclude={"rules"}) == expected.model_dump(exclude={"rules"})
    assert list(loaded.rules) == list(REGISTRY)
    for rule_id, rule in REGISTRY.items():
        assert loaded.rule_settings(rule_id) == rule.settings_model(), rule_id


def _uncomment_examples(text: str) -> tuple[str, set[str]]:
    """The file as a user who took every example would have it, and which keys they set."""
    fields = dict(_tables())
    lines: list[str] = []
    table: str | None = None
    taken: set[str] = set()
    in_block = False
    for line in text.splitlines():
        if header := re.fullmatch(r"\[(.+)\]", line):
            table = header.group(1)
        if in_block:  # a multi-line example: # key = [ ... # ]
            lines.append(line.removeprefix("# "))
            in_block = line != "# ]"
            continue
        key = re.match(r"^# (?:example: )?([a-z0-9_]+) = ", line)
        if table is not None and key and key.group(1) in fields[table].model_fields:
            if line.startswith("# example: "):
                lines.pop()  # the default this example replaces
            lines.append(line.removeprefix("# example: ").removeprefix("# "))
            taken.add(f"{table}.{key.group(1)}")
            in_block = line.endswith("= [")
        elif line == "# example:":
            lines.pop()
        else:
            lines.append(line)
    return "\n".join(lines), taken


def test_every_example_is_a_valid_value_and_all_of_them_load_together():
    text, taken = _uncomment_examples(config_text())
    config = _validate(tomllib.loads(text), "examples")
    expected = {f"{table}.{key}" for table, model in _tables()
                for key, info in model.model_fields.items() if example_value(info) is not None}
    assert taken == expected
    assert config.aws.regions == ["ap-south-1"] and config.aws.role_name == "RightsizerReadOnly"
    assert [entry.resource for entry in config.suppress.resources] == [
        "edufly-api", "arn:aws:s3:::edufly-audit-logs"]
    assert config.rule_settings("ecs-fargate-spot").include_tags == {"workload": "batch"}


def test_written_config_fits_its_width_with_tables_apart():
    text = config_text(region="ap-southeast-1")
    lines = text.splitlines()
    assert [line for line in lines if len(line) > WIDTH] == []
    assert [line for line in lines if line != line.rstrip()] == []
    assert "\n\n\n" not in text and text.endswith("\n") and not text.endswith("\n\n")
    headers = [index for index, line in enumerate(lines) if line.startswith("[")]
    assert len(headers) == len(_tables())
    for index in headers:  # a blank line, the table's heading comment, then its header
        above = index - 1
        while lines[above].startswith("#"):
            above -= 1
        assert above < index - 1 and lines[above] == "", lines[index]
    assert 'regions = ["ap-southeast-1"]   # your AWS session\'s region' in text


def test_empty_config_file_gives_defaults(tmp_path):
    config = load_config(write_config(tmp_path, ""))
    assert config.aws.regions is None
    assert config.schedule.cron == "0 6 1 * *"
    assert config.schedule.timezone == "UTC"


# --- the default region is the session's -------------------------------------------------

def _profile_with_region(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         region: str) -> None:
    config_file = tmp_path / "aws-config"
    config_file.write_text(f"[default]\nregion = {region}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))


@pytest.mark.parametrize(("env", "profile", "expected"), [
    ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-2"}, "ap-northeast-1",
     "eu-west-1"),
    ({"AWS_DEFAULT_REGION": "us-east-2"}, "ap-northeast-1", "us-east-2"),
    ({}, "ap-northeast-1", "ap-northeast-1"),
], ids=["AWS_REGION-first", "then-AWS_DEFAULT_REGION", "then-the-profile"])
def test_default_region_is_the_sessions(tmp_path, monkeypatch, env, profile, expected):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    _profile_with_region(tmp_path, monkeypatch, profile)
    config = load_config(write_config(tmp_path, ""))
    assert config.aws.resolved_regions() == [expected]


def test_configured_regions_win_over_the_session(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    config = load_config_text("[aws]\nregions = [\"us-west-2\"]\n")
    assert config.aws.resolved_regions() == ["us-west-2"]


def load_config_text(text: str):
    import tomllib

    from rightsizer.config import _validate

    return _validate(tomllib.loads(text), "test")


def test_no_region_anywhere_is_one_line_naming_both_ways_to_set_it(monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(ConfigError) as caught:
        load_config_text("").aws.resolved_regions()
    message = str(caught.value)
    assert "\n" not in message
    assert "[aws] regions" in message and "AWS_REGION" in message


def test_an_unknown_session_region_is_named_with_where_it_came_from(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "mars-north-1")
    with pytest.raises(ConfigError) as caught:
        load_config_text("").aws.resolved_regions()
    assert "AWS_REGION" in str(caught.value) and "mars-north-1" in str(caught.value)


def _cli(tmp_path: Path, *args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **FAKE_CREDENTIALS, "PYTHONPATH": str(REPO),
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true"}
    for key, value in env.items():
        if value is None:
            full.pop(key, None)
        else:
            full[key] = value
    return subprocess.run([sys.executable, "-m", "rightsizer", *args], cwd=tmp_path, env=full,
                          capture_output=True, text=True, timeout=120, check=False)


def test_analyze_without_any_region_exits_2_with_one_line(tmp_path):
    done = _cli(tmp_path, "analyze", "--output", str(tmp_path / "out"), AWS_REGION=None,
                AWS_DEFAULT_REGION=None)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("rightsizer: no AWS region: set [aws] regions") and \
        "AWS_REGION" in line
    assert not (tmp_path / "out").exists()


def test_demo_needs_no_region_and_keeps_its_persona(tmp_path):
    from rightsizer.config import Config
    from rightsizer.demo.account import DEMO_REGION
    from rightsizer.demo.run import DEMO_TIMEZONE, demo_config

    config = demo_config(Config())
    assert config.aws.regions == [DEMO_REGION] == ["ap-south-1"]
    assert config.schedule.timezone == DEMO_TIMEZONE == "Asia/Kolkata"
    done = _cli(tmp_path, "analyze", "--demo", "--days", "3", "--format", "json", "--output",
                str(tmp_path / "out"), "--quiet", AWS_REGION=None, AWS_DEFAULT_REGION=None)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["regions"] == ["ap-south-1"]


def test_init_writes_the_detected_region_and_utc(tmp_path):
    done = _cli(tmp_path, "init", str(tmp_path / "config.toml"), AWS_REGION="eu-central-1")
    assert done.returncode == 0, done.stderr
    assert "eu-central-1" in done.stderr and "AWS_REGION" in done.stderr
    written = (tmp_path / "config.toml").read_text(encoding="utf-8")
    assert written == config_text(region="eu-central-1")
    config = load_config(tmp_path / "config.toml")
    assert config.aws.regions == ["eu-central-1"]
    assert config.schedule.timezone == "UTC"
    assert config.enabled_rules() == list(REGISTRY)


def test_init_without_a_region_leaves_it_commented_and_says_so(tmp_path):
    done = _cli(tmp_path, "init", str(tmp_path / "config.toml"), AWS_REGION=None,
                AWS_DEFAULT_REGION=None)
    assert done.returncode == 0, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "no AWS region found" in line and "[aws] regions" in line
    assert (tmp_path / "config.toml").read_text(encoding="utf-8") == config_text()
    assert load_config(tmp_path / "config.toml").aws.regions is None


def test_a_missing_profile_is_one_line_and_exit_2(tmp_path):
    for args in (["analyze", "--output", str(tmp_path / "out")], ["init", "x.toml"]):
        done = _cli(tmp_path, *args, AWS_PROFILE="nope")
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().splitlines() == [
            "rightsizer: AWS profile 'nope' not found (set by AWS_PROFILE or the config file "
            "named by AWS_CONFIG_FILE)"], args
    assert not (tmp_path / "x.toml").exists()


def test_rule_settings_are_parsed_into_the_rules_model(tmp_path):
    path = write_config(tmp_path, "[rules.s3-lifecycle]\nia_days = 60\nglacier_days = 200\n"
                                  "[rules.ecs-fargate-spot]\nenabled = false\n")
    config = load_config(path)
    lifecycle = config.rule_settings("s3-lifecycle")
    assert isinstance(lifecycle, LifecycleSettings)
    assert (lifecycle.ia_days, lifecycle.glacier_days) == (60, 200)
    assert "ecs-fargate-spot" not in config.enabled_rules()


@pytest.mark.parametrize(("text", "names"), [pytest.param(text, names, id=case)
                                             for case, text, names in BAD_CONFIGS])
def test_bad_config_is_one_line_naming_file_and_key(tmp_path, text, names):
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert names in message


@pytest.mark.parametrize("text", [
    "[analysis]\nlookback_days = \"14\"\n",
    "[analysis]\nlookback_days = true\n",
    "[rules.ecs-rightsize]\nenabled = \"no\"\n",
])
def test_wrongly_typed_value_that_looks_coercible_is_rejected(tmp_path, text):
    with pytest.raises(ConfigError):
        load_config(write_config(tmp_path, text))


def test_cli_with_bad_config_exits_2_with_one_line_and_no_traceback(tmp_path):
    path = write_config(tmp_path, "[analysis]\nlookback_days = -3\n")
    env = {**os.environ, **FAKE_CREDENTIALS, "PYTHONPATH": str(REPO),
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    done = subprocess.run(
        [sys.executable, "-m", "rightsizer", "analyze", "--config", str(path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(path) in lines[0]
    assert "lookback_days" in lines[0]


def test_union_typed_key_is_named_without_pydantic_internals(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, "[aws]\nregions = \"ap-south-1\"\n"))
    assert f"{tmp_path / 'bad.toml'}: [aws] regions: " in str(caught.value)
