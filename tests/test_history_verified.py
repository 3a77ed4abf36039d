"""Verified changes: last month's right-sizing advice, applied, held or regressed this month."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rightsizer.report.history import build_history, with_history
from rightsizer.report.model import Report
from rightsizer.rules.findings import stable_finding_id
from rightsizer.snapshot.store import Snapshot
from tests.ecs_rows import INSIDE, add_service, deployment, previous
from tests.snapshot_factory import ACCOUNT, REGION, SnapshotBuilder, flat

GIB = 1024**3
API_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/edufly/api"
DB_ARN = f"arn:aws:rds:{REGION}:{ACCOUNT}:db:edufly-db"
LAST_RUN = "2026-10-01T06:00:00Z"  # SnapshotBuilder's window is 2026-10-18 .. 2026-11-01
APPLIED = datetime(2026, 10, 9, 14, 30, tzinfo=UTC)


def ecs_finding(saving: float = 18.0) -> dict[str, Any]:
    return {"id": stable_finding_id("ecs-rightsize", ACCOUNT, REGION, API_ARN),
            "rule": "ecs-rightsize", "severity": "medium", "resource_type": "ecs-service",
            "resource_id": API_ARN, "name": "api", "account": ACCOUNT, "region": REGION,
            "current": {"cpu": 1024, "memory": 2048}, "recommended": {"cpu": 512, "memory": 1024},
            "monthly_cost_usd": 36.0, "monthly_savings_usd": saving,
            "evidence": {"peak_headroom_percent": 10.0, "headroom_percent": 20.0},
            "reason": "CPU p95 20% (peak 30%) and memory peak 25% of 1 vCPU / 2 GB"}


def rds_finding(saving: float = 25.0) -> dict[str, Any]:
    return {"id": stable_finding_id("rds-rightsize", ACCOUNT, REGION, DB_ARN),
            "rule": "rds-rightsize", "severity": "medium", "resource_type": "rds-instance",
            "resource_id": DB_ARN, "name": "edufly-db", "account": ACCOUNT, "region": REGION,
            "current": {"instance_class": "db.t3.medium", "multi_az": False},
            "recommended": {"instance_class": "db.t3.small", "multi_az": False},
            "monthly_cost_usd": 50.0, "monthly_savings_usd": saving,
            "evidence": {"cpu_p95_percent": 20.0, "max_projected_cpu_percent": 70.0,
                         "memory_headroom_percent": 20.0},
            "reason": "CPU p95 20% and free memory never below 3 GiB"}


def report(month: str, findings: list[dict[str, Any]], generated_at: str) -> dict[str, Any]:
    total = round(sum(f["monthly_savings_usd"] for f in findings), 2)
    return {"schema_version": "1", "generated_at": generated_at,
            "window": {"start": f"{month}-14T00:00:00Z", "end": f"{month}-28T00:00:00Z",
                       "days": 14},
            "accounts": [ACCOUNT], "regions": [REGION],
            "summary": {"findings": len(findings), "monthly_savings_usd": total,
                        "by_rule": {}},
            "findings": findings, "skipped": [], "errors": []}


def last_month(tmp_path: Path, *findings: dict[str, Any]) -> Path:
    (tmp_path / "2026-10").mkdir()
    (tmp_path / "2026-10" / "report.json").write_text(
        json.dumps(report("2026-10", list(findings), LAST_RUN)))
    return tmp_path / "2026-11"


THIS_MONTH = report("2026-11", [], "2026-11-01T06:00:00Z")


def api_now(cpu: int, memory: int, cpu_max: np.ndarray, memory_max: np.ndarray,
            created: datetime = APPLIED, **deploy: Any) -> Snapshot:
    snap = SnapshotBuilder()
    add_service(snap, "api", cpu=cpu, memory=memory, task_definition="api:2",
                deployments=[deployment("PRIMARY", "api:2", 1, created=created, cpu=cpu,
                                        memory=memory, **deploy)])
    snap.ecs_usage("api", cpu_max=cpu_max, memory_max=memory_max)
    return snap.build()


def test_an_applied_change_whose_peaks_stay_in_the_headroom_held(tmp_path: Path) -> None:
    out = last_month(tmp_path, ecs_finding())
    history = build_history(THIS_MONTH, out, snapshot=api_now(512, 1024, flat(80), flat(75)))
    assert history is not None
    [row] = history["verified"]
    assert row["finding_id"] == ecs_finding()["id"] and row["status"] == "held"
    assert row["applied"] == "2026-10-09"  # the rollout, after the report and before the window
    assert "1 vCPU / 2 GB -> 0.5 vCPU / 1 GB (applied 2026-10-09)" in row["detail"]
    assert history["changes"] == {"applied": 1, "held": 1, "regressed": 0,
                                  "realized_monthly_usd": 18.0}
    assert history["regressed_risks"] == []


def test_a_cpu_peak_over_the_promised_headroom_regressed_with_a_high_risk(
        tmp_path: Path) -> None:
    out = last_month(tmp_path, ecs_finding())
    # 92% is over the 100 / 1.1 = 91% that 10% peak headroom allows
    history = build_history(THIS_MONTH, out, snapshot=api_now(512, 1024, flat(92), flat(50)))
    assert history is not None
    [row] = history["verified"]
    assert row["status"] == "regressed" and "CPU peak 92% is over the 91%" in row["detail"]
    assert history["changes"] == {"applied": 1, "held": 0, "regressed": 1,
                                  "realized_monthly_usd": 0.0}
    [risk] = history["regressed_risks"]
    assert (risk["rule"], risk["kind"], risk["severity"]) == ("ecs-rightsize",
                                                              "regressed-change", "high")
    assert risk["current"] == {"cpu": 512, "memory": 1024}
    assert risk["recommended"] == {"cpu": 1024, "memory": 2048}  # the way back
    assert risk["monthly_cost_change_usd"] == 18.0
    assert risk["evidence"]["change"]["applied"] == "2026-10-09"
    assert "Regressed: ecs-rightsize" in risk["reason"] and "2026-10-09" in risk["reason"]
    assert "0.5 vCPU / 1 GB -> 1 vCPU / 2 GB" in risk["how_to_apply"]["cli"]
    assert "aws ecs register-task-definition" in risk["how_to_apply"]["cli"]


def test_a_memory_peak_over_the_promised_headroom_regressed(tmp_path: Path) -> None:
    out = last_month(tmp_path, ecs_finding())
    history = build_history(THIS_MONTH, out, snapshot=api_now(512, 1024, flat(40), flat(90)))
    assert history is not None
    assert history["verified"][0]["status"] == "regressed"
    assert "memory peak 90% is over the 83%" in history["verified"][0]["detail"]


def test_a_change_not_applied_is_not_verified(tmp_path: Path) -> None:
    out = last_month(tmp_path, ecs_finding())
    history = build_history(THIS_MONTH, out, snapshot=api_now(1024, 2048, flat(20), flat(20)))
    assert history is not None and history["resolved"] == 1
    assert history["verified"] == [] and history["changes"]["applied"] == 0


def test_a_window_that_mixes_the_old_and_new_size_waits(tmp_path: Path) -> None:
    out = last_month(tmp_path, ecs_finding())
    snapshot = api_now(512, 1024, flat(95), flat(50), created=INSIDE,
                       previous=previous("api:1", cpu=1024, memory=2048))
    history = build_history(THIS_MONTH, out, snapshot=snapshot)
    assert history is not None and history["verified"] == []


def test_a_rollout_before_last_months_report_has_no_date(tmp_path: Path) -> None:
    out = last_month(tmp_path, ecs_finding())
    snapshot = api_now(512, 1024, flat(50), flat(50),
                       created=datetime(2026, 9, 1, tzinfo=UTC))
    history = build_history(THIS_MONTH, out, snapshot=snapshot)
    assert history is not None
    row = history["verified"][0]
    assert row["applied"] is None and "(applied after the 2026-10 report)" in row["detail"]


def db_now(instance_class: str, cpu_max: np.ndarray, free_gib: float) -> Snapshot:
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class=instance_class)
    snap.rds_metric("edufly-db", "CPUUtilization", "Maximum", cpu_max)
    snap.rds_metric("edufly-db", "FreeableMemory", "Minimum", flat(free_gib * GIB))
    return snap.build()


def test_a_database_change_held_and_regressed(tmp_path: Path) -> None:
    out = last_month(tmp_path, rds_finding())
    held = build_history(THIS_MONTH, out, snapshot=db_now("db.t3.small", flat(40), 1.0))
    assert held is not None and held["verified"][0]["status"] == "held"
    assert held["changes"]["realized_monthly_usd"] == 25.0
    # CPU p95 75% reached the 70% the smaller class was promised to stay under
    regressed = build_history(THIS_MONTH, out, snapshot=db_now("db.t3.small", flat(75), 1.0))
    assert regressed is not None
    [row] = regressed["verified"]
    assert row["status"] == "regressed" and "CPU p95 75% reached the 70%" in row["detail"]
    [risk] = regressed["regressed_risks"]
    assert risk["recommended"] == {"instance_class": "db.t3.medium", "multi_az": False}
    assert "--db-instance-class db.t3.medium" in risk["how_to_apply"]["cli"]
    # memory: 1.8 GiB in use + 20% no longer fits db.t3.small's 2 GiB
    tight = build_history(THIS_MONTH, out, snapshot=db_now("db.t3.small", flat(30), 0.2))
    assert tight is not None and tight["verified"][0]["status"] == "regressed"


def test_only_right_sizing_changes_are_verified_and_only_with_a_snapshot(
        tmp_path: Path) -> None:
    other = {**ecs_finding(), "rule": "ecs-fargate-spot", "id": "spot",
             "current": {"capacity_provider": "FARGATE"},
             "recommended": {"capacity_provider": "FARGATE_SPOT"}}
    out = last_month(tmp_path, other)
    history = build_history(THIS_MONTH, out, snapshot=api_now(512, 1024, flat(50), flat(50)))
    assert history is not None and history["resolved"] == 1 and history["verified"] == []
    without = build_history(THIS_MONTH, out)  # notify's path: report files only
    assert without is not None and "verified" not in without


def test_report_json_carries_history_and_the_regression_risk_apart_from_savings(
        tmp_path: Path) -> None:
    out = last_month(tmp_path, ecs_finding())
    this_month = Report.model_validate(THIS_MONTH)
    history = build_history(this_month, out, snapshot=api_now(512, 1024, flat(97), flat(50)))
    written = with_history(this_month, history).to_json_dict()
    assert written["summary"] == THIS_MONTH["summary"]  # a risk is never a saving
    assert written["findings"] == []
    assert [risk["kind"] for risk in written["risks"]] == ["regressed-change"]
    assert written["history"]["previous_month"] == "2026-10"
    assert written["history"]["changes"] == {"applied": 1, "held": 0, "regressed": 1,
                                             "realized_monthly_usd": 0.0}
    assert written["history"]["verified"][0]["status"] == "regressed"
    again = Report.model_validate(json.loads(json.dumps(written)))  # valid as report.json
    assert again.history is not None and again.history.verified[0].status == "regressed"
    assert again.risks[0].severity == "high"


def test_the_first_month_has_no_history_in_report_json(tmp_path: Path) -> None:
    this_month = Report.model_validate(THIS_MONTH)
    history = build_history(this_month, tmp_path / "2026-11",
                            snapshot=api_now(512, 1024, flat(50), flat(50)))
    assert with_history(this_month, history) is this_month


def test_a_planted_last_month_stands_in_only_when_none_is_on_disk(tmp_path: Path) -> None:
    planted = [("2026-10", Report.model_validate(report("2026-10", [ecs_finding()], LAST_RUN)))]
    snapshot = api_now(512, 1024, flat(60), flat(50))
    # --output outside a month folder: the report's own month, against the planted one
    history = build_history(THIS_MONTH, tmp_path / "adhoc", planted=planted, snapshot=snapshot)
    assert history is not None and history["month"] == "2026-11"
    assert history["previous_month"] == "2026-10"
    assert history["verified"][0]["status"] == "held"
    # a real earlier month on disk wins over the planted one
    out = last_month(tmp_path, rds_finding())
    history = build_history(THIS_MONTH, out, planted=planted, snapshot=snapshot)
    assert history is not None
    assert history["resolved_findings"][0]["rule"] == "rds-rightsize"
    assert history["verified"] == []


def test_a_suppressed_resource_is_not_judged(tmp_path: Path) -> None:
    out = last_month(tmp_path, ecs_finding())
    seen: list[tuple[str, str, str]] = []

    def suppressed(rule: str, resource_id: str, name: str, tags: dict[str, str]) -> bool:
        seen.append((rule, resource_id, name))
        return True

    history = build_history(THIS_MONTH, out, snapshot=api_now(512, 1024, flat(97), flat(50)),
                            suppressed=suppressed)
    assert history is not None and history["resolved"] == 1
    assert history["verified"] == [] and history["regressed_risks"] == []
    assert seen == [("ecs-rightsize", API_ARN, "api")]
