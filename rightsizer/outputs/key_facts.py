"""A finding's case in a few sentences a reader can check in a minute: what it needs, its peak,
the headroom the new size leaves, the price, the window; the full evidence stays folded below.

Pure presentation of what the rule recorded in `evidence` (and `pricing`): a fact whose keys a
rule did not record is left out, never guessed.
"""

from __future__ import annotations

from typing import Any

from rightsizer.outputs.formatting import as_number, describe_setting, money, percent
from rightsizer.report.model import Finding

MAX_FACTS = 6

PRICING_BASES = {
    "account-effective": "your account's effective rates",
    "price-list-cache": "AWS Price List prices (cached by `rightsizer pricing refresh`)",
    "embedded-list": "the list prices embedded in rightsizer",
}


def key_facts(finding: Finding, window_days: int | None) -> list[str]:
    evidence = finding.evidence if isinstance(finding.evidence, dict) else {}
    facts = [fact for fact in (
        _peak(evidence, finding), _need(evidence), _new_size_headroom(evidence, finding),
        _memory(evidence), _reserved(evidence), _stored(evidence), _spot(evidence),
        _price(evidence), _window(evidence, window_days), _cost(finding),
    ) if fact]
    return facts[:MAX_FACTS]


def pricing_note(finding: Finding) -> str | None:
    """`pricing`'s basis and rates in words; both savings when the list price differs."""
    pricing = _extra(finding, "pricing")
    if not isinstance(pricing, dict):
        return None
    basis = str(pricing.get("basis") or "")
    words = PRICING_BASES.get(basis, basis or "prices of unknown basis")
    rates = pricing.get("rates") if isinstance(pricing.get("rates"), dict) else {}
    rate_text = ", ".join(f"{_rate_name(k)} {_hourly(v)}" for k, v in rates.items()
                          if as_number(v) is not None)
    text = f"Priced at {words}" + (f": {rate_text}" if rate_text else "")
    if pricing.get("as_of"):
        text += f" (as of {pricing['as_of']})"
    listed = as_number(pricing.get("list_monthly_savings_usd"))
    saving = as_number(finding.monthly_savings_usd)
    if listed is not None and saving is not None and round(listed, 2) != round(saving, 2):
        text += f". Saves {money(saving)} at your rates ({money(listed)} at list)"
    return text + "."


def _extra(part: Any, key: str) -> Any:
    try:
        return part[key]
    except (KeyError, TypeError):
        return None


def _num(evidence: dict[str, Any], key: str) -> float | None:
    return as_number(evidence.get(key))


def _peak(evidence: dict[str, Any], finding: Finding) -> str | None:
    parts = []
    for metric, label in (("cpu", "CPU"), ("memory", "memory")):
        peak = _num(evidence, f"{metric}_max_percent")
        if peak is None:
            continue
        text = f"{label} {percent(peak)}"
        p95 = _num(evidence, f"{metric}_p95_percent")
        if p95 is not None:
            text += f" (p95 {percent(p95)})"
        parts.append(text)
    if not parts:
        return None
    size = describe_setting(finding.current)
    text = f"Peak use: {' and '.join(parts)} of the current {size}"
    seasonal = [f"{label} {percent(value)}" for metric, label in (("cpu", "CPU"),
                                                                   ("memory", "memory"))
                if (value := _num(evidence, f"{metric}_seasonal_peak_percent")) is not None
                and value > (_num(evidence, f"{metric}_max_percent") or 0)]
    if seasonal:
        text += f"; last year's busy season suggests {' and '.join(seasonal)}"
    return text + "."


def _need(evidence: dict[str, Any]) -> str | None:
    cpu, memory = _num(evidence, "cpu_needed_units"), _num(evidence, "memory_needed_mib")
    if cpu is None or memory is None:
        return None
    headroom = _num(evidence, "headroom_percent")
    plus = f" (the peak plus {headroom:g}% headroom)" if headroom is not None else ""
    return f"Needs {cpu:,.0f} CPU units ({cpu / 1024:.2f} vCPU) and {memory:,.0f} MiB{plus}."


def _new_size_headroom(evidence: dict[str, Any], finding: Finding) -> str | None:
    parts = []
    for metric, label in (("cpu", "CPU"), ("memory", "memory")):
        share = _num(evidence, f"recommended_{metric}_percent_of_current")
        peaks = [v for key in (f"{metric}_max_percent", f"{metric}_projected_peak_percent",
                               f"{metric}_seasonal_peak_percent")
                 if (v := _num(evidence, key)) is not None]
        if not share or not peaks:
            continue
        used = max(peaks) / share * 100
        parts.append(f"{label} {percent(used)} used, {percent(max(0.0, 100 - used))} free")
    if not parts:
        return None
    return (f"At {describe_setting(finding.recommended)} the highest peak leaves "
            f"{' and '.join(parts)}.")


