"""config.toml: loaded with tomllib, validated by pydantic; every error is one line naming the
file and the key."""

from __future__ import annotations

import os
import re
import tomllib
import zoneinfo
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rightsizer.errors import ConfigError
from rightsizer.rules.base import RuleSettings
from rightsizer.rules.registry import REGISTRY
from rightsizer.rules.support import sizing_history

DEFAULT_CONFIG_PATH = Path("config.toml")


class _Section(BaseModel):
    # strict: `lookback_days = true` must be an error, not one day
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


@lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region botocore knows (offline data shipped with botocore)."""
    import botocore.session

    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return frozenset(regions)


# Where the default region comes from, in this order (then the profile's `region`).
REGION_ENV = ("AWS_REGION", "AWS_DEFAULT_REGION")
NO_REGION_MESSAGE = ("no AWS region: set [aws] regions in config.toml, or AWS_REGION "
                     "(or a region in your AWS profile)")


def session_region(session: Any = None) -> tuple[str, str] | None:
    """(region, where it came from) of the AWS session: AWS_REGION, then AWS_DEFAULT_REGION,
    then the profile's region as botocore reads it. None when none is set.

    botocore itself reads AWS_DEFAULT_REGION and the profile but not AWS_REGION (the variable
    the other SDKs and the AWS CLI v2 use), hence the explicit first look."""
    for name in REGION_ENV:
        value = os.environ.get(name, "").strip()
        if value:
            return value, name
    if session is None:
        import boto3

        session = boto3.Session()  # may raise ProfileNotFound: the caller maps it
    region = getattr(session, "region_name", None)
    return (str(region), "the AWS profile") if region else None


class AwsSettings(_Section):
    regions: list[str] | Literal["all"] | None = Field(
        None, description="Regions to analyse, or \"all\" for every region enabled in the "
        "account. Default: the region of your AWS session (AWS_REGION, else AWS_DEFAULT_REGION, "
        "else the profile's region); with none of those set, the run stops and asks for one. "
        "`rightsizer init` writes the one it finds.",
        json_schema_extra={"example": ["ap-south-1"]})
    accounts: list[str] = Field(
        default_factory=list,
        description="Account ids (12 digits) to read by assuming `role_name` in each. Empty: "
        "the account of the current credentials, read directly.",
        json_schema_extra={"example": ["123456789012", "210987654321"]})
    role_name: str | None = Field(
        None, description="The read-only role to assume in every account read (see "
        "`rightsizer iam-policy --principal role`); required with accounts or "
        "organization = true.",
        json_schema_extra={"example": "RightsizerReadOnly"})
    external_id: str | None = Field(
        None, description="The external id the role's trust policy requires, if it requires "
        "one.", json_schema_extra={"example": "rightsizer-read-only"})
    organization: bool = Field(
        False, description="Also read every active account of the AWS Organization (run from "
        "the management account or a delegated administrator), assuming `role_name` in each.")
    cost_explorer: Literal["auto", "caller", "each-account"] = Field(
        "auto", description="Cost Explorer costs $0.01 a request. \"caller\" asks once with "
        "the current credentials, grouped by linked account (run from the management account, "
        "it sees every member); \"each-account\" asks inside every account; \"auto\" is "
        "\"caller\" when roles are assumed into accounts, else \"each-account\".")
    max_workers: int = Field(8, ge=1, le=64, description="Parallel API workers (1 to 64).")
    max_attempts: int = Field(8, ge=1, le=20, description="Attempts per API call, with "
                              "botocore's adaptive retries (1 to 20).")

    @field_validator("regions")
    @classmethod
    def _regions_exist(cls, value: list[str] | str | None) -> list[str] | str | None:
        if value is None or value == "all":  # None: the session's region, found at run time
            return value
        if not value:
            raise ValueError("at least one region is required (or \"all\")")
        unknown = [region for region in value if region not in known_regions()]
        if unknown:
            raise ValueError(f"unknown region {unknown[0]!r}")
        if len(set(value)) != len(value):
            raise ValueError("a region is listed twice")
        return value

    @field_validator("accounts")
    @classmethod
    def _account_ids(cls, value: list[str]) -> list[str]:
        for account in value:
            if not (account.isdigit() and len(account) == 12):
                raise ValueError(f"account id {account!r} is not 12 digits")
        return value

    @model_validator(mode="after")
    def _role_for_accounts(self) -> AwsSettings:
        if (self.accounts or self.organization) and not self.role_name:
            raise ValueError("role_name is required with accounts or organization = true")
        return self

    @property
    def assumes_roles(self) -> bool:
        """Whether collection assumes `role_name` in accounts (rather than reading the
        credentials' own account directly)."""
        return bool(self.accounts or self.organization)

    def resolved_regions(self, session: Any = None) -> list[str] | Literal["all"]:
        """The configured regions, or the session's region when none are configured; a
        RightsizerError (exit 2) when there is none, or it is not a region botocore knows."""
        if self.regions is not None:
            return self.regions
        found = session_region(session)
        if found is None:
            raise ConfigError(NO_REGION_MESSAGE)
        region, source = found
        if region not in known_regions():
            raise ConfigError(f"{source}: unknown region {region!r} (set [aws] regions in "
                              "config.toml, or AWS_REGION)")
        return [region]


class AnalysisSettings(_Section):
    lookback_days: int = Field(
        14, ge=1, le=455, description="Days of CloudWatch data the rules judge, ending now "
        "(`analyze --days` overrides it); at most 455, as long as CloudWatch keeps hourly data.")
    sizing_history_days: int = Field(
        sizing_history.DEFAULT_DAYS, ge=1, le=455, description="Days of hourly Maximum "
        "ecs-rightsize sizes and backtests from, ending now (GetMetricData bills per series, "
        "not per datapoint); `lookback_days` still sets the recent window judged for coverage. "
        "A younger service uses what it has.")
    period_seconds: int = Field(
        3600, ge=60, le=86400, description="CloudWatch period of each datapoint, in seconds (a "
        "multiple of 60, at most a day); each rule fetches only the statistics it reads.")

    @field_validator("period_seconds")
    @classmethod
    def _multiple_of_minute(cls, value: int) -> int:
        if value % 60:
            raise ValueError("must be a multiple of 60")
        return value


class ReportSettings(_Section):
    directory: str = Field(
        "reports", description="Reports go to <directory>/<YYYY-MM>/ unless --output is "
        "given; the scheduler keeps its state in <directory>/.scheduler/.")
    formats: list[str] = Field(
        default_factory=lambda: ["html", "json"],
        description="Formats written besides report.json (always written), by the names "
        "`rightsizer analyze --help` lists under --format; --format replaces this list for "
        "one run.")
    s3_bucket: str | None = Field(
        None, description="Upload report.html to this S3 bucket whenever the Slack summary is "
        "posted, and link it from the summary with a presigned URL. Off unless set: it is "
        "rightsizer's one write (s3:PutObject on <s3_bucket>/<s3_prefix>*), and "
        "`rightsizer iam-policy` grants it only then.",
        json_schema_extra={"example": "edufly-cost-reports"})
    s3_prefix: str = Field(
        "rightsizer/", description="Key prefix of the uploaded reports; each run's report goes "
        "to <s3_prefix><generated time>/report.html.")
    s3_region: str | None = Field(
        None, description="The bucket's region, which the link is signed for (default: the "
        "first of [aws] regions, else the AWS session's region).",
        json_schema_extra={"example": "ap-south-1"})
    link_expires_days: int = Field(
        7, ge=1, le=7, description="Days the presigned link works; 7 is the most S3 allows "
        "(it also ends when the credentials that signed it expire).")

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, value: list[str]) -> list[str]:
        from rightsizer.outputs.registry import format_names

        known = format_names()
        for name in value:
            if name not in known:
                raise ValueError(f"unknown format {name!r} (choose from {', '.join(known)})")
        return value

    @field_validator("s3_bucket")
    @classmethod
    def _bucket_name(cls, value: str | None) -> str | None:
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
        if value is not None and not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value):
            raise ValueError(f"{value!r} is not an S3 bucket name (3-63 lowercase letters, "
                             "digits, dots and hyphens; no s3:// prefix)")
        return value


