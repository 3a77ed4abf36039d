"""Outputs render a finished report: JSON, CSV, Markdown and a self-contained, safe HTML page."""

from __future__ import annotations

import collections
import copy
import csv
import datetime
import gc
import hashlib
import html
import http
import io
import json
import os
import random
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rightsizer.outputs import csv_report, json_report, markdown
from rightsizer.outputs import html as html_output
from rightsizer.outputs.charts import cost_trend_chart, nice_ceiling, utilization_chart
from rightsizer.outputs.formatting import (
    MAX_LISTED_ROWS,
    describe_setting,
    evidence_value,
    money,
    percent,
)
from rightsizer.outputs.json_report import compact_json, indented_json, plain
from rightsizer.outputs.registry import format_names
from rightsizer.outputs.write import write_outputs
from rightsizer.report.gc_pause import gc_paused
from rightsizer.report.model import Report, as_report


# The renderers take a Report; these tests build reports as report.json holds them (dicts)
# and hand each over validated, as write_outputs does with a dict.
def render_json(report: dict[str, Any] | Report) -> str:
    return json_report.render_json(as_report(report))


def render_csv(report: dict[str, Any] | Report) -> str:
    return csv_report.render_csv(as_report(report))


def render_markdown(report: dict[str, Any] | Report) -> str:
    return markdown.render_markdown(as_report(report))


def render_html(report: dict[str, Any] | Report, context: dict[str, Any]) -> str:
    return html_output.render_html(as_report(report), context)


ACCOUNT = "123456789012"
REGION = "ap-south-1"
CPU_DAILY = [38.2, 41.0, 35.5, 44.9, 39.1, 30.2, 28.7, 46.3, 42.2, 40.0, 37.4, 33.8, 29.9, 45.1]
MEMORY_DAILY = [31.0, 33.5, 32.2, 36.8, 34.1, 30.0, 29.4, 37.9, 35.0, 33.3, 32.7, 31.1, 30.6, 36.2]
MALICIOUS = "<script>alert(1)</script>"
ATTRIBUTE_BREAKER = '"><img src=x onerror=alert(1)>'


def _finding(rule: str, name: str, resource_type: str, resource_id: str, **fields: Any
             ) -> dict[str, Any]:
    return {
        "id": hashlib.sha256(f"{rule}|{name}".encode()).hexdigest()[:16],
        "rule": rule, "severity": fields.pop("severity"), "resource_type": resource_type,
        "resource_id": resource_id, "name": name, "account": ACCOUNT, "region": REGION,
        **fields,
        "pricing": {"basis": "embedded-list", "rates": {}, "as_of": "2021-08-03",
                    "list_monthly_savings_usd": fields.get("monthly_savings_usd")},
    }


def _commands(finding: dict[str, Any]) -> dict[str, str]:
    """how_to_apply as build_report adds it: multi-line text, quotes, shell and HCL syntax."""
    name = finding["name"]
    return {
        "cli": f"# {finding['rule']}\naws ecs update-service --service '{name}' \\\n"
               "  --force-new-deployment",
        "terraform": f'resource "aws_ecs_service" "x" {{\n  name = "{name}"\n  cpu  = 512\n}}',
        "cdk": f"new ecs.FargateService(this, 'Svc', {{ serviceName: '{name}' }});",
    }


