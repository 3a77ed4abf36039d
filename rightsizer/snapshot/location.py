"""Where a snapshot lives: a local directory or an S3 prefix (`s3://bucket/prefix`).

S3 goes through boto3, like every other AWS call here: the same credential chain (profiles,
SSO, instance and task roles, IRSA), and botocore's own AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL,
so any S3-compatible store works
(https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html). A PUT of one object
is atomic (a reader sees the old object or the new one, never a part), which is what lets the
writer put the manifest last.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from rightsizer.errors import RightsizerError

S3_SCHEME = "s3://"


def is_s3(location: str | Path) -> bool:
    return str(location).startswith(S3_SCHEME)


@dataclass(frozen=True)
class S3Prefix:
    bucket: str
    prefix: str  # "" or ending in "/"

    @classmethod
    def parse(cls, url: str) -> S3Prefix:
        bucket, _, prefix = url[len(S3_SCHEME):].partition("/")
        if not bucket:
            raise RightsizerError(f"{url}: expected s3://bucket/prefix")
        prefix = prefix.strip("/")
        return cls(bucket, f"{prefix}/" if prefix else "")

    def child(self, name: str) -> S3Prefix:
        return S3Prefix(self.bucket, f"{self.prefix}{name.strip('/')}/")

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def __str__(self) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.prefix}"


def s3_client() -> Any:
    return _client(os.environ.get("AWS_ENDPOINT_URL_S3"), os.environ.get("AWS_ENDPOINT_URL"))


@cache
def _client(*endpoints: str | None) -> Any:
    """One client per endpoint setting (botocore reads them itself; they are the cache key
    so a changed endpoint gets a new client)."""
    import boto3

    return boto3.session.Session().client("s3")


def _failure(action: str, where: str, exc: Exception) -> RightsizerError:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        detail = f"{error.get('Code', 'Error')}: {error.get('Message', '')}".rstrip(": ")
    else:
        detail = str(exc)
    return RightsizerError(f"{where}: cannot {action} ({detail})")


def put_object(where: S3Prefix, name: str, body: bytes) -> None:
    try:
        s3_client().put_object(Bucket=where.bucket, Key=where.key(name), Body=body)
    except (ClientError, BotoCoreError) as exc:
        raise _failure(f"write {name}", str(where), exc) from None


def get_object(where: S3Prefix, name: str) -> bytes | None:
    """The object's bytes; None when there is no such key."""
    try:
        response = s3_client().get_object(Bucket=where.bucket, Key=where.key(name))
        return bytes(response["Body"].read())
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise _failure(f"read {name}", str(where), exc) from None
    except BotoCoreError as exc:
        raise _failure(f"read {name}", str(where), exc) from None


def list_keys(where: S3Prefix) -> list[str]:
    """Every key under the prefix (ListObjectsV2, 1,000 a page)."""
    keys: list[str] = []
    try:
        paginator = s3_client().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=where.bucket, Prefix=where.prefix):
            keys += [str(item["Key"]) for item in page.get("Contents", [])]
    except (ClientError, BotoCoreError) as exc:
        raise _failure("list the snapshots", str(where), exc) from None
    return keys
