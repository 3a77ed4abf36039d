"""What every rule is: metadata, a settings model, declared data needs and a pure evaluate()."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from rightsizer.rules.findings import Finding, Resource, Risk, Skipped

if TYPE_CHECKING:
    from rightsizer.snapshot.store import Snapshot


class RuleSettings(BaseModel):
    """Base for `[rules.<id>]`: unknown keys are errors, bounds are the validation."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    enabled: bool = Field(True, description="Run this rule (false: none of its findings, and "
                          "no CloudWatch series only it reads is fetched).")


@dataclass(frozen=True)
class MetricNeed:
    """A CloudWatch series a rule reads; collectors fetch the union of all needs in one pass.

    GetMetricData bills every series (metric x statistic) it returns, so a need names only the
    statistics its rule reads, and `where` (a test on the inventory row) keeps it to the
    resources the rule could flag at all.
    """

    resource_kind: str  # "ecs-service" | "rds-instance" | "elasticache-cluster" | "s3-bucket"
    namespace: str
    metric: str
    stats: tuple[str, ...]
    daily: bool = False  # S3 storage metrics exist once a day only
    where: Callable[[Mapping[str, Any]], bool] | None = None
    # Daily values from the same weeks a year ago (see rightsizer/year_ago.py), stored under
    # the statistic name + YEAR_AGO_SUFFIX so they never mix with this window's series.
    year_ago: bool = False
    # Hourly values from the start of the sizing history (analysis.sizing_history_days), the
    # part before the window stored under the statistic name + sizing_history.SUFFIX.
    history: bool = False
    # A boolean setting of the rule that must be on for this series to be fetched (and billed).
    setting: str | None = None

    def wanted_for(self, row: Mapping[str, Any]) -> bool:
        return self.where is None or self.where(row)


@dataclass
class RuleResult:
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    # resources at risk (under-provisioned): reported apart from findings, never as savings
    risks: list[Risk] = field(default_factory=list)

    def add(self, outcome: Finding | Skipped | None) -> None:
        """One resource's outcome in its list (a Risk is a Finding: it goes to risks); None,
        a resource with nothing to report, in none."""
        if isinstance(outcome, Risk):
            self.risks.append(outcome)
        elif isinstance(outcome, Finding):
            self.findings.append(outcome)
        elif outcome is not None:
            self.skipped.append(outcome)


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    why: str
    resource_type: str
    settings_model: type[RuleSettings]
    evaluate: Callable[[Snapshot, Any], RuleResult]
    how_to_apply: Callable[[Finding], dict[str, str]]
    metric_needs: tuple[MetricNeed, ...] = ()
    # Cost Explorer SERVICE names (as GetCostAndUsage groups them) whose resources this rule
    # reads and could flag: summary.bill counts a bill line as examined only through these.
    bill_services: tuple[str, ...] = ()
    # Rules whose findings on a resource this rule's risk replaces: a downsize of a service
    # that is under-provisioned would contradict the risk's fix (the report skips them there).
    supersedes: tuple[str, ...] = ()
    # Rules whose findings this rule's evaluate reads (Snapshot.rule_findings): the run
    # evaluates it after them, so it sees their findings at the user's settings.
    reads_findings_of: tuple[str, ...] = ()


def unreadable_reservations_caveat(snapshot: Snapshot, service: str, operation: str,
                                   resource: Resource, noun: str) -> str:
    """The sentence a reservation finding must carry when existing reservations could not be
    read: buying blind could double-reserve. Empty when they were read."""
    failure = snapshot.read_failure(service, operation, resource.account, resource.region)
    if failure is None:
        return ""
    return f". Existing {noun} could not be read ({failure}): check them before buying"


def uptime_shortfall(ran: float, min_coverage: float) -> str | None:
    """Why a reservation cannot be recommended yet: too little of the window shows the resource
    running (creation time alone is no evidence). None when the evidence is there."""
    if ran >= min_coverage:
        return None
    return (f"CPU datapoints cover {ran:.0%} of the window; a reservation needs evidence of "
            f"{min_coverage:.0%} uptime")