def sample_report() -> dict[str, Any]:
    """EduFly-like: two Fargate services, a Postgres instance, a growing bucket."""
    ecs_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/edufly/"
    findings = [
        _finding(
            "rds-reserved-instance", "edufly-db", "rds-instance",
            f"arn:aws:rds:{REGION}:{ACCOUNT}:db:edufly-db", severity="high",
            current={"instance_class": "db.t4g.medium", "multi_az": True},
            recommended={"term": "1yr", "offering": "No Upfront"},
            monthly_cost_usd=104.03, monthly_savings_usd=1234.56,
            evidence={"coverage": 1.0, "datapoints": 336, "hourly_on_demand_usd": 0.1425,
                      "hourly_reserved_usd": 0.0998, "reservations_readable": True},
            reason="db.t4g.medium Multi-AZ (primary) reported CPU in 100% of the window and no "
                   "active reservation covers it",
        ),
        _finding(
            "ecs-rightsize", "edufly-api", "ecs-service", ecs_arn + "edufly-api",
            severity="medium",
            current={"cpu": 1024, "memory": 2048}, recommended={"cpu": 512, "memory": 1024},
            monthly_cost_usd=80.0, monthly_savings_usd=40.0,
            evidence={
                "cpu_p95_percent": 31.0, "cpu_max_percent": 46.3, "cpu_avg_percent": 18.2,
                "memory_max_percent": 37.9, "memory_avg_percent": 30.1, "coverage": 0.99,
                "datapoints": 333, "threshold_percent": 50, "headroom_percent": 20,
                "recommended_cpu_percent_of_current": 50.0,
                "recommended_memory_percent_of_current": 50.0,
                "cpu_daily_max_percent": CPU_DAILY, "memory_daily_max_percent": MEMORY_DAILY,
            },
            reason="CPU p95 31% (peak 46%) and memory peak 38% of 1 vCPU / 2 GB over 14 days",
        ),
        _finding(
            "ecs-fargate-spot", "edufly-report-worker", "ecs-service",
            ecs_arn + "edufly-report-worker", severity="low",
            current={"capacity_provider": "FARGATE"},
            recommended={"capacity_provider": "FARGATE_SPOT", "strategy": [
                {"capacityProvider": "FARGATE_SPOT", "weight": 3},
                {"capacityProvider": "FARGATE", "weight": 1}]},
            monthly_cost_usd=36.04, monthly_savings_usd=18.92,
            evidence={"task_count": 2, "load_balancers": 0, "spot_share": 0.75},
            reason="runs on on-demand FARGATE and has no load balancer (a background worker)",
        ),
        _finding(
            "s3-lifecycle", "edufly-student-docs", "s3-bucket",
            "arn:aws:s3:::edufly-student-docs", severity="low",
            current={"lifecycle": "absent"},
            recommended={"transitions": [{"days": 30, "storage_class": "STANDARD_IA"},
                                         {"days": 90, "storage_class": "GLACIER"}],
                         "abort_incomplete_multipart_upload_days": 7},
            monthly_cost_usd=9.2, monthly_savings_usd=4.41,
            evidence={"lifecycle": "absent", "standard_gb": 368.0, "estimate": "creation-date"},
            reason="bucket has no lifecycle configuration (368.0 GB in STANDARD)",
        ),
    ]
    for finding in findings:
        finding["how_to_apply"] = _commands(finding)
    total = round(sum(f["monthly_savings_usd"] for f in findings), 2)
    by_rule = {f["rule"]: {"findings": 1, "monthly_savings_usd": f["monthly_savings_usd"]}
               for f in findings}
    return {
        "schema_version": "1",
        "generated_at": "2026-12-01T06:00:00Z",
        "window": {"start": "2026-11-17T00:00:00Z", "end": "2026-12-01T00:00:00Z", "days": 14},
        "accounts": [ACCOUNT],
        "regions": [REGION],
        "summary": {"findings": len(findings), "monthly_savings_usd": total, "by_rule": by_rule},
        "findings": findings,
        "skipped": [
            {"rule": "ecs-rightsize", "resource_type": "ecs-service",
             "resource_id": ecs_arn + "edufly-ml-batch", "name": "edufly-ml-batch",
             "account": ACCOUNT, "region": REGION, "reason": "insufficient-data",
             "detail": "120 of 336 hourly datapoints (36%); needs 80% of the window"},
            {"rule": "s3-lifecycle", "resource_type": "s3-bucket",
             "resource_id": "arn:aws:s3:::edufly-terraform-state", "name": "edufly-terraform-state",
             "account": ACCOUNT, "region": REGION, "reason": "suppressed",
             "detail": "tag rightsizer:ignore=true"},
        ],
        "errors": [
            {"account": ACCOUNT, "region": REGION, "service": "rds",
             "operation": "DescribeReservedDBInstances", "code": "AccessDenied",
             "message": "User is not authorized to perform: rds:DescribeReservedDBInstances"},
        ],
    }


def sample_context(report: dict[str, Any]) -> dict[str, Any]:
    services = {"Amazon Elastic Container Service": 201.3,
                "Amazon Relational Database Service": 104.0,
                "Amazon Simple Storage Service": 9.2, "Amazon ElastiCache": 24.5,
                "AmazonCloudWatch": 3.1}
    trend = [{"month": month, "service": service, "amount_usd": round(amount * growth, 2)}
             for month, growth in (("2026-09", 0.82), ("2026-10", 0.9), ("2026-11", 1.0))
             for service, amount in services.items()]
    return {
        "rules": {
            "ecs-rightsize": {"title": "Right-size over-provisioned Fargate tasks",
                              "why": "Fargate bills the task size, not what the task uses."},
            "ecs-fargate-spot": {"title": "Run interruptible background services on Fargate "
                                          "Spot", "why": "Spot is up to 70% cheaper."},
            "rds-reserved-instance": {"title": "Reserve databases that run 24/7",
                                      "why": "A 1-year No Upfront reservation needs no cash."},
            "s3-lifecycle": {"title": "Add a lifecycle policy to growing buckets",
                             "why": "Old objects cost the same as new ones in STANDARD."},
        },
        "cost_trend": trend,
        "run": {"tool_version": "0.1.0", "duration_seconds": 12.3,
                "api_calls": {"cloudwatch:GetMetricData": 4, "ce:GetCostAndUsage": 1,
                              "ecs:DescribeServices": 2},
                "api_cost_usd": 0.0021, "demo": True},
        "pricing_sources": [{"table": "fargate", "source": "https://aws.amazon.com/fargate/pricing/",
                             "as_of": "2026-11-01"}],
    }


