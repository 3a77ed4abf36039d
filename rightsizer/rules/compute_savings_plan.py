"""compute-savings-plan: an hourly Compute Savings Plans commitment the steady floor of on-demand
Fargate spend keeps busy every hour, sized after the right-sizing, Graviton and Spot moves the
other rules recommend (never commit to capacity we just told the user to remove)."""

from __future__ import annotations

import math
import shlex
from typing import Any

import numpy as np
from pydantic import Field

from rightsizer import pricing
from rightsizer.pricing.account import AccountRate
from rightsizer.pricing.basis import PriceBasis
from rightsizer.rules import ecs_fargate_spot, ecs_rightsize, graviton_migration
from rightsizer.rules.base import Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Resource, finding_for, skipped_for
from rightsizer.rules.support.ecs_common import ecs_services
from rightsizer.rules.support.savings_plans import (
    TERMS,
    Discount,
    SavingsPlansView,
    fargate_discount,
    savings_plans_views,
)
from rightsizer.snapshot.store import Snapshot

RULE_ID = "compute-savings-plan"
RESOURCE_TYPE = "savings-plan"
# the key the account-effective floor rate is filed under in the finding's pricing (no usage
# type of AWS's: the floor is a sum of Fargate usage types' hourly spend)
FLOOR_USAGE = "Fargate:OnDemandHourlySpend"
HOW_IT_WORKS = "https://docs.aws.amazon.com/savingsplans/latest/userguide/sp-applying.html"


class Settings(RuleSettings):
    floor_percentile: float = Field(
        10.0, ge=0, le=50,
        description="The hourly on-demand spend this share of hours stays above (after the "
        "recommended moves) is the commitment's size: a low percentile keeps it busy.")
    min_hourly_commitment_usd: float = Field(
        0.001, ge=0.001, le=10_000,
        description="No finding below this hourly commitment ($0.001 is AWS's smallest).")


# --- the spend the recommendations leave on-demand ---------------------------------------------

MOVE_RULES = (ecs_rightsize, ecs_fargate_spot, graviton_migration)


def _recommended_findings(snapshot: Snapshot) -> list[Finding]:
    """The ECS moves of this run, at the user's settings of those rules (their defaults when
    this rule is evaluated on its own)."""
    findings: list[Finding] = []
    for module in MOVE_RULES:
        def at_defaults(snap: Snapshot, rule: Rule = module.RULE) -> list[Finding]:
            return rule.evaluate(snap, rule.settings_model()).findings
        findings += [finding for finding in snapshot.rule_findings(module.RULE_ID, at_defaults)
                     if finding.resource_type == "ecs-service"]
    return findings


def _recommended_reduction_hourly(snapshot: Snapshot, accounts: set[str] | None
                                  ) -> tuple[float, dict[str, float]]:
    """USD an hour of on-demand Fargate the ECS rules' recommendations remove from `accounts`
    (None: all), service by service: right-size and Graviton scale the price, Spot moves its
    share of the tasks off on-demand."""
    by_service: dict[str, list[Finding]] = {}
    for finding in _recommended_findings(snapshot):
        if accounts is None or finding.account in accounts:
            by_service.setdefault(finding.resource_id, []).append(finding)
    reductions: dict[str, float] = {}
    for findings in by_service.values():
        cost = max(f.monthly_cost_usd for f in findings)
        if not cost or not math.isfinite(cost):
            continue
        left = cost
        spot_share = 0.0
        for finding in findings:
            if finding.rule == ecs_fargate_spot.RULE_ID:
                spot_share = float(finding.evidence.get("spot_share") or 0.0)
            elif math.isfinite(finding.monthly_savings_usd):
                left *= 1 - min(1.0, finding.monthly_savings_usd / cost)
        on_demand_left = left * (1 - spot_share)
        reductions[findings[0].name] = round((cost - on_demand_left) / pricing.HOURS_PER_MONTH,
                                             5)
    return sum(reductions.values()), reductions


