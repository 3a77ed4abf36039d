"""The rates this account pays, from Cost Explorer's last full month by usage type.

Each `ce_usage` row (collect/collectors/costs.py) is one usage type's month: UnblendedCost,
NetAmortizedCost (AmortizedCost where net was not returned) and UsageQuantity. The effective
rate is amortized cost / quantity: amortized cost spreads a reservation's or a Savings Plan's
fee over the usage it covered and net takes private discounts off, so it is what each unit
cost this account (https://docs.aws.amazon.com/cost-management/latest/userguide/ce-advanced.html).

Usage types carry the region's billing code first (`APS3-Fargate-GB-Hours`; us-east-1 often
none): https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-region-billing-codes.html.
A usage type whose code or meter this module does not know is not used; a known meter with a
zero quantity, a missing metric, or a rate implausibly far from list (another unit) is a
problem row and the finding keeps its list price, saying why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from rightsizer.pricing import Price

# Region billing codes (the page above). A usage type without one is us-east-1's.
BILLING_CODES: dict[str, str] = {
    "USE1": "us-east-1", "USE2": "us-east-2", "USW1": "us-west-1", "USW2": "us-west-2",
    "CAN1": "ca-central-1", "CAN2": "ca-west-1", "MXC1": "mx-central-1", "AFS1": "af-south-1",
    "APE1": "ap-east-1", "APE2": "ap-east-2", "APN1": "ap-northeast-1", "APN2": "ap-northeast-2",
    "APN3": "ap-northeast-3", "APS1": "ap-southeast-1", "APS2": "ap-southeast-2",
    "APS3": "ap-south-1", "APS4": "ap-southeast-3", "APS5": "ap-south-2",
    "APS6": "ap-southeast-4", "APS7": "ap-southeast-5", "EU": "eu-west-1",
    "EUC1": "eu-central-1", "EUW2": "eu-west-2", "EUW3": "eu-west-3", "SAE1": "sa-east-1",
}

# The meters rightsizer prices, after the billing code (the `usage` of each Price). S3, CloudWatch
# Logs and ECR all bill stored bytes as TimedStorage-*: their rows are told apart by the
# service Cost Explorer grouped them under.
_METERS = re.compile(
    r"^(?:(?:SpotUsage-)?Fargate-(?:ARM-|Windows-)?(?:vCPU-Hours:perCPU|GB-Hours)"
    r"|Fargate-Windows-OS-Hours:perCPU"
    r"|(?:InstanceUsage|Multi-AZUsage):db\.[a-z0-9]+\.[a-z0-9]+"
    r"|RDS:(?:Multi-AZ-)?(?:GP2-Storage|GP3-Storage|PIOPS-Storage(?:-IO2)?)"
    r"|NodeUsage:cache\.[a-z0-9]+\.[a-z0-9]+"
    r"|NatGateway-(?:Hours|Bytes)|PublicIPv4:(?:InUseAddress|IdleAddress))$")
_STORAGE_METER = re.compile(r"^TimedStorage-(?:[A-Za-z]+-)?ByteHrs$|^TimedStorage-GlacierByteHrs$")
_SERVICE_TAGS = {"Amazon Simple Storage Service": "s3", "AmazonCloudWatch": "logs",
                 "Amazon EC2 Container Registry (ECR)": "ecr"}

# An effective rate below 5% or above 150% of list is another unit or a data error, not a
# discount (the deepest published commitment discounts are near 72% off).
PLAUSIBLE_FACTOR = (0.05, 1.5)


def unknown_region_code(usage_type: str) -> str | None:
    """The leading code of a usage type that carries a meter rightsizer prices behind a region
    code it does not know ("XYZ9" of "XYZ9-Fargate-GB-Hours": a Region newer than the table);
    None otherwise."""
    head, _, rest = usage_type.partition("-")
    if head in BILLING_CODES or not rest or not re.fullmatch(r"[A-Z]{2,4}[0-9]{0,2}", head):
        return None
    return head if _METERS.match(rest) else None


def split_usage_type(usage_type: str, service: str = "") -> tuple[str, str] | None:
    """("ap-south-1", "Fargate-GB-Hours") for "APS3-Fargate-GB-Hours"; None when the code or
    the meter is not one rightsizer knows."""
    head, _, rest = usage_type.partition("-")
    if head in BILLING_CODES and rest:
        region, meter = BILLING_CODES[head], rest
    else:
        region, meter = "us-east-1", usage_type
    if _METERS.match(meter):
        return region, meter
    tag = _SERVICE_TAGS.get(service)
    if tag and _STORAGE_METER.match(meter):
        return region, f"{tag}:{meter}"
    return None


@dataclass(frozen=True)
class AccountRate:
    usd: float  # per unit, what the account paid
    month: str  # YYYY-MM
    metric: str  # NetAmortizedCost or AmortizedCost
    usage_type: str  # as Cost Explorer wrote it
    list_usd: float  # UnblendedCost / quantity, for the record
    unit: str = ""  # UsageQuantity's unit as Cost Explorer wrote it ("Hrs", "GB-Mo", "GB")


@dataclass
class AccountRates:
    """(account, region, meter) -> the rate paid; "*" stands for every account (a payer's
    answer not split by linked account)."""

    rates: dict[tuple[str, str, str], AccountRate] = field(default_factory=dict)
    problems: list[dict[str, str]] = field(default_factory=list)
    accounts: set[str] = field(default_factory=set)  # accounts Cost Explorer answered for

    def rate_for(self, account: str, price: Price) -> tuple[AccountRate | None, str]:
        """The account's rate for this price's usage, or None and why (for the finding)."""
        rate = (self.rates.get((account, price.region, price.usage))
                or self.rates.get(("*", price.region, price.usage)))
        if rate is None:
            if account not in self.accounts and "*" not in self.accounts:
                return None, ""  # no Cost Explorer answer at all: the report says it once
            return None, f"no {price.usage} usage in {price.region} last month: list price"
        factor = rate.usd / price.usd if price.usd > 0 else math.inf
        low, high = PLAUSIBLE_FACTOR
        if not low <= factor <= high:
            return None, (f"{rate.usage_type} cost ${rate.usd:.6g} per unit against a list "
                          f"${price.usd:.6g}: not comparable, list price used")
        return rate, ""

    @cached_property
    def _by_meter(self) -> dict[tuple[str, str], list[AccountRate]]:
        """(region, meter) -> each account's rate, cheapest first (built once: rules look up
        a price for every resource and candidate size)."""
        index: dict[tuple[str, str], list[AccountRate]] = {}
        for (account, region, meter), rate in self.rates.items():
            if account != "*":
                index.setdefault((region, meter), []).append(rate)
        for rates in index.values():
            rates.sort(key=lambda rate: rate.usd)
        return index

    def bill_price(self, region: str, meter: str) -> Price | None:
        """A rate for a meter no price table has for the region: what the account (one
        answer for all, else the median of the accounts that used it) paid last month, in the
        meter's own unit; None when none did."""
        shared = self.rates.get(("*", region, meter))
        rates = [shared] if shared is not None else self._by_meter.get((region, meter), [])
        rates = [rate for rate in rates if billed_unit(meter, rate.unit)]
        if not rates:
            return None
        rate = rates[len(rates) // 2]
        who = "this account" if len(rates) == 1 else f"the median of {len(rates)} accounts"
        return Price(rate.usd, str(billed_unit(meter, rate.unit)),
                     f"Cost Explorer: what {who} paid per {rate.unit} of {rate.usage_type} in "
                     f"{rate.month} ({rate.metric} / UsageQuantity); no list price is tabled "
                     f"for {region}", rate.month, from_bill=True)


# The unit each meter bills in, as UsageQuantity names it for one usage type ("N/A" when a group
# mixes usage types: GetCostAndUsage's Metrics note,
# https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostAndUsage.html).
# A rate with no list price to check it against is used only in its own unit.
_UNITS = ((re.compile(r"(?:^|:)TimedStorage-|^RDS:.*-Storage"), "GB-Mo", "GB-month"),
          (re.compile(r"-Bytes$"), "GB", "GB"),
          (re.compile(r"-Hours$|Usage:|^PublicIPv4:"), "Hrs", "hour"))


def billed_unit(meter: str, unit: str) -> str | None:
    """The unit words of a rate in the unit its meter bills in; None for any other unit."""
    for pattern, billed, words in _UNITS:
        if pattern.search(meter):
            return words if unit == billed else None
    return None


def number(value: Any) -> float | None:
    """A figure Cost Explorer sent (a string, or a float read back from the snapshot); None
    when absent, not a number or not finite (a bool is not a number here)."""
    if isinstance(value, bool):
        return None
    try:
        parsed = float(value)
    except (TypeError, ValueError):
        return None
    return parsed if math.isfinite(parsed) else None


def account_rates(rows: Iterable[dict[str, Any]]) -> AccountRates:
    """Parse the snapshot's ce_usage rows (one per account, month, service, usage type)."""
    result = AccountRates()
    for row in rows:
        account = str(row.get("account", ""))
        result.accounts.add(account)
        usage_type = str(row.get("usage_type", ""))
        split = split_usage_type(usage_type, str(row.get("service", "") or ""))
        if split is None:
            code = unknown_region_code(usage_type)
            if code is not None:  # a meter we price, in a Region we cannot name: say so
                result.problems.append({
                    "account": account, "region": "global", "service": "ce",
                    "operation": "GetCostAndUsage", "code": "UnknownBillingCode",
                    "message": f"{usage_type} ({row.get('month')}): region code {code} is not "
                               "in rightsizer's billing-code table; list prices used for it"})
            continue  # a usage type no rule prices
        region, meter = split
        quantity = number(row.get("quantity"))
        amortized = number(row.get("amortized_usd"))
        unblended = number(row.get("unblended_usd"))

        def problem(code: str, message: str, row: dict[str, Any] = row,
                    account: str = account, region: str = region) -> None:
            result.problems.append({
                "account": account, "region": region, "service": "ce",
                "operation": "GetCostAndUsage", "code": code,
                "message": f"{row.get('usage_type')} ({row.get('month')}): {message}; "
                           "list prices used for it"})

        if quantity is None or amortized is None:
            problem("MissingMetric", "no UsageQuantity or amortized cost in the answer")
            continue
        if quantity <= 0:
            if amortized > 0:
                problem("ZeroUsageQuantity", f"${amortized:.2f} for a quantity of {quantity:g}")
            continue
        if amortized < 0:
            problem("NegativeCost", f"amortized cost ${amortized:.2f}")
            continue
        result.rates[(account, region, meter)] = AccountRate(
            usd=amortized / quantity, month=str(row.get("month", "")),
            metric=str(row.get("amortized_metric", "")), usage_type=usage_type,
            list_usd=(unblended or 0.0) / quantity, unit=str(row.get("unit", "") or ""))
    return result
