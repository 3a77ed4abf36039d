"""Publish the HTML report for the Slack summary's "Full report" link: upload it to the
`[report] s3_bucket` and sign a GET link to it.

This is rightsizer's one write, and only when `s3_bucket` is set: s3:PutObject on
<bucket>/<s3_prefix>* (rightsizer.aws.iam_policy grants it only then; docs/security.md).
A presigned URL acts with the permissions of whoever signed it, so the same principal also
needs s3:GetObject on those keys for the link to open:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rightsizer.config import Config
from rightsizer.errors import RightsizerError

# SigV4 presigned URLs last at most 604,800 seconds (7 days): "Maximum is 604800 seconds",
# https://docs.aws.amazon.com/cli/latest/reference/s3/presign.html
MAX_EXPIRES_SECONDS = 604_800
# What is uploaded, in order of preference: the page people read, else the JSON.
PUBLISHED_FILES = (("report.html", "text/html; charset=utf-8"),
                   ("report.json", "application/json"))


def object_key(prefix: str, generated_at: str, file_name: str) -> str:
    """<prefix><generated time>/<file>: one key per run, so no run overwrites another's."""
    stamp = "".join(ch for ch in generated_at[:19] if ch.isalnum() or ch in "-T") or "report"
    return f"{prefix}{stamp}Z/{file_name}" if generated_at else f"{prefix}{file_name}"


def publish_report(report_json: Path, generated_at: str, config: Config,
                   session_factory: Callable[[], Any] | None = None) -> str:
    """Upload the report beside `report_json` to `[report] s3_bucket` and return a presigned
    GET URL for it; any failure is one RightsizerError line naming the bucket and the cause."""
    from botocore.config import Config as BotoConfig
    from botocore.exceptions import BotoCoreError, ClientError

    from rightsizer.aws.clients import aws_failure_text, make_session
    from rightsizer.config import session_region

    settings = config.report
    bucket = settings.s3_bucket
    if not bucket:
        raise RightsizerError("[report] s3_bucket is not set: nothing to upload to")
    found = [(Path(report_json).with_name(name), kind) for name, kind in PUBLISHED_FILES]
    path, content_type = next(((p, k) for p, k in found if p.is_file()), found[-1])
    key = object_key(settings.s3_prefix, generated_at, path.name)
    where = f"s3://{bucket}/{key}"
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise RightsizerError(f"cannot read {path} to upload it: {exc.strerror}") from None
    try:
        session = (session_factory or make_session)()
        # the link is signed for the bucket's region: the configured one, else the run's
        region = settings.s3_region or _first_region(config) or (
            (session_region(session) or (None, ""))[0])
        client = session.client("s3", region_name=region, config=BotoConfig(
            signature_version="s3v4", retries={"mode": "standard", "max_attempts": 5},
            connect_timeout=5, read_timeout=30))
        client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
        return client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key},
            ExpiresIn=min(settings.link_expires_days * 86_400, MAX_EXPIRES_SECONDS))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code") or "ClientError"
        message = error.get("Message") or ""
        raise RightsizerError(f"cannot upload the report to {where}: {code}"
                              + (f" ({message})" if message else "")) from None
    except (BotoCoreError, ValueError) as exc:
        raise RightsizerError(f"cannot upload the report to {where}: "
                              f"{aws_failure_text(exc)}") from None


def _first_region(config: Config) -> str | None:
    regions = config.aws.regions
    return regions[0] if isinstance(regions, list) and regions else None