class SeveritySettings(_Section):
    high_usd: float = Field(25.0, gt=0, description="A finding saving at least this many "
                            "dollars a month is high.")
    medium_usd: float = Field(5.0, ge=0, description="At least this many dollars a month: "
                              "medium; below it: low.")

    @model_validator(mode="after")
    def _ordered(self) -> SeveritySettings:
        if self.medium_usd > self.high_usd:
            raise ValueError("medium_usd must not exceed high_usd")
        return self

    def severity_for(self, monthly_savings_usd: float) -> str:
        if monthly_savings_usd >= self.high_usd:
            return "high"
        if monthly_savings_usd >= self.medium_usd:
            return "medium"
        return "low"


class SlackSettings(_Section):
    webhook_url_env: str = Field(
        "RIGHTSIZER_SLACK_WEBHOOK", description="The environment variable holding the Slack "
        "incoming-webhook URL (the URL itself never goes in this file).")
    secret_id: str | None = Field(
        None, description="Or a Secrets Manager secret (name or ARN) holding the webhook URL, "
        "read when the environment variable is not set.",
        json_schema_extra={"example": "rightsizer/slack-webhook"})
    report_url: str | None = Field(
        None, description="Where readers find the full report, linked from the message "
        "(default: with [report] s3_bucket, a presigned link to the uploaded report; else no "
        "link, and the message says how to set one).",
        json_schema_extra={"example": "https://reports.example.com/rightsizer/"})
    channel_id: str | None = Field(
        None, description="Also upload report.html into this channel (its ID, such as "
        "C0123456789, not its name) with a Slack app's bot token; the app needs the "
        "files:write scope and must be a member of the channel.",
        json_schema_extra={"example": "C0123456789"})
    bot_token_env: str = Field(
        "RIGHTSIZER_SLACK_BOT_TOKEN", description="The environment variable holding that bot "
        "token (xoxb-...; the token itself never goes in this file).")

    @field_validator("channel_id")
    @classmethod
    def _channel_is_an_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[CGD][A-Z0-9]{8,}", value):
            raise ValueError(f"{value!r} is not a channel ID (such as C0123456789: the "
                             "channel's details show it; a name like #costs does not work)")
        return value