def empty_report() -> dict[str, Any]:
    report = sample_report()
    report.update(findings=[], skipped=[], errors=[],
                  summary={"findings": 0, "monthly_savings_usd": 0.0, "by_rule": {}})
    return report


@pytest.fixture
def report() -> dict[str, Any]:
    return sample_report()


@pytest.fixture
def context(report: dict[str, Any]) -> dict[str, Any]:
    return sample_context(report)


# --- JSON -------------------------------------------------------------------------------------

def test_json_round_trips_and_keeps_schema_keys_in_order(report: dict[str, Any]) -> None:
    text = render_json(report)
    assert json.loads(text) == report
    assert list(json.loads(text)) == ["schema_version", "generated_at", "window", "accounts",
                                      "regions", "summary", "findings", "skipped", "errors"]
    assert text.startswith('{\n  "schema_version": "1"')
    assert render_json(copy.deepcopy(report)) == text  # stable


def test_json_keeps_non_ascii_and_turns_nan_into_null(report: dict[str, Any]) -> None:
    report["findings"][0]["name"] = "édufly-db"
    report["findings"][0]["evidence"]["coverage"] = float("nan")
    parsed = json.loads(render_json(report))
    assert "édufly-db" in render_json(report)
    assert parsed["findings"][0]["evidence"]["coverage"] is None


class _Label(str):
    pass


ODD_VALUES: list[Any] = [
    {}, [], [[]], [{}], {"a": {}, "b": [], "c": [[], {}]}, [[[[[1]]]]],
    {"f": [{"days": 30, "class": "IA"}, {"days": 90}], "x": 1, "y": [1.5, None, True]},
    {"nan": float("nan"), "inf": [float("inf"), -float("inf")], "ok": 0.1},
    {3: "int key", 2.5: "float key", True: "bool key", None: "none key"},
    {"tuple": (1, (2, 3)), "date": datetime.date(2026, 11, 1), "set": {1}},
    {"numpy": [np.float64(2.5), np.int64(7), np.bool_(True), np.float64("nan")]},
    collections.OrderedDict(b=1, a={"z": 2}),
    {"sub": _Label("label"), "int_enum": http.HTTPStatus.OK},
    {"text": 'quotes " and \\ and\nnewlines, },\n  {braces} é — ✓ \u2028'},
    "a lone string", 3, None, float("nan"),
]


def _parsed_in_order(text: str) -> Any:
    """The JSON value with every object as its list of (key, value) pairs: equality then
    checks key order too."""
    return json.loads(text, object_pairs_hook=list)


def _as_plain_json(value: Any) -> Any:
    """What report.json has always held for `value`: json.dumps of plain(value), parsed."""
    return _parsed_in_order(json.dumps(plain(value), ensure_ascii=False, allow_nan=False))


@pytest.mark.parametrize("value", ODD_VALUES)
def test_json_text_parses_as_the_plain_value_whatever_the_value_holds(value: Any) -> None:
    # NaN/inf as null, numpy scalars as their value, dates as isoformat, tuples as lists,
    # non-str keys as str(key), the rest as str(): orjson's text, parsed, is what json.dumps
    # of plain() always wrote, keys in the same order
    text = indented_json(value)
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert _parsed_in_order(text) == _as_plain_json(value)
    assert _parsed_in_order(compact_json(value)) == _as_plain_json(value)
    assert "\n" not in compact_json(value)  # one line: a CSV cell


def test_json_text_is_indented_by_two_spaces_and_keeps_non_ascii() -> None:
    value = {"a": [1, {"b": "é — ✓"}, [], {}], "c": {"d": None}}
    assert indented_json(value) == (
        '{\n  "a": [\n    1,\n    {\n      "b": "é — ✓"\n    },\n    [],\n    {}\n  ],\n'
        '  "c": {\n    "d": null\n  }\n}\n')
    assert compact_json(value) == '{"a":[1,{"b":"é — ✓"},[],{}],"c":{"d":null}}'
    # the same layout json.dumps(indent=2) writes, wherever the floats are written alike
    assert indented_json(value) == json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    """Values as findings hold them, and odder: same-shaped dicts side by side (what
    indented_json takes key by key), empty and nested containers, NaN, non-str keys."""
    atoms = ["", "x", 'q"uote', "brace },\n  {", "é — ✓", "\x00\x01", 0.1, -0.0, 1e16, 7,
             True, None, float("nan"), np.float64(2.5), (1, "t")]
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice(atoms)
    if roll < 0.75:
        keys = rng.choice([("a", "b"), ("a", "b"), ("b", "a"), ("a",), (), ("a", 3), (True,)])
        return {key: _random_value(rng, depth + 1) for key in keys}
    return [_random_value(rng, depth + 1) for _ in range(rng.choice([0, 1, 2, 2, 3]))]


