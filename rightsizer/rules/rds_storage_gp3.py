"""rds-storage-gp3: databases still on gp2 storage, where gp3 costs less or gives more IOPS."""

from __future__ import annotations

import shlex
from typing import Any

from pydantic import Field

from rightsizer import pricing
from rightsizer.rules.base import Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Skipped, finding_for, skipped_for, unpriced
from rightsizer.rules.support.rds_common import RdsInstance, rds_instances
from rightsizer.snapshot.store import Snapshot

RULE_ID = "rds-storage-gp3"

# gp2: 3 IOPS per GiB, at least 100 and at most 16,000 (bursts to 3,000 below 1 TiB while
# I/O credits last). Source:
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html#Concepts.Storage.GeneralSSD
GP2_IOPS_PER_GB = 3
GP2_MIN_IOPS = 100
GP2_MAX_IOPS = 16_000
# gp3 baseline included in the storage price. RDS stripes gp3 over several volumes from a
# threshold size on, which raises the baseline; SQL Server does not stripe. Source: same page,
# "gp3 storage": Db2/MariaDB/MySQL/PostgreSQL < 400 GiB: 3,000 IOPS / 125 MiB/s,
# >= 400 GiB: 12,000 IOPS / 500 MiB/s; Oracle from 200 GiB; SQL Server 3,000 / 125 at any size.
GP3_BASE = (3_000, 125)
GP3_STRIPED = (12_000, 500)
GP3_STRIPE_FROM_GB = {"oracle": 200, "sqlserver": None}
GP3_STRIPE_FROM_GB_DEFAULT = 400
# gp3 volume size on RDS: 20 GiB-64 TiB, 16 TiB on SQL Server (same page, table "Volume size").
GP3_MIN_GB = 20
GP3_MAX_GB = 65_536
GP3_MAX_GB_SQLSERVER = 16_384
# "When you increase the allocated storage, it must be by at least 10 percent", and storage
# can never be reduced again. Source:
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.StorageTypes.html#USER_PIOPS.ModifyingExisting
MIN_GROWTH_PERCENT = 10
STORAGE_SOURCE = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html"


class Settings(RuleSettings):
    report_free_performance: bool = Field(
        True,
        description="Also report gp2 volumes that gp3 would serve with more baseline IOPS at "
        "the same price (a $0 finding) where gp3 is not cheaper per GB.",
    )


def gp2_baseline_iops(allocated_gb: int) -> int:
    return min(GP2_MAX_IOPS, max(GP2_MIN_IOPS, GP2_IOPS_PER_GB * allocated_gb))


def _engine_family(engine: str) -> str:
    family = engine.lower()
    return "oracle" if family.startswith("oracle") else (
        "sqlserver" if family.startswith("sqlserver") else family)


def gp3_size_limits_gb(engine: str) -> tuple[int, int]:
    """(minimum, maximum) gp3 allocated storage in GiB for this engine."""
    if _engine_family(engine) == "sqlserver":
        return GP3_MIN_GB, GP3_MAX_GB_SQLSERVER
    return GP3_MIN_GB, GP3_MAX_GB


