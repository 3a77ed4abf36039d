"""The Slack summary: a Block Kit payload built from report.json, posted to an incoming webhook.

The webhook URL is a secret (anyone holding it can post to the channel): it is never printed,
logged or put in an error message, and slack_sdk's own logging is silenced for the same reason.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from rightsizer.config import Config, SlackSettings
from rightsizer.errors import RightsizerError
from rightsizer.integrations.slack_file import SILENT_SDK_LOGGER
from rightsizer.outputs.formatting import (
    SEVERITIES,
    as_number,
    change_text,
    changes_line,
    count_text,
    describe_setting,
    human_timestamp,
    human_window,
    report_history,
    report_rows,
    severity_counts,
)
from rightsizer.report import history
from rightsizer.report.model import Finding, Report, as_report

log = logging.getLogger("rightsizer.integrations.slack")

# Moved to rightsizer.report.history (one copy of the month-over-month code); still
# reachable here for
# `rightsizer notify` and existing callers.
load_report = history.load_report
previous_report = history.previous_report

# Slack limits (checked against Slack's own reference pages):
# - "You can include up to 50 blocks in each message"
#   https://docs.slack.dev/reference/block-kit/blocks
MAX_BLOCKS = 50
# - section block text: "maximum length is 3000 characters"
#   https://docs.slack.dev/reference/block-kit/blocks/section-block
MAX_SECTION_TEXT = 3000
# - header block text: "Maximum length for the text in this field is 150 characters"
#   https://docs.slack.dev/reference/block-kit/blocks/header-block
MAX_HEADER_TEXT = 150
# - the top-level `text` is truncated above 40,000 characters (all posting methods, webhooks
#   included): https://api.slack.com/changelog/2018-04-truncating-really-long-messages
MAX_FALLBACK_TEXT = 40_000
# - context block: "Maximum number of items is 10"
#   https://docs.slack.dev/reference/block-kit/blocks/context-block
MAX_CONTEXT_ELEMENTS = 10
# Undocumented: chat.postMessage rejects messages whose blocks hold ~12-13k characters in total
# (msg_blocks_too_long; slackapi/bolt-js#2509, #2867), well under 50 x 3,000. A summary is
# for humans anyway, so the findings list stops at this budget and at MAX_LISTED_FINDINGS.
TOTAL_BLOCK_TEXT_BUDGET = 10_000
MAX_LISTED_FINDINGS = 25

DEFAULT_MAX_RETRIES = 3
DEFAULT_BACKOFF_SECONDS = 1.0
MAX_RETRY_AFTER_SECONDS = 60.0  # a misbehaving proxy must not park a monthly run for hours
TIMEOUT_SECONDS = 15



# --- text helpers -------------------------------------------------------------------------------

def escape(text: Any) -> str:
    """Escape Slack's mrkdwn control characters, so an AWS name like `<!channel>` or
    `<http://evil|x>` renders as text instead of pinging or linking (& first, or it doubles)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def _plain(text: Any, limit: int) -> str:
    """For plain_text objects (no mrkdwn parsing): drop control characters rather than escape."""
    return _clip(re.sub(r"[<>&\n\r\t]", " ", str(text)), limit)


def _money(value: Any) -> str:
    number = as_number(value)
    return "$?" if number is None else f"${number:,.2f}"


def _list(items: list[Any], shown: int = 5) -> str:
    names = [str(item) for item in items[:shown]]
    more = len(items) - len(names)
    return ", ".join(names) + (f" and {more:,} more" if more > 0 else "") if names else "none"


# --- payload --------------------------------------------------------------------------------------

def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, MAX_SECTION_TEXT)}}


def _finding_line(finding: Finding) -> str:
    name = escape(_clip(finding.name or finding.resource_id or "?", 80))
    rule = escape(_clip(finding.rule, 40))
    where = escape(_clip(f"{finding.account}/{finding.region}", 40))
    return (f"• *{name}* ({rule}, {where}): {escape(_clip(change_text(finding), 300))} — "
            f"*{_money(finding.monthly_savings_usd)}/month*")


def _plan_line(plan: dict[str, Any], by_id: dict[str, Finding]) -> str:
    """One resource's plan: its steps in order, in the findings' own words."""
    steps = [by_id[step] for step in plan.get("steps") or [] if step in by_id]
    name = escape(_clip(str(plan.get("name") or plan.get("resource_id") or "?"), 80))
    if steps:
        rules = escape(_clip(", ".join(dict.fromkeys(step.rule for step in steps)), 80))
        words = "; then ".join(change_text(step) for step in steps)
    else:  # steps that name no finding of this report: the plan's own summary
        rules, words = "plan", str(plan.get("detail") or "")
    return (f"• *{name}* ({rules}): {escape(_clip(words, 400))} — "
            f"*{_money(plan.get('monthly_savings_usd'))}/month*")