@pytest.mark.parametrize("seed", range(4))
def test_json_text_of_random_values_parses_as_the_plain_value(seed: int) -> None:
    rng = random.Random(seed)
    repeated = [0.0, -0.0, 0.5, 0.5, 0.5, -0.0, 1e16, 0.5]
    for _ in range(150):
        value = [_random_value(rng) for _ in range(rng.choice([1, 5, 20]))]
        value += rng.choice([[], repeated, [{"f": number} for number in repeated]])
        assert _parsed_in_order(indented_json(value)) == _as_plain_json(value)
        for item in value:  # findings.csv's cells
            assert _parsed_in_order(compact_json(item)) == _as_plain_json(item)


def test_csv_cells_are_the_same_whatever_mix_a_column_holds(report: dict[str, Any]) -> None:
    # columns are made a column at a time: every mix of values must give row-by-row cells
    rng = random.Random(3)
    odd = ["=cmd", "-2", "-x", "@a", "a,b", 'say "hi"', "plain", "", 1.5, float("inf"), 7,
           True, None, {"k": [1, 2]}, ["=x"], np.float64(0.5)]
    rows = [dict(report["findings"][index % 4]) for index in range(40)]
    for row in rows:
        for key in ("name", "reason", "monthly_cost_usd", "current"):
            row[key] = rng.choice(odd)

    def built(findings: list[dict[str, Any]]) -> Report:  # unvalidated, as the pipeline's
        return Report.from_build({**report, "findings": findings})

    mixed = list(csv.reader(io.StringIO(render_csv(built(rows)), newline="")))
    single = [list(csv.reader(io.StringIO(render_csv(built([row])), newline="")))[1]
              for row in rows]
    assert mixed[1:] == single


def test_json_of_a_large_report_parses_as_the_report_in_schema_order(
        report: dict[str, Any]) -> None:
    report["findings"] = [copy.deepcopy(report["findings"][index % 4]) for index in range(300)]
    expected = json.dumps(report, ensure_ascii=False, allow_nan=False)
    assert _parsed_in_order(render_json(report)) == _parsed_in_order(expected)


def test_json_writes_numpy_scalars_dates_and_non_finite_floats_as_before(
        report: dict[str, Any]) -> None:
    evidence = report["findings"][0]["evidence"]
    evidence.update(inf=float("inf"), minus_inf=-float("inf"), np_float=np.float64(2.5),
                    np_nan=np.float64("nan"), np_int=np.int64(7), np_bool=np.bool_(True),
                    day=datetime.date(2026, 11, 1),
                    at=datetime.datetime(2026, 11, 1, 6, 30, tzinfo=datetime.UTC))
    parsed = json.loads(render_json(report))["findings"][0]["evidence"]
    assert parsed["inf"] is None and parsed["minus_inf"] is None and parsed["np_nan"] is None
    assert parsed["np_float"] == 2.5 and parsed["np_int"] == 7 and parsed["np_bool"] is True
    assert parsed["day"] == "2026-11-01" and parsed["at"] == "2026-11-01T06:30:00+00:00"


# --- CSV --------------------------------------------------------------------------------------

def test_csv_header_is_the_json_finding_keys_with_one_row_per_finding(
        report: dict[str, Any]) -> None:
    rows = list(csv.reader(io.StringIO(render_csv(report))))
    # how_to_apply is spread over one column a tool, where it sits in report.json
    assert rows[0] == [*list(report["findings"][0])[:-1], "how_to_apply_cli",
                       "how_to_apply_terraform", "how_to_apply_cdk"]
    assert list(report["findings"][0])[-1] == "how_to_apply"
    assert len(rows) == 1 + len(report["findings"])
    by_column = dict(zip(rows[0], rows[2], strict=True))
    assert by_column["name"] == "edufly-api"
    assert json.loads(by_column["current"]) == {"cpu": 1024, "memory": 2048}
    assert json.loads(by_column["evidence"])["cpu_daily_max_percent"] == CPU_DAILY
    assert float(by_column["monthly_savings_usd"]) == 40.0


def test_csv_cells_hold_each_command_exactly_as_report_json(report: dict[str, Any]) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(report), newline="")))
    for row, finding in zip(rows, report["findings"], strict=True):
        for tool in ("cli", "terraform", "cdk"):
            # multi-line, quoted text survives the round trip byte for byte: pastable as is
            assert row[f"how_to_apply_{tool}"] == finding["how_to_apply"][tool]
    assert "\n" in rows[0]["how_to_apply_cli"] and "'" in rows[0]["how_to_apply_cli"]


def test_csv_command_cells_are_empty_for_a_finding_without_commands(
        report: dict[str, Any]) -> None:
    del report["findings"][1]["how_to_apply"]  # an older report.json
    report["findings"][2]["how_to_apply"] = {"cli": "aws ecs update-service", "terraform": ""}
    rows = list(csv.DictReader(io.StringIO(render_csv(report), newline="")))
    assert [rows[1][f"how_to_apply_{tool}"] for tool in ("cli", "terraform", "cdk")] == \
        ["", "", ""]
    assert [rows[2][f"how_to_apply_{tool}"] for tool in ("cli", "terraform", "cdk")] == \
        ["aws ecs update-service", "", ""]


