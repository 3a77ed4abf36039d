"""ecs-underprovisioned: which Fargate services are at risk, the fix, its price and severity."""

from __future__ import annotations

import numpy as np
import pytest

from rightsizer import pricing
from rightsizer.config import Config
from rightsizer.report.build import build_report, run_rules
from rightsizer.rules import ecs_rightsize
from rightsizer.rules.ecs_underprovisioned import RULE, Settings, evaluate
from rightsizer.rules.findings import Risk
from rightsizer.rules.support.fargate_sizes import LINUX, WINDOWS, is_valid_size
from tests.ecs_rows import add_service
from tests.snapshot_factory import HOURS, REGION, SnapshotBuilder, flat

DEFAULTS = Settings()


def pinned(hours_at_100: int, base: float = 40.0) -> np.ndarray:
    """CPU hourly Maximum: `base` except the first `hours_at_100` hours, at 100%."""
    values = flat(base)
    values[:hours_at_100] = 100.0
    return values


def judge(cpu: int, memory: int, cpu_max, memory_max, *, settings: Settings = DEFAULTS,
          os_family: str = "", desired: int = 1, region: str = REGION):
    snap = SnapshotBuilder()
    add_service(snap, "renderer", cpu=cpu, memory=memory, os_family=os_family, desired=desired,
                region=region)
    for metric, values in (("CPUUtilization", cpu_max), ("MemoryUtilization", memory_max)):
        if values is not None:
            snap.metric("AWS/ECS", metric, "edufly/renderer", "Maximum", values, region=region)
    return evaluate(snap.build(), settings)


def only_risk(result) -> Risk:
    assert result.findings == [] and result.skipped == []
    assert len(result.risks) == 1
    return result.risks[0]


US_EAST_1 = "us-east-1"  # where the embedded table has Windows figures
WINDOWS_2022 = "WINDOWS_SERVER_2022_CORE"


def hourly(cpu: int, memory: int, os_kind: str = LINUX, region: str = REGION) -> float:
    price = pricing.fargate_hourly_usd(region, cpu, memory, os_kind=os_kind)
    assert price is not None
    return price


def test_throttled_share_just_over_the_threshold_is_a_risk_just_under_is_not():
    threshold_hours = int(np.ceil(HOURS * DEFAULTS.min_saturated_share))  # 34 of 336
    assert judge(256, 512, pinned(threshold_hours - 1), flat(50)).risks == []
    risk = only_risk(judge(256, 512, pinned(threshold_hours), flat(50)))
    assert risk.evidence["cpu_saturated_share"] == pytest.approx(threshold_hours / HOURS,
                                                                 abs=1e-3)
    assert risk.kind == "under-provisioned" and risk.rule == "ecs-underprovisioned"


def test_saturated_cpu_gets_the_next_cpu_size_priced_as_an_increase():
    risk = only_risk(judge(256, 512, pinned(120), flat(50), desired=2))
    # 0.25 vCPU x 1.2 headroom needs more than 256 units: 512 is the next CPU, 1 GB its least
    assert risk.current == {"cpu": 256, "memory": 512}
    assert risk.recommended == {"cpu": 512, "memory": 1024}
    increase = (hourly(512, 1024) - hourly(256, 512)) * pricing.HOURS_PER_MONTH * 2
    assert risk.monthly_cost_change_usd == pytest.approx(increase)
    assert risk.monthly_savings_usd == pytest.approx(-increase)  # a negative saving
    assert risk.to_risk_dict()["monthly_cost_change_usd"] == round(increase, 2)
    assert "the real demand may be higher" in risk.reason
    assert f"+${increase:.2f}/month" in risk.reason


def test_memory_peak_at_89_percent_is_fine_and_91_percent_is_a_risk():
    assert judge(1024, 2048, flat(40), flat(89)).risks == []
    risk = only_risk(judge(1024, 2048, flat(40), flat(91)))
    # 91% of 2048 MiB + 20% = 2236 MiB: the cheapest valid size with more memory, same CPU
    assert risk.recommended == {"cpu": 1024, "memory": 3072}
    assert risk.evidence["memory_max_percent"] == 91.0
    assert risk.severity == "medium"
    assert "memory peak 91%" in risk.reason


def test_severity_comes_from_the_risk_not_the_dollars():
    mild = only_risk(judge(256, 512, pinned(40), flat(50)))  # 12% of hours
    bad = only_risk(judge(256, 512, pinned(100), flat(50)))  # 30% of hours
    near_oom = only_risk(judge(1024, 2048, flat(40), flat(98)))
    assert (mild.severity, bad.severity, near_oom.severity) == ("medium", "high", "high")
    assert mild.monthly_cost_change_usd == pytest.approx(bad.monthly_cost_change_usd)


