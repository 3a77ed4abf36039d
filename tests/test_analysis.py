"""The report's own figures: the run's API bill, savings that never count twice, and the
report and context built from the findings."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from rightsizer import pricing
from rightsizer.collect.engine import inventory_coverage
from rightsizer.config import Config
from rightsizer.outputs.json_report import FINDING_KEYS, plain, render_json
from rightsizer.report import build as analysis
from rightsizer.report.build import api_cost_usd, build_context
from rightsizer.report.model import Report, ReportError, load_report_json, validated
from rightsizer.rules.findings import Finding
from tests.snapshot_factory import SnapshotBuilder, flat


def test_api_bill_counts_every_cost_explorer_request_and_metric_requested():
    manifest = {"metric_queries": 2500, "api_calls": {
        "ce:GetCostAndUsage": 1, "ce:GetReservationUtilization": 1,
        "ce:GetReservationPurchaseRecommendation": 2, "ecs:ListClusters": 40,
        "cloudwatch:GetMetricData": 5}}
    expected = 2.5 * pricing.GET_METRIC_DATA_USD_PER_1000_METRICS + \
        4 * pricing.COST_EXPLORER_USD_PER_REQUEST
    assert api_cost_usd(manifest) == pytest.approx(expected)
    assert api_cost_usd({"metric_queries": 0, "api_calls": {"ecs:ListClusters": 3}}) == 0


def _finding(rule: str, resource: str, savings: float) -> Finding:
    return Finding(rule=rule, resource_type="rds-instance", resource_id=resource, name=resource,
                   account="123456789012", region="ap-south-1", current={}, recommended={},
                   monthly_cost_usd=100.0, monthly_savings_usd=savings, evidence={}, reason="")


def test_a_report_finding_is_a_copy_in_schema_order_as_asdict_made_it() -> None:
    finding = dataclasses.replace(
        _finding("s3-lifecycle", "bucket-1", 12.345),
        current={"lifecycle": "absent"},
        recommended={"transitions": [{"days": 90, "storage_class": "STANDARD_IA"}]},
        evidence={"daily": [1.0, 2.5], "pair": (1, (2, 3)), "sizes": {"gb": 10}, "n": None},
        monthly_cost_usd=10.005)
    data = finding.to_dict()
    assert list(data) == list(FINDING_KEYS)
    expected = {**dataclasses.asdict(finding), "id": finding.id, "monthly_cost_usd": 10.01,
                "monthly_savings_usd": 12.35}
    assert data == expected and data["evidence"]["pair"] == (1, (2, 3))
    data["evidence"]["daily"].append(9.0)
    data["recommended"]["transitions"][0]["days"] = 1
    data["evidence"]["sizes"]["gb"] = 0
    assert finding.evidence == {"daily": [1.0, 2.5], "pair": (1, (2, 3)), "sizes": {"gb": 10},
                                "n": None}
    assert finding.recommended["transitions"][0]["days"] == 90


def test_every_report_finding_carries_its_commands_for_each_tool() -> None:
    findings = [dataclasses.replace(_finding("rds-reserved-instance", f"db-{index}", 9.0 - index),
                                    current={"instance_class": "db.t3.medium",
                                             "multi_az": False})
                for index in range(5)]
    report = analysis.build_report(SnapshotBuilder().build(), findings, [])
    for row, finding in zip(report["findings"], findings, strict=True):
        assert list(row) == [*FINDING_KEYS, "how_to_apply"]
        assert set(row["how_to_apply"]) == {"cli", "terraform", "cdk"}
        assert row["how_to_apply"] == analysis.how_to_apply(finding)
    assert "purchase-reserved-db-instances-offering" in report["findings"][0]["how_to_apply"]["cli"]
    assert "apply" not in build_context(SnapshotBuilder().build(), findings)


def test_findings_are_ordered_by_savings_then_rule_then_name() -> None:
    findings = [_finding("rds-idle", "db-b", 5.0), _finding("rds-idle", "db-a", 5.0),
                _finding("rds-rightsize", "db-c", 9.0), _finding("ecs-rightsize", "db-d", 5.0)]
    expected = sorted(findings, key=lambda f: (-f.monthly_savings_usd, f.rule, f.name))
    analysis._largest_first(findings)
    assert findings == expected
    with_nan = [_finding("rds-idle", "db-b", float("nan")), _finding("rds-idle", "db-a", 1.0)]
    analysis._largest_first(with_nan)  # NaN keeps the tuple key's order
    assert [f.name for f in with_nan] == ["db-b", "db-a"]


# --- the typed report (report/model.py): report.json exactly as build_report's dict --------------

def _in_order(text: str) -> Any:
    """A JSON text parsed with every object as its (key, value) pairs: key order counts."""
    return json.loads(text, object_pairs_hook=list)


def _as_written(data: dict[str, Any]) -> Any:
    """build_report's dict as report.json has always held it (NaN as null, keys in order)."""
    return _in_order(json.dumps(plain(data), ensure_ascii=False, allow_nan=False))


def _assert_model_writes_the_dict(data: dict[str, Any]) -> None:
    built = Report.from_build(data)  # the pipeline's way in: unvalidated
    text = render_json(built)
    assert _in_order(text) == _as_written(data)
    assert list(built.to_json_dict()) == list(data)
    # read back through validation (history, notify): the same text again
    again = Report.model_validate_json(text)
    assert render_json(again) == text
    assert render_json(Report.model_validate(json.loads(text))) == text


