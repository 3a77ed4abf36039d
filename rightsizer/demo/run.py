"""`--demo`: the real pipeline against an EduFly-like account inside an embedded moto backend.

No AWS account and no network: moto answers every call in-process. The few reads moto does not
implement are answered by botocore event hooks with responses shaped like AWS's own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import boto3

from rightsizer.config import Config
from rightsizer.demo import savings_plans
from rightsizer.demo.account import DEMO_REGION, DemoAccount, build_demo_account
from rightsizer.demo.metrics import keep_out_of_moto
from rightsizer.demo.metrics import serve as serve_metrics

_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "demo-access-key",
    "AWS_SECRET_ACCESS_KEY": "demo-secret-key",
    "AWS_SESSION_TOKEN": "demo-session-token",
    "AWS_DEFAULT_REGION": DEMO_REGION,
}
# Real credentials or endpoints must never reach the demo (and moto must not be bypassed).
_CLEARED_ENV = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE",
                "AWS_SHARED_CREDENTIALS_FILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")


@contextmanager
def _demo_environment() -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in (*_FAKE_ENV, *_CLEARED_ENV)}
    try:
        for key in _CLEARED_ENV:
            os.environ.pop(key, None)
        os.environ.update(_FAKE_ENV)
        os.environ["AWS_CONFIG_FILE"] = os.devnull
        os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def demo_reserved_db_instances(now: datetime) -> dict[str, Any]:
    """moto does not implement DescribeReservedDBInstances: the demo team's only reservation
    (for the old single-AZ db.t3.micro) expired last year, as real responses show it."""
    start = now - timedelta(days=365 * 2)
    return {
        "ReservedDBInstances": [{
            "ReservedDBInstanceId": "edufly-db-2024",
            "ReservedDBInstancesOfferingId": "8ba30be1-b9ec-447f-8f23-6114e3f4c7b4",
            "DBInstanceClass": "db.t3.micro",
            "StartTime": start,
            "Duration": 31536000,
            "FixedPrice": 0.0,
            "UsagePrice": 0.0,
            "CurrencyCode": "USD",
            "DBInstanceCount": 1,
            "ProductDescription": "postgresql",
            "OfferingType": "No Upfront",
            "MultiAZ": False,
            "State": "retired",
            "RecurringCharges": [{"RecurringChargeAmount": 0.013,
                                  "RecurringChargeFrequency": "Hourly"}],
            "ReservedDBInstanceArn": "arn:aws:rds:ap-south-1:123456789012:ri:edufly-db-2024",
        }],
        "ResponseMetadata": {"HTTPStatusCode": 200},
    }


def _ok(parsed: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    return SimpleNamespace(status_code=200, headers={}), parsed


def _answer_unimplemented(session: boto3.Session, now: datetime) -> None:
    """Reads moto does not implement, answered as AWS answers an account with no reservations."""
    answers: dict[str, Any] = {
        "rds.DescribeReservedDBInstances": lambda: demo_reserved_db_instances(now),
        "elasticache.DescribeReservedCacheNodes": lambda: {"ReservedCacheNodes": []},
        "cost-explorer.GetReservationPurchaseRecommendation": lambda: {"Recommendations": []},
        "cost-explorer.GetReservationUtilization": lambda: {"UtilizationsByTime": []},
    }
    answers.update({
        "cost-explorer.GetSavingsPlansCoverage": lambda: savings_plans.coverage(now),
        "cost-explorer.GetSavingsPlansUtilization": lambda: savings_plans.utilization(now),
        "savingsplans.DescribeSavingsPlansOfferingRates": savings_plans.offering_rates,
    })
    for event, answer in answers.items():
        session.events.register(f"before-call.{event}",
                                lambda answer=answer, **_: _ok(answer()))

    def by_request(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
        body = savings_plans.request_body(params)
        if "TermInYears" in body:
            return _ok(savings_plans.recommendation(str(body["TermInYears"])))
        if body.get("Granularity") == "HOURLY":  # the monthly costs are moto's queued ones
            return _ok(savings_plans.hourly_costs(now))
        return None

    for event in ("GetSavingsPlansPurchaseRecommendation", "GetCostAndUsage"):
        session.events.register(f"before-call.cost-explorer.{event}", by_request)


@contextmanager
def demo_session(config: Config) -> Iterator[tuple[boto3.Session, datetime]]:
    """A session whose every call is answered by the built demo account; restores env after."""
    from moto import mock_aws

    with _demo_environment(), mock_aws():
        now = datetime.now(UTC)
        session = boto3.Session(region_name=DEMO_REGION)
        keep_out_of_moto(session)  # DemoMetrics answers for them
        account = build_demo_account(session, now=now, days=config.analysis.lookback_days,
                                     history_days=config.analysis.sizing_history_days,
                                     period_seconds=config.analysis.period_seconds)
        # moto's GetMetricData scans every datum for every period of every query
        serve_metrics(session, account.metrics)
        _age_buckets(account, now)
        _answer_unimplemented(session, now)
        yield session, now


# How long ago each demo bucket was created. moto stamps every bucket "now", which would make
# every object look brand new to the s3-lifecycle estimate.
BUCKET_AGE_DAYS = {"documents": 700, "assets": 540, "exports": 400, "logos": 700}


def _age_buckets(account: DemoAccount, now: datetime) -> None:
    from moto.s3.models import s3_backends

    for role, bucket in account.buckets.items():
        for partitions in s3_backends.values():
            for backend in partitions.values():
                if bucket in backend.buckets:
                    backend.buckets[bucket].creation_date = now - timedelta(
                        days=BUCKET_AGE_DAYS.get(role, 365))


# The EduFly persona's time zone (its region is DEMO_REGION): set explicitly, never taken from
# the defaults, which follow the user's own session (regions) and UTC (schedule).
DEMO_TIMEZONE = "Asia/Kolkata"


def demo_config(config: Config) -> Config:
    return config.with_overrides(**{"aws.regions": [DEMO_REGION],
                                    "schedule.timezone": DEMO_TIMEZONE})