def test_csv_neutralizes_spreadsheet_formulas_in_aws_strings(report: dict[str, Any]) -> None:
    report["findings"][0]["name"] = "=HYPERLINK(\"http://evil\")"
    # the trade-off for commands: one starting like a formula is neutralized as well (no rule
    # writes one; tests/test_apply_commands.py checks the real ones), the rest stay exact
    report["findings"][1]["how_to_apply"]["cdk"] = "=HYPERLINK(\"http://evil\")"
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert rows[0]["name"].startswith("'=")
    assert rows[1]["how_to_apply_cdk"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[1]["how_to_apply_cli"] == report["findings"][1]["how_to_apply"]["cli"]


def test_csv_of_an_empty_report_is_just_the_header() -> None:
    rows = list(csv.reader(io.StringIO(render_csv(empty_report()))))
    assert len(rows) == 1 and rows[0][0] == "id"
    # the same columns as a month with findings, so monthly files line up
    assert rows[0] == next(csv.reader(io.StringIO(render_csv(sample_report()))))


def test_csv_quotes_exactly_as_the_csv_module_does(report: dict[str, Any]) -> None:
    tricky = ["a,b", 'say "hi"', "two\nlines", "cr\rhere", "", " lead", "plain", '",\r\n"']
    for finding, text in zip(report["findings"], tricky, strict=False):
        finding["name"] = text
    report["findings"][0]["reason"] = tricky[-1]
    text = render_csv(report)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [row[5] for row in rows[1:]] == tricky[:len(report["findings"])]
    again = io.StringIO()
    csv.writer(again, lineterminator="\r\n").writerows(rows)
    assert text == again.getvalue()


# --- Markdown ---------------------------------------------------------------------------------

def test_markdown_has_total_findings_by_savings_skipped_and_errors(
        report: dict[str, Any]) -> None:
    text = render_markdown(report)
    assert "$1,297.89" in text
    assert text.index("edufly-db") < text.index("edufly-api") < text.index("edufly-student-docs")
    assert "edufly-ml-batch" in text and "insufficient-data" in text
    assert "AccessDenied" in text


def test_markdown_escapes_table_breaking_names(report: dict[str, Any]) -> None:
    report["findings"][0]["name"] = "a|b " + MALICIOUS
    text = render_markdown(report)
    assert MALICIOUS not in text
    assert r"a\|b \<script\>" in text


def test_markdown_has_each_command_verbatim_in_a_fenced_block_per_tool(
        report: dict[str, Any]) -> None:
    text = render_markdown(report)
    assert "### How to apply" in text
    for finding in report["findings"]:
        commands = finding["how_to_apply"]
        # verbatim (no Markdown escaping inside a fence): `\`, `'`, `{` paste as they are
        assert f"AWS CLI:\n\n```bash\n{commands['cli']}\n```" in text
        assert f"Terraform:\n\n```hcl\n{commands['terraform']}\n```" in text
        assert f"CDK (TypeScript):\n\n```ts\n{commands['cdk']}\n```" in text
    # commands follow the findings' order and numbering
    assert text.index("**1. edufly-db**") < text.index("**2. edufly-api**")


def test_markdown_fence_is_longer_than_any_backtick_run_in_a_command(
        report: dict[str, Any]) -> None:
    report["findings"][0]["how_to_apply"] = {
        "cli": "echo '```'\naws s3api get-x --query 'a[?b==`\"c\"`]'\n```` <b>x</b>"}
    text = render_markdown(report)
    assert "`````bash\n" + report["findings"][0]["how_to_apply"]["cli"] + "\n`````\n" in text
    assert "<b>x</b>" in text  # inside a fence: shown as text, not escaped
    del report["findings"][1]["how_to_apply"]  # an older report: no block, no error
    assert "**2. edufly-api**" not in render_markdown(report)


def test_markdown_of_an_empty_report_says_no_savings() -> None:
    assert "No savings found" in render_markdown(empty_report())


def _many_findings(template: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """`count` copies of a finding, each its own id and name, largest savings first."""
    many = []
    for index in range(count):
        finding = copy.deepcopy(template)
        finding["id"] = f"{index:016x}"
        finding["name"] = f"svc-{index:05d}"
        finding["monthly_savings_usd"] = float(count - index)
        many.append(finding)
    return many


def test_markdown_of_a_huge_report_lists_the_largest_findings_and_says_where_the_rest_are(
        report: dict[str, Any]) -> None:
    skipped_row = report["skipped"][0]
    many = _many_findings(report["findings"][0], MAX_LISTED_ROWS + 500)
    skipped = [{**skipped_row, "name": f"idle-{index:05d}"}
               for index in range(MAX_LISTED_ROWS + 500)]
    big = {**report, "findings": many, "skipped": skipped,
           "summary": {**report["summary"], "findings": len(many)}}
    text = render_markdown(big)
    assert f"**svc-{MAX_LISTED_ROWS - 1:05d}**" in text  # in the table, why and details
    assert f"svc-{MAX_LISTED_ROWS:05d}" not in text  # smaller savings: in report.json only
    assert (f"Showing the {MAX_LISTED_ROWS:,} largest of {MAX_LISTED_ROWS + 500:,} findings; "
            "every finding is in report.json") in text
    assert f"from {MAX_LISTED_ROWS + 500:,} findings" in text  # the summary counts them all
    assert f"## Skipped resources ({MAX_LISTED_ROWS + 500:,})" in text
    assert f"idle-{MAX_LISTED_ROWS - 1:05d}" in text and f"idle-{MAX_LISTED_ROWS:05d}" not in text
    assert f"Showing {MAX_LISTED_ROWS:,} of {MAX_LISTED_ROWS + 500:,} skipped" in text
    assert "Showing" not in render_markdown(report)


# --- HTML -------------------------------------------------------------------------------------

def test_html_shows_total_yearly_and_every_finding(report: dict[str, Any],
                                                   context: dict[str, Any]) -> None:
    page = render_html(report, context)
    assert "$1,297.89" in page
    assert "$15,574.68" in page  # yearly equivalent
    for finding in report["findings"]:
        assert finding["name"] in page
    assert "DEMO DATA" in page
    assert "Top actions" in page
    assert "Monthly cost by service" in page and "2026-09" in page
    assert "edufly-ml-batch" in page and "DescribeReservedDBInstances" in page
    assert "https://aws.amazon.com/fargate/pricing/" in page
    assert "$0.0021" in page  # the run's own API cost is not rounded to "$0.00"


def _page_data(page: str) -> dict[str, Any]:
    """The findings document report.js draws the table from (html_data.findings_data)."""
    found = re.search(r'<script type="application/json" id="findings-data">(.*?)</script>',
                      page, re.S)
    details = re.search(r'<script type="application/json" id="findings-details">(.*?)</script>',
                        page, re.S)
    assert found and details, "no findings data in the page"
    return {**json.loads(found.group(1)), "details": json.loads(details.group(1))}


def _details_by_id(page: str) -> dict[str, dict[str, Any]]:
    data = _page_data(page)
    return {row[0]: data["details"][row[13]] for row in data["rows"] if row[13] >= 0}


def test_html_ecs_rightsize_finding_has_a_utilization_chart(report: dict[str, Any],
                                                            context: dict[str, Any]) -> None:
    details = _details_by_id(render_html(report, context))
    ecs = next(f for f in report["findings"] if f["rule"] == "ecs-rightsize")
    charts = details[ecs["id"]]["charts"]
    assert [c["title"].split(":")[0] for c in charts] == ["CPU", "Memory"]
    assert charts[0]["bars"][-1]["title"] == "day 14: 45.1%"
    assert any(line["kind"] == "recommended" for line in charts[0]["lines"])
    assert all("charts" not in d for i, d in details.items() if i != ecs["id"])


def test_html_embeds_every_finding_with_its_row_and_key_facts(
        report: dict[str, Any], context: dict[str, Any]) -> None:
    page = render_html(report, context)
    data = _page_data(page)
    rows = {row[0]: dict(zip(data["fields"], row, strict=True)) for row in data["rows"]}
    strings = data["strings"]
    assert set(rows) == {f["id"] for f in report["findings"]}
    for finding in report["findings"]:
        row = rows[finding["id"]]
        resource = row["resource"]
        full_id = strings[resource] + row["name"] if isinstance(resource, int) else resource
        assert full_id == finding["resource_id"]
        assert data["rules"][row["rule"]]["id"] == finding["rule"]
        assert strings[row["current"]] == describe_setting(finding["current"])
        assert row["savings"] == finding["monthly_savings_usd"]
    ecs = next(f for f in report["findings"] if f["rule"] == "ecs-rightsize")
    facts = _details_by_id(page)[ecs["id"]]["facts"]
    assert 4 <= len(facts) <= 6
    assert any(fact.startswith("Window: 14 days") for fact in facts)


def test_html_loads_nothing_from_the_network(report: dict[str, Any],
                                             context: dict[str, Any]) -> None:
    page = render_html(report, context)
    assert not re.search(r"<script[^>]+src", page, re.I)
    assert not re.search(r"<link[^>]*>", page, re.I)
    assert not re.search(r"""\ssrc\s*=\s*["']?(https?:)?//""", page, re.I)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page, re.I)
    assert "@import" not in page
    # The CSP also blocks any network load a future template change might add.
    assert "default-src 'none'" in html.unescape(page)


def test_html_shows_each_findings_own_commands_for_every_tool(
        report: dict[str, Any], context: dict[str, Any]) -> None:
    context["apply"] = {f["id"]: {"cli": "stale context command"} for f in report["findings"]}
    report["findings"][3]["how_to_apply"]["cdk"] = ""  # a tool the rule has nothing for
    details = _details_by_id(render_html(report, context))
    expected = {finding["id"]: [[tool, label, finding["how_to_apply"][tool]]
                                for tool, label in (("cli", "AWS CLI"), ("terraform", "Terraform"),
                                                    ("cdk", "CDK (TypeScript)"))
                                if finding["how_to_apply"][tool]]
                for finding in report["findings"]}
    # exact text (what the Copy button copies), in tool order
    assert {fid: detail["commands"] for fid, detail in details.items()} == expected
    del report["findings"][0]["how_to_apply"]  # an older report.json: no block, no error
    assert _details_by_id(render_html(report, context))[report["findings"][0]["id"]][
        "commands"] == []


@pytest.mark.parametrize("evil", [MALICIOUS, ATTRIBUTE_BREAKER])
def test_html_escapes_aws_provided_strings(report: dict[str, Any], context: dict[str, Any],
                                           evil: str) -> None:
    report["findings"][1]["name"] = evil
    report["findings"][1]["reason"] = evil
    report["findings"][1]["evidence"]["note"] = evil
    report["skipped"][0]["detail"] = evil
    report["errors"][0]["message"] = evil
    report["accounts"] = [evil]
    report["findings"][1]["how_to_apply"]["cli"] = evil
    report["findings"][1]["how_to_apply"]["cdk"] = evil
    page = render_html(report, context)
    assert evil not in page
    assert "<img src=x" not in page
    # our own script and the findings data (JSON the browser never runs): nothing closed early
    assert page.count("<script") == 3 and page.count("</script") == 3
    assert evil in {row[1] for row in _page_data(page)["rows"]}  # the name, intact as data
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page or "&#34;&gt;&lt;img" in page


def test_html_only_links_https_pricing_sources(report: dict[str, Any],
                                               context: dict[str, Any]) -> None:
    context["pricing_sources"].append({"table": "x", "source": "javascript:alert(1)",
                                       "as_of": "2026-11-01"})
    page = render_html(report, context)
    assert 'href="javascript:' not in page


def test_html_renders_an_empty_report_with_a_friendly_state() -> None:
    page = render_html(empty_report(), {})
    assert "No savings found" in page
    assert "$0.00" in page
    assert "findings-table" not in page.split("<script>")[0]


def test_html_tolerates_a_context_with_every_key_missing_or_empty(
        report: dict[str, Any]) -> None:
    page = render_html(report, {"rules": {}, "cost_trend": [], "run": {},
                                "pricing_sources": []})
    assert "edufly-api" in page
    assert "Monthly cost by service" not in page
    assert "DEMO DATA" not in page


# --- write_outputs ----------------------------------------------------------------------------

def test_write_outputs_writes_requested_files_and_always_json(
        tmp_path: Path, report: dict[str, Any], context: dict[str, Any]) -> None:
    written = write_outputs(report, context, tmp_path, ["html", "csv", "md"])
    assert written[0].name == "report.json"  # first: scripts read it
    assert sorted(p.name for p in written) == ["findings.csv", "report.html", "report.json",
                                               "report.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8")) == report


