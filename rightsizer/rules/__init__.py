"""The rule registry: one module a rule, registered here by id."""

from __future__ import annotations

from rightsizer.rules import ecs_fargate_spot, ecs_rightsize, rds_reserved_instance, s3_lifecycle
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings

REGISTRY: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        ecs_rightsize.RULE,
        ecs_fargate_spot.RULE,
        rds_reserved_instance.RULE,
        s3_lifecycle.RULE,
    )
}

__all__ = ["REGISTRY", "MetricNeed", "Rule", "RuleResult", "RuleSettings"]