def _risk_line(risk: dict[str, Any]) -> str:
    name = escape(_clip(str(risk.get("name") or risk.get("resource_id") or "?"), 80))
    rule = escape(_clip(str(risk.get("rule") or "?"), 40))
    current, recommended = risk.get("current") or {}, risk.get("recommended") or {}
    change = (f"{describe_setting(current)} → {describe_setting(recommended)}"
              if recommended else "no valid larger size: see the report")
    increase = as_number(risk.get("monthly_cost_change_usd"))
    cost = f" — *+{_money(increase)}/month*" if increase else ""
    return f"• *{name}* ({rule}): {escape(_clip(change, 300))}{cost}"


def _savings(finding: Finding) -> float:
    return float(as_number(finding.monthly_savings_usd) or 0)


def _shows_money(value: Any) -> bool:
    """A line that would read "$0.00/month" is left out of the list (it stays in the report)."""
    number = as_number(value)
    return number is not None and round(number, 2) >= 0.01


def build_blocks(report: Report | Mapping[str, Any], *, report_url: str | None,
                 history: dict[str, Any] | None = None,
                 link_hint: str | None = None) -> dict[str, Any]:
    """The summary message: `{"text": fallback, "blocks": [...]}` within Slack's limits
    (a dict report is validated into a Report first). Without `report_url`, `link_hint` (or
    NO_LINK_HINT) says how to get a link."""
    report = as_report(report)
    summary = report.summary
    findings = sorted(report.findings, key=lambda f: -_savings(f))
    savings = as_number(summary.monthly_savings_usd)
    if savings is None:  # not a number (null in report.json): what the findings say
        savings = sum(map(_savings, findings))
    count = summary.findings
    accounts = report.accounts
    regions = report.regions
    window = report.window
    errors = len(report.errors)

    header = (f"rightsizer: {_money(savings)}/month potential savings · "
              f"{count_text(len(accounts), 'account')} · "
              f"{_list(regions, 3)} · {window.days:,}-day window")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _plain(header, MAX_HEADER_TEXT),
                                    "emoji": True}},
    ]

    counts = severity_counts(findings)
    severity = ", ".join(f"{counts[s]:,} {s}" for s in SEVERITIES if counts.get(s))
    lines = [
        f"*Potential savings:* {_money(savings)}/month "
        f"({_money(float(savings or 0) * 12)}/year)",
        f"*Findings:* {count:,}" + (f" ({severity})" if severity else ""),
    ]
    if history:
        parts = []
        if history.get("new") is not None:
            parts.append(f"{history['new']:,} new")
        if history.get("resolved") is not None:
            parts.append(f"{history['resolved']:,} resolved")
        if history.get("realized_savings_usd") is not None:
            parts.append(f"{_money(history['realized_savings_usd'])}/month from resolved "
                         "findings")
        if parts:
            lines.append("*Since last run:* " + ", ".join(parts))
    verified = changes_line(report_history(report))
    if verified:
        lines.append(f"*Verified:* {escape(verified)}")
    lines.append(f"*Accounts:* {escape(_list(accounts))} · *Regions:* {escape(_list(regions))}")
    lines.append(f"*Window:* {escape(human_window(window.start, window.end))} "
                 f"({window.days:,} days)")
    blocks.append(_section("\n".join(lines)))

    plans = [plan for plan in report_rows(report, "plans")
             if _shows_money(plan.get("monthly_savings_usd"))]
    if plans:
        by_id = {finding.id: finding for finding in findings}
        plans.sort(key=lambda plan: -(as_number(plan.get("monthly_savings_usd")) or 0))
        title = "*Top changes by monthly savings* (each resource's findings combined)"
        items = [(_plan_line(plan, by_id), as_number(plan.get("monthly_savings_usd")) or 0)
                 for plan in plans]
        total_items = len(report_rows(report, "plans"))
    else:
        title = "*Top findings by monthly savings*"
        items = [(_finding_line(finding), _savings(finding)) for finding in findings
                 if _shows_money(finding.monthly_savings_usd)]
        total_items = len(findings)
    risks = report_rows(report, "risks")

    # Blocks kept back for the tail: divider, "…and N more", risks, context.
    tail_blocks = 4
    budget = TOTAL_BLOCK_TEXT_BUDGET - sum(len(json.dumps(b)) for b in blocks) - 600 \
        - (1200 if risks else 0)
    if items:
        blocks.append({"type": "divider"})
        listed = _listing(blocks, title, [line for line, _ in items], budget, tail_blocks)
        rest = total_items - listed
        if rest > 0:
            rest_savings = sum(amount for _, amount in items[listed:])
            kind = "resource" if plans else "finding"
            kinds = kind if rest == 1 else f"{kind}s"
            amount = f" ({_money(rest_savings)}/month)" if _shows_money(rest_savings) else ""
            blocks.append(_section(f"…and {rest:,} more {kinds}{amount} in the full report"))
    elif findings:
        blocks.append(_section(f"{count_text(len(findings), 'finding')}, none saving a cent "
                               "a month: see the full report."))
    else:
        blocks.append(_section("No findings: nothing to change this month. :tada:"))
    if risks:
        blocks.append(_section(_risks_text(risks)))

    where = _where(report_url, link_hint)
    context = [f"Full report: {where}",
               f"{count_text(errors, 'collection error')}"
               + (" :warning: (see the report)" if errors else ""),
               f"Generated {escape(human_timestamp(report.generated_at))}"]
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": _clip(text, MAX_SECTION_TEXT)}
        for text in context[:MAX_CONTEXT_ELEMENTS]]})
    blocks = blocks[:MAX_BLOCKS]

    fallback = (f"rightsizer: {_money(savings)}/month potential savings in "
                f"{count_text(count, 'finding')}; {count_text(errors, 'error')}. "
                f"Full report: {where}")
    return {"text": _clip(fallback, MAX_FALLBACK_TEXT), "blocks": blocks}


