"""One plan per resource: the findings on it stacked in order, conflicts resolved, and the
combined saving computed on the stacked result (report.json `plans`, DESIGN.md).

Findings on one resource overlap: a smaller Fargate task also costs less on ARM64 and on Spot,
so adding their savings would promise money twice, and taking the largest alone undersells the
plan. Each step here removes its own share of the cost it was priced on (saving / cost), and
that share is taken from what the steps before it left: right-size, then Graviton, then Spot
or a Savings Plan, then a reservation. A resource with one finding gets a one-step plan whose
saving is that finding's.

Conflicts: a resource that is deleted (an idle database) gets only that step; the others are
listed as set aside, with why. A reservation waits for a pending class change (right-size,
Graviton, Multi-AZ off): it is priced on the new cost and said to be bought after the change.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rightsizer import pricing
from rightsizer.rules.findings import Finding

# Step order and the cost a step's share applies to. Steps on different parts of a bill (an
# instance's hours and its storage) do not compound: their savings add.
RIGHT_SIZE, GRAVITON, PURCHASE, RESERVATION = 1, 2, 3, 4
_STEPS: dict[str, tuple[int, str]] = {
    "ecs-rightsize": (RIGHT_SIZE, "compute"),
    "ecs-autoscaling-missing": (RIGHT_SIZE, "compute"),
    "rds-rightsize": (RIGHT_SIZE, "compute"),
    "rds-multi-az-nonprod": (RIGHT_SIZE, "compute"),
    "graviton-migration": (GRAVITON, "compute"),
    "ecs-fargate-spot": (PURCHASE, "compute"),
    "compute-savings-plan": (PURCHASE, "compute"),
    "rds-reserved-instance": (RESERVATION, "compute"),
    "elasticache-reserved-node": (RESERVATION, "compute"),
    "rds-storage-gp3": (RIGHT_SIZE, "storage"),
}
# Findings that remove the resource: nothing is left for another step to save on.
REMOVALS = frozenset({"rds-idle", "idle-load-balancer", "secrets-unused"})
# Steps that change what a reservation would have to match (class, Multi-AZ).
CLASS_CHANGES = frozenset({"rds-rightsize", "rds-multi-az-nonprod", "graviton-migration"})
_VERBS = {"ecs-rightsize": "right-size", "ecs-autoscaling-missing": "autoscale",
          "rds-rightsize": "right-size", "rds-multi-az-nonprod": "single-AZ",
          "graviton-migration": "Graviton", "ecs-fargate-spot": "Spot",
          "compute-savings-plan": "Savings Plan", "rds-reserved-instance": "reservation",
          "elasticache-reserved-node": "reservation", "rds-storage-gp3": "gp3 storage"}


def _money(value: float) -> float:
    return value if math.isfinite(value) else 0.0


@dataclass
class Plan:
    account: str
    region: str
    resource_type: str
    resource_id: str
    name: str
    steps: list[str] = field(default_factory=list)
    steps_detail: list[dict[str, Any]] = field(default_factory=list)
    set_aside: list[dict[str, str]] = field(default_factory=list)
    monthly_cost_usd: float = 0.0
    monthly_savings_usd: float = 0.0
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The report.json plan: DESIGN.md's keys first, then the additive ones sorted (as
        report.json writes a row's additive keys)."""
        return {
            "resource_id": self.resource_id, "name": self.name, "steps": list(self.steps),
            "monthly_savings_usd": round(self.monthly_savings_usd, 2), "detail": self.detail,
            "account": self.account, "monthly_cost_usd": round(self.monthly_cost_usd, 2),
            "region": self.region, "resource_type": self.resource_type,
            "set_aside": [dict(row) for row in self.set_aside],
            "steps_detail": [dict(step) for step in self.steps_detail],
        }


def _order(finding: Finding) -> tuple[int, str]:
    return _STEPS.get(finding.rule, (RIGHT_SIZE, finding.rule))


