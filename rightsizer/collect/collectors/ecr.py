"""ECR: private repositories with their lifecycle policy, tags and images (sizes, tags, push
times), the inventory the ecr-lifecycle rule reads.

ECR answers no repository size: the stored bytes are the sum of DescribeImages'
imageSizeInBytes (API_ImageDetail.html). Each image is kept as one compact
[pushed_at epoch seconds, size bytes, tag count, manifest media type] entry so a rule can work
out what a lifecycle policy with any settings would expire, offline.

For the graviton-migration rule, each image's digest, tags and manifest media type are kept
too, and the platforms of the tagged multi-architecture images (a Docker manifest list or an
OCI image index), read with BatchGetImage: whether an image can run on ARM64 is written in its
index, not in DescribeImages.
"""

from __future__ import annotations

import json
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
# A multi-architecture image is a Docker manifest list or an OCI image index
# (https://docs.docker.com/registry/spec/manifest-v2-2/#manifest-list,
# https://github.com/opencontainers/image-spec/blob/main/image-index.md). BatchGetImage returns
# a stored index only when its type is accepted; the API reference's list of values names the
# single-image types, which are accepted too so a single image is still answered as itself.
INDEX_MEDIA_TYPES = ("application/vnd.docker.distribution.manifest.list.v2+json",
                     "application/vnd.oci.image.index.v1+json")
ACCEPTED_MEDIA_TYPES = [*INDEX_MEDIA_TYPES,
                        "application/vnd.docker.distribution.manifest.v2+json",
                        "application/vnd.oci.image.manifest.v1+json"]
BATCH_GET_IMAGE_MAX = 100  # imageIds a BatchGetImage request takes (API_BatchGetImage.html)


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
    manifests: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, target.region, SERVICE, "DescribeImages"):
        read: list[list[Any]] = []
        for page in ecr.get_paginator("describe_images").paginate(**ids):
            for image in page.get("imageDetails", []):
                read.append([_epoch(image.get("imagePushedAt")),
                             int(image.get("imageSizeInBytes") or 0),
                             len(image.get("imageTags") or []),
                             str(image.get("imageManifestMediaType") or "")])
                manifests.append(_manifest_entry(image))
        images = read
    if manifests:
        with recorded_failure(errors, target.account, target.region, SERVICE, "BatchGetImage"):
            _read_platforms(ecr, ids, manifests)

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
        "image_manifests": to_json(manifests),
        "tags": to_json(tags),
    }


def _manifest_entry(image: dict[str, Any]) -> dict[str, Any]:
    """One image as graviton-migration reads it; platforms None until its index is read."""
    # https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageDetail.html
    return {"digest": str(image.get("imageDigest") or ""),
            "tags": [str(tag) for tag in image.get("imageTags") or []],
            "media_type": str(image.get("imageManifestMediaType") or ""),
            "platforms": None}


def _read_platforms(ecr: Any, ids: dict[str, Any], manifests: list[dict[str, Any]]) -> None:
    """Fill `platforms` ("linux/arm64", ...) of the tagged multi-architecture images, the
    newest BATCH_GET_IMAGE_MAX of them (ECS services run tagged releases): one request."""
    wanted = [entry for entry in manifests
              if entry["media_type"] in INDEX_MEDIA_TYPES and entry["tags"] and entry["digest"]]
    by_digest = {entry["digest"]: entry for entry in wanted[-BATCH_GET_IMAGE_MAX:]}
    if not by_digest:
        return
    # https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchGetImage.html: images
    # with imageManifest (the manifest's JSON text) and failures per image id
    response = ecr.batch_get_image(**ids, acceptedMediaTypes=ACCEPTED_MEDIA_TYPES,
                                   imageIds=[{"imageDigest": digest} for digest in by_digest])
    for image in response.get("images") or []:
        digest = str((image.get("imageId") or {}).get("imageDigest") or "")
        if digest in by_digest:
            by_digest[digest]["platforms"] = index_platforms(str(image.get("imageManifest")
                                                                 or ""))


def index_platforms(manifest_text: str) -> list[str] | None:
    """["linux/amd64", "linux/arm64/v8"] from a manifest list or image index; None when the text
    is not one. Entries without a real platform (buildx attestations say "unknown/unknown")
    are left out."""
    try:
        manifest = json.loads(manifest_text)
    except ValueError:
        return None
    entries = manifest.get("manifests") if isinstance(manifest, dict) else None
    if not isinstance(entries, list):
        return None
    platforms = []
    for entry in entries:
        platform = entry.get("platform") if isinstance(entry, dict) else None
        if not isinstance(platform, dict):
            continue
        os_name, arch = str(platform.get("os") or ""), str(platform.get("architecture") or "")
        if not os_name or not arch or "unknown" in (os_name, arch):
            continue
        variant = str(platform.get("variant") or "")
        platforms.append("/".join(part for part in (os_name, arch, variant) if part))
    return sorted(set(platforms))


SPECS = (
    CollectorSpec(
        table="ecr_repositories", label="ecr",
        schema=schema("account", "region", "repository", "arn", "created_at",
                      "lifecycle_state", "lifecycle_policy", "images_state", "image_count",
                      "untagged_count", "stored_bytes", "untagged_bytes", "images",
                      "image_manifests", "tags",
                      image_count=pa.int64(), untagged_count=pa.int64(),
                      stored_bytes=pa.int64(), untagged_bytes=pa.int64()),
        operations=same_name("ecr:DescribeRepositories", "ecr:GetLifecyclePolicy",
                             "ecr:DescribeImages", "ecr:ListTagsForResource",
                             "ecr:BatchGetImage"),
        collect=lambda target, errors, _run: collect_repositories(target, errors),
        id_column="arn",
        inventory=Inventory("ecr-repository", "ECR repositories", "ecr:DescribeRepositories"),
    ),
)
