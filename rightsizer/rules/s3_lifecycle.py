"""s3-lifecycle: buckets whose objects never move to cheaper storage classes."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from rightsizer import pricing
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Resource, finding_for, skipped_for
from rightsizer.snapshot.series import SeriesStats
from rightsizer.snapshot.store import Snapshot, decode_json_cell, records

RULE_ID = "s3-lifecycle"
GB = 1024**3


class Settings(RuleSettings):
    ia_days: int = Field(
        90, ge=30, le=3650,
        description="Days after creation to move objects to STANDARD_IA (S3 requires >= 30).",
    )
    glacier_days: int = Field(
        365, ge=31, le=36500, description="Days after creation to move objects to GLACIER."
    )
    abort_incomplete_multipart_days: int = Field(
        7, ge=1, le=365, description="Days after which unfinished multipart uploads are removed."
    )

    @model_validator(mode="after")
    def _glacier_after_ia(self) -> Settings:
        if self.glacier_days <= self.ia_days:
            raise ValueError("glacier_days must be greater than ia_days")
        return self


def lifecycle_state(rules: list[dict[str, Any]], ia_days: int) -> str:
    """absent | disabled | no-transition | short-expiration | ok."""
    if not rules:
        return "absent"
    enabled = [rule for rule in rules if rule.get("Status") == "Enabled"]
    if not enabled:
        return "disabled"
    if any(rule.get("Transitions") or rule.get("Transition") for rule in enabled):
        return "ok"
    # Objects deleted before they would reach STANDARD_IA gain nothing from a transition.
    if any(_whole_bucket(rule) and 0 < _expiration_days(rule) <= ia_days for rule in enabled):
        return "short-expiration"
    return "no-transition"


def may_be_flagged(row: Mapping[str, Any]) -> bool:
    """Whether a bucket's inventory row leaves this rule anything to price: its size series are
    fetched only then (a bucket already tiering costs a metric and can gain nothing). Judged
    with no expiration allowance, so it errs toward fetching."""
    if row.get("lifecycle_state") == "unknown":
        return False
    return lifecycle_state(decode_json_cell(row.get("lifecycle_rules"), []), 0) != "ok"


def _whole_bucket(rule: dict[str, Any]) -> bool:
    scope = rule.get("Filter") or {}
    return not rule.get("Prefix") and not any(
        scope.get(key) for key in ("Prefix", "Tag", "And", "ObjectSizeGreaterThan",
                                   "ObjectSizeLessThan"))


def _expiration_days(rule: dict[str, Any]) -> int:
    return int((rule.get("Expiration") or {}).get("Days") or 0)


class _BucketSizes:
    """Every bucket's BucketSizeBytes figures and how much of it is old, for all series of the
    metric at once (numpy), read bucket by bucket: one bucket at a time meant numpy scalar
    arithmetic per bucket (docs/benchmarks.md). The figures are the same floats, and where
    the one-bucket code made a numpy scalar (a growth-based estimate) a numpy scalar is made
    again, so evidence rounds as it did."""

    def __init__(self, sizes: SeriesStats, ages: tuple[int, ...]) -> None:
        with np.errstate(divide="ignore", invalid="ignore"):  # empty or one-day series
            span_days = (sizes.last_stamp_ns - sizes.first_stamp_ns) / 86_400e9
            size_gb = sizes.last / GB
            growth = (sizes.last - sizes.first) / GB / span_days
            grows = (sizes.count >= 2) & (span_days >= 1) & (growth > 0)
            # data written in the last `age` days is roughly growth x age; the rest is older
            cold = {age: (size_gb - growth * age).tolist() for age in ages}
        self._sizes = sizes
        self._count, self._size_gb = sizes.count.tolist(), size_gb.tolist()
        self._growth, self._grows, self._cold = growth.tolist(), grows.tolist(), cold

    def position(self, resource: Resource) -> int | None:
        """The bucket's series, None when it has no datapoint."""
        at = self._sizes.position(resource.account, resource.region,
                                  f"{resource.name}/StandardStorage")
        return None if at is None or not self._count[at] else at

    def size_gb(self, at: int) -> float:
        return self._size_gb[at]  # type: ignore[no-any-return]

    def older_gb(self, at: int, age_days: int, bucket_age: float | None) -> tuple[Any, str]:
        """GB older than `age_days` and how that was estimated, assuming the bucket grows at the
        rate seen in the window. A bucket younger than `age_days` has nothing old yet."""
        if bucket_age is not None and bucket_age <= age_days:
            return 0.0, f"bucket is {bucket_age:.0f} days old"
        if not self._grows[at]:
            return self._size_gb[at], "no growth seen"
        cold = self._cold[age_days][at]
        return (np.float64(cold) if cold > 0.0 else 0.0,
                f"growth {self._growth[at]:.2f} GB/day")