def _inventory_hourly(snapshot: Snapshot, account: str) -> float:
    """On-demand Fargate USD an hour from the services' task counts and sizes: the estimate
    used when Cost Explorer has no hourly data."""
    total = 0.0
    for service in ecs_services(snapshot):
        if service.account != account or not service.on_fargate or service.os_kind is None \
                or service.arch is None or service.size_problem:
            continue
        rate = pricing.fargate_hourly_usd(service.region, service.cpu_units, service.memory_mib,
                                          os_kind=service.os_kind, arch=service.arch)
        if rate is not None:
            total += rate * service.task_count * (1 - service.spot_share)
    return total


# --- sizing -------------------------------------------------------------------------------------

def size_commitment(hourly_on_demand: np.ndarray, discount: float, percentile: float
                    ) -> dict[str, float]:
    """The commitment (USD an hour at Savings Plans rates) that covers the floor F of on-demand
    spend, and its monthly net saving: each hour the plan bills C = F x (1 - d) and covers up
    to F of on-demand usage, so an hour saves min(spend, F) - C (negative when the hour's spend
    is under the floor: unused commitment is lost, https://docs.aws.amazon.com/savingsplans/
    latest/userguide/sp-applying.html)."""
    floor = float(np.percentile(hourly_on_demand, percentile)) if hourly_on_demand.size else 0.0
    commitment = floor * (1 - discount)
    per_hour = np.minimum(hourly_on_demand, floor) - commitment
    hours_below = int(np.count_nonzero(hourly_on_demand < floor))
    return {
        "floor_on_demand_hourly_usd": round(floor, 5),
        "hourly_commitment_usd": round(commitment, 3),
        "monthly_savings_usd": float(per_hour.mean()) * pricing.HOURS_PER_MONTH
        if hourly_on_demand.size else 0.0,
        "hours_below_floor": hours_below,
        "utilization_percent": round(100 * float(np.minimum(hourly_on_demand, floor).mean())
                                     / floor, 1) if floor else 0.0,
    }


def _series(view: SavingsPlansView | None, snapshot: Snapshot, account: str
            ) -> tuple[np.ndarray, str]:
    if view is not None and view.fargate_hourly:
        hours = sorted(view.fargate_hourly)
        return (np.array([view.fargate_hourly[hour] for hour in hours]),
                f"Cost Explorer hourly on-demand Fargate spend, {len(hours)} hours "
                f"({hours[0]} to {hours[-1]})")
    why = (view.hourly_unavailable if view is not None and view.hourly_unavailable
           else "no hourly Cost Explorer answer")
    flat = _inventory_hourly(snapshot, account)
    return (np.array([flat]) if flat else np.array([]),
            f"ESTIMATE: {why}; a flat hourly spend from the services' task counts and sizes")


def _price_basis(view: SavingsPlansView | None, one_year: dict[str, Any], discount: Discount,
                 series_source: str) -> PriceBasis:
    """What the finding was priced at: the account's own on-demand Fargate spend (Cost
    Explorer's hourly UnblendedCost, account-effective) or the estimate from the services'
    sizes, and the plan's rate from the offering rates or the embedded estimate. The spend is
    already what the account pays, so nothing is restated afterwards."""
    hours = sorted(view.fargate_hourly) if view is not None and view.fargate_hourly else []
    as_of = hours[-1][:10] if hours else ""
    floor = pricing.Price(one_year["floor_on_demand_hourly_usd"],
                          "USD an hour of on-demand Fargate (the floor committed to)",
                          series_source, as_of, name="on_demand_fargate_floor_hour_usd",
                          usage=FLOOR_USAGE if hours else "")
    commitment = pricing.Price(one_year["hourly_commitment_usd"],
                               "USD an hour committed (Compute Savings Plan, 1 year, No Upfront)",
                               discount.source, as_of or "see source",
                               name="savings_plan_commitment_hour_usd")
    effective = {FLOOR_USAGE: AccountRate(floor.usd, as_of[:7], "UnblendedCost",
                                          "Cost Explorer HOURLY on-demand Fargate spend",
                                          floor.usd)} if hours else {}
    return PriceBasis((floor,), (commitment,), effective=effective)


