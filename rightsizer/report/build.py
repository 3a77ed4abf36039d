"""Rules -> findings -> the report.json dict and the context the HTML shows beside it."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from operator import attrgetter
from typing import Any

from rightsizer import pricing
from rightsizer.collect.registry import tagged_tables
from rightsizer.config import Config, SuppressSettings
from rightsizer.outputs.formatting import APPLY_FORMATS
from rightsizer.pricing import restate
from rightsizer.report import suppression
from rightsizer.report.bill import bill_summary
from rightsizer.report.gc_pause import gc_paused
from rightsizer.report.plans import build_plans
from rightsizer.report.risks import partition, superseded
from rightsizer.rules.base import RuleResult
from rightsizer.rules.findings import Finding, Risk, Skipped
from rightsizer.rules.registry import REGISTRY
from rightsizer.snapshot.store import Snapshot, decode_json_cell

SCHEMA_VERSION = "1"
SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}
def _tags_by_resource(snapshot: Snapshot) -> dict[str, dict[str, str]]:
    tags: dict[str, dict[str, str]] = {}
    decoded: dict[str, dict[str, str]] = {}  # most resources share a handful of tag sets
    for table, column in tagged_tables().items():
        frame = snapshot.table(table)
        for resource_id, raw in zip(frame[column].tolist(), frame["tags"].tolist(),
                                    strict=False):
            if isinstance(raw, str):
                if raw not in decoded:
                    decoded[raw] = decode_json_cell(raw, {})
                tags[str(resource_id)] = decoded[raw]
            else:
                tags[str(resource_id)] = decode_json_cell(raw, {})
    return tags


def _evaluate_in_order(snapshot: Snapshot, config: Config) -> list[tuple[str, RuleResult]]:
    """Every enabled rule's result; a rule that reads others' findings comes after them and
    sees this run's (none for a disabled one)."""
    enabled = config.enabled_rules()
    read = {other for rule_id in enabled for other in REGISTRY[rule_id].reads_findings_of}
    for rule_id in read - set(enabled):
        snapshot.record_rule_findings(rule_id, [])
    results: list[tuple[str, RuleResult]] = []
    for rule_id in sorted(enabled, key=lambda rule_id: bool(REGISTRY[rule_id].reads_findings_of)):
        result = REGISTRY[rule_id].evaluate(snapshot, config.rule_settings(rule_id))
        snapshot.record_rule_findings(rule_id, result.findings)
        results.append((rule_id, result))
    return results


def run_rules(snapshot: Snapshot, config: Config, today: date) -> tuple[list[Finding],
                                                                       list[Skipped]]:
    """Every enabled rule's findings and skipped rows, suppression applied. Risks (Risk, a
    Finding) come back among the findings, suppressed like them; build_report lists them apart.
    A finding a risk on the same resource supersedes (Rule.supersedes) becomes a skipped row."""
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    tags = _tags_by_resource(snapshot)
    rates = restate.snapshot_rates(snapshot)  # savings at what the account pays
    with pricing.pinned_cache_dir(), pricing.bill_rates(rates.bill_price):
        results = _evaluate_in_order(snapshot, config)
    for _rule_id, result in results:
        restate.restate(result.findings, rates, snapshot)
    unsuppressed = _unsuppressed(config.suppress, tags)
    severity_for = config.severity.severity_for
    for rule_id, result in results:
        for finding in [*result.findings, *result.risks] if result.risks else result.findings:
            if finding.resource_id in unsuppressed:  # the usual case: nothing to check
                if not isinstance(finding, Risk):  # a risk's severity is the rule's, not $
                    finding.severity = severity_for(finding.monthly_savings_usd)
                findings.append(finding)  # a fresh object from the rule: no copy needed
                continue
            verdict = suppression.check(config.suppress, rule_id, finding.resource_id,
                                        finding.name, tags.get(finding.resource_id, {}), today)
            if verdict.suppressed:
                skipped.append(Skipped(rule_id, finding.resource_type, finding.resource_id,
                                       finding.name, finding.account, finding.region,
                                       "suppressed", verdict.detail))
                continue
            severity = finding.severity if isinstance(finding, Risk) else \
                config.severity.severity_for(finding.monthly_savings_usd)
            if verdict.note:
                findings.append(replace(finding, reason=f"{finding.reason} ({verdict.note})",
                                        severity=severity))
            else:
                finding.severity = severity  # a fresh object from the rule: no copy needed
                findings.append(finding)
        for row in result.skipped:
            if row.resource_id in unsuppressed:
                skipped.append(row)
                continue
            verdict = suppression.check(config.suppress, rule_id, row.resource_id, row.name,
                                        tags.get(row.resource_id, {}), today)
            skipped.append(replace(row, reason="suppressed", detail=verdict.detail)
                           if verdict.suppressed else row)
    findings, replaced = superseded(findings, REGISTRY)
    skipped.extend(replaced)
    _largest_first(findings)
    return findings, skipped


def _largest_first(findings: list[Finding]) -> None:
    """Sort by savings, largest first, then by rule and name: two stable sorts on C keys (the
    reverse one keeps equal savings in rule/name order), not a Python key tuple a finding.
    A NaN saving orders differently that way, so it keeps the tuple key."""
    if any(map(math.isnan, map(attrgetter("monthly_savings_usd"), findings))):
        findings.sort(key=lambda f: (-f.monthly_savings_usd, f.rule, f.name))
        return
    findings.sort(key=attrgetter("rule", "name"))
    findings.sort(key=attrgetter("monthly_savings_usd"), reverse=True)