class ScheduleSettings(_Section):
    cron: str = Field(
        "0 6 1 * *", description="When `rightsizer schedule` runs an analysis, in crontab "
        "syntax (minute hour day month weekday); the default is 06:00 on the 1st of each month.")
    timezone: str = Field(
        "UTC", description="IANA name of the zone the cron is read in, e.g. \"Asia/Kolkata\".")

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _cron_parses(self) -> ScheduleSettings:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(self.cron, timezone=self.timezone)
        except ValueError as exc:
            raise ValueError(f"invalid cron {self.cron!r}: {exc}") from exc
        return self


class SuppressEntry(_Section):
    resource: str = Field(min_length=1, description="the resource's ARN or name.")
    rule: str | None = Field(None, description="only this rule's findings (default: every "
                             "rule).")
    reason: str = Field("", description="why, shown in the report's skipped row.")
    expires: date | None = Field(None, description="a date (2027-06-30, unquoted) after which "
                                 "the entry no longer applies, and the finding says so.")

    @field_validator("rule")
    @classmethod
    def _rule_exists(cls, value: str | None) -> str | None:
        if value is not None and value not in REGISTRY:
            raise ValueError(f"unknown rule {value!r}")
        return value


class SuppressSettings(_Section):
    tag: str = Field(
        "rightsizer:ignore", description="Resources carrying this tag are skipped by every rule, "
        "or only by the rules its value lists (\"ecs-fargate-spot,s3-lifecycle\"); the value "
        "\"false\" skips none. An empty tag turns tag suppression off.")
    resources: list[SuppressEntry] = Field(
        default_factory=list,
        description="Resources skipped by ARN or name, whatever their tags.",
        json_schema_extra={"example": [
            {"resource": "edufly-api", "rule": "ecs-fargate-spot", "reason": "serves users"},
            {"resource": "arn:aws:s3:::edufly-audit-logs", "reason": "kept by law",
             "expires": date(2027, 6, 30)},
        ]})

    @field_validator("resources")
    @classmethod
    def _no_duplicates(cls, value: list[SuppressEntry]) -> list[SuppressEntry]:
        seen: set[tuple[str, str | None]] = set()
        for entry in value:
            key = (entry.resource, entry.rule)
            if key in seen:
                raise ValueError(f"duplicate entry for {entry.resource!r}")
            seen.add(key)
        return value