_Prices = tuple[pricing.Price | None, pricing.Price | None, pricing.Price | None]


@dataclass(frozen=True)
class _Window:
    """What every bucket's finding reads, looked up once an evaluation (20,000 buckets ask)."""

    sizes: _BucketSizes
    objects: SeriesStats
    object_counts: list[int]
    last_object_counts: list[float]
    end: datetime
    prices: dict[str, _Prices]

    def prices_in(self, region: str) -> _Prices:
        """STANDARD, STANDARD_IA and GLACIER per GB-month, looked up once a region."""
        found = self.prices.get(region)
        if found is None:
            found = self.prices[region] = (pricing.s3_gb_month_usd(region, "STANDARD"),
                                           pricing.s3_gb_month_usd(region, "STANDARD_IA"),
                                           pricing.s3_gb_month_usd(region, "GLACIER"))
        return found


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    sizes = snapshot.series_stats("AWS/S3", "BucketSizeBytes", "Average")
    objects = snapshot.series_stats("AWS/S3", "NumberOfObjects", "Average")
    window = _Window(_BucketSizes(sizes, (settings.ia_days, settings.glacier_days)), objects,
                     objects.count.tolist(), objects.last.tolist(), snapshot.window_end, {})
    created: dict[Any, datetime | None] = {}  # parsing each date once: many buckets share one
    states: dict[str, str] = {}  # and each lifecycle configuration's text
    for row in records(snapshot.table("s3_buckets")):
        resource = Resource("s3-bucket", str(row["arn"]), str(row["bucket"]),
                            str(row["account"]), str(row["region"]),
                            decode_json_cell(row.get("tags"), {}))
        if row.get("lifecycle_state") == "unknown":
            result.skipped.append(skipped_for(resource, RULE_ID, "insufficient-data",
                                              "lifecycle configuration could not be read"))
            continue
        raw = row.get("lifecycle_rules")
        if isinstance(raw, str):
            if raw not in states:
                states[raw] = lifecycle_state(decode_json_cell(raw, []), settings.ia_days)
            state = states[raw]
        else:
            state = lifecycle_state(decode_json_cell(raw, []), settings.ia_days)
        if state in ("ok", "short-expiration"):
            continue
        stamp = row.get("created_at")
        if stamp not in created:
            created[stamp] = _timestamp(stamp)
        result.findings.append(_finding(window, settings, resource, state, created[stamp]))
    return result


def _timestamp(value: Any) -> datetime | None:
    if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
        return None
    return pd.Timestamp(value).to_pydatetime()


_DESCRIBED = {
    "absent": "has no lifecycle configuration",
    "disabled": "has only disabled lifecycle rules",
    "no-transition": "has lifecycle rules but none moves current objects",
}


