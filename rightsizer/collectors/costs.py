"""Cost Explorer: monthly cost by service. Each request costs $0.01, so ask once per account."""

from __future__ import annotations

from datetime import date
from typing import Any

from rightsizer.collectors.base import ErrorLog, Target, recorded_failure

SERVICE = "ce"
CE_REGION = "us-east-1"  # Cost Explorer has a single endpoint


def month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + (day.month - 1) - months_back
    return date(index // 12, index % 12 + 1, 1)


def collect_costs(target: Target, errors: ErrorLog, today: date,
                  months: int = 3) -> list[dict[str, Any]]:
    """The last `months` full months plus the current month to date."""
    start = month_start(today, months)
    end = today if today > month_start(today) else month_start(today)
    rows: list[dict[str, Any]] = []
    with recorded_failure(errors, target.account, "global", SERVICE, "GetCostAndUsage"):
        ce = target.client("ce", CE_REGION)
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
                "Granularity": "MONTHLY",
                "Metrics": ["UnblendedCost"],
                "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
            }
            if token:
                kwargs["NextPageToken"] = token
            response = ce.get_cost_and_usage(**kwargs)
            for period in response.get("ResultsByTime", []):
                month = str(period["TimePeriod"]["Start"])[:7]
                for group in period.get("Groups", []):
                    amount = group.get("Metrics", {}).get("UnblendedCost", {}).get("Amount", 0)
                    rows.append({
                        "account": target.account,
                        "month": month,
                        "service": str(group.get("Keys", ["?"])[0]),
                        "amount_usd": float(amount),
                        "estimated": bool(period.get("Estimated", False)),
                    })
            token = response.get("NextPageToken")
            if not token:
                break
    return rows
