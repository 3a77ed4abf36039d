"""rds-underprovisioned: databases pinned at their CPU or short of memory, and the class fix."""

from __future__ import annotations

import numpy as np
import pytest

from rightsizer import pricing
from rightsizer.rules.rds_underprovisioned import RULE, Settings, evaluate
from rightsizer.rules.support.rds_common import classes_for_engine
from tests.snapshot_factory import HOURS, REGION, SnapshotBuilder, flat

GIB = 1024**3
DEFAULTS = Settings()


def pinned(hours_at_100: int, base: float = 35.0) -> np.ndarray:
    values = flat(base)
    values[:hours_at_100] = 100.0
    return values


def judge(instance_class: str, cpu_max, free_gib: float | None, *, engine: str = "postgres",
          multi_az: bool = False, status: str = "available"):
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class=instance_class, engine=engine,
                      multi_az=multi_az, status=status)
    if cpu_max is not None:
        snap.rds_metric("edufly-db", "CPUUtilization", "Maximum", cpu_max)
    if free_gib is not None:
        snap.rds_metric("edufly-db", "FreeableMemory", "Minimum", flat(free_gib * GIB))
    return evaluate(snap.build(), DEFAULTS)


def only_risk(result):
    assert result.findings == [] and result.skipped == []
    assert len(result.risks) == 1
    return result.risks[0]


def monthly(instance_class: str, multi_az: bool = False) -> float:
    price = pricing.rds_hourly_usd(REGION, instance_class, multi_az=multi_az)
    assert price is not None
    return price.usd * pricing.HOURS_PER_MONTH


def test_saturated_cpu_share_just_under_the_threshold_is_not_a_risk():
    hours = int(np.ceil(HOURS * DEFAULTS.min_saturated_share))
    assert judge("db.t3.medium", pinned(hours - 1), 2.0).risks == []
    assert len(judge("db.t3.medium", pinned(hours), 2.0).risks) == 1


def test_pinned_cpu_gets_the_smallest_class_of_the_family_with_more_vcpus():
    risk = only_risk(judge("db.t3.medium", pinned(120), 2.0, multi_az=True))
    # t3.small..large all have 2 vCPU: more CPU means db.t3.xlarge (4 vCPU)
    assert risk.recommended == {"instance_class": "db.t3.xlarge", "multi_az": True}
    assert "db.t3.xlarge" in classes_for_engine("postgres", "db.t3")
    increase = monthly("db.t3.xlarge", True) - monthly("db.t3.medium", True)
    assert risk.monthly_cost_change_usd == pytest.approx(increase)
    assert risk.severity == "high"  # 36% of hours
    assert "Multi-AZ" in risk.reason


def test_memory_in_use_at_89_percent_is_fine_and_91_percent_is_a_risk():
    # db.t3.small has 2 GiB: 89% in use leaves 0.22 GiB free, 91% leaves 0.18 GiB
    assert judge("db.t3.small", flat(30), 2 * 0.11).risks == []
    risk = only_risk(judge("db.t3.small", flat(30), 2 * 0.09))
    assert risk.evidence["memory_in_use_percent"] == 91.0
    # 1.82 GiB in use + 20% = 2.18 GiB: db.t3.medium (4 GiB), the same 2 vCPU
    assert risk.recommended["instance_class"] == "db.t3.medium"
    assert risk.severity == "medium"


def test_already_the_largest_class_is_a_risk_that_says_no_valid_fix():
    risk = only_risk(judge("db.t3.2xlarge", pinned(200), 8.0))
    assert risk.recommended == {} and risk.evidence["no_valid_fix"] is True
    assert "no larger db.t3 class for postgres holds it" in risk.reason
    assert risk.monthly_cost_change_usd == 0.0
    assert RULE.how_to_apply(risk) == {"cli": "", "terraform": "", "cdk": ""}


def test_missing_memory_data_judges_cpu_alone():
    risk = only_risk(judge("db.m5.large", pinned(120), None))
    assert risk.recommended["instance_class"] == "db.m5.xlarge"
    assert "memory not judged" in risk.reason


def test_engine_without_a_class_table_and_stopped_instances_are_skipped():
    untabled = judge("db.m5.large", pinned(120), 2.0, engine="sqlserver-se")
    assert untabled.risks == [] and untabled.skipped[0].reason == "not-applicable"
    stopped = judge("db.m5.large", None, None, status="stopped")
    assert stopped.risks == [] and "stopped" in stopped.skipped[0].detail


def test_how_to_apply_modifies_the_instance_to_the_larger_class():
    risk = only_risk(judge("db.t3.small", flat(30), 0.1))
    cli = RULE.how_to_apply(risk)["cli"]
    assert "aws rds modify-db-instance --db-instance-identifier edufly-db " \
        "--db-instance-class db.t3.medium --no-apply-immediately" in cli
