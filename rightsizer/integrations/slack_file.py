"""Optionally upload report.html into the Slack channel ([slack] channel_id and a bot token in
the variable `bot_token_env` names), beside the webhook's summary.

slack_sdk's files_upload_v2 does Slack's three steps (files.getUploadURLExternal, the upload,
files.completeUploadExternal with the channel):
https://docs.slack.dev/reference/methods/files.completeUploadExternal/
The token is a secret like the webhook URL: never printed, logged or put in an error.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from rightsizer.config import SlackSettings
from rightsizer.errors import RightsizerError

log = logging.getLogger("rightsizer.integrations.slack_file")

SLACK_API_URL = "https://slack.com/api/"  # tests point it at a local server
TIMEOUT_SECONDS = 30
# Slack's answers that mean the app is not set up for this, and what to do about it
_ADVICE = {
    "not_in_channel": "invite the app to the channel",
    "channel_not_found": "check [slack] channel_id, and invite the app to the channel",
    "missing_scope": "give the app the files:write scope and reinstall it",
    "invalid_auth": "the bot token is not valid",
    "not_authed": "the bot token is not valid",
    "token_revoked": "the bot token was revoked",
}

# slack_sdk logs the full webhook URL (at INFO when it retries a connection error): its clients
# get a logger that never emits anything.
SILENT_SDK_LOGGER = logging.getLogger("rightsizer.integrations.slack.sdk")
SILENT_SDK_LOGGER.setLevel(logging.CRITICAL + 1)
SILENT_SDK_LOGGER.propagate = False


def file_upload_configured(settings: SlackSettings) -> bool:
    return bool(settings.channel_id and os.environ.get(settings.bot_token_env, "").strip())


def upload_report_file(report_json: Path, settings: SlackSettings, title: str) -> str:
    """Upload report.html (else report.json) beside `report_json` into the channel; return the
    file's ID. Any failure is one RightsizerError line naming the channel and Slack's error."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError, SlackClientError


    token = os.environ.get(settings.bot_token_env, "").strip()
    if not token or not settings.channel_id:
        raise RightsizerError(f"uploading the report into Slack needs [slack] channel_id and a "
                              f"bot token in {settings.bot_token_env}")
    html = Path(report_json).with_name("report.html")
    path = html if html.is_file() else Path(report_json)
    where = f"Slack channel {settings.channel_id}"
    client = WebClient(token=token, base_url=SLACK_API_URL, timeout=TIMEOUT_SECONDS,
                       logger=SILENT_SDK_LOGGER)
    try:
        response = client.files_upload_v2(channel=settings.channel_id, file=str(path),
                                          filename=path.name, title=title)
    except SlackApiError as exc:
        code = str(exc.response.get("error") or exc.response.status_code)
        advice = _ADVICE.get(code)
        raise RightsizerError(f"could not upload {path.name} into {where}: {code}"
                              + (f" ({advice})" if advice else "")) from None
    except (SlackClientError, OSError) as exc:  # connection, the upload step, the file
        reason = getattr(exc, "reason", None) or type(exc).__name__
        raise RightsizerError(f"could not upload {path.name} into {where}: "
                              f"{str(reason).replace(token, '<token>')[:200]}") from None
    files = response.get("files") or [{}]
    return str((files[0] or {}).get("id") or response.get("file", {}).get("id") or "")