MAX_LISTED_RISKS = 5


def _risks_text(risks: list[dict[str, Any]]) -> str:
    increase = sum(as_number(risk.get("monthly_cost_change_usd")) or 0 for risk in risks)
    ranked = sorted(risks, key=lambda risk: (SEVERITIES.index(risk.get("severity"))
                                             if risk.get("severity") in SEVERITIES else 9))
    lines = [f"*Risks:* {count_text(len(risks), 'resource')} short of capacity "
             f"(fixing {'it' if len(risks) == 1 else 'them'} costs {_money(increase)}/month "
             "more; not in the savings above)"]
    lines += [_risk_line(risk) for risk in ranked[:MAX_LISTED_RISKS]]
    if len(risks) > MAX_LISTED_RISKS:
        lines.append(f"…and {len(risks) - MAX_LISTED_RISKS:,} more in the full report")
    return _clip("\n".join(lines), MAX_SECTION_TEXT)


def _listing(blocks: list[dict[str, Any]], title: str, lines: list[str], budget: int,
             tail_blocks: int) -> int:
    """Append `title` and as many `lines` as the text budget and the block limit allow, in
    sections of at most MAX_SECTION_TEXT characters; return how many were listed."""
    chunk, listed = title, 0
    for line in lines[:MAX_LISTED_FINDINGS]:
        line = _clip(line, MAX_SECTION_TEXT - 40)
        if len(line) + 1 > budget:
            break
        if len(chunk) + 1 + len(line) > MAX_SECTION_TEXT:
            if len(blocks) + 1 + tail_blocks > MAX_BLOCKS:
                break
            blocks.append(_section(chunk))
            chunk = line
        else:
            chunk = f"{chunk}\n{line}"
        budget -= len(line) + 1
        listed += 1
    blocks.append(_section(chunk))
    return listed


# Said where the link would be when there is none.
NO_LINK_HINT = ("no link: set [slack] report_url, or [report] s3_bucket to upload the report "
                "and link it")


def _where(report_url: str | None, link_hint: str | None = None) -> str:
    if not report_url:
        return escape(link_hint or NO_LINK_HINT)
    if re.match(r"^https?://", report_url):
        # `|` would end the URL part of the link; escape() handles & < >
        return f"<{escape(report_url).replace('|', '%7C')}|open the report>"
    return f"`{escape(_clip(report_url, 500))}`"


# --- report files and history ------------------------------------------------------------------

def history_for(report: Report | Mapping[str, Any], report_path: Path
                ) -> dict[str, Any] | None:
    """New / resolved / realized since the previous month's report beside this one (the same
    comparison the HTML report shows; rightsizer.report.history does the work)."""
    return history.slack_counts(history.build_history(report, Path(report_path).parent))


