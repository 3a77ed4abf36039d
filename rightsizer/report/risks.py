"""Risks in the report: kept apart from findings (never counted in savings), and the findings
a risk on the same resource replaces (a downsize of a service that runs out of CPU)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rightsizer.rules.findings import Finding, Risk, Skipped

if TYPE_CHECKING:
    from rightsizer.rules.base import Rule

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def partition(findings: list[Finding]) -> tuple[list[Finding], list[Risk]]:
    """(findings, risks) of one list; risks worst first, then by name."""
    risks = [finding for finding in findings if isinstance(finding, Risk)]
    if not risks:
        return findings, []
    risks.sort(key=lambda risk: (SEVERITY_ORDER.get(risk.severity, 3), risk.rule, risk.name))
    return [finding for finding in findings if not isinstance(finding, Risk)], risks


def superseded(findings: list[Finding], rules: Mapping[str, Rule]
               ) -> tuple[list[Finding], list[Skipped]]:
    """The findings left once each risk's rule drops the findings it supersedes on the same
    resource, and a skipped row for each dropped one naming the risk."""
    replaced_by: dict[tuple[str, str, str, str], str] = {}
    for finding in findings:
        if isinstance(finding, Risk) and finding.rule in rules:
            for rule_id in rules[finding.rule].supersedes:
                replaced_by[(rule_id, finding.account, finding.region,
                             finding.resource_id)] = finding.rule
    if not replaced_by:
        return findings, []
    kept: list[Finding] = []
    skipped: list[Skipped] = []
    for finding in findings:
        risk_rule = replaced_by.get((finding.rule, finding.account, finding.region,
                                     finding.resource_id))
        if risk_rule is None or isinstance(finding, Risk):
            kept.append(finding)
            continue
        skipped.append(Skipped(
            finding.rule, finding.resource_type, finding.resource_id, finding.name,
            finding.account, finding.region, "not-applicable",
            f"under-provisioned ({risk_rule}, in risks): a smaller size would contradict that "
            "fix; sized again once it is applied"))
    return kept, skipped
