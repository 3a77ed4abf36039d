"""The records rules produce: findings, skipped resources and error rows (report.json shapes)."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import asdict, dataclass, field, is_dataclass
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
    # rightsizer.pricing.basis.PriceBasis: the rates each side was priced at (DESIGN.md
    # `pricing`); report.build restates the finding at the account's own rates
    pricing: Any = None

    @property
    def id(self) -> str:
        return stable_finding_id(self.rule, self.account, self.region, self.resource_id)

    def to_dict(self) -> dict[str, Any]:
        """The report.json finding, in schema key order; nested values are copies (as asdict
        made them), so editing the report never edits the finding. Built field by field
        rather than by asdict, whose generic deepcopy of every value dominated build_report
        at tens of thousands of findings (docs/benchmarks.md)."""
        return {
            "id": self.id, "rule": self.rule, "severity": self.severity,
            "resource_type": self.resource_type, "resource_id": self.resource_id,
            "name": self.name, "account": self.account, "region": self.region,
            "current": _copied(self.current), "recommended": _copied(self.recommended),
            "monthly_cost_usd": round(self.monthly_cost_usd, 2),
            "monthly_savings_usd": round(self.monthly_savings_usd, 2),
            "evidence": _copied(self.evidence), "reason": self.reason,
            "pricing": (None if self.pricing is None
                        else self.pricing.to_dict(self.monthly_savings_usd)),
        }


RiskKind = Literal["under-provisioned", "regressed-change"]


@dataclass
class Risk(Finding):
    """A resource at risk (under-provisioned, or a past change that no longer holds): the fix
    costs money, so its `monthly_savings_usd` is the negative of the increase. Its severity is
    the rule's (how bad the risk is), never set from dollars, and a risk is never counted in
    savings: the report lists it under "risks", apart from the findings."""

    kind: RiskKind = "under-provisioned"

    @property
    def monthly_cost_change_usd(self) -> float:
        return -self.monthly_savings_usd

    def to_risk_dict(self) -> dict[str, Any]:
        """The report.json risk row (DESIGN.md "risks"), plus id, kind and where it is."""
        return {
            "id": self.id, "rule": self.rule, "kind": self.kind, "severity": self.severity,
            "resource_type": self.resource_type, "resource_id": self.resource_id,
            "name": self.name, "account": self.account, "region": self.region,
            "current": _copied(self.current), "recommended": _copied(self.recommended),
            "monthly_cost_change_usd": round(self.monthly_cost_change_usd, 2),
            "evidence": _copied(self.evidence), "reason": self.reason,
        }


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
        return {"rule": self.rule, "resource_type": self.resource_type,
                "resource_id": self.resource_id, "name": self.name, "account": self.account,
                "region": self.region, "reason": self.reason, "detail": self.detail}


_ATOMS = frozenset({str, int, float, bool, type(None)})


def _copied(value: Any) -> Any:
    """What `dataclasses.asdict` would make of a field value, without its per-value deepcopy:
    plain dicts and lists are copied, immutable scalars shared; anything else (a dataclass,
    a dict subclass, a numpy array) goes the generic way."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is dict:
        if not _ATOMS.issuperset(map(type, value)):
            return {_copied(key): _copied(item) for key, item in value.items()}
        if _ATOMS.issuperset(map(type, value.values())):
            return value.copy()  # the usual case, flat: copied in C
        return {key: item if type(item) in _ATOMS else _copied(item)
                for key, item in value.items()}
    if kind is list:
        if _ATOMS.issuperset(map(type, value)):
            return value.copy()
        return [item if type(item) in _ATOMS else _copied(item) for item in value]
    if kind is tuple:
        return tuple(_copied(item) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return copy.deepcopy(value)


def finding_for(resource: Resource, rule: str, **fields: Any) -> Finding:
    return Finding(rule=rule, **_named_by(resource), **fields)


def risk_for(resource: Resource, rule: str, **fields: Any) -> Risk:
    return Risk(rule=rule, **_named_by(resource), **fields)


def _named_by(resource: Resource) -> dict[str, str]:
    """The fields every record takes from the resource it is about."""
    return {"resource_type": resource.resource_type, "resource_id": resource.resource_id,
            "name": resource.name, "account": resource.account, "region": resource.region}


def skipped_for(resource: Resource, rule: str, reason: SkipReason, detail: str) -> Skipped:
    return Skipped(rule=rule, **_named_by(resource), reason=reason, detail=detail)


def unpriced(resource: Resource, rule: str, what: str) -> Skipped:
    """The row for a resource whose price is not tabled for its region: no figure is guessed."""
    return skipped_for(resource, rule, "not-applicable", f"no price for {what} in "
                       f"{resource.region}")
