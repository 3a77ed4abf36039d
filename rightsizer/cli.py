"""The `rightsizer` command line. Data goes to files or stdout; logs and errors to stderr."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from botocore.exceptions import ProfileNotFound

from rightsizer import __version__, pipeline
from rightsizer.aws.clients import (
    ROLE,
    invalid_endpoint_message,
    make_session,
    profile_not_found_message,
)
from rightsizer.aws.iam_policy import PRINCIPALS, policy_json
from rightsizer.config import Config, load_config
from rightsizer.errors import RightsizerError
from rightsizer.outputs.registry import format_names
from rightsizer.outputs.write import write_outputs
from rightsizer.report.build import SEVERITY_RANK
from rightsizer.report.model import Report
from rightsizer.rules.registry import REGISTRY

# rich_markup_mode=None: help texts are plain (rich markup would swallow "[slack]" and
# "[report] formats"), and a flag shows as `--demo`, not `--demo <bool>`.
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="Read-only AWS cost-optimization and right-sizing analyzer.")
log = logging.getLogger("rightsizer")
F = TypeVar("F", bound=Callable[..., Any])

_DEBUG = {"on": False}


def fail(message: str) -> typer.Exit:
    typer.echo(f"rightsizer: {message}", err=True)
    return typer.Exit(2)


def handles_errors(command: F) -> F:
    """One clear line and exit code 2 for anything that stops a run; traceback only in --debug."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except RightsizerError as exc:
            raise fail(str(exc)) from None
        except ProfileNotFound as exc:  # a session made anywhere with AWS_PROFILE=nope
            raise fail(profile_not_found_message(exc)) from None
        except KeyboardInterrupt:
            raise fail("interrupted") from None
        except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback
            if _DEBUG["on"]:
                raise
            endpoint = invalid_endpoint_message(exc)  # a ValueError wherever a client is made
            if endpoint:
                raise fail(endpoint) from None
            raise fail(f"unexpected error: {type(exc).__name__}: {exc} "
                       "(run with --debug for details)") from None

    return wrapper  # type: ignore[return-value]


def _setup_logging(quiet: bool) -> None:
    from rich.logging import RichHandler

    handler = RichHandler(console=_stderr_console(), show_path=False, show_time=False)
    logging.basicConfig(level=logging.ERROR if quiet else logging.INFO, handlers=[handler],
                        format="%(message)s", force=True)
    for noisy in ("botocore", "boto3", "urllib3", "moto", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def _print_version(value: bool) -> None:
    """Eager: `rightsizer --version` answers before a command is required."""
    if value:
        typer.echo(__version__)
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.",
                                          is_eager=True, callback=_print_version)] = False,
) -> None:
    _DEBUG["on"] = debug


ConfigOption = Annotated[Path | None, typer.Option(
    "--config", "-c", metavar="PATH", help="config.toml (default: ./config.toml)")]
OutputOption = Annotated[Path | None, typer.Option(
    "--output", "-o", metavar="DIR", help="Directory for report.json and the other formats "
    "(default: <report.directory>/<YYYY-MM>/).")]
FormatOption = Annotated[str | None, typer.Option(
    "--format", "-f", metavar="FORMATS",
    help="Comma-separated, from: " + ",".join(format_names()) + ". Replaces [report] formats "
    "for this run (report.json is always written); `table` prints the top findings on "
    "stdout, which happens anyway on a terminal.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr, and "
                                           "no table on a terminal.")]


def _parse_formats(raw: str | None, config: Config) -> list[str]:
    if raw is None:
        return list(config.report.formats)
    formats = [item.strip() for item in raw.split(",") if item.strip()]
    unknown = [item for item in formats if item not in format_names()]
    if unknown or not formats:
        raise RightsizerError(f"--format: unknown format {unknown[0] if unknown else raw!r} "
                              f"(choose from {', '.join(format_names())})")
    return formats


