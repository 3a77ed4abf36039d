"""ecr-lifecycle: ECR repositories without a lifecycle policy keep every image ever pushed."""

from __future__ import annotations

import json
import shlex
import textwrap
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from rightsizer import pricing
from rightsizer.rules.base import Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Resource, finding_for, skipped_for, unpriced
from rightsizer.snapshot.store import Snapshot, decode_json_cell, records

RULE_ID = "ecr-lifecycle"
GB = 1024**3
DAY_SECONDS = 86_400
# Lifecycle policy properties (rulePriority, selection.tagStatus / tagPatternList / countType /
# countUnit / countNumber, action.type "expire"):
POLICY_DOC = ("https://docs.aws.amazon.com/AmazonECR/latest/userguide/"
              "lifecycle_policy_parameters.html")
# imageSizeInBytes and imagePushedAt of each image: DescribeImages' ImageDetail,
IMAGE_DOC = "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageDetail.html"
# Manifest media types of an image index (a multi-architecture image): the per-platform
# images it references are stored as untagged images of the same repository.
INDEX_MEDIA_TYPES = frozenset({
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
})


class Settings(RuleSettings):
    untagged_expire_days: int = Field(
        14, ge=1, le=3650,
        description="The recommended policy expires untagged images this many days after "
        "they were pushed (countType sinceImagePushed).",
    )
    keep_tagged_images: int = Field(
        30, ge=1, le=10000,
        description="The recommended policy keeps this many of the most recently pushed tagged "
        "images and expires older ones (countType imageCountMoreThan).",
    )


@dataclass(frozen=True)
class _Image:
    pushed_at: int | None  # epoch seconds
    size_bytes: int
    tagged: bool
    media_type: str


def _images(cell: Any) -> list[_Image]:
    out: list[_Image] = []
    for entry in decode_json_cell(cell, []) or []:
        if not isinstance(entry, list) or len(entry) < 3:
            continue
        pushed = entry[0] if isinstance(entry[0], int | float) else None
        out.append(_Image(None if pushed is None else int(pushed), int(entry[1] or 0),
                          bool(entry[2]), str(entry[3]) if len(entry) > 3 else ""))
    return out


def _age_days(image: _Image, window_end: float) -> float | None:
    if image.pushed_at is None:
        return None
    return max(0.0, (window_end - image.pushed_at) / DAY_SECONDS)


def expired_by_policy(images: list[_Image], window_end: float, settings: Settings,
                      *, expire_untagged: bool = True) -> tuple[list[_Image], list[_Image]]:
    """(untagged, tagged) images the recommended policy would expire at `window_end`: rule 1
    expires untagged images pushed more than untagged_expire_days ago; rule 2 keeps the
    keep_tagged_images most recently pushed tagged images and expires the rest. An image whose
    push time is unknown is never counted as old."""
    untagged = [image for image in images if not image.tagged
                and (age := _age_days(image, window_end)) is not None
                and age > settings.untagged_expire_days] if expire_untagged else []
    tagged = sorted((image for image in images if image.tagged),
                    key=lambda image: image.pushed_at if image.pushed_at is not None
                    else float("inf"), reverse=True)
    return untagged, tagged[settings.keep_tagged_images:]


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    window_end = snapshot.window_end.timestamp()
    for row in records(snapshot.table("ecr_repositories")):
        resource = Resource("ecr-repository", str(row["arn"]), str(row["repository"]),
                            str(row["account"]), str(row["region"]),
                            decode_json_cell(row.get("tags"), {}))
        state = str(row.get("lifecycle_state") or "unknown")
        if state == "present":
            continue  # a policy already expires images
        if state != "absent":
            result.skipped.append(skipped_for(
                resource, RULE_ID, "insufficient-data",
                "the lifecycle policy could not be read (GetLifecyclePolicy failed)"))
            continue
        if str(row.get("images_state") or "") != "read":
            result.skipped.append(skipped_for(
                resource, RULE_ID, "insufficient-data",
                "no lifecycle policy, but the images could not be listed (DescribeImages "
                "failed): stored bytes unknown"))
            continue
        images = _images(row.get("images"))
        stored = sum(image.size_bytes for image in images)
        if stored <= 0:
            continue  # an empty repository: nothing stored, nothing to save
        price = pricing.ecr_storage_gb_month_usd(resource.region)
        if price is None:
            result.skipped.append(unpriced(resource, RULE_ID, "ECR storage"))
            continue
        result.findings.append(_finding(snapshot, settings, resource, images, stored, price,
                                        window_end))
    return result


