"""Month over month: new / persisting / resolved findings, realized savings and the trend."""

from __future__ import annotations

import copy
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from rightsizer.integrations import slack
from rightsizer.outputs.csv_report import render_csv
from rightsizer.outputs.json_report import APPLY_COLUMNS, FINDING_KEYS
from rightsizer.outputs.markdown import render_markdown
from rightsizer.outputs.write import write_outputs
from rightsizer.report.history import build_history, earlier_reports, previous_report
from rightsizer.report.model import Report
from rightsizer.rules.findings import stable_finding_id

ACCOUNT, REGION = "123456789012", "ap-south-1"


def finding(name: str, savings: float, rule: str = "ecs-rightsize") -> dict[str, Any]:
    resource_id = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/edufly/{name}"
    return {"id": stable_finding_id(rule, ACCOUNT, REGION, resource_id), "rule": rule,
            "severity": "medium", "resource_type": "ecs-service", "resource_id": resource_id,
            "name": name, "account": ACCOUNT, "region": REGION,
            "current": {"cpu": 1024, "memory": 2048}, "recommended": {"cpu": 512, "memory": 1024},
            "monthly_cost_usd": savings * 2, "monthly_savings_usd": savings,
            "evidence": {"coverage": 0.99}, "reason": "CPU p95 31% of the task size"}


def report(month: str, findings: list[dict[str, Any]]) -> dict[str, Any]:
    total = round(sum(f["monthly_savings_usd"] for f in findings), 2)
    return {"schema_version": "1", "generated_at": f"{month}-28T06:00:00Z",
            "window": {"start": f"{month}-14T00:00:00Z", "end": f"{month}-28T00:00:00Z",
                       "days": 14},
            "accounts": [ACCOUNT], "regions": [REGION],
            "summary": {"findings": len(findings), "monthly_savings_usd": total,
                        "by_rule": {}},
            "findings": findings, "skipped": [], "errors": []}


API, WORKER, DB, CRON, ADMIN = (finding("api", 40.0), finding("worker", 10.0),
                                finding("db", 25.0, "rds-reserved-instance"),
                                finding("cron", 7.5), finding("admin", 3.0))
MONTHS = {
    "2026-09": report("2026-09", [API, WORKER, CRON]),
    "2026-10": report("2026-10", [API, WORKER, DB, CRON]),
    "2026-11": report("2026-11", [API, DB, ADMIN]),  # worker and cron fixed, admin appeared
}


def write_month(reports: Path, month: str) -> dict[str, Any] | None:
    """What `rightsizer analyze` does: history from earlier months, then every output."""
    out_dir = reports / month
    history = build_history(MONTHS[month], out_dir)
    write_outputs(MONTHS[month], {"history": history}, out_dir, ["html", "json", "csv", "md"])
    return history


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    for month in MONTHS:
        write_month(tmp_path / "reports", month)
    return tmp_path / "reports"


def test_three_months_new_persisting_resolved_and_realized(reports: Path) -> None:
    history = build_history(MONTHS["2026-11"], reports / "2026-11")
    assert history is not None
    assert history["previous_month"] == "2026-10"
    assert (history["new"], history["persisting"], history["resolved"]) == (1, 2, 2)
    assert history["realized_savings_usd"] == 17.5  # worker 10 + cron 7.5, last month's value
    assert [f["name"] for f in history["resolved_findings"]] == ["worker", "cron"]
    assert history["findings"] == {
        API["id"]: {"status": "persisting", "since": "2026-09"},
        DB["id"]: {"status": "persisting", "since": "2026-10"},
        ADMIN["id"]: {"status": "new", "since": "2026-11"},
    }
    assert history["trend"] == [
        {"month": "2026-09", "monthly_savings_usd": 57.5, "findings": 3},
        {"month": "2026-10", "monthly_savings_usd": 82.5, "findings": 4},
        {"month": "2026-11", "monthly_savings_usd": 68.0, "findings": 3},
    ]
    # the history.json beside report.json says the same; report.json keeps its schema
    assert json.loads((reports / "2026-11" / "history.json").read_text()) == history
    assert set(json.loads((reports / "2026-11" / "report.json").read_text())) == \
        set(MONTHS["2026-11"])


def test_the_first_month_has_a_trend_but_nothing_to_compare(reports: Path) -> None:
    history = build_history(MONTHS["2026-09"], reports / "2026-09")
    assert history is not None and history["previous_month"] is None
    assert history["new"] is None and history["findings"] == {}
    assert [point["month"] for point in history["trend"]] == ["2026-09"]
    assert "First report on record" in (reports / "2026-09" / "report.html").read_text()


def test_rerunning_a_month_replaces_its_files_and_gives_the_same_comparison(
        reports: Path) -> None:
    first = json.loads((reports / "2026-11" / "history.json").read_text())
    html_before = (reports / "2026-11" / "report.html").read_text()
    assert write_month(reports, "2026-11") == first  # never compared with itself
    assert (reports / "2026-11" / "report.html").read_text() == html_before
    assert not list((reports / "2026-11").glob(".*.tmp"))  # atomic writes leave no temp file
    # a later month present on disk does not leak into an earlier month's re-run
    assert write_month(reports, "2026-10")["trend"][-1]["month"] == "2026-10"


