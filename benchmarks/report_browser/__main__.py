"""`python -m benchmarks.report_browser [--resources N] [--repeat R]`: see docs/benchmarks.md.

report.html of the large synthetic input (benchmarks.large_input: 100,000 resources, about
43,500 findings) opened in headless Chromium over the DevTools protocol (tests/support/
devtools.py). Measured in the page itself (Navigation Timing and performance.now()):
DOMContentLoaded, the elements on the page, a search for a real finding (typing its name:
the handler, then the next frame painted), a rule filter, "Expand all" and opening
`report.html#f-<id>` of a finding near the end of the list. Targets: DOMContentLoaded under
1.5 s, a search under 200 ms, the file under 8 MB.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.large_input.__main__ import END, build_snapshot
from rightsizer.config import Config
from rightsizer.outputs.html import render_html
from rightsizer.report.build import build_context, build_report, run_rules
from rightsizer.report.gc_pause import gc_paused
from rightsizer.report.model import Report
from tests.support.devtools import CHROMIUM, DevTools, Page

TARGETS = {"domcontentloaded_ms": 1500.0, "search_ms": 200.0, "file_mb": 8.0}

# Runs in the page: the figures of one load, each interaction timed to the next painted frame.
MEASURE = """(async () => {
  const frame = () => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)));
  async function timed(action) {
    const begin = performance.now();
    action();
    const handler = performance.now() - begin;
    await frame();
    return {handler: handler, painted: performance.now() - begin};
  }
  const nav = performance.getEntriesByType('navigation')[0];
  const result = {dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
                  elements: document.getElementsByTagName('*').length,
                  rows: document.querySelectorAll('tbody.finding').length};
  const box = document.getElementById('filter-text');
  const type = text => { box.value = text; box.dispatchEvent(new Event('input')); };
  result.search = await timed(() => type(NAME));
  result.search_hits = document.querySelectorAll('tbody.finding').length;
  result.search_again = await timed(() => type('bucket-01'));
  await timed(() => type(''));
  const rule = document.getElementById('filter-rule');
  const choose = value => { rule.value = value; rule.dispatchEvent(new Event('change')); };
  result.rule_filter = await timed(() => choose(RULE));
  choose('');
  result.expand_all = await timed(() => document.getElementById('toggle-all').click());
  const begin = performance.now();
  const handled = new Promise(done => addEventListener('hashchange', done, {once: true}));
  location.hash = '#f-' + LAST_ID;  // the page's own hashchange listener runs first
  await handled;
  await frame();
  result.open_link = {painted: performance.now() - begin};
  result.opened = !!document.querySelector('tbody.finding.open[data-id="' + LAST_ID + '"]');
  return result;
})()"""


def build_page(resources: int, days: int, out_dir: Path) -> tuple[Path, dict[str, Any]]:
    snapshot = build_snapshot(resources, days)
    config = Config.model_validate({"analysis": {"lookback_days": days}})
    findings, skipped = run_rules(snapshot, config, END.date())
    report = build_report(snapshot, findings, skipped)
    context = build_context(snapshot, findings)
    model = Report.from_build(report)
    begin = time.perf_counter()
    with gc_paused():  # as outputs.write_outputs renders
        html = render_html(model, context)
    render_seconds = time.perf_counter() - begin
    path = out_dir / "report.html"
    path.write_text(html, encoding="utf-8")
    ranked = sorted(report["findings"], key=lambda f: -f["monthly_savings_usd"])
    # a finding of the rule the old 2,000-row page lost entirely, and the very last finding
    probe = next(f for f in ranked if f["rule"] == "rds-reserved-instance")
    return path, {"findings": len(ranked), "render_seconds": render_seconds,
                  "name": probe["name"], "rule": probe["rule"], "last_id": ranked[-1]["id"]}


def measure(path: Path, facts: dict[str, Any], repeat: int) -> list[dict[str, Any]]:
    script = (MEASURE.replace("NAME", repr(facts["name"])).replace("RULE", repr(facts["rule"]))
              .replace("LAST_ID", repr(facts["last_id"])))
    runs = []
    with tempfile.TemporaryDirectory() as profile:
        browser = DevTools(Path(profile))
        try:
            for _ in range(repeat):
                page = Page(browser, path.as_uri())
                # a tab in front, or Chromium holds back its animation frames
                browser.send("Page.bringToFront", session=page.session)
                runs.append(page.evaluate(script))
                assert not page.errors(), page.errors()
        finally:
            browser.close()
    return runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report_browser")
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5, help="page loads; medians reported")
    parser.add_argument("--keep", type=Path, help="also write the page to this file")
    args = parser.parse_args(argv)
    if CHROMIUM is None:
        raise SystemExit("headless Chromium not found (/usr/bin/chromium)")
    with tempfile.TemporaryDirectory() as out:
        path, facts = build_page(args.resources, args.days, Path(out))
        size_mb = path.stat().st_size / 1e6
        if args.keep:
            args.keep.write_bytes(path.read_bytes())
        runs = measure(path, facts, args.repeat)

    def median(pick: Any) -> float:
        return statistics.median(pick(run) for run in runs)

    rows = [
        ("file size", f"{size_mb:.2f} MB", f"< {TARGETS['file_mb']:g} MB",
         size_mb < TARGETS["file_mb"]),
        ("DOMContentLoaded", f"{median(lambda r: r['dcl']):.0f} ms",
         f"< {TARGETS['domcontentloaded_ms']:g} ms",
         median(lambda r: r["dcl"]) < TARGETS["domcontentloaded_ms"]),
        (f"first search, \"{facts['name']}\", painted",
         f"{median(lambda r: r['search']['painted']):.0f} ms "
         f"(handler {median(lambda r: r['search']['handler']):.0f})",
         f"< {TARGETS['search_ms']:g} ms",
         median(lambda r: r["search"]["painted"]) < TARGETS["search_ms"]),
        ("search \"bucket-01\", painted",
         f"{median(lambda r: r['search_again']['painted']):.0f} ms", "", None),
        (f"rule filter {facts['rule']}, painted",
         f"{median(lambda r: r['rule_filter']['painted']):.0f} ms", "", None),
        ("Expand all (the drawn rows), painted",
         f"{median(lambda r: r['expand_all']['painted']):.0f} ms", "", None),
        ("open #f-<id> of the last finding, painted",
         f"{median(lambda r: r['open_link']['painted']):.0f} ms", "", None),
        ("elements on the page after load", f"{median(lambda r: r['elements']):,.0f}", "", None),
        ("finding rows drawn after load", f"{median(lambda r: r['rows']):,.0f}", "", None),
    ]
    print(f"{facts['findings']:,} findings from {args.resources:,} resources; report.html "
          f"rendered in {facts['render_seconds']:.2f} s; medians of {len(runs)} page loads\n")
    print("| measure | value | target | met |\n|---|---:|---:|---|")
    for name, value, target, met in rows:
        print(f"| {name} | {value} | {target} | {'' if met is None else 'yes' if met else 'NO'} |")
    hits = {run["search_hits"] for run in runs}
    opened = all(run["opened"] for run in runs)
    print(f"\nsearch found {hits} row(s); the last finding opened from its link: {opened}")


if __name__ == "__main__":
    main()