def _finding(snapshot: Snapshot, settings: Settings, resource: Resource, images: list[_Image],
             stored: int, price: pricing.Price, window_end: float) -> Finding:
    has_index = any(image.media_type in INDEX_MEDIA_TYPES for image in images)
    untagged = [image for image in images if not image.tagged]
    old_untagged, old_tagged = expired_by_policy(images, window_end, settings,
                                                 expire_untagged=not has_index)
    untagged_bytes = sum(image.size_bytes for image in untagged)
    expired_bytes = sum(image.size_bytes for image in old_untagged + old_tagged)
    stored_gb = stored / GB
    monthly_cost = stored_gb * price.usd
    savings = expired_bytes / GB * price.usd
    days, keep = settings.untagged_expire_days, settings.keep_tagged_images
    reason = (
        f"no lifecycle policy: {len(images)} images, {stored_gb:,.2f} GB stored "
        f"(${monthly_cost:,.2f}/month), {len(untagged)} of them untagged "
        f"({untagged_bytes / GB:,.2f} GB); expiring untagged images after {days} days and "
        f"keeping the last {keep} tagged images would remove {len(old_untagged)} untagged and "
        f"{len(old_tagged)} tagged images ({expired_bytes / GB:,.2f} GB) now, and stops the "
        "repository from growing"
    )
    if has_index:
        reason += ("; the repository holds image indexes (multi-architecture images), whose "
                   "per-platform images are untagged: they are not counted as savings, so "
                   "preview the policy before applying it")
    evidence = {
        "lifecycle_policy": "absent",
        "image_count": len(images),
        "untagged_image_count": len(untagged),
        "stored_bytes": stored,
        "stored_gb": round(stored_gb, 3),
        "untagged_bytes": untagged_bytes,
        "untagged_share": round(untagged_bytes / stored, 4) if stored else 0.0,
        "expired_untagged_images": len(old_untagged),
        "expired_tagged_images": len(old_tagged),
        "expired_bytes": expired_bytes,
        "untagged_expire_days": days,
        "keep_tagged_images": keep,
        "has_image_index": has_index,
        "price_gb_month_usd": price.usd,
        "price_source": price.source,
        "assumption": "stored bytes = the sum of DescribeImages imageSizeInBytes (" + IMAGE_DOC
        + "); layers shared by several images are stored once but counted for each, so this "
        "is an upper bound of the billed storage; image ages are counted to the end of the "
        "window from imagePushedAt",
        "policy_doc": POLICY_DOC,
    }
    return finding_for(
        resource, RULE_ID,
        current={"lifecycle_policy": "absent"},
        # the policy document itself is in how_to_apply: the summary stays readable
        recommended={"untagged_expire_days": days, "keep_tagged_images": keep},
        monthly_cost_usd=monthly_cost,
        monthly_savings_usd=savings,
        pricing=pricing.basis(price),
        evidence=evidence,
        reason=reason,
    )


def policy(settings: Settings) -> dict[str, Any]:
    """The lifecycle policy the rule recommends for these settings."""
    return policy_for(settings.untagged_expire_days, settings.keep_tagged_images)


def policy_for(days: int, keep: int) -> dict[str, Any]:
    """The lifecycle policy (POLICY_DOC): untagged images expire `days` after push; of tagged
    images (tagPatternList "*": any tag) the newest `keep` are kept."""
    return {"rules": [
        {"rulePriority": 1,
         "description": f"Expire untagged images {days} days after push",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                       "countUnit": "days", "countNumber": days},
         "action": {"type": "expire"}},
        {"rulePriority": 2,
         "description": f"Keep the last {keep} tagged images",
         "selection": {"tagStatus": "tagged", "tagPatternList": ["*"],
                       "countType": "imageCountMoreThan", "countNumber": keep},
         "action": {"type": "expire"}},
    ]}


def how_to_apply(finding: Finding) -> dict[str, str]:
    days = finding.recommended["untagged_expire_days"]
    keep = finding.recommended["keep_tagged_images"]
    document = policy_for(days, keep)
    text = json.dumps(document, separators=(",", ":"))
    name, region = shlex.quote(finding.name), shlex.quote(finding.region)
    hcl = textwrap.indent(json.dumps(document, indent=2), "  ").lstrip()  # JSON is valid HCL
    return {
        # PutLifecyclePolicy: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutLifecyclePolicy.html
        "cli": (
            "# Optional dry run first: StartLifecyclePolicyPreview evaluates the policy and "
            "deletes nothing, but it is an API write (ecr:StartLifecyclePolicyPreview), so "
            "it is left commented out:\n"
            f"#   aws ecr start-lifecycle-policy-preview --repository-name {name} "
            f"--lifecycle-policy-text {shlex.quote(text)} --region {region}\n"
            f"#   aws ecr get-lifecycle-policy-preview --repository-name {name} "
            f"--region {region}\n"
            "# ECR expires the images that meet the criteria within 24 hours.\n"
            f"aws ecr put-lifecycle-policy --repository-name {name} "
            f"--lifecycle-policy-text {shlex.quote(text)} --region {region}"
        ),
        "terraform": (
            "resource \"aws_ecr_lifecycle_policy\" \"this\" {\n"
            f"  repository = {json.dumps(finding.name)}\n"
            f"  policy     = jsonencode({hcl})\n}}"
        ),
        "cdk": (
            "// on the ecr.Repository the stack defines:\n"
            "repository.addLifecycleRule({ rulePriority: 1, tagStatus: ecr.TagStatus.UNTAGGED, "
            f"maxImageAge: Duration.days({days}) }});\n"
            "repository.addLifecycleRule({ rulePriority: 2, tagStatus: ecr.TagStatus.TAGGED, "
            f"tagPatternList: ['*'], maxImageCount: {keep} }});"
        ),
    }


RULE = Rule(
    id=RULE_ID,
    title="Add a lifecycle policy to ECR repositories that keep every image",
    why=(
        "An ECR repository without a lifecycle policy keeps every image ever pushed, and ECR "
        "bills the stored bytes every month. CI pushes a new image on every build, and each "
        "re-used tag leaves the previous image untagged: nothing ever deploys those again. A "
        "lifecycle policy that expires untagged images after a couple of weeks and keeps the "
        "last few dozen tagged ones caps the storage bill and keeps rollbacks possible."
    ),
    resource_type="ecr-repository",
    bill_services=('Amazon EC2 Container Registry (ECR)',),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
)
