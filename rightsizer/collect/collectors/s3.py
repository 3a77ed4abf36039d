"""S3: buckets in the regions analysed, with lifecycle rules and tags."""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import ClientError

from rightsizer.collect.collectors.base import (
    AWS_FAILURES,
    ErrorLog,
    Target,
    error_code,
    recorded_failure,
    tags_to_dict,
    to_json,
)
from rightsizer.collect.spec import CollectorSpec, Inventory, MetricResource, schema

SERVICE = "s3"
log = logging.getLogger("rightsizer")


def bucket_region(location: str | None) -> str:
    # GetBucketLocation answers None for us-east-1 and "EU" for very old eu-west-1 buckets.
    if not location:
        return "us-east-1"
    return "eu-west-1" if location == "EU" else location


def collect_buckets(target: Target, errors: ErrorLog, regions: set[str]) -> list[dict[str, Any]]:
    """S3 lists every bucket of the account at once: call once per account, keep `regions`."""
    s3 = target.client("s3")
    buckets: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, target.region, SERVICE, "ListBuckets"):
        for page in s3.get_paginator("list_buckets").paginate():
            buckets.extend(page.get("Buckets", []))

    bulk_tags = bucket_tags_in_bulk(target, regions) if buckets else None

    def one(bucket: dict[str, Any]) -> dict[str, Any] | None:
        name = bucket["Name"]
        region = bucket.get("BucketRegion")
        if not region:
            with recorded_failure(errors, target.account, target.region, SERVICE,
                                  "GetBucketLocation"):
                region = bucket_region(
                    s3.get_bucket_location(Bucket=name).get("LocationConstraint"))
        if not region or region not in regions:
            return None
        row = _bucket_row(target, errors, name, region, bulk_tags)
        row["created_at"] = str(bucket.get("CreationDate", ""))
        return row

    # Two or three calls a bucket: thousands of buckets only finish in time in parallel.
    return [row for row in target.map(one, buckets) if row is not None]


def bucket_tags_in_bulk(target: Target, regions: set[str]) -> dict[str, dict[str, str]] | None:
    """Every tagged bucket's tags from the Resource Groups Tagging API, 100 a call, instead of
    one GetBucketTagging per bucket (at thousands of buckets, most of a run's calls). A bucket
    absent from the answer has no tags. None (read them one by one) when the API is refused,
    e.g. a policy written before tag:GetResources was part of it."""
    tags: dict[str, dict[str, str]] = {}
    for region in sorted(regions):
        try:
            paginator = target.client("resourcegroupstaggingapi", region).get_paginator(
                "get_resources")
            for page in paginator.paginate(ResourceTypeFilters=["s3"], ResourcesPerPage=100):
                for item in page.get("ResourceTagMappingList", []):
                    tags[str(item.get("ResourceARN", ""))] = tags_to_dict(item.get("Tags"))
        except AWS_FAILURES as exc:
            log.info("tag:GetResources refused in %s (%s): reading bucket tags one by one",
                     region, type(exc).__name__)
            return None
    return tags


def _bucket_row(target: Target, errors: ErrorLog, name: str, region: str,
                bulk_tags: dict[str, dict[str, str]] | None) -> dict[str, Any]:
    s3 = target.client("s3", region)
    lifecycle_state, rules = "unknown", []
    with recorded_failure(errors, target.account, region, SERVICE,
                          "GetBucketLifecycleConfiguration"):
        try:
            rules = s3.get_bucket_lifecycle_configuration(Bucket=name).get("Rules", [])
            lifecycle_state = "present"
        except ClientError as exc:
            if error_code(exc) != "NoSuchLifecycleConfiguration":
                raise
            lifecycle_state = "absent"
    arn = f"arn:aws:s3:::{name}"
    tags: dict[str, str] = {}
    if bulk_tags is not None:
        tags = bulk_tags.get(arn, {})
    else:
        with recorded_failure(errors, target.account, region, SERVICE, "GetBucketTagging"):
            try:
                tags = tags_to_dict(s3.get_bucket_tagging(Bucket=name).get("TagSet"))
            except ClientError as exc:
                if error_code(exc) != "NoSuchTagSet":
                    raise
    return {
        "account": target.account,
        "region": region,
        "bucket": name,
        "arn": arn,
        "lifecycle_state": lifecycle_state,
        "lifecycle_rules": to_json(rules),
        "tags": to_json(tags),
    }


# S3 storage metrics are split by storage type; each need reads one of them.
S3_STORAGE_TYPE = {"BucketSizeBytes": "StandardStorage", "NumberOfObjects": "AllStorageTypes"}


def _bucket_dimensions(metric: str, row: Any) -> tuple[tuple[tuple[str, str], ...], str]:
    storage = S3_STORAGE_TYPE.get(metric, "StandardStorage")
    return (("BucketName", row["bucket"]), ("StorageType", storage)), f"{row['bucket']}/{storage}"


SPECS = (
    CollectorSpec(
        table="s3_buckets", label="s3",
        schema=schema("account", "region", "bucket", "arn", "created_at", "lifecycle_state",
                      "lifecycle_rules", "tags"),
        # S3's IAM actions are not all named as its operations
        operations={"s3:ListBuckets": "s3:ListAllMyBuckets",
                    "s3:GetBucketLocation": "s3:GetBucketLocation",
                    "s3:GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
                    "s3:GetBucketTagging": "s3:GetBucketTagging",
                    "tag:GetResources": "tag:GetResources"},
        collect=lambda target, errors, run: collect_buckets(target, errors, set(run.regions)),
        scope="account",  # ListBuckets answers for every region at once
        id_column="arn",
        inventory=Inventory("s3-bucket", "S3 buckets", "s3:ListBuckets"),
        metric_resources=(MetricResource("s3-bucket", _bucket_dimensions),),
    ),
)