def test_windows_tasks_get_a_windows_size():
    risk = only_risk(judge(1024, 2048, pinned(120), flat(50), os_family=WINDOWS_2022,
                           region=US_EAST_1))
    # Windows runs 1, 2 and 4 vCPU only; 2 vCPU starts at 4 GB
    assert risk.recommended == {"cpu": 2048, "memory": 4096}
    assert is_valid_size(2048, 4096, WINDOWS)
    increase = (hourly(2048, 4096, WINDOWS, US_EAST_1)
                - hourly(1024, 2048, WINDOWS, US_EAST_1)) * 730
    assert risk.monthly_cost_change_usd == pytest.approx(increase)
    assert "Windows" in risk.evidence["platform"]


@pytest.mark.parametrize(("cpu", "memory", "os_family", "largest"), [
    (16384, 122880, "", "16 vCPU / 120 GB"),
    (4096, 30720, WINDOWS_2022, "4 vCPU / 30 GB"),
])
def test_already_the_largest_size_is_a_risk_that_says_no_valid_fix(cpu, memory, os_family,
                                                                   largest):
    risk = only_risk(judge(cpu, memory, pinned(200), flat(50), os_family=os_family,
                           region=US_EAST_1))
    assert risk.recommended == {}
    assert risk.monthly_cost_change_usd == 0.0
    assert risk.evidence["no_valid_fix"] is True
    assert "no valid Fargate size fixes it (the largest" in risk.reason
    assert largest in risk.reason
    assert RULE.how_to_apply(risk) == {"cli": "", "terraform": "", "cdk": ""}


def test_missing_memory_data_judges_cpu_alone_and_says_so():
    risk = only_risk(judge(512, 1024, pinned(120), None))
    assert risk.recommended == {"cpu": 1024, "memory": 2048}
    assert risk.evidence["memory_max_percent"] is None
    assert "memory not judged (0 of 336 hourly datapoints)" in risk.reason


def test_no_data_at_all_is_a_skipped_row():
    result = judge(512, 1024, None, None)
    assert result.risks == []
    assert [row.reason for row in result.skipped] == ["insufficient-data"]


def test_how_to_apply_registers_the_larger_revision_like_ecs_rightsize():
    risk = only_risk(judge(256, 512, pinned(120), flat(50)))
    commands = RULE.how_to_apply(risk)
    assert commands["cli"].startswith("# ecs-underprovisioned: renderer")
    assert "0.25 vCPU / 0.5 GB -> 0.5 vCPU / 1 GB" in commands["cli"]
    assert "aws ecs register-task-definition" in commands["cli"]
    assert "aws ecs update-service" in commands["cli"]
    assert 'cpu    = "512"' in commands["terraform"]


def test_risks_are_reported_apart_and_never_counted_in_savings():
    snap = SnapshotBuilder()
    add_service(snap, "renderer", cpu=256, memory=512)
    snap.ecs_usage("renderer", cpu_max=pinned(120), memory_max=flat(50))
    add_service(snap, "admin", cpu=2048, memory=4096)
    snap.ecs_usage("admin", cpu_max=flat(10), memory_max=flat(15))
    snapshot = snap.build()
    findings, skipped = run_rules(snapshot, Config(), snapshot.window_end.date())
    report = build_report(snapshot, findings, skipped)

    assert [risk["name"] for risk in report["risks"]] == ["renderer"]
    risk = report["risks"][0]
    assert risk["severity"] == "high"  # 36% of hours: not overridden from dollars
    assert risk["monthly_cost_change_usd"] > 0
    assert risk["how_to_apply"]["cli"].startswith("# ecs-underprovisioned:")
    assert all(finding["name"] != "renderer" or finding["rule"] != "ecs-underprovisioned"
               for finding in report["findings"])
    assert "ecs-underprovisioned" not in report["summary"]["by_rule"]
    # the same totals as the run without the risk rule: the increase takes nothing off
    without = [f for f in findings if not isinstance(f, Risk)]
    assert len(without) == len(findings) - 1
    alone = build_report(snapshot, without, skipped)
    assert report["summary"] == alone["summary"]
    assert report["summary"]["monthly_savings_usd"] > 0
    assert report["summary"]["findings"] == len(report["findings"])


def test_a_risk_replaces_a_downsize_of_the_same_service():
    # pinned CPU but little memory in use: ecs-rightsize alone would shrink the memory
    snap = SnapshotBuilder()
    add_service(snap, "renderer", cpu=1024, memory=8192)
    snap.ecs_usage("renderer", cpu_max=pinned(120), memory_max=flat(15))
    snapshot = snap.build()
    assert ecs_rightsize.evaluate(snapshot, ecs_rightsize.Settings()).findings  # it would

    findings, skipped = run_rules(snapshot, Config(), snapshot.window_end.date())
    report = build_report(snapshot, findings, skipped)
    assert [f["rule"] for f in report["findings"] if f["name"] == "renderer"
            and f["rule"] == "ecs-rightsize"] == []
    replaced = [row for row in report["skipped"] if row["rule"] == "ecs-rightsize"]
    assert len(replaced) == 1 and "ecs-underprovisioned" in replaced[0]["detail"]
    assert report["risks"][0]["recommended"] == {"cpu": 2048, "memory": 8192}