def _overrides(config: Config, regions: list[str] | None, days: int | None) -> Config:
    changes: dict[str, Any] = {}
    if regions:
        changes["aws.regions"] = regions
    if days is not None:
        changes["analysis.lookback_days"] = days
    return config.with_overrides(**changes) if changes else config


WorkersOption = Annotated[int | None, typer.Option(
    "--workers", min=1, metavar="N", help="Processes collecting groups of accounts side by "
    "side (default: one per account, up to twice the cores); 1: one process.")]


class Location(str):
    """A directory or s3://bucket/prefix (a Path would fold the "//" of a URL); its name is
    what --help shows as the argument's type."""


def _notice_printer(quiet: bool):
    return None if quiet else (lambda message: typer.echo(f"rightsizer: {message}", err=True))


def _finish(report: Report, context: dict[str, Any], out_dir: Path,
            formats: list[str], quiet: bool) -> None:
    from rightsizer.cli_output import print_result

    written = write_outputs(report, context, out_dir, formats)
    print_result(report, written, formats, quiet)


def _exit_for_fail_on(report: Report, fail_on: str | None) -> None:
    """Exit 1 once everything else is done (report written, summary posted), after saying
    which findings and risks (an under-provisioned service is as much a reason to stop as a
    saving) tripped it."""
    from rightsizer.cli_output import fail_on_lines

    if not fail_on:
        return
    tripped = [finding for finding in report.findings
               if SEVERITY_RANK[finding.severity] >= SEVERITY_RANK[fail_on]]
    risks = [risk for risk in report.risks
             if SEVERITY_RANK[risk.severity] >= SEVERITY_RANK[fail_on]]
    if tripped or risks:
        for line in fail_on_lines(tripped, fail_on, risks):
            typer.echo(line, err=True)
        raise typer.Exit(1)


FailOn = Annotated[str | None, typer.Option(
    "--fail-on", metavar="SEVERITY", help="Exit 1 when a finding or a risk is at or above this "
    "severity (low, medium or high), listing them on stderr.")]


def _check_fail_on(fail_on: str | None) -> None:
    if fail_on is not None and fail_on not in SEVERITY_RANK:
        raise RightsizerError(f"--fail-on: expected low, medium or high, got {fail_on!r}")


@app.command("analyze")
@handles_errors
def analyze_command(
    config_path: ConfigOption = None,
    demo: Annotated[bool, typer.Option("--demo", help="Analyze a built-in demo account "
                                       "(no AWS account or network needed).")] = False,
    output: OutputOption = None,
    formats: FormatOption = None,
    region: Annotated[list[str] | None, typer.Option(
        "--region", "-r", metavar="REGION", help="Region (repeatable); replaces [aws] "
        "regions.")] = None,
    days: Annotated[int | None, typer.Option("--days", metavar="N",
                                             help="Lookback window in days.")] = None,
    fail_on: FailOn = None,
    quiet: QuietOption = False,
    notify: Annotated[bool, typer.Option("--notify", help="Post the Slack summary after "
                                         "writing the report ([slack] in config.toml).")] = False,
    workers: WorkersOption = None,
) -> None:
    """Collect, apply the rules and write the report."""
    _setup_logging(quiet)
    _check_fail_on(fail_on)
    config = _overrides(load_config(config_path), region, days)
    chosen = _parse_formats(formats, config)
    report, context, out_dir = pipeline.run_analysis(
        config, demo, output, progress=not quiet, notice=_notice_printer(quiet),
        workers=workers)
    _finish(report, context, out_dir, chosen, quiet)
    if notify:
        _notify(report, out_dir, config, quiet)
    _exit_for_fail_on(report, fail_on)


def _notify(report: Report, out_dir: Path, config: Config, quiet: bool) -> None:
    from rightsizer.integrations import slack

    slack.send_summary(report, out_dir / "report.json", config)
    if not quiet:
        typer.echo("  posted the Slack summary", err=True)