def report_link(config: Config | SlackSettings, report_json: Path, generated_at: str, *,
                upload: bool, session_factory: Any = None) -> tuple[str | None, str | None]:
    """(the "Full report" URL, or None and what to say instead): [slack] report_url if set;
    else, with [report] s3_bucket, the report uploaded there and a presigned link to it (only
    when `upload`: a dry run writes nothing); else no link, and NO_LINK_HINT says how to get
    one. A failed upload is logged and the summary still goes out, saying so."""
    slack_settings = config if isinstance(config, SlackSettings) else config.slack
    if slack_settings.report_url:
        return slack_settings.report_url, None
    bucket = None if isinstance(config, SlackSettings) else config.report.s3_bucket
    if not bucket:
        return None, None
    assert isinstance(config, Config)
    where = f"s3://{bucket}/{config.report.s3_prefix}"
    if not upload:
        return None, f"uploaded to {where}… and linked when posted (dry run: not uploaded)"
    from rightsizer.integrations.report_upload import publish_report

    try:
        return publish_report(report_json, generated_at, config, session_factory), None
    except RightsizerError as exc:
        log.warning("%s; posting the summary without a link", exc)
        return None, f"the upload to {where} failed ({exc}): no link this time"


def send_summary(report: Report | Mapping[str, Any], report_json: Path,
                 config: Config | SlackSettings, session_factory: Any = None) -> None:
    """Build the summary for a written report (with history from last month's, and the report
    published when [report] s3_bucket says so) and post it."""
    report = as_report(report)
    url, hint = report_link(config, report_json, report.generated_at, upload=True,
                            session_factory=session_factory)
    payload = build_blocks(report, report_url=url, link_hint=hint,
                           history=history_for(report, report_json))
    settings = config if isinstance(config, SlackSettings) else config.slack
    post(payload, webhook_url(settings, session_factory))
    _share_report_file(report_json, settings, report)


def _share_report_file(report_json: Path, settings: SlackSettings, report: Report) -> None:
    """With [slack] channel_id and a bot token: the report file too. The summary is posted
    already, so a failed upload is a warning, not a failed run."""
    from rightsizer.integrations.slack_file import file_upload_configured, upload_report_file

    if not file_upload_configured(settings):
        return
    title = f"rightsizer report, {human_window(report.window.start, report.window.end)}"
    try:
        upload_report_file(report_json, settings, title)
    except RightsizerError as exc:
        log.warning("%s", exc)
    else:
        log.info("uploaded the report into Slack channel %s", settings.channel_id)


# --- webhook URL ---------------------------------------------------------------------------------

def webhook_configured(settings: SlackSettings) -> bool:
    return bool(os.environ.get(settings.webhook_url_env, "").strip() or settings.secret_id)


def webhook_url(settings: SlackSettings, session_factory: Any = None) -> str:
    """The env var named by `webhook_url_env` wins; else Secrets Manager `secret_id`."""
    value = os.environ.get(settings.webhook_url_env, "").strip()
    if value:
        return value
    if settings.secret_id:
        return _secret_value(settings.secret_id, session_factory)
    raise RightsizerError(f"no Slack webhook configured: set the {settings.webhook_url_env} "
                          "environment variable or [slack] secret_id")


def _secret_value(secret_id: str, session_factory: Any) -> str:
    import boto3
    from botocore.config import Config as BotoConfig
    from botocore.exceptions import BotoCoreError, ClientError

    from rightsizer.aws.clients import aws_failure_text
    from rightsizer.config import session_region

    where = f"Secrets Manager secret {secret_id!r}"
    try:
        session = (session_factory or boto3.Session)()
        # a secret ARN carries its region; a plain name is looked up in the session's region
        # (AWS_REGION included, which botocore itself does not read)
        arn = re.match(r"^arn:[^:]+:secretsmanager:([^:]+):", secret_id)
        found = None if arn else session_region(session)
        client = session.client(
            "secretsmanager", region_name=arn.group(1) if arn else found and found[0],
            config=BotoConfig(retries={"mode": "standard", "max_attempts": 5},
                              connect_timeout=5, read_timeout=15))
        raw = client.get_secret_value(SecretId=secret_id).get("SecretString") or ""
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise RightsizerError(f"cannot read the Slack webhook from {where}: {code}") from None
    except (BotoCoreError, ValueError) as exc:
        raise RightsizerError(f"cannot read the Slack webhook from {where}: "
                              f"{aws_failure_text(exc)}") from None
    value = raw.strip()
    if value.startswith("{"):  # {"webhook_url": "..."} is common for key/value secrets
        try:
            data = json.loads(value)
        except json.JSONDecodeError:
            data = {}
        value = str(data.get("webhook_url") or data.get("url") or "").strip() \
            if isinstance(data, dict) else ""
    if not value:
        raise RightsizerError(f"{where} holds no webhook URL (a plain string, or JSON with "
                              "\"webhook_url\")")
    return value