def _judge(snapshot: Snapshot, settings: Settings, account: str,
           view: SavingsPlansView | None, region: str, whole_run: bool
           ) -> Finding | tuple[str, str]:
    series, series_source = _series(view, snapshot, account)
    if not series.size:
        return "insufficient-data", "no on-demand Fargate spend was found to commit to"
    reduction, by_service = _recommended_reduction_hourly(
        snapshot, None if whole_run else {account})
    after = np.maximum(series - reduction, 0.0)
    options: dict[str, dict[str, Any]] = {}
    discounts: dict[str, Discount] = {}
    for term in TERMS:
        discount = fargate_discount(view, region, term)
        if discount is None:
            continue
        discounts[term] = discount
        sized = size_commitment(after, discount.fraction, settings.floor_percentile)
        net = sized["monthly_savings_usd"]
        sized.update({"discount_percent": round(100 * discount.fraction, 1),
                      "discount_source": discount.source,
                      # No Upfront: nothing paid before the first month's bill, so a plan whose
                      # hours save on net pays for itself in month 1
                      "break_even_month": 1 if net > 0 else None,
                      "monthly_savings_usd": round(net, 2)})
        options[term] = sized
    one_year = options.get("1yr")
    if one_year is None:
        return "not-applicable", f"no Compute Savings Plans rate for Fargate in {region}"
    if one_year["hourly_commitment_usd"] < settings.min_hourly_commitment_usd or \
            one_year["monthly_savings_usd"] <= 0:
        return "not-applicable", (
            f"the p{settings.floor_percentile:g} hourly on-demand Fargate spend left after the "
            f"recommended moves is ${one_year['floor_on_demand_hourly_usd']:.4f}: nothing "
            "steady to commit to")
    evidence: dict[str, Any] = {
        "series": series_source,
        "hours": int(series.size),
        "hourly_on_demand_p50_usd": round(float(np.percentile(series, 50)), 4),
        "hourly_on_demand_min_usd": round(float(series.min()), 4),
        "recommended_moves_hourly_usd": round(reduction, 4),
        "recommended_moves_by_service": by_service,
        "floor_percentile": settings.floor_percentile,
        "options": options,
        "existing_coverage_percent": view.coverage_percent if view else None,
        "existing_utilization_percent": view.utilization_percent if view else None,
        "aws_recommendation": view.recommendation if view else {},
        "lambda_note": (
            "Lambda spend seen but not committed (its Savings Plans rate was not read)"
            if view is not None and any(view.lambda_hourly.values()) else None),
        "how_it_applies": HOW_IT_WORKS,
    }
    three = options.get("3yr")
    aws_one = (view.recommendation.get("1yr") or {}) if view else {}
    aws_text = (f"; AWS recommends ${aws_one['hourly_commitment_usd']:.3f}/hour "
                "(before our moves)" if aws_one.get("hourly_commitment_usd") is not None
                else "")
    monthly_on_demand = float(series.mean()) * pricing.HOURS_PER_MONTH
    return finding_for(
        Resource(RESOURCE_TYPE, f"compute-savings-plan/{account}", "Compute Savings Plan",
                 account, "global"),
        RULE_ID,
        current={"savings_plans_coverage_percent": view.coverage_percent if view else None},
        recommended={"plan_type": "Compute", "term": "1yr", "payment_option": "No Upfront",
                     "hourly_commitment_usd": one_year["hourly_commitment_usd"]},
        monthly_cost_usd=monthly_on_demand,
        monthly_savings_usd=one_year["monthly_savings_usd"],
        evidence=evidence,
        pricing=_price_basis(view, one_year, discounts["1yr"], series_source),
        reason=(
            f"on-demand Fargate stays above ${one_year['floor_on_demand_hourly_usd']:.4f}/hour "
            f"in {100 - settings.floor_percentile:g}% of hours after the recommended moves "
            f"(-${reduction:.4f}/hour); a ${one_year['hourly_commitment_usd']:.3f}/hour 1-year "
            f"No Upfront plan saves ${one_year['monthly_savings_usd']:.2f}/month"
            + (f" (3 years: ${three['hourly_commitment_usd']:.3f}/hour saves "
               f"${three['monthly_savings_usd']:.2f}/month)" if three else "")
            + aws_text),
    )


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    views = savings_plans_views(snapshot)
    regions = [str(region) for region in snapshot.manifest.get("regions", [])]
    # the accounts whose Savings Plans reads answered (in caller mode only the payer, for
    # all); with none, each account with Fargate services, on an estimate of its spend
    accounts = sorted(views) or sorted({service.account for service in ecs_services(snapshot)
                                        if service.on_fargate})
    # One account answering for the run (one account, or the payer asked for all in caller
    # mode): its hourly spend is every account's, so every account's moves come off it.
    whole_run = len(views) == 1
    for account in accounts:
        # the plan is global; the Fargate rate of the first region the run reads prices it
        region = regions[0] if regions else "us-east-1"
        outcome = _judge(snapshot, settings, account, views.get(account), region, whole_run)
        if isinstance(outcome, Finding):
            result.findings.append(outcome)
        else:
            result.skipped.append(skipped_for(
                Resource(RESOURCE_TYPE, f"compute-savings-plan/{account}",
                         "Compute Savings Plan", account, "global"), RULE_ID, *outcome))
    return result