class _Unsuppressed:
    """Resource ids no suppression can touch: with no [suppress] entries, every resource
    without the suppression tag (suppression.check would say "not suppressed", no note)."""

    def __init__(self, tag: str, tags: dict[str, dict[str, str]]) -> None:
        self._tagged = {resource for resource, found in tags.items() if tag and tag in found}

    def __contains__(self, resource_id: object) -> bool:
        return resource_id not in self._tagged


def _unsuppressed(settings: SuppressSettings, tags: dict[str, dict[str, str]]
                  ) -> _Unsuppressed | frozenset[str]:
    if settings.resources:
        return frozenset()  # listed entries are matched by id or name: always check
    return _Unsuppressed(settings.tag, tags)


def build_report(snapshot: Snapshot, findings: list[Finding],
                 skipped: list[Skipped]) -> dict[str, Any]:
    manifest = snapshot.manifest
    findings, risks = partition(findings)  # risks: never in savings, totals or by_rule
    by_rule: dict[str, dict[str, Any]] = {}
    for finding in findings:
        entry = by_rule.setdefault(finding.rule, {"findings": 0, "monthly_savings_usd": 0.0})
        entry["findings"] += 1
        entry["monthly_savings_usd"] += finding.monthly_savings_usd
    for entry in by_rule.values():
        entry["monthly_savings_usd"] = round(entry["monthly_savings_usd"], 2)
    errors = snapshot.table("errors")
    plans = build_plans(findings)  # each resource once, its findings stacked
    rates = restate.snapshot_rates(snapshot)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": manifest["generated_at"],
        "window": {"start": manifest["window"]["start"], "end": manifest["window"]["end"],
                   "days": manifest["window"]["days"]},
        "accounts": list(manifest["accounts"]),
        "regions": list(manifest["regions"]),
        "summary": {
            "findings": len(findings),
            "monthly_savings_usd": round(sum(plan.monthly_savings_usd for plan in plans), 2),
            "by_rule": by_rule,
        },
        "findings": [_with_how_to_apply(finding) for finding in findings],
        "risks": [_with_how_to_apply(risk, risk.to_risk_dict()) for risk in risks],
        "skipped": [row.to_dict() for row in skipped],
        "errors": [{key: str(value) for key, value in row.items()}
                   for row in errors.to_dict("records")] + rates.problems,
        "plans": [plan.to_dict() for plan in plans],
        "notices": restate.notices(snapshot, findings, rates),
    }


def how_to_apply(finding: Finding) -> dict[str, str]:
    """The finding's commands as report.json carries them: {"cli", "terraform", "cdk"}, each
    the text to paste ("" where the rule has none for that tool)."""
    commands = REGISTRY[finding.rule].how_to_apply(finding)
    return {key: str(commands.get(key) or "") for key in APPLY_FORMATS}


def _with_how_to_apply(finding: Finding, row: dict[str, Any] | None = None
                       ) -> dict[str, Any]:
    row = finding.to_dict() if row is None else row
    row["how_to_apply"] = how_to_apply(finding)
    return row


def api_cost_usd(manifest: dict[str, Any]) -> float:
    """What the run itself cost in AWS API charges: GetMetricData per metric requested and
    every Cost Explorer request (answers served from the disk cache cost nothing)."""
    metric_cost = manifest.get("metric_queries", 0) / 1000 * \
        pricing.GET_METRIC_DATA_USD_PER_1000_METRICS
    ce_calls = sum(count for name, count in manifest.get("api_calls", {}).items()
                   if name.startswith("ce:"))
    return round(metric_cost + ce_calls * pricing.COST_EXPLORER_USD_PER_REQUEST, 4)


def build_context(snapshot: Snapshot, findings: list[Finding]) -> dict[str, Any]:
    manifest = snapshot.manifest
    costs = snapshot.table("costs")
    trend = (
        costs.groupby(["month", "service"], as_index=False)["amount_usd"].sum()
        .sort_values(["month", "service"]).to_dict("records")
        if not costs.empty else []
    )
    return {
        "rules": {rule.id: {"title": rule.title, "why": rule.why} for rule in REGISTRY.values()},
        "cost_trend": [{"month": row["month"], "service": row["service"],
                        "amount_usd": round(float(row["amount_usd"]), 2)} for row in trend],
        "run": {
            "tool_version": manifest.get("tool_version", ""),
            "duration_seconds": manifest.get("duration_seconds"),
            "api_calls": manifest.get("api_calls", {}),
            "api_call_count": sum(manifest.get("api_calls", {}).values()),
            "api_cost_usd": api_cost_usd(manifest),
            "demo": bool(manifest.get("demo")),
        },
        "pricing_sources": pricing.all_sources(),
    }


def analyze(snapshot: Snapshot, config: Config, today: date | None = None
            ) -> tuple[dict[str, Any], dict[str, Any]]:
    today = today or snapshot.window_end.date()
    with gc_paused():  # the report's objects are made here: see gc_paused
        findings, skipped = run_rules(snapshot, config, today)
        data = build_report(snapshot, findings, skipped)
        bill = bill_summary(snapshot, [REGISTRY[rule_id] for rule_id in config.enabled_rules()])
        if bill is not None:  # additive to schema_version "1"
            data["summary"]["bill"] = bill
        return data, build_context(snapshot, findings)


def worst_severity(report: dict[str, Any]) -> int:
    return max((SEVERITY_RANK[f["severity"]] for f in report["findings"]), default=0)
