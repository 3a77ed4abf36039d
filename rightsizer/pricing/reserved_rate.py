"""A reservation finding's rate from what AWS quotes this account for it.

Cost Explorer's GetReservationPurchaseRecommendation (asked for 1-year No Upfront by
collect/collectors/costs.py) prices the reservation it recommends for this account's usage:
RecurringStandardMonthlyCost, "How much purchasing this instance costs you on a monthly basis",
and UpfrontCost, "How much purchasing this instance costs you upfront"
(https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_ReservationPurchaseRecommendationDetail.html).
Per instance-hour that is (recurring + upfront / 12) / 730. The reference does not say whether
the two figures are for one reservation or for all RecommendedNumberOfInstancesToPurchase, and
no recorded answer with a larger count could be found to settle it, so the rate is taken only
from a recommendation of exactly one reservation (where one and all coincide); any other count
keeps the table rate, and the finding's pricing notes say why. Only a recommendation for the
finding's own class or node type counts: the user guide's example names a size-flexible family
by its smallest size (https://docs.aws.amazon.com/cost-management/latest/userguide/ri-recommendations.html),
and a recommendation for another size is not this one's price.

A reservation finding's rate, first found wins: this quote ("account-effective"), the refreshed
per-class figure, the embedded per-class figure, the flat-ratio ESTIMATE (rightsizer.pricing).
The quote replaces the reserved rate after `basis.settle` restated the on-demand side, so the
saving is on-demand at what the account pays less the quote, and the plans (report/plans.py)
take that saving as the reservation step's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rightsizer.collect.collectors.costs import RECOMMENDATION_TERMS
from rightsizer.pricing import HOURS_PER_MONTH
from rightsizer.pricing.account import PLAUSIBLE_FACTOR, AccountRate, number
from rightsizer.pricing.basis import PriceBasis
from rightsizer.pricing.recommendation import (
    RULE_DETAILS,
    instance_details,
    matches,
    recommendation_details,
)

QUOTE_USAGE = "reservation-purchase-recommendation"  # no usage type: a rate AWS quoted
OPERATION = "GetReservationPurchaseRecommendation"
# the rules' rate keys (rightsizer.pricing): on-demand of the class, and its reservation
ON_DEMAND_RATES = ("rds_instance_hour_usd", "elasticache_node_hour_usd")
RESERVED_RATES = ("rds_reserved_1yr_hour_usd", "elasticache_reserved_1yr_hour_usd")
# RDSInstanceDetails.DatabaseEngine for a DescribeDBInstances engine, compared lower-case:
# the names of the Price List's databaseEngine attribute (pricing/refresh.py asks "PostgreSQL")
DATABASE_ENGINES = {"postgres": "postgresql", "mysql": "mysql", "mariadb": "mariadb"}
DEPLOYMENTS = {True: "Multi-AZ", False: "Single-AZ"}
SETTLED_NOTHING = "at the rates this account pays the change saves nothing"  # basis.settle


@dataclass(frozen=True)
class Quote:
    """AWS's price of one recommended reservation, per instance-hour."""

    usd: float
    recurring_monthly_usd: float
    upfront_usd: float
    generated: str  # Metadata.GenerationTimestamp as AWS wrote it ("" when absent)
    recommendation_id: str

    @property
    def month(self) -> str:
        return self.generated[:7]

    def describe(self) -> str:
        when = f", generated {self.generated}" if self.generated else ""
        return (f"Cost Explorer {OPERATION} (1-year No Upfront{when}): "
                f"(RecurringStandardMonthlyCost ${self.recurring_monthly_usd:,.2f} + "
                f"UpfrontCost ${self.upfront_usd:,.2f} / 12) / {HOURS_PER_MONTH:g} h")


