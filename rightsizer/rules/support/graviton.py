"""Graviton counterparts: which x86 database and cache classes have an ARM64 class of the same
size for the engine, and whether a container image can run on linux/arm64 (ECR image index)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rightsizer.rules.support.rds_common import classes_for_engine, family_of, size_of
from rightsizer.snapshot.store import Snapshot, decode_json_cell, records

# RDS: x86 class type -> its Graviton2 type of the same shape (vCPU and memory per size).
# db.t4g, db.m6g and db.r6g are the Graviton2 types of the class table rds_common cites
# (CLASS_SUPPORT_SOURCE); db.m7g/db.r7g (Graviton3) are not tabled there, so not offered.
RDS_GRAVITON = {"db.t2": "db.t4g", "db.t3": "db.t4g", "db.m4": "db.m6g", "db.m5": "db.m6g",
                "db.r4": "db.r6g", "db.r5": "db.r6g"}
RDS_VERSION_NOTE = ("the engine version is checked by the apply command "
                    "(DescribeOrderableDBInstanceOptions lists the class for the engine and "
                    "version, or the change is refused)")

# ElastiCache: x86 node type -> Graviton2 type, and the minimum engine version each Graviton2
# type takes, from "Supported node types"
# (https://docs.aws.amazon.com/AmazonElastiCache/latest/red-ug/CacheNodes.SupportedTypes.html:
# cache.m6g and cache.t4g.small "Minimum supported Redis OSS version" 5.0.6; Memcached M6g and
# T4g "available only for Memcached engine version 1.5.16 onward",
# https://docs.aws.amazon.com/AmazonElastiCache/latest/mem-ug/CacheNodes.SupportedTypes.html).
# 5.0.6 is required of every cache.t4g and cache.r6g size too: the strictest of the listed sizes.
CACHE_GRAVITON = {"cache.t2": "cache.t4g", "cache.t3": "cache.t4g", "cache.m4": "cache.m6g",
                  "cache.m5": "cache.m6g", "cache.r4": "cache.r6g", "cache.r5": "cache.r6g"}
CACHE_SIZES = {"cache.t4g": ("micro", "small", "medium"),
               "cache.m6g": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge",
                             "16xlarge"),
               "cache.r6g": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge",
                             "16xlarge")}
CACHE_MIN_VERSION = {"redis": (5, 0, 6), "memcached": (1, 5, 16), "valkey": (7, 2)}
CACHE_SOURCE = "https://docs.aws.amazon.com/AmazonElastiCache/latest/red-ug/CacheNodes.SupportedTypes.html"


def rds_counterpart(engine: str, instance_class: str) -> str | None:
    """db.t3.small -> db.t4g.small for an engine whose class table has that size; None when no
    Graviton class of the same size exists for the engine."""
    target_family = RDS_GRAVITON.get(family_of(instance_class.strip().lower()))
    if target_family is None:
        return None
    target = f"{target_family}.{size_of(instance_class.strip().lower())}"
    classes = classes_for_engine(engine, target_family)
    return target if classes is not None and target in classes else None


def _version(text: str) -> tuple[int, ...] | None:
    parts = re.findall(r"\d+", text)
    return tuple(int(part) for part in parts[:3]) if parts else None


def cache_counterpart(engine: str, engine_version: str, node_type: str) -> tuple[str | None, str]:
    """(Graviton node type, "") or (None, why not)."""
    node = node_type.strip().lower()
    target_family = CACHE_GRAVITON.get(family_of(node))
    if target_family is None:
        return None, f"{node} has no Graviton2 counterpart tabled"
    target = f"{target_family}.{size_of(node)}"
    if size_of(node) not in CACHE_SIZES[target_family]:
        return None, f"{target_family} has no {size_of(node)} size"
    kind = engine.strip().lower()
    floor = CACHE_MIN_VERSION.get(kind)
    if floor is None:
        return None, f"engine {engine or '?'}: no Graviton version floor is known for it"
    version = _version(engine_version)
    if version is None:
        return None, f"{engine} engine version not recorded: its Graviton support is unknown"
    if version < floor:
        return None, (f"{engine} {engine_version} is older than "
                      f"{'.'.join(map(str, floor))}, the first version {target_family} runs")
    return target, ""


# --- container images -------------------------------------------------------------------------

# <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:tag][@digest]
# (https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html)
_ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)"
                        r"\.amazonaws\.com(?:\.cn)?/(?P<repository>[^:@]+)"
                        r"(?::(?P<tag>[^@]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$")
ARM64_PLATFORM = re.compile(r"^linux/arm64(/.*)?$")


@dataclass(frozen=True)
class ImageVerdict:
    image: str
    arm64: bool | None  # None: not checked (another registry, or the index was not read)
    detail: str


@lru_cache(maxsize=4096)
def _parse(image: str) -> re.Match[str] | None:
    return _ECR_IMAGE.match(image.strip())


def _repositories(snapshot: Snapshot) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    index: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in records(snapshot.table("ecr_repositories")):
        manifests = decode_json_cell(row.get("image_manifests"), [])
        index[(str(row["account"]), str(row["region"]), str(row["repository"]))] = [
            entry for entry in manifests if isinstance(entry, dict)] if isinstance(
                manifests, list) else []
    return index


def image_verdict(snapshot: Snapshot, image: str) -> ImageVerdict:
    """Whether `image` runs on linux/arm64, as far as the collected ECR images say."""
    match = _parse(image)
    if match is None:
        registry = image.split("/", 1)[0] if "/" in image else "Docker Hub"
        return ImageVerdict(image, None, f"{image}: an image from {registry}, not checked "
                                         "(only ECR image indexes are read)")
    key = (match["account"], match["region"], match["repository"])
    repositories = snapshot.derived("ecr-image-manifests", _repositories)
    if key not in repositories:
        return ImageVerdict(image, None, f"{image}: repository {key[2]} ({key[0]}, {key[1]}) "
                                         "was not among the collected ECR repositories: not "
                                         "checked")
    digest, tag = match["digest"], match["tag"] or ("" if match["digest"] else "latest")
    entry = next((item for item in repositories[key]
                  if (digest and item.get("digest") == digest)
                  or (not digest and tag in (item.get("tags") or []))), None)
    if entry is None:
        return ImageVerdict(image, None, f"{image}: no such image in the repository: not "
                                         "checked")
    platforms = entry.get("platforms")
    if platforms is None:
        if str(entry.get("media_type") or "").endswith(("manifest.list.v2+json",
                                                         "image.index.v1+json")):
            return ImageVerdict(image, None, f"{image}: its image index could not be read")
        return ImageVerdict(image, False, f"{image}: a single-architecture image (no image "
                                          "index): it would need an arm64 build first")
    arm = [platform for platform in platforms if ARM64_PLATFORM.match(str(platform))]
    if not arm:
        return ImageVerdict(image, False, f"{image}: its image index lists "
                                          f"{', '.join(platforms) or 'no platform'}, no "
                                          "linux/arm64")
    return ImageVerdict(image, True, f"{image}: image index lists {', '.join(platforms)}")
