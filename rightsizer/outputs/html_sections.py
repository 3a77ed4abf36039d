"""report.html's sections from the additive report.json keys (DESIGN.md "report.json"): plans,
risks, summary.bill, notices, and the skipped rows grouped by reason (history.verified is
formatting.changes_line, shared with report.md and Slack).

Each takes the key as plain JSON (or None when a report does not hold it) and returns what the
template shows, already formatted; anything malformed is left out rather than guessed at.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from rightsizer.outputs.formatting import as_number, describe_setting, money, percent
from rightsizer.report.model import Finding, Skipped

NOTICE_LEVELS = ("info", "warning", "error")
# Skipped rows listed under each reason, and risks listed (the counts cover them all; report.json
# holds every one).
SKIPPED_ROWS_PER_REASON = 100
MAX_RISK_ROWS = 100


def notices_view(notices: Any) -> list[dict[str, str]]:
    """Banners, warnings (and errors) before information; the page shows two and folds the rest."""
    banners = []
    for notice in _list(notices):
        if not isinstance(notice, dict) or not notice.get("text"):
            continue
        level = str(notice.get("level") or "info").lower()
        banners.append({"level": level if level in NOTICE_LEVELS else "info",
                        "text": str(notice["text"])})
    return sorted(banners, key=lambda b: -NOTICE_LEVELS.index(b["level"]))


def plans_view(plans: list[Any], by_id: dict[str, Finding], rules_meta: dict[str, Any],
               limit: int, finding_view: Callable[[Finding], dict[str, Any]]
               ) -> list[dict[str, Any]]:
    """The largest plans (one a resource), each with its steps in order and their arithmetic."""
    ranked = sorted((p for p in plans if isinstance(p, dict)),
                    key=lambda p: -(as_number(p.get("monthly_savings_usd")) or 0.0))
    actions: list[dict[str, Any]] = []
    seen: set[str] = set()
    for plan in ranked:
        resource = str(plan.get("resource_id") or plan.get("name") or "")
        steps = [by_id[step] for step in _list(plan.get("steps")) if step in by_id]
        if not steps or resource in seen:
            continue
        seen.add(resource)
        arithmetic = _steps_detail(plan)
        action = finding_view(steps[0])
        action.update({
            "name": str(plan.get("name") or action["name"]),
            "savings": money(plan.get("monthly_savings_usd")),
            "steps": [{**_step(f, rules_meta), **arithmetic.get(f.id, {})} for f in steps],
            "detail": [str(plan["detail"])] if len(steps) > 1 and plan.get("detail") else [],
        })
        actions.append(action)
        if len(actions) == limit:
            break
    return actions


def _step(finding: Finding, rules_meta: dict[str, Any]) -> dict[str, str]:
    meta = rules_meta.get(finding.rule) if isinstance(rules_meta.get(finding.rule), dict) else {}
    return {"id": finding.id, "rule_title": str(meta.get("title") or finding.rule),
            "arithmetic": "", "note": "",
            "current": describe_setting(finding.current),
            "recommended": describe_setting(finding.recommended),
            "savings": money(finding.monthly_savings_usd)}


def _steps_detail(plan: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Each step's arithmetic from `steps_detail`, by finding id: the monthly cost before and
    after the step (each step priced on what the one before left) and its note."""
    steps: dict[str, dict[str, str]] = {}
    for step in _list(plan.get("steps_detail")):
        if not isinstance(step, dict) or not step.get("finding_id"):
            continue
        before, after = as_number(step.get("before_monthly_usd")), \
            as_number(step.get("after_monthly_usd"))
        text = ""
        if before is not None and after is not None:
            text = f"{money(before)} → {money(after)} a month"
            alone = as_number(step.get("finding_monthly_savings_usd"))
            saved = as_number(step.get("monthly_savings_usd"))
            if alone is not None and saved is not None and round(alone, 2) != round(saved, 2):
                text += f" (saves {money(saved)} after the steps before; {money(alone)} alone)"
        steps[str(step["finding_id"])] = {"arithmetic": text, "note": str(step.get("note") or "")}
    return steps


def risks_view(risks: Any, rules_meta: dict[str, Any]) -> list[dict[str, str]]:
    """The largest cost increases first, at most MAX_RISK_ROWS (the section says how many)."""
    rows = []
    ranked = sorted((r for r in _list(risks) if isinstance(r, dict)),
                    key=lambda r: -(as_number(r.get("monthly_cost_change_usd")) or 0.0))
    for risk in ranked[:MAX_RISK_ROWS]:
        rule = str(risk.get("rule") or "")
        meta = rules_meta.get(rule) if isinstance(rules_meta.get(rule), dict) else {}
        change = as_number(risk.get("monthly_cost_change_usd"))
        rows.append({
            "rule": rule, "rule_title": str(meta.get("title") or rule),
            "name": str(risk.get("name") or risk.get("resource_id") or ""),
            "resource_id": str(risk.get("resource_id") or ""),
            "severity": str(risk.get("severity") or ""),
            "current": describe_setting(risk.get("current")),
            "recommended": describe_setting(risk.get("recommended")),
            "cost_change": "—" if change is None else
            (f"+{money(change)}" if change > 0 else money(change)),
            "reason": str(risk.get("reason") or ""),
        })
    return rows


def bill_view(bill: Any, rules_meta: dict[str, Any]) -> dict[str, Any] | None:
    """"Your bill: $X/month; rules examined Y% of it" and the services no rule examined."""
    if not isinstance(bill, dict) or as_number(bill.get("monthly_usd")) is None:
        return None
    services = [s for s in _list(bill.get("by_service")) if isinstance(s, dict)]
    unexamined = sorted((s for s in services if not s.get("examined_by")),
                        key=lambda s: -(as_number(s.get("monthly_usd")) or 0.0))
    share = as_number(bill.get("examined_share"))
    total = as_number(bill.get("monthly_usd")) or 0.0
    if share is None and as_number(bill.get("examined_usd")) is not None and total > 0:
        share = (as_number(bill.get("examined_usd")) or 0.0) / total
    return {
        "month": str(bill.get("month") or ""),
        "total": money(total),
        "share": None if share is None else percent(share * 100),
        "unexamined": [{"service": str(s.get("service") or "?"),
                        "amount": money(s.get("monthly_usd"))} for s in unexamined],
    }


def skipped_view(skipped: list[Skipped]) -> list[dict[str, Any]]:
    """Skipped rows grouped by reason (most first), each with its count and rules."""
    groups: dict[str, list[Skipped]] = {}
    for row in skipped:
        groups.setdefault(str(row.reason), []).append(row)
    view = []
    for reason, rows in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])):
        by_rule = Counter(row.rule for row in rows)
        view.append({
            "reason": reason, "count": len(rows),
            "rules": [{"rule": rule, "count": count} for rule, count in by_rule.most_common()],
            "rows": rows[:SKIPPED_ROWS_PER_REASON],
            "more": max(0, len(rows) - SKIPPED_ROWS_PER_REASON),
        })
    return view


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