def _wanted(finding: Any, section: str) -> tuple[str, str] | None:
    """(field, lower-case value) the detail must name to be this finding's reservation: the
    engine (RDS: with the deployment, checked apart), None when the finding names none."""
    engine = str(finding.evidence.get("engine") or "").strip().lower()
    if section == "RDSInstanceDetails":
        name = DATABASE_ENGINES.get(engine)
        return ("DatabaseEngine", name) if name else None
    return ("ProductDescription", engine) if engine else None


def _other_reservation(instance: dict[str, Any], finding: Any, section: str) -> str | None:
    """"" when the detail is another deployment or engine (someone else's recommendation),
    a reason when it cannot be told, None when it is this finding's reservation."""
    if section == "RDSInstanceDetails":
        deployment = instance.get("DeploymentOption")
        if not isinstance(deployment, str) or not deployment:
            return "names no DeploymentOption"
        if deployment != DEPLOYMENTS[bool(finding.current.get("multi_az"))]:
            return ""
    wanted = _wanted(finding, section)
    if wanted is None:
        return "is for an engine rightsizer does not compare"
    key, value = wanted
    named = instance.get(key)
    if not isinstance(named, str) or not named.strip():
        return f"names no {key}"
    return None if named.strip().lower() == value else ""


def _quote_of(detail: dict[str, Any]) -> Quote | str:
    """The detail's per-instance-hour rate, or why it gives none."""
    term = detail.get("_term") or RECOMMENDATION_TERMS["TermInYears"]
    payment = detail.get("_payment") or RECOMMENDATION_TERMS["PaymentOption"]
    if (term, payment) != ("ONE_YEAR", "NO_UPFRONT"):
        return f"is for {term} {payment}, not the 1-year No Upfront reservation recommended"
    currency = detail.get("CurrencyCode")
    if currency not in (None, "", "USD"):
        return f"is in {currency}, not USD"
    count = number(detail.get("RecommendedNumberOfInstancesToPurchase"))
    recurring = number(detail.get("RecurringStandardMonthlyCost"))
    upfront = number(detail.get("UpfrontCost"))
    if count is None or recurring is None or upfront is None:
        return ("has no numeric RecommendedNumberOfInstancesToPurchase, "
                "RecurringStandardMonthlyCost and UpfrontCost")
    if count != 1:
        return (f"prices {count:g} reservations together (RecurringStandardMonthlyCost "
                f"${recurring:,.2f}): the API reference does not say whether that is for one "
                "or for all of them")
    if recurring < 0 or upfront < 0:
        return "has a negative cost"
    return Quote(usd=(recurring + upfront / 12) / HOURS_PER_MONTH,
                 recurring_monthly_usd=recurring, upfront_usd=upfront,
                 generated=str(detail.get("_generated") or ""),
                 recommendation_id=str(detail.get("_recommendation_id") or ""))


def quote_for(finding: Any, details: list[dict[str, Any]]) -> tuple[Quote | None, list[str]]:
    """AWS's quote for the finding's reservation, or None and the reasons a recommendation for
    its class was not used (for the finding's pricing notes)."""
    section, type_key = RULE_DETAILS[finding.rule]
    quotes: list[Quote] = []
    problems: list[str] = []
    for detail in details:
        if not matches(detail, finding, section, type_key):
            continue
        other = _other_reservation(instance_details(detail, section), finding, section)
        found = _quote_of(detail) if other is None else other
        if isinstance(found, Quote):
            quotes.append(found)
        elif found:
            problems.append(found)
    distinct = {round(quote.usd, 9) for quote in quotes}
    if len(distinct) > 1:
        return None, [f"{len(quotes)} recommendations for it disagree"]
    return (quotes[0] if quotes else None), problems


def _sanity_problem(quote: Quote, on_demand: Any, reserved: Any) -> str | None:
    if quote.usd >= on_demand.usd:
        return (f"its ${quote.usd:.6g}/h is not below the on-demand ${on_demand.usd:.6g}/h "
                "of the same price table")
    low, high = PLAUSIBLE_FACTOR
    if not low <= quote.usd / reserved.usd <= high:
        return (f"its ${quote.usd:.6g}/h is not comparable with the table's "
                f"${reserved.usd:.6g}/h (outside {low:.0%}-{high:.0%} of it)")
    return None