def plan_for(findings: list[Finding]) -> Plan:
    """The plan of one resource's findings (all on the same account, region and resource)."""
    first = findings[0]
    plan = Plan(first.account, first.region, first.resource_type, first.resource_id,
                first.name)
    removal = max((f for f in findings if f.rule in REMOVALS),
                  key=lambda f: _money(f.monthly_savings_usd), default=None)
    if removal is not None:
        for other in findings:
            if other is not removal:
                plan.set_aside.append({
                    "finding_id": other.id, "rule": other.rule,
                    "reason": f"{removal.rule} removes the resource: nothing is left to "
                              f"{_VERBS.get(other.rule, 'change')}"})
        cost, saving = _money(removal.monthly_cost_usd), _money(removal.monthly_savings_usd)
        plan.steps = [removal.id]
        plan.steps_detail = [_step(removal, cost, saving, "")]
        plan.monthly_cost_usd, plan.monthly_savings_usd = cost, saving
        plan.detail = (f"{removal.rule}: the resource goes, and every other finding with it"
                       if plan.set_aside else f"{removal.rule} alone")
        return plan

    ordered = sorted(findings, key=lambda f: (_order(f)[0], f.rule))
    components: dict[str, list[Finding]] = {}
    for finding in ordered:
        components.setdefault(_order(finding)[1], []).append(finding)
    class_change = [f for f in ordered if f.rule in CLASS_CHANGES]
    texts: list[str] = []
    for steps in components.values():
        # the largest cost among the steps is the whole of this part of the bill; a step
        # priced on less of it (a reservation on the uncovered share) removes less of it
        base = max(_money(f.monthly_cost_usd) for f in steps)
        remaining = base
        plan.monthly_cost_usd += base
        for finding in steps:
            share = min(1.0, max(0.0, _money(finding.monthly_savings_usd) / base)) if base else 0
            saving = remaining * share
            note = ""
            if finding.rule in RESERVATIONS and class_change:
                waits = ", ".join(f.rule for f in class_change)
                repriced = _reserved_after_change(finding, class_change[-1], base)
                if repriced is not None and repriced[0] < remaining:
                    saving = remaining - repriced[0]
                    note = (f"buy after {waits}: the reservation must match the new class; "
                            f"priced at {repriced[1]}")
                else:
                    note = (f"buy after {waits}: the reservation must match the new class and "
                            "deployment; priced at its discount share on the changed cost")
            if finding.rule == "ecs-fargate-spot":
                note = "its Spot hours stay out of any Savings Plan commitment"
            plan.steps.append(finding.id)
            plan.steps_detail.append(_step(finding, remaining, saving, note))
            remaining -= saving
        plan.monthly_savings_usd += base - remaining
        texts.append(", then ".join(_VERBS.get(f.rule, f.rule) for f in steps))
    if len(plan.steps) == 1:
        plan.detail = f"{ordered[0].rule} alone"
    else:
        plan.detail = ("; ".join(texts) + ": each step priced on the cost the one before "
                       "left")
    return plan


RESERVATIONS = ("rds-reserved-instance", "elasticache-reserved-node")


def _reserved_after_change(reservation: Finding, change: Finding, base: float
                           ) -> tuple[float, str] | None:
    """(monthly USD, what it is) of the 1-year No Upfront reservation of the class `change`
    moves to, when the reservation finding priced the whole resource (base) and the pricing
    tables have that class's rate; None otherwise (the discount share is used instead)."""
    if abs(_money(reservation.monthly_cost_usd) - base) > 0.01 * base:
        return None  # the finding reserves part of the resource: its share stays
    wanted = change.recommended
    term = "1yr-no-upfront"
    if reservation.rule == "elasticache-reserved-node" and wanted.get("node_type"):
        node_type = str(wanted["node_type"])
        price = pricing.elasticache_hourly_usd(reservation.region, node_type, term=term)
        count = int(wanted.get("num_nodes") or 1)
        what = f"{node_type} x {count}"
    elif reservation.rule == "rds-reserved-instance" and wanted.get("instance_class"):
        node_type = str(wanted["instance_class"])
        multi_az = bool(wanted.get("multi_az", reservation.current.get("multi_az")))
        price = pricing.rds_hourly_usd(reservation.region, node_type, multi_az=multi_az,
                                       engine=str(change.evidence.get("engine") or "postgres"),
                                       term=term)
        count, what = 1, f"{node_type}{' Multi-AZ' if multi_az else ''}"
    else:
        return None
    if price is None:
        return None
    return (price.usd * pricing.HOURS_PER_MONTH * count,
            f"the {what} 1-year No Upfront rate, ${price.usd}/hour ({price.source})")


def _step(finding: Finding, before: float, saving: float, note: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "finding_id": finding.id, "rule": finding.rule,
        "before_monthly_usd": round(before, 2), "after_monthly_usd": round(before - saving, 2),
        "monthly_savings_usd": round(saving, 2),
        "finding_monthly_savings_usd": round(_money(finding.monthly_savings_usd), 2),
    }
    if note:
        row["note"] = note
    return row


def build_plans(findings: Iterable[Finding]) -> list[Plan]:
    """One plan per (account, region, resource), largest saving first."""
    by_resource: dict[tuple[str, str, str], list[Finding]] = {}
    for finding in findings:
        key = (finding.account, finding.region, finding.resource_id)
        by_resource.setdefault(key, []).append(finding)
    plans = [plan_for(group) for group in by_resource.values()]
    plans.sort(key=lambda p: (-p.monthly_savings_usd, p.name, p.resource_id))
    return plans
