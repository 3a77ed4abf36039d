"""What a finding was priced at: the rates its two sides (today, after the change) used, and
the rates the account pays for the same usage where Cost Explorer showed them.

A rule prices at list (`rightsizer.pricing` lookups) and attaches `basis(...)` naming the
`Price`s of each side. `settle` then restates the finding at the account's effective rates
(`rightsizer.pricing.account`): each side's monthly figure is scaled by effective / list of the
rates it used, so a saving is what the change saves at what this account pays ("savings after
discounts", as Compute Optimizer calls them), and the list figure stays beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rightsizer.pricing import Price
    from rightsizer.pricing.account import AccountRate, AccountRates

ACCOUNT_EFFECTIVE = "account-effective"
PRICE_LIST_CACHE = "price-list-cache"
EMBEDDED_LIST = "embedded-list"
_ESTIMATE_MARKS = ("DERIVED", "ESTIMATE")
_DATE = re.compile(r"\d{4}-\d{2}(?:-\d{2})?")


def list_basis(price: Price) -> str:
    if price.from_bill:
        return ACCOUNT_EFFECTIVE
    return PRICE_LIST_CACHE if price.source.startswith("AWS Price List Query API") \
        else EMBEDDED_LIST


def is_estimate(price: Price) -> bool:
    return price.source.startswith(_ESTIMATE_MARKS)


def price_date(price: Price) -> str:
    """The figure's date as YYYY-MM(-DD) (an as_of may carry a note after it)."""
    found = _DATE.search(price.as_of)
    return found.group(0) if found else price.as_of


def rate_key(price: Price) -> str:
    return price.name or re.sub(r"[^a-z0-9]+", "_", price.unit.lower()).strip("_") + "_usd"


@dataclass
class PriceBasis:
    """The prices a finding's current cost and its recommended cost were computed at."""

    current: tuple[Price, ...]
    recommended: tuple[Price, ...]
    effective: dict[str, AccountRate] = field(default_factory=dict)  # usage -> rate used
    list_monthly_savings_usd: float | None = None
    notes: list[str] = field(default_factory=list)
    # True: the saving is (current rates - recommended rates) x a quantity that moves (Spot
    # tasks' hours), not the difference of the two sides' whole monthly costs
    per_unit_change: bool = False
    # AWS's purchase recommendation for a reservation finding (pricing.recommendation)
    aws_recommendation: dict[str, Any] | None = None

    def prices(self) -> tuple[Price, ...]:
        seen: dict[str, Price] = {}
        for price in (*self.current, *self.recommended):
            seen.setdefault(rate_key(price), price)
        return tuple(seen.values())

    def list_priced(self) -> list[Price]:
        """The prices that stayed at list (no account rate replaced them)."""
        return [price for price in self.prices() if price.usage not in self.effective]

    @property
    def from_bill(self) -> bool:
        """Some rate had no list price and is what the bill showed (no list saving exists)."""
        return any(price.from_bill for price in self.prices())

    @property
    def basis(self) -> str:
        if self.effective or self.from_bill:
            return ACCOUNT_EFFECTIVE
        kinds = {list_basis(price) for price in self.prices()}
        return PRICE_LIST_CACHE if kinds == {PRICE_LIST_CACHE} else EMBEDDED_LIST

    def to_dict(self, monthly_savings_usd: float) -> dict[str, Any]:
        rates: dict[str, float] = {}
        list_rates: dict[str, float] = {}
        for price in self.prices():
            key = rate_key(price)
            account = self.effective.get(price.usage)
            rates[key] = round(account.usd if account else price.usd, 6)
            if account is not None and not price.from_bill:
                list_rates[key] = round(price.usd, 6)
        dates = sorted({price_date(price) for price in self.list_priced()})
        out: dict[str, Any] = {
            "basis": self.basis,
            "rates": rates,
            "as_of": (max(rate.month for rate in self.effective.values()) if self.effective
                      else (dates[0] if dates else None)),
            # no list price, no list saving: null rather than the bill's figure twice
            "list_monthly_savings_usd": None if self.from_bill else round(
                monthly_savings_usd if self.list_monthly_savings_usd is None
                else self.list_monthly_savings_usd, 2),
        }
        if list_rates:
            out["list_rates"] = list_rates
            out["list_as_of"] = dates[0] if dates else None
        estimates = [f"{rate_key(price)}: {price.source}" for price in self.list_priced()
                     if is_estimate(price)]
        if estimates:
            out["estimate"] = "; ".join(estimates)
        if self.aws_recommendation is not None:
            out["aws_recommendation"] = dict(self.aws_recommendation)
        if self.notes:
            out["notes"] = list(self.notes)
        out["sources"] = sorted({price.table for price in self.list_priced() if price.table})
        return out


def basis(*current: Price | None, recommended: tuple[Price | None, ...] | None = None,
          per_unit_change: bool = False) -> PriceBasis:
    """The prices of the current side, and of the recommended side when they differ (a Spot
    rate, a reservation, a cheaper storage class); None entries are left out."""
    now = tuple(price for price in current if price is not None)
    after = now if recommended is None else tuple(p for p in recommended if p is not None)
    return PriceBasis(now, after, per_unit_change=per_unit_change)


def _side_factor(prices: tuple[Price, ...], rates: dict[str, AccountRate]) -> float:
    """effective / list for one side: the rates' factors weighted by their list price (exact
    when they agree, as a Savings Plan's discount does across Fargate vCPU and GB)."""
    weight = sum(price.usd for price in prices)
    if weight <= 0:
        return 1.0
    return sum(price.usd * (rates[price.usage].usd / price.usd if price.usage in rates else 1.0)
               for price in prices) / weight


def settle(finding: Any, rates: AccountRates) -> None:
    """Restate one finding (a rules.findings.Finding) at the account's rates, in place."""
    priced = finding.pricing
    if not isinstance(priced, PriceBasis):
        return
    found: dict[str, AccountRate] = {}
    for price in priced.prices():
        if not price.usage or price.usage in priced.effective:
            continue  # no usage type, or a rate the rule already took from the bill
        rate, problem = rates.rate_for(finding.account, price)
        if rate is not None:
            found[price.usage] = rate
            if price.from_bill:
                priced.notes.append(f"no list price for {price.usage} in {price.region}: "
                                    f"priced at what this account paid ({rate.usage_type}, "
                                    f"{rate.month})")
        elif price.from_bill:
            priced.notes.append(f"no list price for {price.usage} in {price.region} and no "
                                f"usage of this account's: {price.source}")
        elif problem:
            priced.notes.append(problem)
    priced.list_monthly_savings_usd = finding.monthly_savings_usd
    if not found:
        return
    priced.effective = found
    now_factor = _side_factor(priced.current, found)
    after_factor = _side_factor(priced.recommended, found)
    if priced.per_unit_change:
        now_rate = sum(price.usd for price in priced.current)
        after_rate = sum(price.usd for price in priced.recommended)
        if now_rate > after_rate:
            finding.monthly_savings_usd *= ((now_rate * now_factor - after_rate * after_factor)
                                            / (now_rate - after_rate))
        finding.monthly_cost_usd *= now_factor
    else:
        current = finding.monthly_cost_usd
        after = current - finding.monthly_savings_usd
        finding.monthly_cost_usd = current * now_factor
        finding.monthly_savings_usd = current * now_factor - after * after_factor
    if finding.monthly_savings_usd < 0:
        priced.notes.append("at the rates this account pays the change saves nothing "
                            f"(list saving ${priced.list_monthly_savings_usd:,.2f}/month)")
        finding.monthly_savings_usd = 0.0
