"""Cost Explorer: monthly cost by service, RDS and ElastiCache reservation utilization, and
AWS's own reservation purchase recommendations.

Every Cost Explorer request costs $0.01 (https://aws.amazon.com/aws-cost-management/pricing/), so a
run makes at most a handful per account and caches each answer on disk for the month.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
from botocore.exceptions import ClientError

from rightsizer.collect.collectors.base import (
    ErrorLog,
    Target,
    error_code,
    recorded_failure,
    to_json,
)
from rightsizer.collect.spec import CollectorSpec, same_name, schema

SERVICE = "ce"
CE_REGION = "us-east-1"  # Cost Explorer has a single endpoint
COST_MONTHS = 6
RECOMMENDATION_SERVICES = ("Amazon Relational Database Service", "Amazon ElastiCache")
# The purchase recommendation asked for: the reservation rules recommend 1-year No Upfront, and
# pricing/reserved_rate.py takes AWS's rate from the answer only for that term and payment.
RECOMMENDATION_TERMS = {"LookbackPeriodInDays": "SIXTY_DAYS", "TermInYears": "ONE_YEAR",
                        "PaymentOption": "NO_UPFRONT"}


def month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + (day.month - 1) - months_back
    return date(index // 12, index % 12 + 1, 1)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rightsizer" / "cost-explorer"


class MonthlyCache:
    """Cost Explorer answers keyed by account, request and calendar month."""

    def __init__(self, directory: Path | None, today: date) -> None:
        self.directory = directory
        self.month = today.strftime("%Y-%m")

    def _path(self, account: str, operation: str, params: dict[str, Any]) -> Path | None:
        if self.directory is None:
            return None
        digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
        return self.directory / account / self.month / f"{operation}-{digest}.json"

    def get(self, account: str, operation: str, params: dict[str, Any]) -> list[Any] | None:
        path = self._path(account, operation, params)
        if path is None or not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None  # a damaged cache entry is simply fetched again

    def put(self, account: str, operation: str, params: dict[str, Any],
            pages: list[Any]) -> None:
        path = self._path(account, operation, params)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(pages, default=str))
            os.replace(tmp, path)
        except OSError:
            pass  # caching is an optimisation: a read-only home must not fail the run


def _pages(target: Target, cache: MonthlyCache, operation: str, method: str,
           params: dict[str, Any], token_field: str) -> list[dict[str, Any]]:
    cached = cache.get(target.account, operation, params)
    if cached is not None:
        return cached
    ce = target.client("ce", CE_REGION)
    pages: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs = dict(params)
        if token:
            kwargs[token_field] = token
        response = getattr(ce, method)(**kwargs)
        response.pop("ResponseMetadata", None)
        pages.append(response)
        token = response.get(token_field)
        if not token:
            break
    cache.put(target.account, operation, params, pages)
    return pages


def _cost_groups(target: Target, cache: MonthlyCache, params: dict[str, Any]
                 ) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(month, period, group) of every group of a GetCostAndUsage answer, page by page."""
    for page in _pages(target, cache, "GetCostAndUsage", "get_cost_and_usage", params,
                       "NextPageToken"):
        for period in page.get("ResultsByTime", []):
            month = str(period["TimePeriod"]["Start"])[:7]
            for group in period.get("Groups", []):
                yield month, period, group


def collect_costs(target: Target, errors: ErrorLog, today: date, *,
                  cache: MonthlyCache | None = None, months: int = COST_MONTHS,
                  linked_accounts: set[str] | None = None) -> list[dict[str, Any]]:
    """The last `months` full months plus the current month to date, by service.

    With `linked_accounts`, one request from the caller grouped by linked account as well (the
    management account sees every member's costs): the rows of those accounts are kept, each
    under its own account id, so merged shards never count a cost twice.
    """
    cache = cache or MonthlyCache(None, today)
    start = month_start(today, months)
    end = today if today > month_start(today) else month_start(today)
    group_by = [{"Type": "DIMENSION", "Key": "SERVICE"}]
    if linked_accounts is not None:
        group_by.append({"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"})
    params = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": group_by,
    }
    rows: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, "global", SERVICE, "GetCostAndUsage"):
        for month, period, group in _cost_groups(target, cache, params):
            keys = [str(key) for key in group.get("Keys", [])] or ["?"]
            account = target.account
            if linked_accounts is not None:
                account = keys[1] if len(keys) > 1 else "?"
                if account not in linked_accounts:
                    continue  # an account this run (or shard) does not cover
            amount = group.get("Metrics", {}).get("UnblendedCost", {}).get("Amount", 0)
            rows.append({
                "account": account,
                "month": month,
                "service": keys[0],
                "amount_usd": float(amount),
                "estimated": bool(period.get("Estimated", False)),
            })
    return rows