def _apply(finding: Any, quote: Quote, on_demand: Any, reserved: Any) -> None:
    """Price the reservation side at the quote; the on-demand side stays as `settle` left it
    (at the account's rate where Cost Explorer showed one)."""
    priced: PriceBasis = finding.pricing
    account_rate = priced.effective.get(on_demand.usage) if on_demand.usage else None
    now_factor = account_rate.usd / on_demand.usd if account_rate is not None else 1.0
    listed_saving = (finding.monthly_savings_usd if priced.list_monthly_savings_usd is None
                     else priced.list_monthly_savings_usd)
    reserved_at_list = finding.monthly_cost_usd / now_factor - listed_saving
    saving = finding.monthly_cost_usd - reserved_at_list * quote.usd / reserved.usd
    priced.recommended = (replace(reserved, usage=QUOTE_USAGE),)
    priced.effective[QUOTE_USAGE] = AccountRate(
        usd=quote.usd, month=quote.month, metric=OPERATION,
        usage_type=f"RecommendationId {quote.recommendation_id or '?'}", list_usd=reserved.usd)
    # settle's "saves nothing" was about the table's reserved rate, not the quote
    priced.notes[:] = [note for note in priced.notes if not note.startswith(SETTLED_NOTHING)]
    priced.notes.append(f"reserved rate ${quote.usd:.6g}/h is AWS's quote for this account, "
                        f"from {quote.describe()}; the price table's is ${reserved.usd:.6g}/h")
    if saving < 0:
        priced.notes.append("at AWS's quote for the reservation and the rate this account pays "
                            "on demand the reservation saves nothing")
        saving = 0.0
    finding.monthly_savings_usd = saving
    finding.evidence["hourly_reserved_quote_usd"] = round(quote.usd, 6)
    when = f", {quote.generated[:10]}" if quote.generated else ""
    finding.reason += (f"; AWS quotes this account ${quote.usd:.4g}/h for the reservation "
                       f"(Cost Explorer purchase recommendation{when}), the rate the saving is "
                       "priced at")


def quote_reservations(findings: list[Any], rows: list[dict[str, Any]]) -> None:
    """Price each reservation finding's reservation at AWS's quote where one is unambiguous
    (after `basis.settle`), or say in its pricing notes why a quote for its class was not
    used."""
    # one rate a side, as the two rules price them: on-demand now, the reservation after
    wanted = [finding for finding in findings if finding.rule in RULE_DETAILS
              and isinstance(finding.pricing, PriceBasis) and not finding.pricing.per_unit_change
              and len(finding.pricing.current) == len(finding.pricing.recommended) == 1]
    if not wanted:
        return
    details = recommendation_details(rows)
    if not details:
        return
    for finding in wanted:
        priced: PriceBasis = finding.pricing
        [on_demand], [reserved] = priced.current, priced.recommended
        if (on_demand.name not in ON_DEMAND_RATES or reserved.name not in RESERVED_RATES
                or on_demand.usd <= 0 or reserved.usd <= 0):
            continue
        quote, problems = quote_for(finding, details)
        if quote is not None:
            problem = _sanity_problem(quote, on_demand, reserved)
            if problem is None:
                _apply(finding, quote, on_demand, reserved)
                continue
            problems = [problem]
        for problem in dict.fromkeys(problems):
            priced.notes.append(f"AWS's purchase recommendation for {_label(finding)} "
                                f"{problem}: its rate is not used, the reservation stays at "
                                "the price table's rate")


def _label(finding: Any) -> str:
    cls = finding.current.get("instance_class") or finding.current.get("node_type") or "it"
    if "multi_az" in finding.current:
        cls = f"{cls} {DEPLOYMENTS[bool(finding.current['multi_az'])]}"
    return str(cls)