def _factory_report() -> dict[str, Any]:
    snap = SnapshotBuilder()
    snap.ecs_service("edufly-api", cpu=2048, memory=4096)
    snap.ecs_usage("edufly-api", cpu_max=flat(15), memory_max=flat(20))
    snap.ecs_service("edufly-worker", cpu=1024, memory=2048)
    snap.ecs_usage("edufly-worker", cpu_max=flat(90), memory_max=flat(85))
    snap.rds_instance("edufly-db", instance_class="db.t3.medium")
    snap.rds_cpu("edufly-db")
    snap.s3_bucket("edufly-docs")
    snap.s3_size("edufly-docs", [100e9] * 14)
    snap.log_group("/ecs/edufly-api", stored_bytes=5 * 2**30)
    snap.error("rds", "DescribeReservedDBInstances")
    snapshot = snap.build()
    data, _ = analysis.analyze(snapshot, Config())
    data["inventory"] = inventory_coverage(snapshot)  # as pipeline.report_for adds it
    return data


def test_the_report_model_writes_build_reports_dict_exactly_for_a_synthetic_snapshot() -> None:
    data = _factory_report()
    assert data["findings"] and data["skipped"] and data["errors"]
    _assert_model_writes_the_dict(data)


def test_the_report_model_writes_build_reports_dict_exactly_for_the_demo() -> None:
    pytest.importorskip("moto")
    from rightsizer import pipeline

    snapshot = pipeline.collect(Config(), demo=True)
    data, _ = analysis.analyze(snapshot, Config())
    data["inventory"] = inventory_coverage(snapshot)
    assert len(data["findings"]) >= 5
    _assert_model_writes_the_dict(data)


def _report_with_additions() -> dict[str, Any]:
    """A report.json of a newer run: additive keys at every level (DESIGN.md)."""
    finding = {**_factory_report()["findings"][0], "pricing": {"basis": "embedded-list"},
               "a_later_key": 1}
    return {
        "schema_version": "1", "generated_at": "2026-12-01T06:00:00Z",
        "window": {"start": "2026-11-17", "end": "2026-12-01", "days": 14, "tz": "UTC"},
        "accounts": ["123456789012"], "regions": ["ap-south-1"],
        "summary": {"findings": 1, "monthly_savings_usd": 0, "by_rule": {
            finding["rule"]: {"findings": 1, "monthly_savings_usd": 1.5, "note": "x"}},
            "bill": {"month": "2026-11", "monthly_usd": 489.5}},
        "findings": [finding],
        "skipped": [{"rule": "s3-lifecycle", "resource_type": "s3-bucket", "resource_id": "b",
                     "name": "b", "account": "1", "region": "r", "reason": "suppressed",
                     "detail": "d", "until": "2027-01-01"}],
        "errors": [],
        "plans": [{"resource_id": "x", "steps": [finding["id"]], "monthly_savings_usd": 1.0}],
        "risks": [],
        "inventory": {"looked_for": ["ecs-service"], "accounts": ["1"], "regions": ["r"],
                      "found": {"ecs-service": 0}, "empty": True, "failed_reads": [],
                      "later": True},
    }


def test_additive_fields_are_read_kept_and_written_in_report_json_order() -> None:
    data = _report_with_additions()
    for report in (Report.model_validate(data), Report.from_build(data)):
        written = report.to_json_dict()
        assert list(written) == ["schema_version", "generated_at", "window", "accounts",
                                 "regions", "summary", "findings", "risks", "skipped",
                                 "errors", "plans", "inventory"]  # the rest sorted, as before
        assert json.loads(json.dumps(written)) == data  # every key kept, none added
        finding = report.findings[0]
        assert list(written["findings"][0])[-3:] == ["pricing", "how_to_apply", "a_later_key"]
        assert finding.pricing == {"basis": "embedded-list"}
        assert finding.model_extra == {"a_later_key": 1}
        assert report.summary.by_rule[finding.rule].monthly_savings_usd == 1.5
        assert report.inventory is not None and report.inventory.empty
        # a key lookup for callers still on dicts
        assert [plan.to_plain() for plan in report["plans"]] == data["plans"]
    # 0 stays 0 (not 0.0), so the text round-trips
    assert '"monthly_savings_usd": 0,' in render_json(Report.model_validate(data))


def test_a_report_without_the_later_additions_is_written_without_them() -> None:
    data = _report_with_additions()
    for key in ("inventory", "plans", "risks"):
        del data[key]
    del data["findings"][0]["how_to_apply"]  # a report.json from before how_to_apply
    report = Report.model_validate(data)
    assert report.inventory is None and report.findings[0].how_to_apply is None
    assert "inventory" not in report.to_json_dict()
    assert "how_to_apply" not in report.to_json_dict()["findings"][0]


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["findings"][0].pop("name"), "findings.0.name: missing"),
    (lambda d: d["findings"][0].update(monthly_savings_usd="lots"),
     "findings.0.monthly_savings_usd"),
    (lambda d: d["findings"][0].update(severity="urgent"), "findings.0.severity"),
    (lambda d: d["summary"].update(findings=None), "summary.findings"),
    (lambda d: d.update(skipped="none"), "skipped: Input should be a valid"),
    (lambda d: d.pop("window"), "window: missing"),
    (lambda d: d.update(schema_version="2"), "unsupported schema_version '2'"),
])
def test_a_malformed_report_is_one_error_line_naming_the_field(change: Any, message: str
                                                               ) -> None:
    data = _report_with_additions()
    change(data)
    for read in (lambda: load_report_json(json.dumps(data), "r.json"),
                 lambda: validated(data, "r.json")):
        with pytest.raises(ReportError) as raised:
            read()
        text = str(raised.value)
        assert text.startswith("r.json: ") and message in text and "\n" not in text
