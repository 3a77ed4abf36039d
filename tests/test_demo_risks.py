"""The demo proves its advice: an under-provisioned service, and last month's change verified."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rightsizer.config import Config
from rightsizer.demo import account as demo_account
from rightsizer.demo.last_month import planted_report
from rightsizer.report.history import load_report
from rightsizer.rules.support.fargate_sizes import is_valid_size

pytest.importorskip("moto")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    from rightsizer import pipeline

    report, context, _ = pipeline.run_analysis(Config(), True,
                                               tmp_path_factory.mktemp("demo") / "out")
    return report.to_json_dict(), context


def test_the_pinned_report_card_service_is_a_high_risk_with_a_larger_valid_size(demo):
    report, _ = demo
    [risk] = [risk for risk in report["risks"] if risk["rule"] == "ecs-underprovisioned"]
    assert risk["name"] == "edufly-report-cards" and risk["severity"] == "high"
    assert risk["current"] == {"cpu": 256, "memory": 512}
    assert risk["recommended"] == {"cpu": 512, "memory": 1024}
    assert is_valid_size(512, 1024)
    assert risk["monthly_cost_change_usd"] > 0
    assert risk["evidence"]["cpu_saturated_share"] >= 0.25
    # never a finding, never in the savings
    assert "edufly-report-cards" not in {f["name"] for f in report["findings"]
                                         if f["rule"] in ("ecs-rightsize",
                                                          "ecs-underprovisioned")}
    assert "ecs-underprovisioned" not in report["summary"]["by_rule"]


def test_last_months_worker_resize_was_applied_and_held(demo):
    report, context = demo
    history = report["history"]
    month, planted = planted_report(datetime.fromisoformat(report["window"]["end"]),
                                    report["accounts"][0])
    assert history["previous_month"] == month
    [change] = history["verified"]
    assert change["name"] == "edufly-report-worker" and change["status"] == "held"
    assert change["finding_id"] == planted.findings[0].id
    assert change["applied"] is not None
    assert "1 vCPU / 2 GB -> 0.5 vCPU / 1 GB" in change["detail"]
    saving = planted.findings[0].monthly_savings_usd
    assert history["changes"] == {"applied": 1, "held": 1, "regressed": 0,
                                  "realized_monthly_usd": saving}
    assert context["history"]["changes"] == history["changes"]  # history.json says the same
    assert not [risk for risk in report["risks"] if risk.get("kind") == "regressed-change"]


def test_the_planted_report_is_one_rightsizer_would_write(tmp_path: Path) -> None:
    month, planted = planted_report(datetime(2026, 12, 1, 5, tzinfo=UTC))
    assert month == "2026-11" and planted.generated_at.startswith("2026-11-01")
    path = tmp_path / "report.json"
    path.write_text(json.dumps(planted.to_json_dict()))
    assert load_report(path).findings[0].recommended == {"cpu": 512, "memory": 1024}


def test_every_demo_finding_names_its_price_basis(demo):
    report, _ = demo
    assert report["findings"]
    for finding in report["findings"]:
        assert (finding.get("pricing") or {}).get("basis") in {
            "account-effective", "price-list-cache", "embedded-list"}, finding["rule"]


def test_the_demo_nat_gateway_is_priced_at_what_its_bill_shows(demo):
    # no table has a Mumbai NAT price: the NAT gateway's own usage types on the bill price it
    report, _ = demo
    [nat] = [f for f in report["findings"] if f["rule"] == "nat-gateway"]
    priced = nat["pricing"]
    assert priced["basis"] == "account-effective" and priced["as_of"]
    assert priced["list_monthly_savings_usd"] is None and "list_rates" not in priced
    hour, per_gb = priced["rates"]["nat_gateway_hour_usd"], priced["rates"][
        "nat_gateway_gb_processed_usd"]
    assert nat["monthly_savings_usd"] > 0 and 0 < hour == per_gb < 1
    assert any("no list price for NatGateway-Bytes in ap-south-1" in n for n in priced["notes"])
    assert f"${per_gb:.4g}/GB" in nat["reason"]


def test_the_demo_image_repository_is_priced_at_what_its_bill_shows(demo):
    report, _ = demo
    [ecr] = [f for f in report["findings"] if f["rule"] == "ecr-lifecycle"]
    priced = ecr["pricing"]
    assert priced["basis"] == "account-effective" and priced["list_monthly_savings_usd"] is None
    rate = priced["rates"]["ecr_storage_gb_month_usd"]
    # the API repository's stored GB at the rate its bill line implies
    assert ecr["monthly_cost_usd"] == pytest.approx(rate * demo_account.ecr_stored_gb(), abs=0.01)