@app.command("collect", short_help="Collect a snapshot only, for `rightsizer report` later.")
@handles_errors
def collect_command(
    config_path: ConfigOption = None,
    output: Annotated[str | None, typer.Option(
        "--output", "-o", metavar="DIR|S3_URL",
        help="Directory or s3://bucket/prefix for the snapshot (default: "
        "<report.directory>/<YYYY-MM>/snapshot); with --shard, the run's: each shard writes "
        "into shard-INDEX-of-COUNT/ under it.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Collect the demo account.")] = False,
    accounts: Annotated[str | None, typer.Option(
        "--accounts", metavar="IDS", help="Comma-separated account ids: collect only these "
        "(one shard of an organization).")] = None,
    shard: Annotated[str | None, typer.Option(
        "--shard", metavar="INDEX/COUNT", help="Collect the accounts whose id mod COUNT is "
        "INDEX; auto/COUNT reads INDEX from AWS_BATCH_JOB_ARRAY_INDEX or JOB_COMPLETION_INDEX.")
    ] = None,
    run_id: Annotated[str | None, typer.Option(
        "--run-id", metavar="ID", help="The id every shard of one run shares (default: "
        "$RIGHTSIZER_RUN_ID, else AWS Batch's $AWS_BATCH_JOB_ID).")] = None,
    workers: WorkersOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")] = False,
) -> None:
    """Collect a snapshot only (Parquet tables + manifest), for `rightsizer report` later."""
    from rightsizer.snapshot.sharding import collect_location, shard_and_run

    _setup_logging(quiet)
    config = load_config(config_path)
    account_filter = {a.strip() for a in accounts.split(",") if a.strip()} if accounts else None
    chosen_shard, chosen_run = shard_and_run(shard, run_id)
    snapshot = pipeline.collect(config, demo, progress=not quiet, account_filter=account_filter,
                                workers=workers, shard=chosen_shard)
    snapshot.manifest["run_id"] = chosen_run
    if snapshot.manifest["accounts"]:
        pipeline.checked_inventory(snapshot, _notice_printer(quiet))
    elif not quiet:
        typer.echo(f"rightsizer: shard {chosen_shard} holds none of the accounts; writing it "
                   "empty, so the report knows it ran", err=True)
    location = collect_location(output, config, snapshot, chosen_shard)
    typer.echo(snapshot.save_to(location))


@app.command("report", short_help="Apply the rules to a saved snapshot and write the report.")
@handles_errors
def report_command(
    snapshot_dirs: Annotated[list[Location], typer.Argument(
        metavar="SNAPSHOT", parser=Location,
        help="Snapshots written by `collect`: directories or s3://bucket/prefix, each a "
        "snapshot or holding several under it (the shards of a run are merged).")],
    config_path: ConfigOption = None,
    output: OutputOption = None,
    formats: FormatOption = None,
    fail_on: FailOn = None,
    allow_partial: Annotated[bool, typer.Option(
        "--allow-partial", help="Report a run with missing or doubled shards from what is "
        "there (said in the report) instead of exit 2.")] = False,
    quiet: QuietOption = False,
) -> None:
    """Apply the rules to a saved snapshot and write the report, offline."""
    from rightsizer.collect.engine import inventory_coverage
    from rightsizer.snapshot.runs import load_run

    _setup_logging(quiet)
    _check_fail_on(fail_on)
    config = load_config(config_path)
    snapshot, check = load_run(list(snapshot_dirs), allow_partial=allow_partial)
    if not check.complete and not quiet:
        typer.echo(f"rightsizer: partial report: {check.problem()}", err=True)
    report, context, out_dir = pipeline.report_for(snapshot, config, output,
                                                   inventory_coverage(snapshot))
    _finish(report, context, out_dir, _parse_formats(formats, config), quiet)
    _exit_for_fail_on(report, fail_on)


