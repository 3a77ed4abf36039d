"""report.html from the additive report.json keys (DESIGN.md): plans, risks, summary.bill,
history.verified, finding pricing, notices; skipped rows by reason; the month-to-date bar;
thousands separators. Hand-built report dicts in the DESIGN.md shapes, rendered to text."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from rightsizer.outputs import html as html_output
from rightsizer.outputs.charts import cost_trend_chart
from rightsizer.outputs.key_facts import key_facts
from rightsizer.report.model import as_report
from tests.test_outputs import _page_data, sample_context, sample_report


def render(report: dict[str, Any], context: dict[str, Any]) -> str:
    return html_output.render_html(as_report(report), context)


def text(page: str) -> str:
    """The page's words without tags, entities decoded, whitespace collapsed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    words = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))
    return re.sub(r" ([,.;)]|/month)", r"\1", words)  # "$5 </strong>/month": "$5/month"


@pytest.fixture
def report() -> dict[str, Any]:
    return sample_report()


@pytest.fixture
def context(report: dict[str, Any]) -> dict[str, Any]:
    return sample_context(report)


def _ids(report: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["id"] for f in report["findings"]}


def test_top_actions_show_plans_each_resource_once_with_the_step_arithmetic(
        report: dict[str, Any], context: dict[str, Any]) -> None:
    ids = _ids(report)
    api = report["findings"][1]
    spot = {**report["findings"][2], "id": "spot-on-api", "resource_id": api["resource_id"],
            "name": "edufly-api", "monthly_savings_usd": 12.0}
    report["findings"].append(spot)
    report["plans"] = [
        {"resource_id": api["resource_id"], "name": "edufly-api",
         "steps": [ids["edufly-api"], "spot-on-api"], "monthly_savings_usd": 49.0,
         "detail": "right-size, then Spot: each step priced on the one before",
         "steps_detail": [
             {"finding_id": ids["edufly-api"], "rule": "ecs-rightsize",
              "before_monthly_usd": 80.0, "after_monthly_usd": 40.0,
              "monthly_savings_usd": 40.0, "finding_monthly_savings_usd": 40.0},
             {"finding_id": "spot-on-api", "rule": "ecs-fargate-spot",
              "before_monthly_usd": 40.0, "after_monthly_usd": 31.0,
              "monthly_savings_usd": 9.0, "finding_monthly_savings_usd": 12.0,
              "note": "its Spot hours stay out of any Savings Plan commitment"}]},
        {"resource_id": report["findings"][0]["resource_id"], "name": "edufly-db",
         "steps": [ids["edufly-db"]], "monthly_savings_usd": 1234.56,
         "detail": "rds-reserved-instance alone"},
        {"resource_id": report["findings"][3]["resource_id"], "name": "edufly-student-docs",
         "steps": [ids["edufly-student-docs"]], "monthly_savings_usd": 4.41},
        {"resource_id": report["findings"][2]["resource_id"], "name": "edufly-report-worker",
         "steps": [ids["edufly-report-worker"]], "monthly_savings_usd": 18.92},
    ]
    page = render(report, context)
    actions = text(page.split('aria-labelledby="top-actions-h"')[1].split("</section>")[0])
    # largest plans first, each resource once (the API's two findings are one action)
    assert [name for name in ("edufly-db", "edufly-api", "edufly-report-worker",
                              "edufly-student-docs") if name in actions] == [
        "edufly-db", "edufly-api", "edufly-report-worker"]
    assert actions.index("edufly-db") < actions.index("edufly-api")
    assert "$49.00" in actions and "$40.00" not in actions.split("edufly-api")[0]
    assert "$80.00 → $40.00 a month" in actions
    assert "$40.00 → $31.00 a month (saves $9.00 after the steps before; $12.00 alone)" in actions
    assert "right-size, then Spot: each step priced on the one before" in actions
    assert "rds-reserved-instance alone" not in actions  # a one-step plan needs no summary


def test_top_actions_without_plans_list_each_resource_once(
        report: dict[str, Any], context: dict[str, Any]) -> None:
    api = report["findings"][1]
    report["findings"].append({**api, "id": "second-on-api", "rule": "ecs-fargate-spot",
                               "monthly_savings_usd": 39.0})
    actions = text(render(report, context).split('aria-labelledby="top-actions-h"')[1]
                   .split("</section>")[0])
    assert actions.count("edufly-api") == 1 and "edufly-report-worker" in actions