# --- posting -------------------------------------------------------------------------------------

class _Backoff(RetryIntervalCalculator):
    """Exponential backoff with a little jitter (slack_sdk's default adds up to a whole second,
    too much for tests that set a tiny factor)."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def calculate_sleep_duration(self, current_attempt: int) -> float:
        base = self.factor * (2 ** current_attempt)
        return base + random.uniform(0, base / 4)


class ServerErrorRetryHandler(RetryHandler):
    """Retry any 5xx: slack_sdk's built-in ServerErrorRetryHandler only retries 500 and 503,
    and proxies in front of Slack answer 502/504 too."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        return response is not None and 500 <= response.status_code <= 599


class CappedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """429: wait what Retry-After says (the built-in one adds up to a second of jitter and has no
    ceiling), capped at MAX_RETRY_AFTER_SECONDS."""

    def __init__(self, max_retry_count: int, max_wait: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        state.next_attempt_requested = True
        time.sleep(min(_retry_after(response.headers), self.max_wait))
        state.increment_current_attempt()


class _AttemptCounter(RetryHandler):
    """First in the handler list, so it sees every failed attempt; never retries itself."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=0)
        self.failures = 0

    def can_retry(self, *, state: RetryState, request: HttpRequest,
                  response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        self.failures += 1
        return False


def _retry_after(headers: dict[str, Any]) -> float:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(float(raw), 0.0)
            except (TypeError, ValueError):
                return 1.0  # an HTTP-date: rare from Slack; a short wait is fine
    return 1.0


def _scrub(text: str, url: str) -> str:
    return text.replace(url, "<webhook>") if url else text


def post(payload: dict[str, Any], webhook_url: str, *, max_retries: int | None = None,
         backoff: float | None = None, max_retry_after: float | None = None) -> None:
    """POST the payload; 429 and 5xx are retried; anything else non-2xx is a RightsizerError
    that never contains the URL."""
    from slack_sdk.webhook import WebhookClient

    if not re.match(r"^https?://[^\s]+$", webhook_url or ""):
        # slack_sdk's own error for this case quotes the URL
        raise RightsizerError("the Slack webhook URL is not an http(s) URL")
    retries = DEFAULT_MAX_RETRIES if max_retries is None else max_retries
    counter = _AttemptCounter()
    client = WebhookClient(
        webhook_url, timeout=TIMEOUT_SECONDS, logger=SILENT_SDK_LOGGER,
        retry_handlers=[
            counter,
            CappedRateLimitRetryHandler(
                retries, MAX_RETRY_AFTER_SECONDS if max_retry_after is None else max_retry_after),
            ServerErrorRetryHandler(
                max_retry_count=retries,
                interval_calculator=_Backoff(
                    DEFAULT_BACKOFF_SECONDS if backoff is None else backoff)),
        ])
    try:
        response = client.send_dict(payload)
    except Exception as exc:  # noqa: BLE001 - connection errors: name them, never the URL
        reason = getattr(exc, "reason", None) or type(exc).__name__
        raise RightsizerError(
            f"Slack webhook could not be reached after {max(counter.failures, 1)} attempts: "
            f"{_scrub(_clip(str(reason), 200), webhook_url)}") from None
    if not 200 <= response.status_code < 300:
        body = _scrub(_clip(str(response.body or "").strip().splitlines()[0]
                            if str(response.body or "").strip() else "", 100), webhook_url)
        raise RightsizerError(
            f"Slack webhook answered {response.status_code} after "
            f"{max(counter.failures, 1)} attempts" + (f" ({body})" if body else ""))
    log.info("posted the Slack summary")


def post_failure(message: str, settings: SlackSettings, session_factory: Any = None) -> bool:
    """A short "the scheduled run failed" message; never raises (it runs on the failure path).

    The caller passes a message with no secrets and no traceback (exception type + first line).
    """
    text = f":x: rightsizer: the scheduled run failed: {escape(_clip(message, 500))}"
    payload = {"text": _clip(text, MAX_FALLBACK_TEXT), "blocks": [_section(text)]}
    try:
        url = webhook_url(settings, session_factory)
    except RightsizerError as exc:
        log.warning("not posting the failure to Slack: %s", exc)
        return False
    try:
        post(payload, url)
    except RightsizerError as exc:
        log.warning("could not post the failure to Slack: %s", exc)
        return False
    return True