def gp3_target_gb(engine: str, allocated_gb: int) -> int:
    """The allocated storage the move to gp3 needs: the current size when gp3 allows it, else
    gp3's minimum, raised to the 10% minimum growth an increase must have."""
    minimum, _ = gp3_size_limits_gb(engine)
    if allocated_gb >= minimum:
        return allocated_gb
    at_least_grown = -(-allocated_gb * (100 + MIN_GROWTH_PERCENT) // 100)  # ceiling, integers
    return max(minimum, at_least_grown)


def gp3_baseline(engine: str, allocated_gb: int) -> tuple[int, int]:
    """(IOPS, MiB/s) gp3 includes for this engine and size."""
    family = _engine_family(engine)
    threshold = GP3_STRIPE_FROM_GB.get(family, GP3_STRIPE_FROM_GB_DEFAULT)
    if threshold is not None and allocated_gb >= threshold:
        return GP3_STRIPED
    return GP3_BASE


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    for inst in rds_instances(snapshot):
        outcome = _judge(settings, inst)
        result.add(outcome)
    return result


def _judge(settings: Settings, inst: RdsInstance) -> Finding | Skipped | None:
    resource = inst.resource
    if inst.storage_type not in ("gp2", ""):
        return None  # gp3, io1/io2, magnetic or Aurora storage: not this rule's change
    stopped = inst.not_running
    if stopped:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           f"{stopped}: the storage of a running instance only is changed")
    if not inst.storage_type:
        # StorageType is optional in DescribeDBInstances answers (absent in some recorded ones)
        return skipped_for(resource, RULE_ID, "insufficient-data",
                           "storage type unknown (no StorageType in DescribeDBInstances)")
    if inst.pending_storage_type:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           f"a change to {inst.pending_storage_type} storage is already "
                           "pending")
    size = inst.allocated_storage_gb
    if size <= 0:
        return skipped_for(resource, RULE_ID, "insufficient-data",
                           "allocated storage size unknown")
    minimum, maximum = gp3_size_limits_gb(inst.engine)
    if size > maximum:
        return skipped_for(resource, RULE_ID, "not-applicable",
                           f"{size:,} GiB is above gp3's {maximum:,} GiB maximum for "
                           f"{inst.engine} ({STORAGE_SOURCE})")
    gp2 = pricing.rds_storage_gb_month_usd(resource.region, "gp2", multi_az=inst.multi_az)
    gp3 = pricing.rds_storage_gb_month_usd(resource.region, "gp3", multi_az=inst.multi_az)
    if gp2 is None or gp3 is None:
        missing = " and ".join(name for name, price in (("gp2", gp2), ("gp3", gp3))
                               if price is None)
        return unpriced(resource, RULE_ID, f"RDS {missing} storage")
    target = gp3_target_gb(inst.engine, size)
    if target > size and round(target * gp3.usd - size * gp2.usd, 6) > 0:
        return skipped_for(
            resource, RULE_ID, "not-applicable",
            f"{size} GiB gp2 is under gp3's {minimum} GiB minimum ({STORAGE_SOURCE}): the "
            f"move needs --allocated-storage {target}, "
            f"+${target * gp3.usd - size * gp2.usd:,.2f}/month, and allocated storage can "
            "never be reduced again")
    return _finding(settings, inst, gp2, gp3, target)