@app.command("iam-policy",
             short_help="Print the least-privilege read-only IAM policy for a config.")
@handles_errors
def iam_policy_command(
    config_path: ConfigOption = None,
    principal: Annotated[str, typer.Option(
        "--principal", metavar="all|caller|role",
        help="all: one policy for everything (one account, or the same policy "
        "on both sides); caller: what the credentials rightsizer runs with need; role: what "
        "the role it assumes in each account needs ([aws] accounts / organization).")] = "all",
    pricing_refresh: Annotated[bool, typer.Option(
        "--pricing-refresh", help="Also allow pricing:GetProducts, which only `rightsizer "
        "pricing refresh` calls.")] = False,
    snapshots: Annotated[str | None, typer.Option(
        "--snapshots", metavar="S3_URL", help="s3://bucket/prefix given to `collect "
        "--output` and `report`: also allow writing and reading snapshots there (the "
        "caller's).")] = None,
) -> None:
    """Print the least-privilege read-only IAM policy for this config: only the calls its run
    makes (enabled rules, Cost Explorer mode, accounts, organization, Slack secret)."""
    if principal not in PRINCIPALS:
        raise RightsizerError(f"--principal: expected {', '.join(PRINCIPALS)}, got "
                              f"{principal!r}")
    config = load_config(config_path)
    if principal != "all" and not config.aws.assumes_roles:
        raise RightsizerError(f"--principal {principal}: this config assumes no role ([aws] "
                              "accounts or organization), so its one principal needs the "
                              "whole policy (--principal all)")
    text = policy_json(config, principal=principal, pricing_refresh=pricing_refresh)
    if snapshots is not None and principal != ROLE:
        from rightsizer.aws.iam_policy import _partitions
        from rightsizer.aws.snapshot_policy import snapshot_store_statements

        document = json.loads(text)
        document["Statement"] += snapshot_store_statements(snapshots, _partitions(config)[0])
        text = json.dumps(document, indent=2)
    typer.echo(text)


pricing_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                          help="The price tables: where each comes from, and refreshing them.")
app.add_typer(pricing_app, name="pricing")


@pricing_app.command("refresh", short_help="Fetch current prices from the AWS Price List API.")
@handles_errors
def pricing_refresh_command(
    regions: Annotated[str | None, typer.Option(
        "--regions", metavar="REGIONS",
        help="Comma-separated regions (default: each table's own regions).")] = None,
    cache_dir: Annotated[Path | None, typer.Option(
        "--cache-dir", metavar="DIR",
        help="Where to write the tables (default: $RIGHTSIZER_PRICING_CACHE, "
        "else $XDG_CACHE_HOME/rightsizer/pricing).")] = None,
) -> None:
    """Fetch current prices from the AWS Price List API into the local cache.

    Fargate, RDS PostgreSQL (instances and storage), ElastiCache Redis, S3, CloudWatch Logs,
    NAT gateway, public IPv4 and load balancer tables, via pricing:GetProducts; analyses then
    prefer them, and fall back to the embedded tables for anything they lack."""
    from rightsizer import pricing
    from rightsizer.pricing import refresh

    _setup_logging(quiet=False)
    chosen = refresh.parse_regions(regions)
    directory = cache_dir or pricing.cache_dir()
    if directory is None:
        raise RightsizerError(f"{pricing.CACHE_ENV}=off: no pricing cache to refresh "
                              "(pass --cache-dir)")
    outcomes = refresh.refresh(refresh.default_clients(), directory, chosen)
    pricing.reload()  # later lookups in this process see the new tables
    for line in refresh.summary_lines(outcomes):
        typer.echo(line)


@pricing_app.command("show", short_help="List each price table in use, its source and date.")
def pricing_show_command() -> None:
    """List each price table in use: where it was read from, its source and its date."""
    from rightsizer import pricing

    _setup_logging(quiet=False)
    for row in pricing.describe_tables():
        typer.echo(f"{row['table']}  as of {row['as_of']}  {row['location']}\n"
                   f"  {row['source']}")


