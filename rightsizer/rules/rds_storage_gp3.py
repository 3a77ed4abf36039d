"""rds-storage-gp3: databases still on gp2 storage, where gp3 costs less or gives more IOPS."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from rightsizer import pricing
from rightsizer.findings import Finding, finding_for, skipped_for
from rightsizer.rules.base import Rule, RuleResult, RuleSettings
from rightsizer.rules.rds_common import RdsInstance, rds_instances
from rightsizer.snapshot import Snapshot

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


class Settings(RuleSettings):
    report_free_performance: bool = Field(
        True,
        description="Also report gp2 volumes that gp3 would serve with more baseline IOPS at "
        "the same price (a $0 finding) where gp3 is not cheaper per GB.",
    )


def gp2_baseline_iops(allocated_gb: int) -> int:
    return min(GP2_MAX_IOPS, max(GP2_MIN_IOPS, GP2_IOPS_PER_GB * allocated_gb))


def gp3_baseline(engine: str, allocated_gb: int) -> tuple[int, int]:
    """(IOPS, MiB/s) gp3 includes for this engine and size."""
    family = engine.lower()
    family = "oracle" if family.startswith("oracle") else (
        "sqlserver" if family.startswith("sqlserver") else family)
    threshold = GP3_STRIPE_FROM_GB.get(family, GP3_STRIPE_FROM_GB_DEFAULT)
    if threshold is not None and allocated_gb >= threshold:
        return GP3_STRIPED
    return GP3_BASE


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    for inst in rds_instances(snapshot):
        if inst.storage_type != "gp2":
            continue
        resource = inst.resource
        if inst.allocated_storage_gb <= 0:
            result.skipped.append(skipped_for(resource, RULE_ID, "insufficient-data",
                                              "allocated storage size unknown"))
            continue
        gp2 = pricing.rds_storage_gb_month_usd(resource.region, "gp2", multi_az=inst.multi_az)
        gp3 = pricing.rds_storage_gb_month_usd(resource.region, "gp3", multi_az=inst.multi_az)
        if gp2 is None or gp3 is None:
            missing = " and ".join(name for name, price in (("gp2", gp2), ("gp3", gp3))
                                   if price is None)
            result.skipped.append(skipped_for(
                resource, RULE_ID, "not-applicable",
                f"no price for RDS {missing} storage in {resource.region}"))
            continue
        finding = _finding(settings, inst, gp2, gp3)
        if finding is not None:
            result.findings.append(finding)
    return result


def _finding(settings: Settings, inst: RdsInstance, gp2: pricing.Price,
             gp3: pricing.Price) -> Finding | None:
    size = inst.allocated_storage_gb
    # Compare rounded prices so float noise never invents a saving.
    saving_per_gb = round(gp2.usd - gp3.usd, 6)
    gp2_iops = gp2_baseline_iops(size)
    gp3_iops, gp3_mibps = gp3_baseline(inst.engine, size)
    more_iops = gp3_iops > gp2_iops
    if saving_per_gb <= 0 and not (more_iops and settings.report_free_performance):
        return None  # neither cheaper nor faster: leave it alone
    monthly_cost = size * gp2.usd
    savings = max(0.0, saving_per_gb) * size
    copies = " (x2 for Multi-AZ)" if inst.multi_az else ""
    if saving_per_gb > 0:
        reason = (f"{size} GB gp2 at ${gp2.usd:g}/GB-month{copies}; gp3 costs "
                  f"${gp3.usd:g}/GB-month here and includes {gp3_iops:,} IOPS / "
                  f"{gp3_mibps} MiB/s (gp2 baseline {gp2_iops:,} IOPS)")
    else:
        reason = (f"{size} GB gp2 gets a {gp2_iops:,} IOPS baseline; gp3 costs the same "
                  f"${gp3.usd:g}/GB-month{copies} in {inst.resource.region} and includes "
                  f"{gp3_iops:,} IOPS / {gp3_mibps} MiB/s: no saving ($0), free performance")
    evidence: dict[str, Any] = {
        "storage_type": "gp2",
        "allocated_storage_gb": size,
        "multi_az": inst.multi_az,
        "engine": inst.engine,
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
        "specs_source": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
        "CHAP_Storage.html",
    }
    return finding_for(
        inst.resource, RULE_ID,
        current={"storage_type": "gp2", "allocated_storage_gb": size,
                 "baseline_iops": gp2_iops},
        recommended={"storage_type": "gp3", "allocated_storage_gb": size,
                     "baseline_iops": gp3_iops, "throughput_mibps": gp3_mibps},
        monthly_cost_usd=monthly_cost,
        monthly_savings_usd=savings,
        evidence=evidence,
        reason=reason,
    )


def how_to_apply(finding: Finding) -> dict[str, str]:
    return {
        "cli": (
            "# online change (no downtime); the instance shows storage-optimization for a "
            "while and storage cannot be modified again for 6 hours\n"
            f"aws rds modify-db-instance --region {finding.region} "
            f"--db-instance-identifier {finding.name} --storage-type gp3 --apply-immediately"
        ),
        "iac": (
            "# Terraform aws_db_instance\nstorage_type = \"gp3\"\n"
            "# CloudFormation AWS::RDS::DBInstance\nStorageType: gp3"
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
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
)
