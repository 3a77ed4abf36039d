"""The S3 permissions for snapshots kept in S3 (`collect --output s3://...`, `report
s3://...`): the user's own output location, not part of the read-only analysis, so a separate
statement on that bucket and prefix only, added by `iam-policy --snapshots s3://bucket/prefix`.

Actions and resources: s3:PutObject and s3:GetObject on objects
(arn:aws:s3:::bucket/key), s3:ListBucket on the bucket, narrowed by the s3:prefix condition key
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html).
ListObjectsV2 needs s3:ListBucket
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html).
"""

from __future__ import annotations

from typing import Any

from rightsizer.errors import RightsizerError
from rightsizer.snapshot.location import S3Prefix, is_s3


def snapshot_store_statements(url: str, partition: str = "aws") -> list[dict[str, Any]]:
    """Write (collect) and read (report) for the snapshots under `url`."""
    if not is_s3(url):
        raise RightsizerError(f"--snapshots: expected s3://bucket/prefix, got {url!r}")
    where = S3Prefix.parse(url)
    bucket = f"arn:{partition}:s3:::{where.bucket}"
    listing: dict[str, Any] = {"Sid": "ListRightsizerSnapshots", "Effect": "Allow",
                               "Action": ["s3:ListBucket"], "Resource": bucket}
    if where.prefix:
        listing["Condition"] = {"StringLike": {"s3:prefix": [f"{where.prefix}*"]}}
    return [
        {"Sid": "WriteAndReadRightsizerSnapshots", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": f"{bucket}/{where.prefix}*"},
        listing,
    ]