_BOUND_SYMBOLS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "min_length": "min length"}


def _bound_text(constraint: Any) -> str:
    """annotated_types.Gt(gt=0) -> "> 0" (these constraint classes use __slots__)."""
    for name, symbol in _BOUND_SYMBOLS.items():
        value = getattr(constraint, name, None)
        if value is not None:
            return f"{symbol} {value}"
    return str(constraint)


@app.command("rules")
def rules_command() -> None:
    """List the rules with their settings, defaults and bounds."""
    for rule in REGISTRY.values():
        typer.echo(f"{rule.id}  ({rule.resource_type})\n  {rule.title}")
        for name, field in rule.settings_model.model_fields.items():
            default = field.get_default(call_default_factory=True)
            bounds = ", ".join(_bound_text(m) for m in field.metadata)
            typer.echo(f"    {name} = {json.dumps(default)}"
                       f"{f'  [{bounds}]' if bounds else ''}  {field.description or ''}")
        typer.echo("")


@app.command("init", short_help="Write a commented config.toml with every default.")
@handles_errors
def init_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="Where to write it (default: "
                                         "config.toml).")] = Path("config.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented config.toml with every setting at its default, and [aws] regions set
    to the region of your AWS session (AWS_REGION, AWS_DEFAULT_REGION or the profile's)."""
    from rightsizer.config import known_regions, session_region
    from rightsizer.config_template import config_text

    if path.exists() and not force:
        raise RightsizerError(f"{path} exists (use --force to overwrite)")
    found = session_region(make_session())
    region = found[0] if found and found[0] in known_regions() else None
    path.write_text(config_text(region=region), encoding="utf-8")
    if region:
        typer.echo(f"wrote {path} (regions = [\"{region}\"], from {found[1]})", err=True)
    else:
        unknown = f" ({found[1]} names an unknown region {found[0]!r})" if found else ""
        typer.echo(f"wrote {path}; no AWS region found{unknown}: set [aws] regions in it, "
                   "or AWS_REGION", err=True)


@app.command("notify")
@handles_errors
def notify_command(
    report_path: Annotated[Path, typer.Argument(metavar="REPORT_JSON",
                                                help="A report.json written by rightsizer.")],
    config_path: ConfigOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the Slack payload (JSON) "
                                          "instead of posting it; needs no webhook.")] = False,
) -> None:
    """Post the Slack summary of a report.json."""
    from rightsizer.integrations import slack

    _setup_logging(quiet=False)
    config = load_config(config_path)
    report = slack.load_report(report_path)
    if dry_run:
        url, hint = slack.report_link(config, report_path, report.generated_at, upload=False)
        payload = slack.build_blocks(report, report_url=url, link_hint=hint,
                                     history=slack.history_for(report, report_path))
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    slack.send_summary(report, report_path, config)
    typer.echo("posted the Slack summary", err=True)


@app.command("schedule", short_help="Run forever, analyzing on the configured cron.")
@handles_errors
def schedule_command(
    config_path: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="Run the monthly job now and exit with "
                                       "its code (0 ok, 2 failed).")] = False,
    demo: Annotated[bool, typer.Option("--demo", hidden=True)] = False,
) -> None:
    """Run forever, analyzing on the configured cron; a run missed while down happens once on
    restart (state in <report.directory>/.scheduler/)."""
    from rightsizer.integrations.scheduler import serve

    _setup_logging(quiet=False)
    raise typer.Exit(serve(config_path, demo=demo, once=once))


def main() -> None:
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. a failure while parsing arguments
        if _DEBUG["on"] or "--debug" in sys.argv:
            raise
        typer.echo(f"rightsizer: unexpected error: {exc}", err=True)
        sys.exit(2)
