"""The report's side of pricing: findings restated at the account's rates, and the notices a
reader needs to weigh the dollars (list prices only, a price table over a year old)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from rightsizer.pricing import recommendation, reserved_rate
from rightsizer.pricing.account import AccountRates, account_rates
from rightsizer.pricing.basis import PriceBasis, price_date, settle

STALE_AFTER_DAYS = 365


def snapshot_rates(snapshot: Any) -> AccountRates:
    """The account rates the snapshot's ce_usage table holds (none in an older snapshot)."""
    frame = snapshot.table("ce_usage")
    return account_rates(frame.to_dict("records") if not frame.empty else [])


def restate(findings: list[Any], rates: AccountRates, snapshot: Any = None) -> None:
    """Each finding at the account's rates, with AWS's reservation recommendation beside the
    reservation findings it covers."""
    for finding in findings:
        settle(finding, rates)
    if snapshot is not None:
        insights = snapshot.table("ce_insights")
        if not insights.empty:
            rows = insights.to_dict("records")
            reserved_rate.quote_reservations(findings, rows)  # AWS's quote, where unambiguous
            recommendation.attach(findings, rows)


def _cost_explorer_failure(snapshot: Any) -> str | None:
    errors = snapshot.table("errors")
    if errors.empty:
        return None
    failed = errors[(errors["service"] == "ce") & (errors["operation"] == "GetCostAndUsage")]
    return None if failed.empty else str(failed.iloc[0]["code"])


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text if len(text) == 10 else f"{text[:7]}-01")
    except ValueError:
        return None


def notices(snapshot: Any, findings: list[Any], rates: AccountRates) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    priced = [f.pricing for f in findings if isinstance(f.pricing, PriceBasis)]
    if not rates.rates:
        code = _cost_explorer_failure(snapshot)
        why = f"Cost Explorer not reachable ({code})" if code else \
            "Cost Explorer returned no usage by usage type"
        out.append({"level": "warning", "text": f"{why}: every finding is priced at list "
                    "prices, so savings are overstated for an account with a Savings Plan, "
                    "reservations or a private discount."})
    billed = [p for p in priced if any(rate.metric != reserved_rate.OPERATION
                                       for rate in p.effective.values())]
    if billed:
        month = max(rate.month for p in billed for rate in p.effective.values()
                    if rate.metric != reserved_rate.OPERATION)
        out.append({"level": "info", "text": f"{len(billed)} of {len(priced)} findings are "
                    f"priced at the rates this account paid in {month} (Cost Explorer net "
                    "amortized cost per unit, after Savings Plans, reservations and discounts); "
                    "the list-price saving is shown beside each."})
    quoted = [p for p in priced if reserved_rate.QUOTE_USAGE in p.effective]
    if quoted:
        out.append({"level": "info", "text": f"{len(quoted)} reservation finding"
                    f"{'s are' if len(quoted) != 1 else ' is'} priced at the reservation rate "
                    "AWS quotes this account (Cost Explorer's 1-year No Upfront purchase "
                    "recommendation); the price-table saving is shown beside each."})
    today = snapshot.window_end.date()
    stale: Counter[tuple[str, str]] = Counter()
    for p in priced:
        for table, as_of in {(price.table, price_date(price)) for price in p.list_priced()}:
            when = _date(as_of)
            if table and when is not None and (today - when).days > STALE_AFTER_DAYS:
                stale[(table, as_of)] += 1
    for (table, as_of), count in sorted(stale.items()):
        out.append({"level": "warning", "text": f"The {table} price table (as of {as_of}) "
                    f"priced {count} finding{'s' if count != 1 else ''} and is more than 12 "
                    "months old: run `rightsizer pricing refresh` for current list prices."})
    return out