# The services whose usage types rightsizer prices (rightsizer.pricing.account). S3, CloudWatch
# Logs and ECR all meter stored bytes as TimedStorage-ByteHrs, so their rows must keep the
# SERVICE key; the others' usage types are distinct.
STORAGE_SERVICES = ("Amazon Simple Storage Service", "AmazonCloudWatch",
                    "Amazon EC2 Container Registry (ECR)")
COMPUTE_SERVICES = ("Amazon Elastic Container Service", "Amazon Relational Database Service",
                    "Amazon ElastiCache", "EC2 - Other", "Amazon Virtual Private Cloud")
# NetAmortizedCost is absent for accounts without net pricing data: AmortizedCost then.
# https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostAndUsage.html
USAGE_METRICS = ["UnblendedCost", "NetAmortizedCost", "AmortizedCost", "UsageQuantity"]


def _usage_requests(today: date, linked_accounts: set[str] | None
                    ) -> list[tuple[dict[str, Any], bool]]:
    """(params, keyed by linked account) of each request: one grouped by SERVICE and
    USAGE_TYPE for one account; from a payer, S3, CloudWatch and ECR by SERVICE (payer-wide
    rates) and the compute services by LINKED_ACCOUNT, each account's own (two at most)."""
    period = {"Start": month_start(today, 1).isoformat(), "End": month_start(today).isoformat()}

    def request(services: tuple[str, ...], second: str) -> dict[str, Any]:
        return {"TimePeriod": period, "Granularity": "MONTHLY", "Metrics": USAGE_METRICS,
                "Filter": {"Dimensions": {"Key": "SERVICE", "Values": list(services)}},
                "GroupBy": [{"Type": "DIMENSION", "Key": second},
                            {"Type": "DIMENSION", "Key": "USAGE_TYPE"}]}

    if linked_accounts is None:
        return [(request(STORAGE_SERVICES + COMPUTE_SERVICES, "SERVICE"), False)]
    return [(request(STORAGE_SERVICES, "SERVICE"), False),
            (request(COMPUTE_SERVICES, "LINKED_ACCOUNT"), True)]


def _metric(metrics: dict[str, Any], name: str) -> float | None:
    try:
        return float(metrics[name]["Amount"])
    except (KeyError, TypeError, ValueError):
        return None


def collect_usage(target: Target, errors: ErrorLog, today: date, *,
                  cache: MonthlyCache | None = None,
                  linked_accounts: set[str] | None = None) -> list[dict[str, Any]]:
    """The last full month by usage type: cost (unblended and amortized) and quantity, from
    which rightsizer.pricing.account takes the rates the account pays. Rows from a payer's
    SERVICE-grouped answer carry account "*" (they hold for every linked account)."""
    cache = cache or MonthlyCache(None, today)
    rows: list[dict[str, Any]] = []
    for params, by_account in _usage_requests(today, linked_accounts):
        with recorded_failure(errors, target.account, "global", SERVICE, "GetCostAndUsage"):
            for month, _period, group in _cost_groups(target, cache, params):
                keys = [str(key) for key in group.get("Keys", [])]
                if len(keys) != 2:
                    continue
                first, usage_type = keys
                account, service = (first, "") if by_account else (
                    "*" if linked_accounts is not None else target.account, first)
                if by_account and account not in (linked_accounts or set()):
                    continue
                metrics = group.get("Metrics", {})
                net = _metric(metrics, "NetAmortizedCost")
                amortized = net if net is not None else _metric(metrics, "AmortizedCost")
                quantity = metrics.get("UsageQuantity", {})
                rows.append({
                    "account": account, "month": month, "service": service,
                    "usage_type": usage_type,
                    "unblended_usd": _metric(metrics, "UnblendedCost"),
                    "amortized_usd": amortized,
                    "amortized_metric": "NetAmortizedCost" if net is not None else (
                        "AmortizedCost" if amortized is not None else ""),
                    "quantity": _metric(metrics, "UsageQuantity"),
                    "unit": str(quantity.get("Unit", "")) if isinstance(quantity, dict) else "",
                })
    return rows


