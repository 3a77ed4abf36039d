"""The terminal table (`--format table`) and findings.parquet (`--format parquet`)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from rightsizer.outputs.parquet_report import FINDINGS_SCHEMA, render_parquet
from rightsizer.outputs.table import render_table
from rightsizer.outputs.write import write_outputs
from rightsizer.report.model import as_report
from tests.test_slack import (
    every_shape_report,
    finding,
    plans_risks_history_report,
    sample_report,
)


def read_parquet(data: bytes):
    import io

    return pq.read_table(io.BytesIO(data))


def test_parquet_holds_every_finding_with_the_fixed_schema(tmp_path: Path) -> None:
    report = every_shape_report()
    report["findings"][0]["how_to_apply"] = {"cli": "aws ecs update-service --cpu 1024",
                                             "terraform": "cpu = 1024", "cdk": ""}
    report["findings"][1]["owner_team"] = "platform"  # a key a newer rule might add
    written = write_outputs(report, {}, tmp_path, ["parquet"])
    assert [path.name for path in written] == ["report.json", "findings.parquet"]
    table = pq.read_table(tmp_path / "findings.parquet")
    assert table.schema.equals(FINDINGS_SCHEMA)
    rows = table.to_pylist()
    assert [row["id"] for row in rows] == [f["id"] for f in report["findings"]]
    for row, source in zip(rows, report["findings"], strict=True):
        assert json.loads(row["current"]) == source["current"]
        assert json.loads(row["recommended"]) == source["recommended"]
        assert row["monthly_savings_usd"] == source["monthly_savings_usd"]
        assert row["generated_at"].isoformat() == "2026-12-01T06:00:00+00:00"
        assert "{" not in row["change"]
    assert rows[0]["how_to_apply_cli"] == "aws ecs update-service --cpu 1024"
    assert rows[0]["how_to_apply_cdk"] is None and rows[2]["how_to_apply_cli"] is None
    assert json.loads(rows[1]["extra"]) == {"owner_team": "platform"} and rows[0]["extra"] is None
    assert rows[2]["change"] == "db.t3.small Multi-AZ: 1-year No Upfront reservation"


def test_parquet_json_columns_are_queryable_with_sql() -> None:
    """What a team does with it in DuckDB or Athena: filter on a field inside current."""
    frame = pl.read_parquet(render_parquet(as_report(every_shape_report())))
    result = pl.SQLContext(findings=frame).execute(
        "SELECT name, monthly_savings_usd FROM findings "
        "WHERE rule = 'rds-reserved-instance'", eager=True)
    assert result.to_dicts() == [{"name": "resource-2", "monthly_savings_usd": 48.0}]
    classes = frame.select(pl.col("current").str.json_path_match("$.instance_class")
                           ).drop_nulls().to_series().to_list()
    assert classes == ["db.t3.small", "db.t3.micro", "db.m5.large", "db.t3.micro"]


def test_parquet_of_an_empty_report_has_the_schema_and_no_rows() -> None:
    table = read_parquet(render_parquet(as_report(sample_report([]))))
    assert table.num_rows == 0 and table.schema.equals(FINDINGS_SCHEMA)


def test_parquet_writes_a_non_number_saving_as_null() -> None:
    report = sample_report([finding(1, savings=10.0)])
    report["findings"][0]["monthly_savings_usd"] = None
    report["findings"][0]["monthly_cost_usd"] = math.nan
    [row] = read_parquet(render_parquet(as_report(report))).to_pylist()
    assert row["monthly_savings_usd"] is None and row["monthly_cost_usd"] is None


def test_table_lists_findings_in_words_biggest_first_without_zero_rows() -> None:
    report = sample_report([finding(1, "edufly-api", 40.0), finding(2, "nat-owned-ip", 0.0),
                            {**finding(3, "edufly-db", 61.2), "rule": "rds-reserved-instance",
                             "current": {"instance_class": "db.t3.small", "multi_az": True},
                             "recommended": {"term": "1yr", "offering": "No Upfront"}}])
    text = render_table(as_report(report), width=160)
    assert text.index("edufly-db") < text.index("edufly-api")
    assert "db.t3.small Multi-AZ: 1-year No Upfront reservation" in text
    assert "1 vCPU / 2 GB → 0.5 vCPU / 1 GB" in text
    assert "nat-owned-ip" not in text and "$0.00" not in text
    assert "…and 1 more finding (saving less, or under a cent)" in text
    assert "$101.20/month potential savings ($1,214.40/year) from 3 findings" in text
    assert "17 Nov → 1 Dec 2026 (14 days)" in text
    assert "\x1b[" not in text  # plain text for a pipe: no colour codes


def test_table_shows_plans_risks_and_what_last_months_changes_did() -> None:
    text = render_table(as_report(plans_risks_history_report()), width=160)
    assert "3 changes applied since last month: 2 held, 1 regressed, $41.20/month realized" \
        in text
    assert "Top changes by monthly savings" in text
    assert "1. 1 vCPU / 2 GB → 0.5 vCPU / 1 GB (ecs-rightsize)" in text
    assert "2. Fargate → Fargate Spot (ecs-fargate-spot)" in text
    assert "$61.20" in text
    assert "Risks: 1 resource short of capacity" in text
    assert "edufly-exam" in text and "$18.90" in text


def test_table_of_an_empty_report_says_so_and_is_never_a_file(tmp_path: Path) -> None:
    assert "No findings: nothing to change." in render_table(as_report(sample_report([])))
    written = write_outputs(sample_report([]), {}, tmp_path, ["table", "json"])
    assert [path.name for path in written] == ["report.json"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.json"]


def test_table_falls_back_to_findings_without_priced_plans_and_has_no_empty_risks() -> None:
    report = copy.deepcopy(plans_risks_history_report())
    # plans whose saving is no number (null in report.json): nothing to list, the findings are
    report["plans"] = [{"resource_id": "x", "name": "x", "steps": ["nope"],
                        "monthly_savings_usd": None}]
    report["risks"] = []  # none this month (the model types risks: a list)
    text = render_table(as_report(report), width=160)
    assert "Top changes" not in text and "Risks" not in text
    assert "Top findings by monthly savings" in text


# --- report.md for a pull request or a wiki --------------------------------------------------

def test_markdown_shows_plans_risks_and_verified_changes_in_words() -> None:
    from rightsizer.outputs.markdown import render_markdown

    text = render_markdown(as_report(plans_risks_history_report()))
    assert "**Verified:** 3 changes applied since last month: 2 held, 1 regressed, " \
        "$41.20/month realized." in text
    assert "| 1 | edufly-api | 1. 1 vCPU / 2 GB → 0.5 vCPU / 1 GB (ecs-rightsize)<br>2. " \
        "Fargate → Fargate Spot (ecs-fargate-spot) | **$61.20** |" in text
    assert "| 2 | edufly-db | db.t3.small Multi-AZ: 1-year No Upfront reservation " \
        "(rds-reserved-instance) | **$23.20** |" in text
    assert "## Risks (1): short of capacity, not counted in the savings" in text
    assert "| high | edufly-exam | ecs-underprovisioned | 0.5 vCPU / 1 GB → 1 vCPU / 2 GB | " \
        "+$18.90 | CPU p95 97% |" in text
    assert text.index("## Plans") < text.index("## Risks") < text.index("## Findings")
    assert "- Window: 17 Nov → 1 Dec 2026 (14 days)" in text
    assert "- Generated: 1 Dec 2026, 06:00 UTC" in text


def test_markdown_folds_each_findings_commands_and_keeps_them_verbatim() -> None:
    from rightsizer.outputs.markdown import render_markdown

    report = sample_report([finding(1, "edufly-api", 40.0)], errors=0)
    report["findings"][0]["how_to_apply"] = {
        "cli": "aws ecs update-service --cluster edufly --service edufly-api "
               "--task-definition \"$(aws ecs register-task-definition --cpu 512 <x>)\"",
        "terraform": "cpu = 512", "cdk": ""}
    text = render_markdown(as_report(report))
    block = text[text.index("### How to apply"):]
    assert block.startswith(
        "### How to apply\n\n**1. edufly-api** (ecs-rightsize): 1 vCPU / 2 GB → 0.5 vCPU / 1 GB"
        "\n\n<details><summary>AWS CLI, Terraform</summary>\n\nAWS CLI:\n\n```bash\n"
        + report["findings"][0]["how_to_apply"]["cli"] + "\n```\n\nTerraform:\n\n```hcl\n"
        "cpu = 512\n```\n\n</details>")


def test_markdown_over_githubs_body_limit_says_so_at_the_top() -> None:
    from rightsizer.outputs.markdown import GITHUB_BODY_LIMIT, render_markdown

    small = render_markdown(as_report(sample_report()))
    assert len(small) < GITHUB_BODY_LIMIT and "characters; a GitHub comment" not in small
    many = [finding(i, f"svc-{i:04d}", savings=1000.0 - i) for i in range(600)]
    big = render_markdown(as_report(sample_report(many)))
    assert len(big) > GITHUB_BODY_LIMIT
    lines = big.splitlines()
    assert lines[0] == "# rightsizer report"
    without_note = len(big) - len(lines[2]) - 2  # the note and the blank line before it
    assert lines[2].startswith(f"> This page has {without_note:,} characters; ")
    assert "a GitHub comment, issue or pull request description holds 65,536" in lines[2]