def how_to_apply(finding: Finding) -> dict[str, str]:
    """Find the offering, then buy it: CreateSavingsPlan is a purchase, the one step here that
    spends money (https://docs.aws.amazon.com/savingsplans/latest/APIReference/API_CreateSavingsPlan.html)."""
    q = shlex.quote
    commitment = f"{float(finding.recommended['hourly_commitment_usd']):.3f}"
    lookup = ("aws savingsplans describe-savings-plans-offerings --region us-east-1 "
              "--plan-types Compute --payment-options 'No Upfront' --durations 31536000 "
              "--currencies USD --query 'searchResults[0].offeringId' --output text")
    cli = (
        "# compute-savings-plan: a 1-year No Upfront Compute Savings Plan of "
        f"${commitment}/hour\n"
        "# A purchase: compare it with Cost Explorer's recommendation first (evidence\n"
        "# aws_recommendation). The commitment bills every hour for a year.\n"
        "(\n"
        "set -euo pipefail\n"
        f"OFFERING=$({lookup})\n"
        'echo "offering $OFFERING"\n'
        f"aws savingsplans create-savings-plan --region us-east-1 --savings-plan-offering-id "
        f"\"$OFFERING\" --commitment {q(commitment)} --query savingsPlanId --output text\n"
        ")"
    )
    return {"cli": cli, "terraform": "# Savings Plans are bought, not declared: no Terraform "
            "resource", "cdk": "// Savings Plans are bought, not declared: no CDK construct"}


RULE = Rule(
    id=RULE_ID,
    title="Commit the steady Fargate floor to a Compute Savings Plan",
    why=(
        "A Compute Savings Plan bills a fixed hourly commitment at a discount and covers "
        "Fargate (and Lambda, EC2) usage up to it; the commitment is lost in any hour the "
        "usage falls short. Sized on the spend that stays after right-sizing, Graviton and "
        "Spot, and at a low percentile of the hours, it stays busy every hour."
    ),
    resource_type=RESOURCE_TYPE,
    bill_services=("Amazon Elastic Container Service",),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
    reads_findings_of=tuple(module.RULE_ID for module in MOVE_RULES),
)
