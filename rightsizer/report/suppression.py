"""Which findings the user asked not to see: by resource tag, or by a [suppress] entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rightsizer.config import SuppressSettings
from rightsizer.rules.registry import REGISTRY


@dataclass(frozen=True)
class Verdict:
    suppressed: bool
    detail: str = ""
    note: str = ""  # said on the finding when a suppression no longer applies


def _tag_verdict(tag_value: str, tag: str, rule: str) -> Verdict:
    value = tag_value.strip()
    if value.lower() == "false":
        return Verdict(False)
    # A value that lists rule ids ("ecs-fargate-spot,s3-lifecycle") silences only those;
    # anything else (empty, "true", free text) silences every rule for the resource.
    named = {part.strip() for part in value.split(",") if part.strip()}
    if named and named <= set(REGISTRY) and rule not in named:
        return Verdict(False)
    return Verdict(True, f"tag {tag}={value!r}" if value else f"tag {tag}")


def check(settings: SuppressSettings, rule: str, resource_id: str, name: str,
          tags: dict[str, str], today: date) -> Verdict:
    if settings.tag and settings.tag in tags:
        verdict = _tag_verdict(tags[settings.tag], settings.tag, rule)
        if verdict.suppressed:
            return verdict
    note = ""
    for entry in settings.resources:
        if entry.resource not in (resource_id, name):
            continue
        if entry.rule is not None and entry.rule != rule:
            continue
        if entry.expires is not None and entry.expires < today:
            note = f"suppression expired on {entry.expires.isoformat()}"
            continue
        detail = entry.reason or "listed in [suppress]"
        if entry.expires is not None:
            detail += f" (until {entry.expires.isoformat()})"
        return Verdict(True, detail)
    return Verdict(False, note=note)