def _finding(window: _Window, settings: Settings, resource: Resource, state: str,
             created_at: datetime | None) -> Finding:
    at = window.sizes.position(resource)
    objects_at = window.objects.position(resource.account, resource.region,
                                         f"{resource.name}/AllStorageTypes")
    standard, infrequent, glacier = window.prices_in(resource.region)
    size_gb = window.sizes.size_gb(at) if at is not None else None
    evidence: dict[str, Any] = {"lifecycle": state, "standard_gb": _round(size_gb)}
    monthly_cost = savings = 0.0
    priced = standard is not None and infrequent is not None and glacier is not None
    if at is not None and size_gb is not None and priced:
        bucket_age = None if created_at is None else \
            (window.end - created_at).total_seconds() / 86400
        older_ia, method = window.sizes.older_gb(at, settings.ia_days, bucket_age)
        older_glacier, _ = window.sizes.older_gb(at, settings.glacier_days, bucket_age)
        to_ia = older_ia - older_glacier
        monthly_cost = size_gb * standard.usd
        savings = to_ia * (standard.usd - infrequent.usd) + older_glacier * (
            standard.usd - glacier.usd)
        evidence.update({
            "gb_older_than_ia_days": round(older_ia, 2),
            "gb_older_than_glacier_days": round(older_glacier, 2),
            "estimate": method,
            "price_standard_gb_month_usd": standard.usd,
            "price_standard_ia_gb_month_usd": infrequent.usd,
            "price_glacier_gb_month_usd": glacier.usd,
        })
    if objects_at is not None and window.object_counts[objects_at] and size_gb:
        count = window.last_object_counts[objects_at]
        if count > 0:
            average_kb = size_gb * GB / count / 1024
            evidence["average_object_kb"] = round(average_kb, 1)
            if average_kb < 128:
                # STANDARD_IA bills every object as at least 128 KB.
                evidence["warning"] = "average object under 128 KB: STANDARD_IA may cost more"
    size_text = f"{size_gb:,.1f} GB in STANDARD" if size_gb is not None else "size unknown"
    reason = (f"bucket {_DESCRIBED[state]} ({size_text}); moving objects to STANDARD_IA after "
              f"{settings.ia_days} days and GLACIER after {settings.glacier_days} days")
    if not priced:
        # the missing policy is still worth fixing; only its dollars are unknown
        missing = ", ".join(name for name, price in (("STANDARD", standard), ("STANDARD_IA",
                            infrequent), ("GLACIER", glacier)) if price is None)
        evidence["unpriced"] = f"no S3 {missing} storage price for {resource.region}"
        reason += (f"; the saving is not priced: no S3 {missing} storage price for "
                   f"{resource.region} in the price tables (`rightsizer pricing refresh` "
                   "fetches them)")
    return finding_for(
        resource, RULE_ID,
        current={"lifecycle": state},
        recommended={
            "transitions": [
                {"days": settings.ia_days, "storage_class": "STANDARD_IA"},
                {"days": settings.glacier_days, "storage_class": "GLACIER"},
            ],
            "abort_incomplete_multipart_upload_days": settings.abort_incomplete_multipart_days,
        },
        monthly_cost_usd=monthly_cost,
        monthly_savings_usd=max(0.0, savings),
        pricing=pricing.basis(standard, recommended=(standard, infrequent, glacier)),
        evidence=evidence,
        reason=reason,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


RULE_NAME = "rightsizer-tiering"  # the ID of the rule the commands add (and replace on a re-run)
# CDK's s3.StorageClass member for each S3 storage class the transitions may name.
_CDK_STORAGE_CLASS = {"STANDARD_IA": "INFREQUENT_ACCESS",
                      "ONEZONE_IA": "ONE_ZONE_INFREQUENT_ACCESS",
                      "INTELLIGENT_TIERING": "INTELLIGENT_TIERING", "GLACIER": "GLACIER",
                      "GLACIER_IR": "GLACIER_INSTANT_RETRIEVAL", "DEEP_ARCHIVE": "DEEP_ARCHIVE"}


def lifecycle_rule(finding: Finding) -> dict[str, Any]:
    """The one lifecycle rule the finding proposes, as PutBucketLifecycleConfiguration takes it."""
    recommended = finding.recommended
    return {
        "ID": RULE_NAME,
        "Status": "Enabled",
        "Filter": {},
        "Transitions": [{"Days": item["days"], "StorageClass": item["storage_class"]}
                        for item in recommended["transitions"]],
        "AbortIncompleteMultipartUpload": {
            "DaysAfterInitiation": recommended["abort_incomplete_multipart_upload_days"]},
    }


def lifecycle_document(finding: Finding) -> dict[str, Any]:
    return {"Rules": [lifecycle_rule(finding)]}


# PutBucketLifecycleConfiguration "creates a new lifecycle configuration for the bucket or
# replaces an existing lifecycle configuration ... if you want to retain any configuration
# details, they must be included in the new lifecycle configuration"
# (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html).
# So the command never writes the proposed rule alone: it reads the bucket's configuration
# (GetBucketLifecycleConfiguration) and writes back every rule it has plus this one, in one
# JMESPath --query (the AWS CLI's own, no jq), replacing only an earlier rule with the same ID
# so a second run changes nothing. The configuration's TransitionDefaultMinimumObjectSize is
# kept too when S3 and the CLI report it (a put without it resets it to the default). Only a
# bucket with no configuration (NoSuchLifecycleConfiguration) gets the rule on its own; any
# other read error stops before anything is written.
_KEEP_QUERY = (
    "merge({LifecycleConfiguration: {Rules: [Rules[?ID != `\"" + RULE_NAME + "\"`], "
    "[`'\"$rule\"'`]][]}}, TransitionDefaultMinimumObjectSize && "
    "{TransitionDefaultMinimumObjectSize: TransitionDefaultMinimumObjectSize} || `{}`)"
)


def _cli(finding: Finding) -> str:
    bucket, region = shlex.quote(finding.name), shlex.quote(finding.region)
    rule = json.dumps(lifecycle_rule(finding))
    return (
        "# put-bucket-lifecycle-configuration replaces the bucket's whole lifecycle "
        "configuration:\n# read it, keep every rule it has, add (or replace) "
        f"{RULE_NAME}, write it back\n"
        f"bucket={bucket}\n"
        f"rule={shlex.quote(rule)}\n"
        f"keep='{_KEEP_QUERY}'\n"
        f"if input=$(aws s3api get-bucket-lifecycle-configuration --region {region} "
        "--bucket \"$bucket\" --output json --query \"$keep\" 2>&1) ||\n"
        "   { [[ $input == *NoSuchLifecycleConfiguration* ]] &&\n"
        "     input='{\"LifecycleConfiguration\": {\"Rules\": ['\"$rule\"']}}'; }; then\n"
        f"  aws s3api put-bucket-lifecycle-configuration --region {region} "
        "--bucket \"$bucket\" --cli-input-json \"$input\"\n"
        "else\n"
        "  printf '%s\\n' \"$input\" >&2; false  # not changed: the configuration could not "
        "be read\n"
        "fi"
    )


def _terraform(finding: Finding) -> str:
    transitions = "".join(
        f"    transition {{\n      days          = {t['days']}\n"
        f"      storage_class = \"{t['storage_class']}\"\n    }}\n"
        for t in finding.recommended["transitions"])
    abort_days = finding.recommended["abort_incomplete_multipart_upload_days"]
    rule = (f"  rule {{\n    id     = \"{RULE_NAME}\"\n    status = \"Enabled\"\n    filter {{}}\n"
            f"{transitions}    abort_incomplete_multipart_upload {{\n"
            f"      days_after_initiation = {abort_days}\n    }}\n  }}\n")
    if finding.current.get("lifecycle") == "absent":
        return ("resource \"aws_s3_bucket_lifecycle_configuration\" \"tiering\" {\n"
                f"  bucket = \"{finding.name}\"\n\n{rule}}}")
    # aws_s3_bucket_lifecycle_configuration owns the whole configuration, like the API
    return ("# The bucket has lifecycle rules already, and an aws_s3_bucket_lifecycle_configuration"
            "\n# owns the whole configuration: add this rule block to the one that manages "
            f"\"{finding.name}\"\n# (or import the bucket's configuration first and keep its "
            "rules), never a second resource.\n" + rule.rstrip("\n"))


def _cdk(finding: Finding) -> str:
    transitions = ",\n".join(
        f"    {{ storageClass: s3.StorageClass."
        f"{_CDK_STORAGE_CLASS.get(t['storage_class'], t['storage_class'])}, "
        f"transitionAfter: Duration.days({t['days']}) }}"
        for t in finding.recommended["transitions"])
    abort_days = finding.recommended["abort_incomplete_multipart_upload_days"]
    note = "" if finding.current.get("lifecycle") == "absent" else (
        "// CloudFormation then owns the bucket's whole lifecycle configuration: list the rules "
        "it has\n// today in lifecycleRules too, or a deploy removes them.\n")
    return (f"// on the s3.Bucket that defines {finding.name}\n{note}"
            f"bucket.addLifecycleRule({{\n  id: '{RULE_NAME}',\n  transitions: [\n"
            f"{transitions},\n  ],\n"
            f"  abortIncompleteMultipartUploadAfter: Duration.days({abort_days}),\n}});")


def how_to_apply(finding: Finding) -> dict[str, str]:
    return {"cli": _cli(finding), "terraform": _terraform(finding), "cdk": _cdk(finding)}


RULE = Rule(
    id=RULE_ID,
    title="Add a lifecycle policy to growing buckets",
    why=(
        "Objects in S3 STANDARD cost the same on their first day and their thousandth. Student "
        "documents, exports and report cards are rarely read after a few months: a lifecycle "
        "rule moves them to STANDARD_IA and then GLACIER automatically, and removes "
        "half-finished multipart uploads that are billed but invisible."
    ),
    resource_type="s3-bucket",
    bill_services=('Amazon Simple Storage Service',),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    metric_needs=(
        MetricNeed("s3-bucket", "AWS/S3", "BucketSizeBytes", ("Average",), daily=True,
                   where=may_be_flagged),
        MetricNeed("s3-bucket", "AWS/S3", "NumberOfObjects", ("Average",), daily=True,
                   where=may_be_flagged),
    ),
)