class Config(_Section):
    aws: AwsSettings = Field(
        default_factory=AwsSettings,
        description="Which AWS accounts and regions are read, and how.")
    analysis: AnalysisSettings = Field(
        default_factory=AnalysisSettings,
        description="The window of CloudWatch data the rules judge.")
    rules: dict[str, Any] = Field(
        default_factory=dict,
        description="Each rule's settings, in a [rules.<id>] table of its own (`rightsizer "
        "rules` lists them with their bounds).")
    report: ReportSettings = Field(
        default_factory=ReportSettings, description="Where reports are written, and in what "
        "formats.")
    severity: SeveritySettings = Field(
        default_factory=SeveritySettings,
        description="A finding's severity, from the dollars it saves a month.")
    slack: SlackSettings = Field(
        default_factory=SlackSettings,
        description="The Slack summary (`rightsizer notify`, `analyze --notify`, the scheduler).")
    schedule: ScheduleSettings = Field(
        default_factory=ScheduleSettings, description="When `rightsizer schedule` runs.")
    suppress: SuppressSettings = Field(
        default_factory=SuppressSettings,
        description="Findings you asked not to see: skipped, and listed in the report's "
        "skipped rows with the reason.")

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, value: dict[str, Any]) -> dict[str, Any]:
        for rule_id, raw in value.items():
            if rule_id not in REGISTRY:
                raise ValueError(f"unknown rule {rule_id!r} (see `rightsizer rules`)")
            if not isinstance(raw, dict | RuleSettings):
                raise ValueError(f"[rules.{rule_id}] must be a table")
        return value

    def rule_settings(self, rule_id: str) -> RuleSettings:
        settings = self.rules.get(rule_id)
        if isinstance(settings, RuleSettings):
            return settings
        return REGISTRY[rule_id].settings_model.model_validate(settings or {})

    def enabled_rules(self) -> list[str]:
        return [rule_id for rule_id in REGISTRY if self.rule_settings(rule_id).enabled]

    def with_overrides(self, **changes: Any) -> Config:
        """A copy with CLI overrides (e.g. --region, --days) applied and validated."""
        data = self.model_dump()
        data["rules"] = {key: self.rule_settings(key).model_dump() for key in self.rules}
        for dotted, value in changes.items():
            section, key = dotted.split(".")
            data[section][key] = value
        return _validate(data, "command line")


def _location(error: dict[str, Any], prefix: tuple[str, ...] = ()) -> str:
    # drop pydantic's union branch labels ("list[str]", "literal['all']") from the key path
    parts = [*prefix, *(str(part) for part in error["loc"]
                        if "[" not in str(part) and not str(part).startswith("function"))]
    if not parts:
        return "(top level)"
    if parts[0] == "rules" and len(parts) >= 2:
        table, keys = f"rules.{parts[1]}", parts[2:]
    elif parts[0] in Config.model_fields:
        table, keys = parts[0], parts[1:]
    else:
        return parts[0]
    return f"[{table}] " + ".".join(keys) if keys else f"[{table}]"


def _message(error: dict[str, Any]) -> str:
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error["type"] == "extra_forbidden":
        return "unknown key"
    return message


def _validate(data: dict[str, Any], source: str) -> Config:
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigError(f"{source}: {_location(error)}: {_message(error)}") from None
    # Each [rules.<id>] table validates against its rule's own settings model.
    parsed: dict[str, RuleSettings] = {}
    for rule_id, raw in config.rules.items():
        try:
            parsed[rule_id] = REGISTRY[rule_id].settings_model.model_validate(raw)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = _location(error, ("rules", rule_id))
            raise ConfigError(f"{source}: {where}: {_message(error)}") from None
    return config.model_copy(update={"rules": parsed})


def load_config(path: Path | None) -> Config:
    """Load and validate; no path and no ./config.toml means all defaults."""
    if path is None:
        if not DEFAULT_CONFIG_PATH.is_file():
            return Config()
        path = DEFAULT_CONFIG_PATH
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return _validate(data, str(path))