def test_risks_have_their_own_section_and_stay_out_of_the_total(
        report: dict[str, Any], context: dict[str, Any]) -> None:
    report["risks"] = [{"rule": "ecs-underprovisioned", "resource_id": "arn:x:svc/edufly-exam",
                        "name": "edufly-exam", "severity": "high",
                        "current": {"cpu": 256, "memory": 512},
                        "recommended": {"cpu": 512, "memory": 1024},
                        "monthly_cost_change_usd": 18.9, "evidence": {},
                        "reason": "CPU at 100% for 6 hours a day"}]
    words = text(render(report, context))
    section = words.split("Under-provisioned: costs more, not counted in savings")[1]
    assert "edufly-exam" in section and "+$18.90" in section
    assert "0.25 vCPU / 0.5 GB → 0.5 vCPU / 1 GB" in section
    assert "$1,297.89" in words  # the total is the findings' alone
    assert "Under-provisioned" not in text(render(sample_report(), context))
    # at scale: the largest increases, and how many there are
    risk = report["risks"][0]
    report["risks"] = [{**risk, "name": f"svc-{i:04d}", "monthly_cost_change_usd": float(i)}
                       for i in range(1500)]
    page = render(report, context)
    section = page.split('id="risks"')[1].split("</section>")[0]
    assert section.count("<tr>") == 101  # the header and 100 rows
    assert "svc-1499" in section and "svc-1399" not in section
    assert "The 100 largest cost increases of 1,500" in text(section)


def test_bill_says_how_much_the_rules_examined_and_what_they_did_not(
        report: dict[str, Any], context: dict[str, Any]) -> None:
    report["summary"]["bill"] = {
        "month": "2026-11", "monthly_usd": 1489.5, "examined_usd": 1281.0,
        "examined_share": 0.86,
        "by_service": [
            {"service": "Amazon Elastic Container Service", "monthly_usd": 1216.2,
             "examined_by": ["ecs-rightsize"]},
            {"service": "Amazon CloudFront", "monthly_usd": 19.26, "examined_by": []},
            {"service": "Amazon Route 53", "monthly_usd": 189.04, "examined_by": []}]}
    words = text(render(report, context))
    assert "Your bill: $1,489.50/month (2026-11); rules examined 86.0% of it" in words
    unexamined = words.split("No rule examined these services")[1]
    assert unexamined.index("Amazon Route 53 $189.04") < unexamined.index("Amazon CloudFront")
    assert "Amazon Elastic Container Service $1,216.20" not in unexamined


def test_verified_changes_are_counted_in_the_history_card(
        report: dict[str, Any], context: dict[str, Any]) -> None:
    context["history"] = {"month": "2026-12", "previous_month": "2026-11", "new": 1,
                          "persisting": 3, "resolved": 2, "realized_savings_usd": 43.0,
                          "findings": {}, "trend": []}
    report["history"] = {
        "month": "2026-12", "previous_month": "2026-11",
        "verified": [
            {"finding_id": "a", "applied": "2026-11-20", "status": "held", "detail": ""},
            {"finding_id": "b", "applied": "2026-11-21", "status": "held", "detail": ""},
            {"finding_id": "c", "applied": None, "status": "regressed",
             "detail": "task size back to 2 vCPU"}],
        "changes": {"applied": 3, "held": 2, "regressed": 1, "realized_monthly_usd": 43.0}}
    words = text(render(report, context))
    assert "3 changes applied since last month: 2 held, 1 regressed, $43.00/month realized" \
        in words


def test_pricing_basis_and_both_savings_when_list_differs(
        report: dict[str, Any], context: dict[str, Any]) -> None:
    db = report["findings"][0]
    db["pricing"] = {"basis": "account-effective", "rates": {"rds_hourly_usd": 0.0998},
                     "as_of": "2026-11", "list_monthly_savings_usd": 1300.0}
    report["findings"][1]["pricing"] = {"basis": "embedded-list", "rates": {},
                                        "list_monthly_savings_usd": 40.0}
    details = _page_data(render(report, context))["details"]
    notes = {d["reason"]: d.get("pricing") for d in details}
    assert notes[db["reason"]] == (
        "Priced at your account's effective rates: rds hourly $0.0998 (as of 2026-11). "
        "Saves $1,234.56 at your rates ($1,300.00 at list).")
    assert notes[report["findings"][1]["reason"]] == \
        "Priced at the list prices embedded in rightsizer."  # same at list: one figure


def test_notices_are_banners_at_the_top_warnings_first_the_rest_folded(
        report: dict[str, Any], context: dict[str, Any]) -> None:
    report["notices"] = [{"level": "info", "text": "7 of 20 findings at your rates"},
                         {"level": "warning", "text": "Cost Explorer is not enabled"},
                         {"level": "warning", "text": "<b>the fargate table is old</b>"},
                         {"level": "info", "text": "one more"}]
    page = render(report, context)
    banners = page.split('id="notices"')[1].split('aria-label="Summary"')[0]
    shown, folded = banners.split('<details class="more-notices">')
    assert re.findall(r'class="notice notice-(\w+)"', shown) == ["warning", "warning"]
    assert "Cost Explorer is not enabled" in shown
    assert "&lt;b&gt;the fargate table is old&lt;/b&gt;" in shown  # text, never markup
    assert "2 more notices" in folded and "7 of 20 findings at your rates" in folded
    assert 'id="notices"' not in render(sample_report(), context)


