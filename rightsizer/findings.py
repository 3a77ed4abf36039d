"""The records rules produce: findings, skipped resources and error rows (report.json shapes)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["high", "medium", "low"]
SkipReason = Literal["insufficient-data", "suppressed", "not-applicable"]


def stable_finding_id(rule: str, account: str, region: str, resource_id: str) -> str:
    """Same rule + resource -> same id every month, so history can match findings."""
    key = "|".join((rule, account, region, resource_id))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Resource:
    """What a rule looks at: enough to name it in a finding or a skipped row."""

    resource_type: str
    resource_id: str
    name: str
    account: str
    region: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Finding:
    rule: str
    resource_type: str
    resource_id: str
    name: str
    account: str
    region: str
    current: dict[str, Any]
    recommended: dict[str, Any]
    monthly_cost_usd: float
    monthly_savings_usd: float
    evidence: dict[str, Any]
    reason: str
    severity: Severity = "low"

    @property
    def id(self) -> str:
        return stable_finding_id(self.rule, self.account, self.region, self.resource_id)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["monthly_cost_usd"] = round(self.monthly_cost_usd, 2)
        data["monthly_savings_usd"] = round(self.monthly_savings_usd, 2)
        ordered = {"id": self.id}
        for key in (
            "rule", "severity", "resource_type", "resource_id", "name", "account", "region",
            "current", "recommended", "monthly_cost_usd", "monthly_savings_usd", "evidence",
            "reason",
        ):
            ordered[key] = data[key]
        return ordered


@dataclass
class Skipped:
    rule: str
    resource_type: str
    resource_id: str
    name: str
    account: str
    region: str
    reason: SkipReason
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def finding_for(resource: Resource, rule: str, **fields: Any) -> Finding:
    return Finding(
        rule=rule,
        resource_type=resource.resource_type,
        resource_id=resource.resource_id,
        name=resource.name,
        account=resource.account,
        region=resource.region,
        **fields,
    )


def skipped_for(resource: Resource, rule: str, reason: SkipReason, detail: str) -> Skipped:
    return Skipped(
        rule=rule,
        resource_type=resource.resource_type,
        resource_id=resource.resource_id,
        name=resource.name,
        account=resource.account,
        region=resource.region,
        reason=reason,
        detail=detail,
    )
