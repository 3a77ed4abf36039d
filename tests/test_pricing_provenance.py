"""Every embedded price table names a source a reader can open, and the date of its figures.

Holds rightsizer/pricing/data/*.json (each file, so a new table is checked too) to:
- each source text ("source", "*_source", a nested section's "source") is non-empty and carries
  a URL or a pinned repository reference ("owner/name @ <commit>");
- each date ("as_of", "*_as_of") is ISO-like: YYYY, YYYY-MM or YYYY-MM-DD;
- no text claims a figure nobody can check ("not re-confirmed", "verify before quoting", a bare
  "as shown by" without a link, ...), and a GitHub link is pinned to a commit, not a branch;
- a table with several figure sections names the source each section is read with.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest

from rightsizer import pricing

DATA = resources.files("rightsizer.pricing").joinpath("data")
TABLES = sorted(entry.name.removesuffix(".json") for entry in DATA.iterdir()
                if entry.name.endswith(".json"))

URL = re.compile(r"https?://[^\s'\")]+")
PINNED_REPO = re.compile(r"\b[\w.-]+/[\w.-]+ @ [0-9a-f]{7,40}\b")
ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
GITHUB_BLOB = re.compile(r"https://github\.com/[\w.-]+/[\w.-]+/blob/([^/\s]+)/")
# Phrases that stood for "we did not see this": a source must show, not promise.
UNCHECKABLE = ("not re-confirmed", "verify before quoting", "as listed on", "seen elsewhere",
               "said to be", "not archived", "as transcribed", "refs/heads/")

# Sources of a ceiling rather than a dated figure (Fargate Spot's "up to 70%").
UNDATED_SOURCES = {"spot.discount_source"}
# Tables whose figure sections are read with different sources (key -> its source key).
SECTION_SOURCES = {
    "rds_postgres": {"on_demand_single_az": "source", "on_demand_multi_az": "source",
                     "storage_gb_month_single_az": "storage_source",
                     "ri_1yr_no_upfront_discount": "ri_source"},
    "vpc": {"nat_gateway": "nat_gateway_source", "public_ipv4_hour_usd": "public_ipv4_source"},
    "fargate": {"on_demand": "source"},
}


def _table(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.joinpath(f"{name}.json").read_text("utf-8"))
    return data


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) for every key in nested dicts."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else key
            yield here, key, value
            yield from _walk(value, here)


def _sources(table: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(path, value) for path, key, value in _walk(table)
            if key == "source" or key.endswith("_source")]


def _dates(table: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(path, value) for path, key, value in _walk(table)
            if key == "as_of" or key.endswith("_as_of")]


def _texts(table: dict[str, Any]) -> list[tuple[str, str]]:
    return [(path, value) for path, _key, value in _walk(table) if isinstance(value, str)]


def test_there_are_tables_to_check() -> None:
    assert {"fargate", "rds_postgres", "elasticache_redis", "s3", "vpc"} <= set(TABLES)


@pytest.mark.parametrize("name", TABLES)
def test_every_source_names_a_url_or_a_pinned_repository(name: str) -> None:
    table = _table(name)
    sources = _sources(table)
    assert any(path == "source" for path, _ in sources), f"{name} has no top-level source"
    for path, text in sources:
        assert isinstance(text, str) and text.strip(), f"{name}.{path} is empty"
        assert URL.search(text) or PINNED_REPO.search(text), \
            f"{name}.{path} names neither a URL nor 'owner/name @ commit': {text[:80]!r}"


@pytest.mark.parametrize("name", TABLES)
def test_every_date_is_iso_like(name: str) -> None:
    table = _table(name)
    dates = _dates(table)
    assert any(path == "as_of" for path, _ in dates), f"{name} has no as_of"
    for path, value in dates:
        assert isinstance(value, str) and ISO_DATE.match(value), f"{name}.{path} = {value!r}"
    for path, _ in _sources(table):  # a section with its own source carries its own date
        if path.endswith("_source") and path not in UNDATED_SOURCES:
            stem = path.removesuffix("_source")
            assert any(date_path == f"{stem}_as_of" for date_path, _ in dates), \
                f"{name}.{path} has no {stem}_as_of"


@pytest.mark.parametrize("name", TABLES)
def test_no_text_claims_what_a_reader_cannot_check(name: str) -> None:
    for path, text in _texts(_table(name)):
        lowered = text.lower()
        for phrase in UNCHECKABLE:
            assert phrase not in lowered, f"{name}.{path} says {phrase!r}"
        for match in re.finditer("as shown by", lowered):
            assert URL.search(text[match.end():match.end() + 120]), \
                f"{name}.{path}: 'as shown by' without a link"
        for sha in GITHUB_BLOB.findall(text):
            assert re.fullmatch(r"[0-9a-f]{40}", sha), f"{name}.{path}: unpinned blob {sha}"


@pytest.mark.parametrize("name", TABLES)
def test_an_estimate_says_how_it_was_made(name: str) -> None:
    for path, text in _texts(_table(name)):
        for match in re.finditer("ESTIMATE", text):
            how = text[match.end():match.end() + 200]
            assert re.match(r"[ :,]", how) and len(how.strip(" :,")) >= 30, \
                f"{name}.{path}: ESTIMATE without how it was made"


@pytest.mark.parametrize("name", sorted(SECTION_SOURCES))
def test_each_figure_section_has_its_source(name: str) -> None:
    table = _table(name)
    for section, source_key in SECTION_SOURCES[name].items():
        assert section in table, f"{name} lost {section}"
        assert source_key in table, f"{name}.{section} is read with {source_key}, which is missing"


def test_looked_up_prices_carry_the_table_source_and_date() -> None:
    """What a report shows is what the table names: a lookup never drops the provenance."""
    with pricing.pinned_cache_dir():
        found = [pricing.rds_hourly_usd("us-east-1", "db.t3.micro", multi_az=False),
                 pricing.elasticache_hourly_usd("us-east-1", "cache.t3.micro"),
                 pricing.s3_gb_month_usd("us-east-1", "STANDARD"),
                 pricing.logs_storage_gb_month_usd("ap-south-1"),
                 pricing.nat_gateway_hourly_usd("us-east-1"),
                 pricing.elb_hourly_usd("us-east-1", "application"),
                 pricing.ecr_storage_gb_month_usd("us-east-1"),
                 pricing.secret_month_usd("us-east-1"),
                 pricing.public_ipv4_hourly_usd("ap-south-1"),
                 *(pricing.fargate_rates("us-east-1") or ())]
    for price in found:
        assert price is not None
        assert URL.search(price.source) or PINNED_REPO.search(price.source), price
        assert ISO_DATE.match(price.as_of.split(" ")[0]), price
