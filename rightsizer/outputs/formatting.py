"""Turn report values into short human text; shared by the HTML and Markdown renderers.

Pure presentation: nothing here computes a saving, it only formats what the rules produced.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any

from rightsizer.report.model import Finding, Report, Risk

SEVERITIES = ("high", "medium", "low")
# A Markdown page is read or pasted, not searched: report.md lists the largest findings (and
# the first skipped rows) up to this many and says where the rest are. report.html carries every
# finding (outputs/html_data.py); report.json and findings.csv always hold every one.
MAX_LISTED_ROWS = 2000
# A finding's how_to_apply keys (DESIGN.md "report.json"), in the order every output shows
# them, with the label a reader sees and the language of a Markdown code block.
APPLY_FORMATS = ("cli", "terraform", "cdk")
APPLY_LABELS = {"cli": "AWS CLI", "terraform": "Terraform", "cdk": "CDK (TypeScript)"}
APPLY_LANGUAGES = {"cli": "bash", "terraform": "hcl", "cdk": "ts"}


def money(value: Any) -> str:
    """`$1,234.56`; negative as `-$5.00`; missing as an em dash."""
    number = as_number(value)
    if number is None:
        return "—"
    sign = "-" if number < 0 else ""
    return f"{sign}${abs(number):,.2f}"


def percent(value: Any) -> str:
    """One decimal, e.g. `31.0%`."""
    number = as_number(value)
    return "—" if number is None else f"{number:.1f}%"


def as_number(value: Any) -> float | None:
    """A finite float, or None for missing/NaN/text (bools are not numbers here)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def compact_json(value: Any) -> str:
    """Lists and dicts as one short line (evidence values, Markdown fields)."""
    return _COMPACT.encode(value)


# json.dumps with options builds a new encoder per call; this one is made once.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)


