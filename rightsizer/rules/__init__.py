"""The rule registry: one module a rule, registered here by id."""

from __future__ import annotations

from rightsizer.rules import (
    ecs_autoscaling_missing,
    ecs_fargate_spot,
    ecs_rightsize,
    elasticache_reserved_node,
    logs_retention,
    rds_idle,
    rds_reserved_instance,
    rds_rightsize,
    rds_storage_gp3,
    s3_lifecycle,
)
from rightsizer.rules.base import MetricNeed, Rule, RuleResult, RuleSettings

REGISTRY: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        ecs_rightsize.RULE,
        ecs_fargate_spot.RULE,
        rds_reserved_instance.RULE,
        s3_lifecycle.RULE,
        elasticache_reserved_node.RULE,
        logs_retention.RULE,
        rds_rightsize.RULE,
        rds_idle.RULE,
        rds_storage_gp3.RULE,
        ecs_autoscaling_missing.RULE,
    )
}

__all__ = ["REGISTRY", "MetricNeed", "Rule", "RuleResult", "RuleSettings"]