def _finding(settings: Settings, inst: RdsInstance, gp2: pricing.Price,
             gp3: pricing.Price, target: int) -> Finding | None:
    size = inst.allocated_storage_gb
    # Compare rounded prices so float noise never invents a saving.
    saving = round(size * gp2.usd - target * gp3.usd, 6)
    saving_per_gb = round(gp2.usd - gp3.usd, 6)
    gp2_iops = gp2_baseline_iops(size)
    gp3_iops, gp3_mibps = gp3_baseline(inst.engine, target)
    more_iops = gp3_iops > gp2_iops
    if saving <= 0 and not (more_iops and settings.report_free_performance):
        return None  # neither cheaper nor faster: leave it alone
    monthly_cost = size * gp2.usd
    copies = " (x2 for Multi-AZ)" if inst.multi_az else ""
    grow = (f"; gp3 needs at least {GP3_MIN_GB} GiB, so the move sets {target} GiB"
            if target > size else "")
    if saving > 0:
        reason = (f"{size} GB gp2 at ${gp2.usd:g}/GB-month{copies}; gp3 costs "
                  f"${gp3.usd:g}/GB-month here and includes {gp3_iops:,} IOPS / "
                  f"{gp3_mibps} MiB/s (gp2 baseline {gp2_iops:,} IOPS){grow}")
    else:
        reason = (f"{size} GB gp2 gets a {gp2_iops:,} IOPS baseline; gp3 costs the same "
                  f"${gp3.usd:g}/GB-month{copies} in {inst.resource.region} and includes "
                  f"{gp3_iops:,} IOPS / {gp3_mibps} MiB/s: no saving ($0), free performance"
                  f"{grow}")
    if inst.status == "storage-optimization":
        reason += ("; a storage change is still being optimized: storage can be modified "
                   "again once it completes (and no sooner than 6 hours after the last one)")
    evidence: dict[str, Any] = {
        "storage_type": "gp2",
        "allocated_storage_gb": size,
        "target_allocated_storage_gb": target,
        "gp3_min_gb": gp3_size_limits_gb(inst.engine)[0],
        "gp3_max_gb": gp3_size_limits_gb(inst.engine)[1],
        "multi_az": inst.multi_az,
        "engine": inst.engine,
        "status": inst.status,
        "read_replica_of": inst.replica_of or None,
        "gp2_gb_month_usd": gp2.usd,
        "gp3_gb_month_usd": gp3.usd,
        "saving_per_gb_month_usd": max(0.0, saving_per_gb),
        "gp2_baseline_iops": gp2_iops,
        "gp3_baseline_iops": gp3_iops,
        "gp3_baseline_throughput_mibps": gp3_mibps,
        "note": "gp2 below 1 TiB bursts to 3,000 IOPS while I/O credits last; gp3's baseline "
        "is sustained. RDS stripes gp3 from 400 GiB (200 GiB Oracle; never SQL Server), "
        "which raises the baseline to 12,000 IOPS / 500 MiB/s",
        "price_source": gp2.source,
        "specs_source": STORAGE_SOURCE,
    }
    return finding_for(
        inst.resource, RULE_ID,
        current={"storage_type": "gp2", "allocated_storage_gb": size,
                 "baseline_iops": gp2_iops},
        recommended={"storage_type": "gp3", "allocated_storage_gb": target,
                     "baseline_iops": gp3_iops, "throughput_mibps": gp3_mibps},
        monthly_cost_usd=monthly_cost,
        monthly_savings_usd=max(0.0, saving),
        pricing=pricing.basis(gp2, recommended=(gp3,)),
        evidence=evidence,
        reason=reason,
    )


def how_to_apply(finding: Finding) -> dict[str, str]:
    name, region = shlex.quote(finding.name), shlex.quote(finding.region)
    size = int(finding.current.get("allocated_storage_gb") or 0)
    target = int(finding.recommended.get("allocated_storage_gb") or size)
    grow = target > size
    # ModifyDBInstance --storage-type / --allocated-storage:
    # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.StorageTypes.html#USER_PIOPS.ModifyingExisting
    return {
        "cli": (
            "# Online change (no downtime): the instance shows storage-optimization for a "
            "while, and its storage cannot be modified again for 6 hours"
            + (f"; gp3 needs {target} GiB (storage can never be reduced)" if grow else "")
            + ".\n"
            f"aws rds modify-db-instance --db-instance-identifier {name} --storage-type gp3 "
            + (f"--allocated-storage {target} " if grow else "")
            + f"--apply-immediately --region {region}"
        ),
        "terraform": (
            "# aws_db_instance\nstorage_type = \"gp3\""
            + (f"\nallocated_storage = {target}" if grow else "")
        ),
        "cdk": (
            "// rds.DatabaseInstance\nstorageType: rds.StorageType.GP3,"
            + (f"\nallocatedStorage: {target}," if grow else "")
        ),
    }


RULE = Rule(
    id=RULE_ID,
    title="Move RDS storage from gp2 to gp3",
    why=(
        "gp2 ties performance to size (3 IOPS per GB), so a small database volume gets a few "
        "hundred IOPS and relies on burst credits. gp3 includes a sustained 3,000 IOPS and "
        "125 MiB/s at any size. On RDS the two cost the same per GB in most regions, so the "
        "change is usually free performance rather than savings; where gp3 is cheaper the "
        "finding carries the dollars."
    ),
    resource_type="rds-instance",
    bill_services=('Amazon Relational Database Service',),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
)