def evidence_value(key: str, value: Any) -> str:
    """Evidence as text: units follow the key's suffix (`_percent`, `_usd`, ...)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "—"
    if isinstance(value, list | tuple | dict):
        return _compact_sequence(value)
    number = as_number(value)
    if number is None:
        return str(value)
    if key.endswith("_percent") or "_percent_of_" in key:
        return percent(number)
    if key.endswith("_usd"):
        # Hourly prices have 4-5 significant decimals; `$0.01` would hide them.
        return f"${number:,.5f}".rstrip("0").rstrip(".") if abs(number) < 1 else money(number)
    if key == "coverage" or key.endswith("_share"):
        return percent(number * 100)
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.2f}".rstrip("0").rstrip(".")


def _compact_sequence(value: Any) -> str:
    if isinstance(value, list) and all(as_number(item) is not None for item in value):
        return ", ".join(f"{float(item):g}" for item in value)
    return compact_json(value)


def humanize_key(key: str) -> str:
    """`cpu_p95_percent` -> `cpu p95 percent`: readable without a lookup table per rule."""
    return key.replace("_", " ")


def describe_setting(values: Any) -> str:
    """One side of "current -> recommended" in plain words, never raw JSON.

    Knows the shapes the rules write (Fargate size, capacity provider, RDS instance, reserved
    term, S3 transitions, storage, retention, ...); anything else falls back to `key value`
    pairs with the units its key names, so a new rule still renders readably.
    """
    if not isinstance(values, dict) or not values:
        return "—" if not values else plain_value("", values)
    for keys, describe in _DESCRIBERS:
        if keys <= values.keys():
            return describe(values)
    return _pairs(values)


def change_text(finding: Finding | Risk) -> str:
    """`2 vCPU / 4 GB → 1 vCPU / 2 GB`; a reservation or an action reads as what to do to the
    current resource: `db.t3.small Multi-AZ: 1-year No Upfront reservation`."""
    current, recommended = finding.current or {}, finding.recommended or {}
    if _is_reservation(recommended) or "action" in recommended:
        return f"{describe_setting(current)}: {describe_setting(recommended)}"
    same_class = "instance_class" in current and \
        current.get("instance_class") == recommended.get("instance_class")
    if same_class and set(current) == set(recommended) == {"instance_class", "multi_az"}:
        return f"{describe_setting(current)} → {_az(recommended.get('multi_az'))}"
    return f"{describe_setting(current)} → {describe_setting(recommended)}"


def plain_value(key: str, value: Any) -> str:
    """A value inside a setting as words: lists joined, nested tables as `key value` pairs,
    None as "none", numbers with thousands separators."""
    if isinstance(value, dict):
        return _pairs(value) if value else "none"
    if isinstance(value, list | tuple):
        return ", ".join(plain_value(key, item) for item in value) if value else "none"
    if value is None:
        return "none"
    return evidence_value(key, value)


def term_text(term: Any) -> str:
    """`1yr` -> `1-year` (the words AWS's pricing pages use)."""
    match = re.fullmatch(r"(\d+)\s*yr", str(term))
    return f"{match.group(1)}-year" if match else str(term)


def fargate_size(cpu_units: Any, memory_mib: Any) -> str:
    """1024 CPU units = 1 vCPU; Fargate memory is in MiB, shown in GB as the console does."""
    cpu, memory = as_number(cpu_units), as_number(memory_mib)
    if cpu is None or memory is None:
        return f"cpu {cpu_units} / memory {memory_mib}"
    return f"{cpu / 1024:g} vCPU / {memory / 1024:g} GB"


def _pairs(values: dict[Any, Any]) -> str:
    return ", ".join(f"{humanize_key(str(key))} {plain_value(str(key), value)}"
                     for key, value in values.items())


def _is_reservation(values: dict[str, Any]) -> bool:
    """A purchase (reserved instance or node, Savings Plan): said of the current resource."""
    return {"term", "offering"} <= values.keys() or \
        {"plan_type", "term", "payment_option"} <= values.keys()


def _az(multi_az: Any) -> str:
    return "Multi-AZ" if multi_az else "Single-AZ"


def _fargate(values: dict[str, Any]) -> str:
    extra = {k: v for k, v in values.items() if k not in ("cpu", "memory")}
    size = fargate_size(values["cpu"], values["memory"])
    return f"{size} ({_pairs(extra)})" if extra else size


_PROVIDER_WORDS = {"FARGATE": "Fargate", "FARGATE_SPOT": "Fargate Spot"}


def _capacity(values: dict[str, Any]) -> str:
    provider = str(values["capacity_provider"])
    text = _PROVIDER_WORDS.get(provider, provider)
    strategy = values.get("strategy")
    if isinstance(strategy, list) and strategy:
        parts = []
        for item in strategy:
            if not isinstance(item, dict):
                parts.append(plain_value("", item))
                continue
            name = str(item.get("capacityProvider", "?"))
            base = as_number(item.get("base"))
            parts.append(f"{name} weight {plain_value('weight', item.get('weight'))}"
                         + (f" base {base:g}" if base else ""))
        text += f" ({', '.join(parts)})"
    return text


def _instance(values: dict[str, Any]) -> str:
    text = f"{values['instance_class']} {_az(values['multi_az'])}"
    extra = {k: v for k, v in values.items() if k not in ("instance_class", "multi_az")}
    return f"{text}, {_pairs(extra)}" if extra else text


def _reservation(values: dict[str, Any]) -> str:
    text = f"{term_text(values['term'])} {values['offering']} reservation"
    count = as_number(values.get("node_count"))
    units = as_number(values.get("normalized_units"))
    if count is not None:
        text += f" for {count:,g} node{'s' if count != 1 else ''}"
    if units is not None:
        text += f" of {units:,g} normalized units"
    extra = {k: v for k, v in values.items()
             if k not in ("term", "offering", "node_count", "normalized_units")}
    return f"{text} ({_pairs(extra)})" if extra else text


def _node(values: dict[str, Any]) -> str:
    count = as_number(values.get("num_nodes"))
    nodes = f" ({count:,g} node{'s' if count != 1 else ''})" if count is not None else ""
    return f"{values['node_type']}{nodes}"


_LIFECYCLE_STATE = {"absent": "no lifecycle policy", "disabled": "lifecycle policy disabled"}


def _lifecycle(values: dict[str, Any]) -> str:
    state = str(values["lifecycle"])
    text = _LIFECYCLE_STATE.get(state, f"lifecycle {state}")
    extra = {k: v for k, v in values.items() if k != "lifecycle"}
    return f"{text}, {_pairs(extra)}" if extra else text


def _transitions_setting(values: dict[str, Any]) -> str:
    text = _transitions(values["transitions"])
    abort = as_number(values.get("abort_incomplete_multipart_upload_days"))
    if abort is not None:
        text += f"; abort incomplete multipart uploads after {abort:g} days"
    return text


def _transitions(transitions: Any) -> str:
    if not isinstance(transitions, list):
        return plain_value("transitions", transitions)
    steps = []
    for step in transitions:
        if isinstance(step, dict) and "storage_class" in step:
            steps.append(f"{step['storage_class']} after {step.get('days', '?')} days")
        else:
            steps.append(plain_value("", step))
    return ", ".join(steps) or "—"


def _ecr_policy(values: dict[str, Any]) -> str:
    state = values["lifecycle_policy"]
    return "no lifecycle policy" if state == "absent" else f"lifecycle policy {state}"


def _ecr_rules(values: dict[str, Any]) -> str:
    return (f"expire untagged images after {plain_value('', values['untagged_expire_days'])} "
            f"days, keep the newest {plain_value('', values['keep_tagged_images'])} tagged")


def _retention(values: dict[str, Any]) -> str:
    days = values["retention_days"]
    return "kept forever (no retention)" if days is None else \
        f"{plain_value('', days)}-day retention"


def _storage(values: dict[str, Any]) -> str:
    text = f"{values['storage_type']} {plain_value('', values['allocated_storage_gb'])} GB"
    details = []
    if values.get("baseline_iops") is not None:
        details.append(f"{plain_value('', values['baseline_iops'])} IOPS")
    if values.get("throughput_mibps") is not None:
        details.append(f"{plain_value('', values['throughput_mibps'])} MiB/s")
    return f"{text} ({', '.join(details)})" if details else text


def _autoscaling(values: dict[str, Any]) -> str:
    target = values.get("target_percent")
    text = f"{values['policy']} on {values['metric']}"
    if target is not None:
        text += f" at {plain_value('', target)}%"
    low, high = values.get("min_capacity"), values.get("max_capacity")
    if low is not None and high is not None:
        text += f", {plain_value('', low)}-{plain_value('', high)} tasks"
    return text


def _no_autoscaling(values: dict[str, Any]) -> str:
    return (f"{plain_value('', values['desired_count'])} tasks, autoscaling "
            f"{plain_value('', values['autoscaling'])}")


def _secret_use(values: dict[str, Any]) -> str:
    return (f"last read {date_part(values['last_accessed']) or 'never'} "
            f"({plain_value('', values['days_unused'])} days unused)")


def _action(values: dict[str, Any]) -> str:
    extra = {k: v for k, v in values.items() if k not in ("action", "recovery_window_days")}
    notes = [f"{plain_value('', values['recovery_window_days'])}-day recovery window"] \
        if values.get("recovery_window_days") is not None else []
    notes += [_pairs(extra)] if extra else []
    return f"{values['action']} ({'; '.join(notes)})" if notes else str(values["action"])


_ARCHITECTURE_WORDS = {"ARM64": "ARM64 (Graviton)", "X86_64": "x86_64"}


def _architecture(values: dict[str, Any]) -> str:
    arch = str(values["cpu_architecture"])
    text = _ARCHITECTURE_WORDS.get(arch, arch)
    system = values.get("operating_system_family")
    return f"{text} {str(system).capitalize()}" if system else text


def _savings_plan(values: dict[str, Any]) -> str:
    text = (f"{values['plan_type']} Savings Plan, {term_text(values['term'])} "
            f"{values['payment_option']}")
    hourly = as_number(values.get("hourly_commitment_usd"))
    return text + (f", {evidence_value('hourly_commitment_usd', hourly)}/hour commitment"
                   if hourly is not None else "")


def _plan_coverage(values: dict[str, Any]) -> str:
    share = as_number(values["savings_plans_coverage_percent"])
    return "Savings Plans coverage unknown" if share is None else \
        f"{percent(share)} covered by Savings Plans"


def _log_ingestion(values: dict[str, Any]) -> str:
    gb = as_number(values["monthly_gb"])
    amount = f"{gb:,.1f} GB/month ingested" if gb is not None else "ingestion unknown"
    return f"{amount} ({str(values['log_group_class']).replace('_', ' ').title()} class)"


def _public_ip(values: dict[str, Any]) -> str:
    return f"public IP {values['public_ipv4']} (owner: {values['owner']})"


def _health_check(values: dict[str, Any]) -> str:
    return f"{values['type']} health check of {values['target']}"


def _distribution(values: dict[str, Any]) -> str:
    requests = as_number(values["requests"])
    state = "enabled" if values.get("enabled") else "disabled"
    return f"{state}, {requests:,.0f} requests" if requests is not None else state


# (keys a setting must hold, its describer), most specific first: the first match wins.
_DESCRIBERS: tuple[tuple[frozenset[str], Any], ...] = tuple(
    (frozenset(keys), describe) for keys, describe in (
        (("cpu", "memory"), _fargate),
        (("capacity_provider",), _capacity),
        (("term", "offering"), _reservation),
        (("plan_type", "term", "payment_option"), _savings_plan),
        (("savings_plans_coverage_percent",), _plan_coverage),
        (("cpu_architecture",), _architecture),
        (("instance_class", "multi_az"), _instance),
        (("node_type",), _node),
        (("lifecycle",), _lifecycle),
        (("transitions",), _transitions_setting),
        (("lifecycle_policy",), _ecr_policy),
        (("untagged_expire_days", "keep_tagged_images"), _ecr_rules),
        (("retention_days",), _retention),
        (("storage_type", "allocated_storage_gb"), _storage),
        (("policy", "metric"), _autoscaling),
        (("desired_count", "autoscaling"), _no_autoscaling),
        (("last_accessed", "days_unused"), _secret_use),
        (("log_group_class", "monthly_gb"), _log_ingestion),
        (("target", "type"), _health_check),
        (("public_ipv4", "owner"), _public_ip),
        (("enabled", "requests"), _distribution),
        (("action",), _action),
    ))


def severity_counts(findings: list[Finding]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return counts


def date_part(timestamp: Any) -> str:
    """`2026-11-17T00:00:00Z` -> `2026-11-17`; anything else unchanged."""
    text = "" if timestamp is None else str(timestamp)
    return text[:10] if len(text) >= 10 and text[4:5] == "-" else text


def timestamp_text(timestamp: Any) -> str:
    """`2026-12-01T06:00:00Z` -> `2026-12-01 06:00 UTC`."""
    text = "" if timestamp is None else str(timestamp)
    if len(text) >= 16 and text[10:11] == "T":
        suffix = " UTC" if text.endswith(("Z", "+00:00")) else ""
        return f"{text[:10]} {text[11:16]}{suffix}"
    return text


def human_date(timestamp: Any) -> str:
    """`2026-12-01T06:00:00Z` -> `1 Dec 2026`; text that is not an ISO date unchanged."""
    moment = _parsed(timestamp)
    return f"{moment.day} {moment:%b %Y}" if moment else str(timestamp or "")


def human_timestamp(timestamp: Any) -> str:
    """`2026-12-01T06:00:00Z` -> `1 Dec 2026, 06:00 UTC` (UTC: report.json's timestamps are)."""
    moment = _parsed(timestamp)
    if moment is None:
        return str(timestamp or "")
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def human_window(start: Any, end: Any) -> str:
    """`17 Nov → 1 Dec 2026`; the start's year shown only when it differs."""
    first, last = _parsed(start), _parsed(end)
    if first is None or last is None:
        return f"{human_date(start)} → {human_date(end)}"
    shown = f"{first.day} {first:%b}" + (f" {first:%Y}" if first.year != last.year else "")
    return f"{shown} → {human_date(end)}"


def _parsed(timestamp: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(timestamp))
    except (TypeError, ValueError):
        return None


def count_text(count: int, noun: str, plural: str | None = None) -> str:
    """`1 finding`, `1,234 findings`."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def report_rows(report: Report, key: str) -> list[dict[str, Any]]:
    """report.json's `plans` or `risks` (additive keys: absent in older reports) as plain
    dicts, whether the model types them or keeps them as extra keys; malformed rows dropped."""
    try:
        rows = report[key]
    except KeyError:
        return []
    if not isinstance(rows, list):
        return []
    plain = [row.to_plain() if hasattr(row, "to_plain") else row for row in rows]
    return [row for row in plain if isinstance(row, dict)]


def report_history(report: Report) -> dict[str, Any] | None:
    try:
        history = report["history"]
    except KeyError:
        return None
    history = history.to_plain() if hasattr(history, "to_plain") else history
    return history if isinstance(history, dict) else None


def changes_line(history: dict[str, Any] | None) -> str | None:
    """`3 changes applied since last month: 2 held, 1 regressed, $41.20/month realized` from
    report.json's history (its `changes` totals, else counted from `verified`); None when
    nothing was verified."""
    if not history:
        return None
    changes = history.get("changes") if isinstance(history.get("changes"), dict) else None
    verified = [row for row in history.get("verified") or [] if isinstance(row, dict)]
    if changes:
        applied = int(as_number(changes.get("applied")) or 0)
        held = int(as_number(changes.get("held")) or 0)
        regressed = int(as_number(changes.get("regressed")) or 0)
        realized = as_number(changes.get("realized_monthly_usd"))
    elif verified:
        applied = len(verified)
        held = sum(row.get("status") == "held" for row in verified)
        regressed = sum(row.get("status") == "regressed" for row in verified)
        amounts = [as_number(row.get("monthly_savings_usd")) for row in verified
                   if row.get("status") == "held"]
        realized = sum(a for a in amounts if a is not None) if any(
            a is not None for a in amounts) else None
    else:
        return None
    if not applied:
        return None
    text = (f"{count_text(applied, 'change')} applied since last month: {held:,} held, "
            f"{regressed:,} regressed")
    return text + (f", {money(realized)}/month realized" if realized is not None else "")


def apply_commands(finding: Finding) -> list[tuple[str, str]]:
    """A report finding's how_to_apply as (format, text) pairs, in APPLY_FORMATS order, the
    empty ones left out; nothing for a finding without it (an older report.json)."""
    commands = finding.how_to_apply
    if commands is None:
        return []
    return [(key, str(text)) for key in APPLY_FORMATS if (text := getattr(commands, key))]