def test_html_shows_since_last_month_and_marks_rows(reports: Path) -> None:
    page = (reports / "2026-11" / "report.html").read_text()

    def text_of(element_id: str) -> str:
        match = re.search(rf'id="{element_id}">([^<]*)<', page)
        assert match, element_id
        return match.group(1)

    assert "Since last month" in page and "(2026-10)" in page
    assert (text_of("history-new"), text_of("history-resolved"),
            text_of("history-realized")) == ("1", "2", "$17.50")
    assert page.count('<circle class="spark-dot"') == 3  # one point a month
    data = json.loads(re.search(r'<script type="application/json" id="findings-data">(.*?)'
                                r'</script>', page, re.S).group(1))
    status = {row[0]: (row[11], data["strings"][row[12]]) for row in data["rows"]}
    assert status[ADMIN["id"]] == (1, "2026-11")  # new (report.js STATUS[1])
    assert status[API["id"]] == (2, "2026-09")  # persisting since September
    assert "since 2026-09" in page and ">NEW<" in page  # the rows shown without the script
    assert "Resolved since 2026-10" in page and "cron" in page


def test_slack_uses_the_same_comparison(reports: Path) -> None:
    counts = slack.history_for(MONTHS["2026-11"], reports / "2026-11" / "report.json")
    assert counts == {"new": 1, "resolved": 2, "realized_savings_usd": 17.5}
    payload = slack.build_blocks(MONTHS["2026-11"], report_url=None, history=counts)
    assert "1 new, 2 resolved, $17.50/month from resolved findings" in json.dumps(payload)


def test_missing_and_corrupt_months_are_skipped_with_a_warning(
        reports: Path, caplog: pytest.LogCaptureFixture) -> None:
    (reports / "2026-10" / "report.json").write_text("{not json")
    (reports / "2026-08").mkdir()  # e.g. only a snapshot: no report.json
    (reports / "2026-07").mkdir()
    (reports / "2026-07" / "report.json").write_text(json.dumps({"schema_version": "9"}))
    (reports / "2026-06").mkdir()  # valid JSON, but a finding without its name
    broken = copy.deepcopy(MONTHS["2026-09"])
    del broken["findings"][0]["name"]
    (reports / "2026-06" / "report.json").write_text(json.dumps(broken))
    (reports / "notes").mkdir()
    with caplog.at_level(logging.WARNING, logger="rightsizer.report.history"):
        history = build_history(MONTHS["2026-11"], reports / "2026-11")
    assert history is not None and history["previous_month"] == "2026-09"  # newest readable
    assert [p["month"] for p in history["trend"]] == ["2026-09", "2026-11"]
    assert (history["new"], history["resolved"]) == (2, 2)
    assert "2026-10" in caplog.text and "not valid JSON" in caplog.text
    assert "2026-06" in caplog.text and "findings.0.name: missing" in caplog.text
    assert previous_report(reports / "2026-11" / "report.json") == \
        (reports / "2026-09" / "report.json").resolve()


def test_realized_counts_a_resource_once(tmp_path: Path) -> None:
    """An idle database is also unreserved: deleting it frees its cost once, not twice."""
    idle = {**copy.deepcopy(DB), "rule": "rds-idle", "id": "idle", "monthly_savings_usd": 50.0}
    (tmp_path / "2026-10").mkdir()
    (tmp_path / "2026-10" / "report.json").write_text(
        json.dumps(report("2026-10", [DB, idle])))
    history = build_history(report("2026-11", []), tmp_path / "2026-11")
    assert history is not None and history["resolved"] == 2
    assert history["realized_savings_usd"] == 50.0


def test_since_walks_back_each_month_until_the_finding_was_missing(tmp_path: Path) -> None:
    present = {"2026-05": [API], "2026-06": [API, WORKER], "2026-07": [WORKER],
               "2026-08": [API, WORKER], "2026-09": [API, WORKER, CRON]}
    for month, findings in present.items():
        (tmp_path / month).mkdir()
        (tmp_path / month / "report.json").write_text(json.dumps(report(month, findings)))
    history = build_history(report("2026-10", [API, WORKER, CRON, ADMIN]), tmp_path / "2026-10")
    assert history is not None
    assert {key: value["since"] for key, value in history["findings"].items()} == {
        API["id"]: "2026-08", WORKER["id"]: "2026-06", CRON["id"]: "2026-09",
        ADMIN["id"]: "2026-10"}


def test_earlier_reports_keep_only_what_the_comparison_reads(reports: Path) -> None:
    month, older = earlier_reports(reports, "2026-11")[-1]
    assert month == "2026-10" and "skipped" not in older
    kept = {"id", "rule", "name", "resource_id", "account", "region", "monthly_savings_usd"}
    by_rule = {finding["rule"]: finding for finding in older["findings"]}
    assert set(by_rule["rds-reserved-instance"]) == kept
    # a right-sizing finding also keeps its sizes and promised headroom, to verify next month
    assert set(by_rule["ecs-rightsize"]) == kept | {"resource_type", "current", "recommended",
                                                   "evidence"}
    assert by_rule["ecs-rightsize"]["evidence"] == {}  # coverage is not a promise
    assert older["summary"] == MONTHS["2026-10"]["summary"]
    assert older["generated_at"] == MONTHS["2026-10"]["generated_at"]


def test_a_report_outside_a_month_folder_has_no_history(tmp_path: Path) -> None:
    assert build_history(MONTHS["2026-11"], tmp_path / "adhoc") is None


def test_csv_and_markdown_cover_the_json_finding_columns() -> None:
    month = Report.model_validate(MONTHS["2026-11"])
    rows = render_csv(month).splitlines()
    assert rows[0].split(",") == [*FINDING_KEYS, *APPLY_COLUMNS]
    markdown = render_markdown(month)
    for finding_ in MONTHS["2026-11"]["findings"]:
        assert finding_["name"] in markdown and finding_["reason"] in markdown
    for key in ("id", "resource_type", "resource_id", "account", "region", "rule", "severity"):
        for finding_ in MONTHS["2026-11"]["findings"]:
            assert str(finding_[key]) in markdown.replace("\\", ""), key
    assert "coverage 99.0%" in markdown and '"cpu":1024' in markdown.replace("\\", "")