def test_write_outputs_json_only_and_creates_the_directory(
        tmp_path: Path, report: dict[str, Any]) -> None:
    out = tmp_path / "reports" / "2026-12"
    assert write_outputs(report, {}, out, []) == [out / "report.json"]


def test_write_outputs_rejects_an_unknown_format(tmp_path: Path,
                                                 report: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="pdf"):
        write_outputs(report, {}, tmp_path, ["pdf"])
    assert not any(tmp_path.iterdir())


def test_a_failing_render_leaves_the_previous_report_intact(
        tmp_path: Path, report: dict[str, Any], context: dict[str, Any]) -> None:
    write_outputs(report, context, tmp_path, format_names())
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    class Exploding(dict):  # a context whose every lookup fails mid-render
        def get(self, key: str, default: Any = None) -> Any:
            raise RuntimeError("boom")

    changed = copy.deepcopy(report)
    changed["summary"]["monthly_savings_usd"] = 1.0
    with pytest.raises(RuntimeError, match="boom"):
        write_outputs(changed, Exploding(rules={}), tmp_path, format_names())
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_an_interrupted_write_leaves_no_temp_file(
        tmp_path: Path, report: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    write_outputs(report, {}, tmp_path, ["json"])
    before = (tmp_path / "report.json").read_bytes()

    def crash(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_outputs(empty_report(), {}, tmp_path, ["json"])
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    assert (tmp_path / "report.json").read_bytes() == before


def test_written_files_follow_the_umask_not_tempfile_0600(
        tmp_path: Path, report: dict[str, Any]) -> None:
    old = os.umask(0o022)
    try:
        path = write_outputs(report, {}, tmp_path, ["json"])[0]
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


# --- formatting and chart geometry ------------------------------------------------------------

def test_money_and_percent_formats() -> None:
    assert money(1234.561) == "$1,234.56"
    assert money(-5) == "-$5.00"
    assert money(None) == "—"
    assert percent(31) == "31.0%"
    assert evidence_value("coverage", 0.99) == "99.0%"
    assert evidence_value("cpu_daily_max_percent", [1.5, 2]) == "1.5, 2"
    assert evidence_value("hourly_on_demand_usd", 0.1425) == "$0.1425"


def test_describe_setting_knows_the_design_shapes_and_falls_back() -> None:
    assert describe_setting({"cpu": 512, "memory": 1024}) == "0.5 vCPU / 1 GB"
    assert describe_setting({"term": "1yr", "offering": "No Upfront"}) == \
        "1-year No Upfront reservation"
    assert "STANDARD_IA after 30 days" in describe_setting(
        {"transitions": [{"days": 30, "storage_class": "STANDARD_IA"}]})
    assert describe_setting({"retention_days": 30}) == "30-day retention"
    # an unknown shape: `key value` pairs, nested values in words, never JSON
    assert describe_setting({"max_count": 1200, "zones": ["a", "b"], "extra": {"on": True},
                             "gone": None}) == "max count 1,200, zones a, b, extra on yes, " \
        "gone none"


def test_trend_chart_stacks_services_and_folds_the_tail_into_other() -> None:
    rows = [{"month": "2026-11", "service": f"svc{i}", "amount_usd": 10.0 + i} for i in range(9)]
    chart = cost_trend_chart(rows)
    assert chart is not None
    assert len(chart["legend"]) == 7 and chart["legend"][-1]["name"].startswith("Other (3")
    assert chart["bars"][0]["total"] == "$126.00"
    assert cost_trend_chart([]) is None


def test_utilization_chart_scales_above_100_percent_peaks() -> None:
    chart = utilization_chart("CPU", [50.0, 130.0], 50.0, 50)
    assert chart is not None and chart["bars"][1]["over"]
    assert utilization_chart("CPU", [], None) is None
    assert nice_ceiling(1297.89) == 2000


# --- a real browser ---------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if Path("/usr/bin/chromium").exists() else None)


def _dump_dom(page: Path, profile: Path) -> str:
    assert CHROMIUM is not None
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90, check=True,
    )
    return result.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
@pytest.mark.parametrize("which", ["sample", "empty"])
def test_chromium_renders_the_page_and_runs_its_script(tmp_path: Path, which: str) -> None:
    report = sample_report() if which == "sample" else empty_report()
    context = sample_context(report) if which == "sample" else {}
    page = write_outputs(report, context, tmp_path / "out", ["html"])[1]
    dom = _dump_dom(page, tmp_path / "profile")
    assert ("$1,297.89" if which == "sample" else "No savings found") in dom
    # The script ran under the page's CSP (hash matched) and reached its last line.
    assert re.search(r'<html[^>]*data-ready="true"', dom)
    if which == "sample":
        assert ">4 findings<" in dom
        assert 'aria-expanded="false"' in dom


def test_html_of_a_huge_report_carries_every_finding_and_details_per_rule(
        report: dict[str, Any], context: dict[str, Any]) -> None:
    from rightsizer.outputs.html_data import DETAILS_PER_RULE

    many = _many_findings(report["findings"][0], DETAILS_PER_RULE + 500)
    small = {**report["findings"][1], "id": "small-one", "monthly_savings_usd": 0.01}
    big = {**report, "findings": [*many, small]}
    page = render_html(big, context)
    data = _page_data(page)
    assert len(data["rows"]) == len(many) + 1  # every finding has a row
    detailed = [row for row in data["rows"] if row[13] >= 0]
    # the cap is per rule: the small finding of the other rule keeps its details
    assert len(detailed) == DETAILS_PER_RULE + 1
    assert "small-one" in {row[0] for row in detailed}
    # every rule with findings is in the rule filter, with its count
    options = re.findall(r'<option value="([\w-]+)">([^<]+)</option>', page)
    assert (many[0]["rule"], f"{many[0]['rule']} ({len(many):,})") in options
    assert small["rule"] in {value for value, _ in options}
    assert f"{len(many) + 1:,} findings" in page


def test_outputs_are_rendered_with_the_garbage_collector_paused_and_it_is_restored(
        report: dict[str, Any], context: dict[str, Any], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from rightsizer.outputs.registry import formats

    seen: list[bool] = []
    monkeypatch.setitem(formats(), "md", dataclasses.replace(
        formats()["md"], render=lambda report, _context: (
            seen.append(gc.isenabled()) or render_markdown(report))))
    assert gc.isenabled()
    write_outputs(report, context, tmp_path, ["md"])
    assert seen == [False] and gc.isenabled()
    with gc_paused():
        with gc_paused():  # nested: the outer pause stays
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("a failing render")
    assert gc.isenabled()