def utilization_request(service: str, today: date) -> dict[str, Any]:
    """GetReservationUtilization of one service's reservations for the last full month, one
    group per reservation. Without a SERVICE filter the API answers for Amazon EC2 only; with
    GroupBy (SUBSCRIPTION_ID is the one key it takes) Granularity must be left out, and the
    answer is one period for the whole range:
    https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetReservationUtilization.html"""
    return {"TimePeriod": {"Start": month_start(today, 1).isoformat(),
                           "End": month_start(today).isoformat()},
            "Filter": {"Dimensions": {"Key": "SERVICE", "Values": [service]}},
            "GroupBy": [{"Type": "DIMENSION", "Key": "SUBSCRIPTION_ID"}]}


def collect_reservation_insights(target: Target, errors: ErrorLog, today: date, *,
                                 cache: MonthlyCache | None = None,
                                 reserved_services: set[str] | None = None,
                                 services: set[str] | None = None) -> list[dict[str, Any]]:
    """Last month's utilization of each reservation of the services the account holds
    reservations of (`reserved_services`, both by default: rules/reservation_underused.py reads
    it), and purchase recommendations for the services it runs (all by default). Each request
    costs $0.01: at most two of each, cached for the month."""
    cache = cache or MonthlyCache(None, today)
    rows: list[dict[str, Any]] = []
    requests = [
        ("utilization", "GetReservationUtilization", "get_reservation_utilization",
         utilization_request(service, today), "NextPageToken", service)
        for service in RECOMMENDATION_SERVICES
        if reserved_services is None or service in reserved_services]
    for service in RECOMMENDATION_SERVICES:
        if services is not None and service not in services:
            continue
        requests.append((
            "recommendation", "GetReservationPurchaseRecommendation",
            "get_reservation_purchase_recommendation",
            {"Service": service, **RECOMMENDATION_TERMS},
            "NextPageToken", service,
        ))
    for kind, operation, method, params, token_field, service in requests:
        with recorded_failure(errors, target.account, "global", SERVICE, operation):
            try:
                pages = _pages(target, cache, operation, method, params, token_field)
            except ClientError as exc:
                # No reservations at all is an answer, not a failure.
                if error_code(exc) == "DataUnavailableException":
                    # cached like any answer: otherwise every run pays for it again
                    cache.put(target.account, operation, params, [])
                    continue
                raise
            rows.extend({"account": target.account, "kind": kind, "service": service,
                         "data": to_json(page)} for page in pages)
    return rows


# Asked by the engine: once by the caller or in every account ([aws] cost_explorer), and the
# reservation reads only where the inventory shows something they can answer (engine.py).
SPECS = (
    CollectorSpec(
        table="costs", label="cost explorer",
        schema=schema("account", "month", "service", "amount_usd", "estimated",
                      amount_usd=pa.float64(), estimated=pa.bool_()),
        operations=same_name("ce:GetCostAndUsage")),
    CollectorSpec(
        table="ce_usage", label="cost explorer usage",
        schema=schema("account", "month", "service", "usage_type", "unblended_usd",
                      "amortized_usd", "amortized_metric", "quantity", "unit",
                      unblended_usd=pa.float64(), amortized_usd=pa.float64(),
                      quantity=pa.float64()),
        operations=same_name("ce:GetCostAndUsage")),
    CollectorSpec(
        table="ce_insights", label="reservations (cost explorer)",
        schema=schema("account", "kind", "service", "data"),
        operations=same_name("ce:GetReservationUtilization",
                             "ce:GetReservationPurchaseRecommendation")),
)