def _reserved(evidence: dict[str, Any]) -> str | None:
    units, covered = _num(evidence, "normalized_units"), _num(evidence, "covered_units")
    if units is None or covered is None:
        return None
    states = evidence.get("reservation_states_counted")
    counted = f" (reservations {' or '.join(map(str, states))} counted)" \
        if isinstance(states, list) and states else ""
    return f"Reservations cover {covered:,.4g} of its {units:,.4g} normalized units{counted}."


def _memory(evidence: dict[str, Any]) -> str | None:
    used, needed = _num(evidence, "memory_in_use_gib"), _num(evidence, "memory_needed_gib")
    target = _num(evidence, "target_memory_gib")
    if used is None or needed is None or target is None:
        return None
    return (f"Memory: {used:,.2f} GiB in use, {needed:,.2f} GiB with headroom; the new class "
            f"has {target:,.4g} GiB.")


def _stored(evidence: dict[str, Any]) -> str | None:
    standard = _num(evidence, "standard_gb")
    if standard is None:
        return None
    text = f"Stores {standard:,.1f} GB in STANDARD"
    older = _num(evidence, "gb_older_than_ia_days")
    if older is not None:
        text += f", {older:,.1f} GB of it old enough for the first transition"
    return text + "."


def _spot(evidence: dict[str, Any]) -> str | None:
    share, tasks = _num(evidence, "spot_share"), _num(evidence, "task_count")
    if share is None or tasks is None:
        return None
    return (f"Runs {tasks:,.0f} task{'s' if tasks != 1 else ''}; {percent(share * 100)} of them "
            "would run on Spot.")


# (before key, after key, what the two prices are)
_PRICE_PAIRS = (
    ("hourly_cost_current_usd", "hourly_cost_recommended_usd", "now", "after"),
    ("hourly_current_usd", "hourly_recommended_usd", "now", "after"),
    ("hourly_on_demand_usd", "hourly_reserved_usd", "on-demand", "reserved"),
    ("hourly_on_demand_usd", "hourly_spot_usd", "on-demand", "Spot"),
    ("price_standard_gb_month_usd", "price_standard_ia_gb_month_usd", "per GB-month in STANDARD",
     "in STANDARD_IA"),
)


def _price(evidence: dict[str, Any]) -> str | None:
    for before, after, before_label, after_label in _PRICE_PAIRS:
        old, new = _num(evidence, before), _num(evidence, after)
        if old is None or new is None:
            continue
        unit = "" if "gb_month" in before else " an hour"
        text = f"Price: {_hourly(old)}{unit} {before_label}, {_hourly(new)} {after_label}"
        rates = [f"{_hourly(v)} per {unit}" for key, unit in (
            ("price_vcpu_hour_usd", "vCPU-hour"), ("price_gb_hour_usd", "GB-hour"))
            if (v := _num(evidence, key)) is not None]
        if rates:
            text += f" ({', '.join(rates)}"
            text += f", as of {evidence['price_as_of']})" if evidence.get("price_as_of") else ")"
        tasks = _num(evidence, "task_count")
        if tasks and tasks != 1:
            text += f", for each of {tasks:,.0f} tasks"
        return text + "."
    return None


def _cost(finding: Finding) -> str | None:
    cost, saving = as_number(finding.monthly_cost_usd), as_number(finding.monthly_savings_usd)
    if cost is None or saving is None:
        return None
    share = f" ({saving / cost * 100:.0f}% of it)" if cost > 0 else ""
    return f"Costs {money(cost)} a month now; the change saves {money(saving)} a month{share}."


def _window(evidence: dict[str, Any], window_days: int | None) -> str | None:
    coverage = _num(evidence, "coverage")
    points = _num(evidence, "datapoints")
    if coverage is None and points is None:
        return None
    text = f"Window: {window_days} days" if window_days else "Window: the lookback"
    if points is not None:
        period = _num(evidence, "period_seconds")
        every = " hourly" if period == 3600 else ""
        text += f", {points:,.0f}{every} datapoints"
    if coverage is not None:
        text += f", {percent(coverage * 100)} of it covered"
    # ecs-rightsize sizes from a longer history than the window it judges coverage on
    history = _num(evidence, "sizing_history_days")
    if history is not None and history != window_days:
        text += f"; sized from {history:,.0f} days of hourly peaks"
        if evidence.get("backtest"):
            text += f" ({evidence['backtest']})"
    return text + "."


def _rate_name(key: str) -> str:
    return key.removesuffix("_usd").replace("_", " ")


def _hourly(value: Any) -> str:
    number = as_number(value)
    if number is None:
        return "—"
    return f"${number:,.6f}".rstrip("0").rstrip(".") if abs(number) < 1 else money(number)