def test_skipped_rows_are_grouped_by_reason_with_counts(
        report: dict[str, Any], context: dict[str, Any]) -> None:
    row = report["skipped"][0]
    report["skipped"] = [{**row, "name": f"logs-{i:05d}", "rule": "logs-retention",
                          "reason": "not-applicable"} for i in range(1234)] + report["skipped"]
    page = render(report, context)
    groups = re.findall(r'<details class="skip-group" data-reason="([\w-]+)"', page)
    assert groups == ["not-applicable", "insufficient-data", "suppressed"]  # most first
    words = text(page)
    assert "Skipped resources 1,236" in words
    assert "not-applicable 1,234 logs-retention 1,234" in words
    assert "logs-00099" in words and "logs-00100" not in words  # 100 listed a reason
    assert "and 1,134 more with this reason" in words


def test_counts_have_thousands_separators(report: dict[str, Any],
                                          context: dict[str, Any]) -> None:
    finding = report["findings"][2]
    report["findings"] = [{**finding, "id": f"{i:016x}", "name": f"w-{i}"} for i in range(1500)]
    report["summary"] = {"findings": 1500, "monthly_savings_usd": 28380.0, "by_rule": {
        "ecs-fargate-spot": {"findings": 1500, "monthly_savings_usd": 28380.0}}}
    words = text(render(report, context))
    assert "Findings 1,500" in words and "1,500 low" in words
    assert "1,500 findings" in words and "1500" not in words


def test_the_month_to_date_bar_is_marked_partial_and_the_legend_is_per_month() -> None:
    rows = [{"month": month, "service": service, "amount_usd": amount}
            for month, scale in (("2026-10", 1.0), ("2026-11", 1.1), ("2026-12", 0.1))
            for service, amount in (("ECS", 100.0 * scale), ("RDS", 50.0 * scale))]
    chart = cost_trend_chart(rows, "2026-12-03T06:00:00Z")
    assert chart is not None
    assert [bar["partial"] for bar in chart["bars"]] == [False, False, True]
    assert [c["partial"] for c in chart["columns"]] == [False, False, True]
    assert chart["legend"][0] == {"name": "ECS", "colour": chart["legend"][0]["colour"],
                                  "months": ["$100.00", "$110.00", "$10.00"]}
    assert not any(bar["partial"] for bar in cost_trend_chart(rows[:4], "2026-12-01")["bars"])
    estimated = [{**rows[0], "estimated": True}]
    assert cost_trend_chart(estimated)["bars"][0]["partial"]


def test_key_facts_say_need_peak_headroom_price_and_window() -> None:
    finding = as_report(sample_report()).findings[1]  # ecs-rightsize, 1 vCPU / 2 GB -> half
    evidence = {**finding.evidence, "cpu_needed_units": 494, "memory_needed_mib": 1020,
                "hourly_cost_current_usd": 0.05, "hourly_cost_recommended_usd": 0.025,
                "price_vcpu_hour_usd": 0.04048, "price_gb_hour_usd": 0.004445,
                "price_as_of": "2026-09-29", "period_seconds": 3600}
    facts = key_facts(finding.model_copy(update={"evidence": evidence}), 14)
    assert facts == [
        "Peak use: CPU 46.3% (p95 31.0%) and memory 37.9% of the current 1 vCPU / 2 GB.",
        "Needs 494 CPU units (0.48 vCPU) and 1,020 MiB (the peak plus 20% headroom).",
        "At 0.5 vCPU / 1 GB the highest peak leaves CPU 92.6% used, 7.4% free and memory "
        "75.8% used, 24.2% free.",
        "Price: $0.05 an hour now, $0.025 after ($0.04048 per vCPU-hour, $0.004445 per "
        "GB-hour, as of 2026-09-29).",
        "Window: 14 days, 333 hourly datapoints, 99.0% of it covered.",
        "Costs $80.00 a month now; the change saves $40.00 a month (50% of it).",
    ]
    # sized from a longer history than the window, backtested: both said
    backtested = {**evidence, "sizing_history_days": 56,
                  "backtest": "held in 5 of 5 past fortnights at +10% CPU / +10% memory"}
    facts = key_facts(finding.model_copy(update={"evidence": backtested}), 14)
    assert facts[4] == ("Window: 14 days, 333 hourly datapoints, 99.0% of it covered; sized "
                        "from 56 days of hourly peaks (held in 5 of 5 past fortnights at "
                        "+10% CPU / +10% memory).")
    reserved = as_report(sample_report()).findings[0]  # rds-reserved-instance
    evidence = {**reserved.evidence, "normalized_units": 4, "covered_units": 1.5,
                "reservation_states_counted": ["active", "payment-pending"]}
    assert key_facts(reserved.model_copy(update={"evidence": evidence}), 14)[:2] == [
        "Reservations cover 1.5 of its 4 normalized units (reservations active or "
        "payment-pending counted).",
        "Price: $0.1425 an hour on-demand, $0.0998 reserved."]
    bare = finding.model_copy(update={"evidence": {}})
    assert key_facts(bare, 14) == ["Costs $80.00 a month now; the change saves $40.00 a month "
                                   "(50% of it)."]
