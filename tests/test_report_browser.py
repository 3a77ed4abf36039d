"""The HTML report in a real browser: headless Chromium driven over the DevTools protocol
(tests/support/devtools.py: errors are caught as protocol events, sturdier than grepping
Chromium's stderr).

One demo run (the real `rightsizer analyze --demo`) and one browser per module keep this fast.
Set RIGHTSIZER_UPDATE_SCREENSHOT=1 to refresh docs/report-screenshot.png from the demo report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rightsizer.outputs.formatting import money
from rightsizer.outputs.write import write_outputs
from rightsizer.report.history import build_history
from rightsizer.rules.findings import stable_finding_id
from tests.support.devtools import CHROMIUM, DevTools, Page

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not found (/usr/bin/chromium): "
    "apt-get install chromium to run the report's browser tests")

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "docs" / "report-screenshot.png"
ACCOUNT, REGION = "123456789012", "ap-south-1"
XSS_SCRIPT = "<script>window.__xss=1</script>"
XSS_ATTRIBUTE = '"><img src=x onerror="window.__xss=1">'


# --- fixtures -------------------------------------------------------------------------------------

def _months_before(month: str, count: int) -> list[str]:
    year, number = map(int, month.split("-"))
    months = []
    for _ in range(count):
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
        months.append(f"{year:04d}-{number:02d}")
    return months[::-1]


def _seed_finding(rule: str, name: str, resource_id: str, savings: float) -> dict[str, Any]:
    return {"id": stable_finding_id(rule, ACCOUNT, REGION, resource_id), "rule": rule,
            "severity": "medium", "resource_type": "seed", "resource_id": resource_id,
            "name": name, "account": ACCOUNT, "region": REGION, "current": {},
            "recommended": {}, "monthly_cost_usd": savings * 2,
            "monthly_savings_usd": savings, "evidence": {}, "reason": "earlier month"}


def _seed_report(findings: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schema_version": "1", "generated_at": "2026-01-01T06:00:00Z",
            "window": {"start": "", "end": "", "days": 14}, "accounts": [ACCOUNT],
            "regions": [REGION],
            "summary": {"findings": len(findings), "by_rule": {}, "monthly_savings_usd": round(
                sum(f["monthly_savings_usd"] for f in findings), 2)},
            "findings": findings, "skipped": [], "errors": []}


def _seed_earlier_months(reports: Path, month: str) -> None:
    """Two earlier months that share some of the demo's findings (same ids as the demo's
    resources), so the demo page shows a realistic "Since last month" card and trend."""
    ecs = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/edufly/"
    rds = f"arn:aws:rds:{REGION}:{ACCOUNT}:db:"
    db = _seed_finding("rds-reserved-instance", "edufly-db", rds + "edufly-db", 23.21)
    worker = _seed_finding("ecs-fargate-spot", "edufly-report-worker",
                           ecs + "edufly-report-worker", 10.6)
    cron = _seed_finding("ecs-rightsize", "edufly-legacy-cron", ecs + "edufly-legacy-cron", 31.0)
    docs = _seed_finding("s3-lifecycle", "edufly-student-documents",
                         "arn:aws:s3:::edufly-student-documents", 3.69)
    staging = _seed_finding("rds-idle", "edufly-staging-db", rds + "edufly-staging-db", 12.0)
    older, previous = _months_before(month, 2)
    for name, findings in ((older, [db, worker, cron, staging, _seed_finding(
            "ecs-rightsize", "edufly-api", ecs + "edufly-api", 38.4)]),
                           (previous, [db, worker, cron, docs, staging])):
        (reports / name).mkdir(parents=True)
        (reports / name / "report.json").write_text(json.dumps(_seed_report(findings)))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """report.html from the real CLI: `rightsizer analyze --demo` into reports/<YYYY-MM>/."""
    reports = tmp_path_factory.mktemp("reports")
    month = datetime.now(UTC).strftime("%Y-%m")
    _seed_earlier_months(reports, month)
    result = subprocess.run(
        [sys.executable, "-m", "rightsizer", "analyze", "--demo", "--quiet",
         "--output", str(reports / month), "--format", "html,json"],
        capture_output=True, text=True, timeout=180, cwd=tmp_path_factory.mktemp("cwd"))
    assert result.returncode == 0, result.stderr
    return reports / month


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    chrome = DevTools(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield chrome
    finally:
        chrome.close()


# --- the demo report ------------------------------------------------------------------------------

def test_demo_report_runs_without_console_errors(demo: Path, browser: DevTools) -> None:
    page = Page(browser, (demo / "report.html").as_uri())
    # data-ready is set by the script's last line: it ran under the CSP and did not throw.
    assert page.evaluate("document.documentElement.dataset.ready") == "true"
    assert page.errors() == []


def test_demo_total_and_top_actions_are_visible_above_the_fold(demo: Path,
                                                               browser: DevTools) -> None:
    report = json.loads((demo / "report.json").read_text())
    page = Page(browser, (demo / "report.html").as_uri())
    total = page.evaluate("""(() => { const e = document.getElementById('total-savings');
        const r = e.getBoundingClientRect();
        return {text: e.innerText, top: r.top, height: r.height}; })()""")
    assert total["text"] == money(report["summary"]["monthly_savings_usd"])
    assert total["height"] > 0 and total["top"] < 300
    # A reader sees the three biggest actions and their dollars without scrolling.
    actions = page.evaluate("""Array.from(document.querySelectorAll('.actions > li')).map(
        li => ({amount: li.querySelector('.save-amount').innerText,
                bottom: li.getBoundingClientRect().bottom}))""")
    # the plans (each resource once, its steps stacked) when report.json has them
    biggest = sorted(report.get("plans") or report["findings"],
                     key=lambda f: -f["monthly_savings_usd"])[:3]
    assert [a["amount"] for a in actions] == [money(f["monthly_savings_usd"]) for f in biggest]
    assert all(a["bottom"] <= 800 for a in actions), actions


def test_demo_commands_are_report_jsons_text_and_copy_copies_them(demo: Path,
                                                                   browser: DevTools) -> None:
    report = json.loads((demo / "report.json").read_text())
    page = Page(browser, (demo / "report.html").as_uri())
    shown = page.evaluate("""Object.fromEntries(Array.from(document.querySelectorAll(
        'tbody.finding')).map(body => [body.dataset.id, Object.fromEntries(Array.from(
            body.querySelectorAll('.command')).map(block => [block.dataset.tool,
                block.querySelector('pre').textContent]))]))""")
    assert shown == {f["id"]: {tool: text for tool, text in f["how_to_apply"].items() if text}
                     for f in report["findings"]}
    assert all("cli" in commands for commands in shown.values())
    # the Copy button hands the clipboard exactly that text (either copy path the script has)
    copied = page.evaluate("""(async () => {
        const seen = [];
        if (navigator.clipboard) {
            navigator.clipboard.writeText = text => { seen.push(text); return Promise.resolve(); };
        }
        document.execCommand = () => { seen.push(document.activeElement.value); return true; };
        for (const button of document.querySelectorAll('tbody.finding .command button.copy')) {
            button.click();
            await new Promise(done => setTimeout(done, 0));
        }
        return seen; })()""")
    assert copied == [text for f in report["findings"]
                      for text in (f["how_to_apply"][tool] for tool in ("cli", "terraform", "cdk"))
                      if text]
    assert page.errors() == []


def test_demo_history_card_shows_last_months_comparison(demo: Path, browser: DevTools) -> None:
    report = json.loads((demo / "report.json").read_text())
    expected = build_history(report, demo)
    assert expected is not None and expected["previous_month"] is not None
    page = Page(browser, (demo / "report.html").as_uri())
    card = page.evaluate("""(() => ({
        new: document.getElementById('history-new').innerText,
        resolved: document.getElementById('history-resolved').innerText,
        realized: document.getElementById('history-realized').innerText,
        points: document.querySelectorAll('#since-last-month svg.spark circle').length,
        newRows: document.querySelectorAll('tbody.finding[data-status="new"]').length,
        oldRows: document.querySelectorAll('tbody.finding[data-status="persisting"]').length
    }))()""")
    assert card == {"new": str(expected["new"]), "resolved": str(expected["resolved"]),
                    "realized": money(expected["realized_savings_usd"]), "points": 3,
                    "newRows": expected["new"], "oldRows": expected["persisting"]}
    assert expected["resolved"] == 2 and expected["realized_savings_usd"] == 43.0


def test_clicking_a_column_header_sorts_the_findings(demo: Path, browser: DevTools) -> None:
    page = Page(browser, (demo / "report.html").as_uri())
    order = "Array.from(document.querySelectorAll('#findings-table tbody.finding .res-name'))" \
            ".map(e => e.textContent.toLowerCase())"
    before = page.evaluate(order)
    page.evaluate("document.querySelector('th[data-sort=\"name\"] button').click()")
    by_name = page.evaluate(order)
    assert by_name == sorted(before) and by_name != before
    page.evaluate("document.querySelector('th[data-sort=\"name\"] button').click()")
    assert page.evaluate(order) == sorted(before, reverse=True)
    page.evaluate("document.querySelector('th[data-sort=\"savings\"] button').click()")
    savings = page.evaluate("Array.from(document.querySelectorAll('#findings-table "
                            "tbody.finding td.savings')).map(e => "
                            "parseFloat(e.textContent.replace(/[$,]/g, '')))")
    assert savings == sorted(savings, reverse=True) and len(savings) == len(before)
    assert page.errors() == []


def test_demo_screenshot(demo: Path, browser: DevTools, tmp_path: Path) -> None:
    page = Page(browser, (demo / "report.html").as_uri())
    # Let the collapse transition of the finding rows finish before the picture.
    page.evaluate("new Promise(resolve => setTimeout(resolve, 400))")
    png = page.screenshot()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    target = SCREENSHOT if os.environ.get("RIGHTSIZER_UPDATE_SCREENSHOT") == "1" \
        else tmp_path / "report-screenshot.png"
    target.write_bytes(png)
    assert SCREENSHOT.is_file(), "docs/report-screenshot.png is missing: run with " \
                                 "RIGHTSIZER_UPDATE_SCREENSHOT=1"


def test_the_error_detector_sees_uncaught_errors_console_errors_and_csp(
        tmp_path: Path, browser: DevTools) -> None:
    """Guards the guard: a page that misbehaves in each way must be reported."""
    page_path = tmp_path / "broken.html"
    page_path.write_text(
        "<!DOCTYPE html><meta http-equiv=\"Content-Security-Policy\" content=\"script-src "
        "'unsafe-inline'; img-src 'none'\"><img src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\">"
        "<script>console.error('boom'); setTimeout(() => { throw new Error('late'); });"
        "</script>", encoding="utf-8")
    page = Page(browser, page_path.as_uri())
    page.evaluate("new Promise(resolve => setTimeout(resolve, 50))")
    errors = "\n".join(page.errors())
    assert "console.error: boom" in errors
    assert "Uncaught: Error: late" in errors
    assert "Content Security Policy" in errors


# --- hostile AWS strings --------------------------------------------------------------------------

def _hostile_report() -> tuple[dict[str, Any], dict[str, Any]]:
    evil = [XSS_SCRIPT, XSS_ATTRIBUTE]
    findings = []
    for index, text in enumerate(evil):
        resource_id = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/edufly/{text}"
        findings.append({
            "id": stable_finding_id("ecs-rightsize", ACCOUNT, REGION, resource_id),
            "rule": "ecs-rightsize", "severity": "high", "resource_type": "ecs-service",
            "resource_id": resource_id, "name": f"svc-{index}-{text}", "account": ACCOUNT,
            "region": REGION, "current": {"cpu": 1024, "memory": 2048},
            "recommended": {"cpu": 512, "memory": 1024}, "monthly_cost_usd": 80.0,
            "monthly_savings_usd": 40.0 - index,
            "evidence": {"tags": {"team": text, text: "owner"}, "coverage": 0.99},
            "reason": f"reason {text}",
            "how_to_apply": {"cli": f"aws ecs update-service --service '{text}'",
                             "terraform": f'name = "{text}"', "cdk": f"serviceName: '{text}'"},
        })
    report = {
        "schema_version": "1", "generated_at": "2026-12-01T06:00:00Z",
        "window": {"start": "2026-11-17T00:00:00Z", "end": "2026-12-01T00:00:00Z", "days": 14},
        "accounts": [ACCOUNT], "regions": [REGION],
        "summary": {"findings": 2, "monthly_savings_usd": 79.0,
                    "by_rule": {"ecs-rightsize": {"findings": 2, "monthly_savings_usd": 79.0}}},
        "findings": findings,
        "skipped": [{"rule": "s3-lifecycle", "resource_type": "s3-bucket",
                     "resource_id": f"arn:aws:s3:::{text}", "name": text, "account": ACCOUNT,
                     "region": REGION, "reason": "suppressed", "detail": f"tag team={text}"}
                    for text in evil],
        "errors": [{"account": ACCOUNT, "region": REGION, "service": "rds",
                    "operation": "DescribeDBInstances", "code": "AccessDenied",
                    "message": f"denied {text}"} for text in evil],
    }
    resolved = {key: text for key, text in (("id", "gone"), ("name", XSS_ATTRIBUTE),
                                            ("rule", XSS_SCRIPT))}
    context = {
        "rules": {"ecs-rightsize": {"title": XSS_SCRIPT, "why": XSS_ATTRIBUTE}},
        "history": {"month": "2026-12", "previous_month": "2026-11", "new": 1,
                    "persisting": 1, "resolved": 1, "realized_savings_usd": 9.0,
                    "resolved_findings": [{**resolved, "monthly_savings_usd": 9.0}],
                    "findings": {findings[0]["id"]: {"status": "new", "since": "2026-12"},
                                 findings[1]["id"]: {"status": "persisting",
                                                     "since": XSS_ATTRIBUTE}},
                    "trend": [{"month": "2026-11", "monthly_savings_usd": 50, "findings": 2},
                              {"month": "2026-12", "monthly_savings_usd": 79, "findings": 2}]},
    }
    return report, context


@pytest.mark.parametrize("csp", ["with-csp", "without-csp"])
def test_hostile_strings_render_as_text(tmp_path: Path, browser: DevTools, csp: str) -> None:
    report, context = _hostile_report()
    page_path = write_outputs(report, context, tmp_path, ["html"])[1]
    if csp == "without-csp":
        # Escaping alone must hold: drop the CSP that would otherwise block an injected script.
        html = page_path.read_text(encoding="utf-8")
        start = html.index('<meta http-equiv="Content-Security-Policy"')
        page_path.write_text(html[:start] + html[html.index(">", start) + 1:],
                             encoding="utf-8")
    page = Page(browser, page_path.as_uri())
    page.evaluate("document.getElementById('toggle-all').click()")  # show the detail rows
    assert page.evaluate("typeof window.__xss") == "undefined"
    # only the report's own script runs; the other is its findings data (JSON, never run)
    assert page.evaluate("Array.from(document.scripts).map(s => s.type)") == [
        "application/json", "application/json", ""]
    assert page.evaluate("document.images.length") == 0
    text = page.evaluate("document.body.innerText")
    assert XSS_SCRIPT in text and XSS_ATTRIBUTE in text
    assert f"svc-0-{XSS_SCRIPT}" in text and f"denied {XSS_ATTRIBUTE}" in text
    assert page.evaluate("document.documentElement.dataset.ready") == "true"
    assert page.errors() == []


# --- every finding reachable at any size ----------------------------------------------------------

LARGE_RULES = ("ecs-rightsize", "rds-reserved-instance", "s3-lifecycle")
LARGE_EACH = 400


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """1,200 findings of three rules, the rds ones all smaller than the rest (so a page of the
    largest would hold none of them)."""
    findings = []
    for rule_index, rule in enumerate(LARGE_RULES):
        for index in range(LARGE_EACH):
            resource_id = f"arn:aws:test:{REGION}:{ACCOUNT}:thing/{rule}-{index:04d}"
            saving = (0.5 if rule == "rds-reserved-instance" else 100.0 + rule_index) - \
                index / 1000
            findings.append({
                "id": stable_finding_id(rule, ACCOUNT, REGION, resource_id), "rule": rule,
                "severity": ("high", "medium", "low")[index % 3], "resource_type": "thing",
                "resource_id": resource_id, "name": f"{rule}-{index:04d}", "account": ACCOUNT,
                "region": REGION, "current": {"size": "big"}, "recommended": {"size": "small"},
                "monthly_cost_usd": saving * 2, "monthly_savings_usd": round(saving, 3),
                "evidence": {"coverage": 1.0, "datapoints": 336}, "reason": f"reason {index}",
                "how_to_apply": {"cli": f"aws test --id {index}", "terraform": "", "cdk": ""}})
    findings.sort(key=lambda f: -f["monthly_savings_usd"])
    report = {**_seed_report(findings), "generated_at": "2026-12-01T06:00:00Z",
              "summary": {"findings": len(findings), "monthly_savings_usd": round(sum(
                  f["monthly_savings_usd"] for f in findings), 2), "by_rule": {
                  rule: {"findings": LARGE_EACH, "monthly_savings_usd": 1.0}
                  for rule in LARGE_RULES}}}
    out = tmp_path_factory.mktemp("large")
    return write_outputs(report, {}, out, ["html"])[1], report


def _drawn(page: Page) -> list[str]:
    return page.evaluate("Array.from(document.querySelectorAll('#findings-table "
                         "tbody.finding')).map(b => b.dataset.id)")


def _type(page: Page, element: str, value: str) -> None:
    page.evaluate(f"(() => {{ const box = document.getElementById({json.dumps(element)}); "
                  f"box.value = {json.dumps(value)}; "
                  "box.dispatchEvent(new Event('input', {bubbles: true})); })()")


def test_a_large_report_draws_a_page_of_rows_and_finds_any_finding(
        large: tuple[Path, dict[str, Any]], browser: DevTools) -> None:
    path, report = large
    findings = report["findings"]
    page = Page(browser, path.as_uri())
    assert _drawn(page) == [f["id"] for f in findings[:50]]  # a page, largest first
    assert page.evaluate("document.getElementById('filter-count').textContent") == \
        "1,200 findings"
    options = page.evaluate("Array.from(document.querySelectorAll('#filter-rule option'))"
                            ".map(o => o.textContent)")
    assert options == ["All rules"] + [f"{rule} ({LARGE_EACH})" for rule in sorted(LARGE_RULES)]
    # the smallest finding of all, by name and by its ARN
    last = findings[-1]
    _type(page, "filter-text", last["name"].upper())
    assert _drawn(page) == [last["id"]]
    _type(page, "filter-text", last["resource_id"])
    assert _drawn(page) == [last["id"]]
    # a rule none of whose findings is among the largest: all of it, in pages
    _type(page, "filter-text", "")
    _type(page, "filter-rule", "rds-reserved-instance")
    rds = [f["id"] for f in findings if f["rule"] == "rds-reserved-instance"]
    assert _drawn(page) == rds[:50]
    page.evaluate("document.getElementById('show-more').click()")
    assert _drawn(page) == rds[:100]
    assert page.errors() == []


def test_an_empty_filter_says_where_the_findings_are(large: tuple[Path, dict[str, Any]],
                                                     browser: DevTools) -> None:
    path, report = large
    page = Page(browser, path.as_uri())
    _type(page, "filter-rule", "s3-lifecycle")
    _type(page, "filter-text", "ecs-rightsize-001")
    assert _drawn(page) == []
    note = page.evaluate("document.getElementById('filter-empty').innerText")
    assert "No findings match these filters." in note
    assert "10 findings match “ecs-rightsize-001” under another rule or severity" in note
    page.evaluate("document.querySelector('#filter-empty button').click()")
    assert len(_drawn(page)) == 10
    _type(page, "filter-text", "no-such-thing")
    assert "every one of the report's 1,200 findings" in page.evaluate(
        "document.getElementById('filter-empty').innerText")


def test_a_finding_link_opens_it_wherever_it_is_and_says_where_its_details_are(
        large: tuple[Path, dict[str, Any]], browser: DevTools) -> None:
    from rightsizer.outputs.html_data import DETAILS_PER_RULE

    path, report = large
    last = report["findings"][-1]  # beyond the details cap of its rule
    page = Page(browser, f"{path.as_uri()}#f-{last['id']}")
    opened = page.evaluate(f"""(() => {{
        const body = document.getElementById('f-{last["id"]}');
        const rect = body.getBoundingClientRect();
        return {{open: body.classList.contains('open'), top: rect.top,
                 text: body.querySelector('.detail-row').innerText}}; }})()""")
    assert opened["open"] and opened["top"] >= 0 and opened["top"] < 1400  # in view
    assert "report.json" in opened["text"] and last["id"] in opened["text"]
    assert f"the {DETAILS_PER_RULE} largest findings of each rule" in opened["text"]
    first = report["findings"][0]
    page.evaluate(f"location.hash = '#f-{first['id']}'")
    page.evaluate("new Promise(done => setTimeout(done, 50))")
    detail = page.evaluate(f"document.querySelector('#f-{first['id']} .detail-row').innerText")
    assert "reason 0" in detail and "aws test --id 0" in detail and "KEY FACTS" in detail
    assert page.errors() == []


# --- phone and print ------------------------------------------------------------------------------

def test_on_a_phone_each_finding_is_a_card_that_fits(demo: Path, browser: DevTools) -> None:
    page = Page(browser, (demo / "report.html").as_uri(), {"width": 390, "height": 844})
    cards = page.evaluate("""Array.from(document.querySelectorAll('tbody.finding')).map(b => {
        const r = b.getBoundingClientRect(), n = b.querySelector('.res-name')
              .getBoundingClientRect(), s = b.querySelector('td.savings').getBoundingClientRect();
        return {left: r.left, right: r.right, saveRight: s.right, saveTop: s.top,
                nameTop: n.top, display: getComputedStyle(b).display}; })""")
    assert cards
    for card in cards:
        assert card["display"] == "block"
        assert card["left"] >= 0 and card["right"] <= 390 and card["saveRight"] <= card["right"]
        assert abs(card["saveTop"] - card["nameTop"]) < 12  # name and saving on the first line
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.errors() == []


def test_print_shows_every_finding_with_its_details(demo: Path, browser: DevTools) -> None:
    report = json.loads((demo / "report.json").read_text())
    page = Page(browser, (demo / "report.html").as_uri())
    browser.send("Emulation.setEmulatedMedia", {"media": "print"}, page.session)
    shown = page.evaluate("""Array.from(document.querySelectorAll('tbody.finding')).map(b =>
        getComputedStyle(b.querySelector('tr.detail-row')).display)""")
    assert shown == ["table-row"] * len(report["findings"])
    assert page.evaluate("getComputedStyle(document.querySelector('.filters')).display") == \
        "none"


def test_without_javascript_the_largest_findings_are_listed(demo: Path, browser: DevTools) -> None:
    report = json.loads((demo / "report.json").read_text())
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"]
    browser.send("Page.enable", session=session)
    browser.send("Emulation.setScriptExecutionDisabled", {"value": True}, session)
    browser.send("Page.navigate", {"url": (demo / "report.html").as_uri()}, session)
    browser.wait_for("Page.loadEventFired", session)
    # evaluated by the protocol: the page's own scripts stay off
    seen = browser.send("Runtime.evaluate", {"expression": """({
        list: getComputedStyle(document.getElementById('no-js-findings')).display,
        table: getComputedStyle(document.querySelector('.table-wrap.needs-js')).display,
        names: Array.from(document.querySelectorAll('#no-js-findings li strong:first-child'))
            .map(e => e.textContent)})""", "returnByValue": True}, session)["result"]["value"]
    assert seen["list"] == "block" and seen["table"] == "none"
    largest = sorted(report["findings"], key=lambda f: -f["monthly_savings_usd"])
    assert seen["names"] == [f["name"] for f in largest[:25]]
