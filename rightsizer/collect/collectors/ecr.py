"""ECR: private repositories with their lifecycle policy, tags and images (sizes, tags, push
times), the inventory the ecr-lifecycle rule reads.

ECR answers no repository size: the stored bytes are the sum of DescribeImages'
imageSizeInBytes (API_ImageDetail.html). Each image is kept as one compact
[pushed_at epoch seconds, size bytes, tag count, manifest media type] entry so a rule can work
out what a lifecycle policy with any settings would expire, offline.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
from botocore.exceptions import ClientError

from rightsizer.collect.collectors.base import (
    ErrorLog,
    Target,
    error_code,
    recorded_failure,
    tags_to_dict,
    to_json,
)
from rightsizer.collect.spec import CollectorSpec, Inventory, same_name, schema

SERVICE = "ecr"
# GetLifecyclePolicy answers this error when the repository has no policy: "absent", not an
# error row (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetLifecyclePolicy.html,
# "Errors").
NO_POLICY = "LifecyclePolicyNotFoundException"


def _epoch(value: Any) -> int | None:
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, int | float):
        return int(value)
    return None


def collect_repositories(target: Target, errors: ErrorLog) -> list[dict[str, Any]]:
    ecr = target.client(SERVICE)
    repositories: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, target.region, SERVICE,
                          "DescribeRepositories"):
        for page in ecr.get_paginator("describe_repositories").paginate():
            repositories.extend(page.get("repositories", []))
    # Three or more calls a repository: in parallel on the run's pool.
    return target.map(lambda repo: _repository_row(target, errors, repo), repositories)


def _repository_row(target: Target, errors: ErrorLog, repo: dict[str, Any]) -> dict[str, Any]:
    ecr = target.client(SERVICE)
    name = str(repo["repositoryName"])
    arn = str(repo.get("repositoryArn") or name)
    registry = repo.get("registryId")
    ids: dict[str, Any] = {"repositoryName": name}
    if registry:
        ids["registryId"] = registry

    lifecycle_state, policy = "unknown", ""
    with recorded_failure(errors, target.account, target.region, SERVICE, "GetLifecyclePolicy"):
        try:
            policy = str(ecr.get_lifecycle_policy(**ids).get("lifecyclePolicyText") or "")
            lifecycle_state = "present"
        except ClientError as exc:
            if error_code(exc) != NO_POLICY:
                raise
            lifecycle_state = "absent"

    images: list[list[Any]] | None = None
    with recorded_failure(errors, target.account, target.region, SERVICE, "DescribeImages"):
        read: list[list[Any]] = []
        for page in ecr.get_paginator("describe_images").paginate(**ids):
            for image in page.get("imageDetails", []):
                read.append([_epoch(image.get("imagePushedAt")),
                             int(image.get("imageSizeInBytes") or 0),
                             len(image.get("imageTags") or []),
                             str(image.get("imageManifestMediaType") or "")])
        images = read

    tags: dict[str, str] = {}
    with recorded_failure(errors, target.account, target.region, SERVICE,
                          "ListTagsForResource"):
        tags = tags_to_dict(ecr.list_tags_for_resource(resourceArn=arn).get("tags"))

    known = images is not None
    entries = images or []
    untagged = [entry for entry in entries if not entry[2]]
    return {
        "account": target.account,
        "region": target.region,
        "repository": name,
        "arn": arn,
        "created_at": str(repo.get("createdAt", "")),
        "lifecycle_state": lifecycle_state,
        "lifecycle_policy": policy,
        "images_state": "read" if known else "unknown",
        "image_count": len(entries) if known else None,
        "untagged_count": len(untagged) if known else None,
        "stored_bytes": sum(entry[1] for entry in entries) if known else None,
        "untagged_bytes": sum(entry[1] for entry in untagged) if known else None,
        "images": to_json(entries),
        "tags": to_json(tags),
    }


SPECS = (
    CollectorSpec(
        table="ecr_repositories", label="ecr",
        schema=schema("account", "region", "repository", "arn", "created_at",
                      "lifecycle_state", "lifecycle_policy", "images_state", "image_count",
                      "untagged_count", "stored_bytes", "untagged_bytes", "images", "tags",
                      image_count=pa.int64(), untagged_count=pa.int64(),
                      stored_bytes=pa.int64(), untagged_bytes=pa.int64()),
        operations=same_name("ecr:DescribeRepositories", "ecr:GetLifecyclePolicy",
                             "ecr:DescribeImages", "ecr:ListTagsForResource"),
        collect=lambda target, errors, _run: collect_repositories(target, errors),
        id_column="arn",
        inventory=Inventory("ecr-repository", "ECR repositories", "ecr:DescribeRepositories"),
    ),
)
