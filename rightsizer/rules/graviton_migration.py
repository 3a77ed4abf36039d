"""graviton-migration: x86 Fargate services whose images run on linux/arm64, and x86 database
and cache classes with a Graviton counterpart, moved to ARM64 at its lower price."""

from __future__ import annotations

import shlex
from datetime import datetime, timedelta
from typing import Any

from rightsizer import pricing
from rightsizer.rules.base import Rule, RuleResult, RuleSettings
from rightsizer.rules.findings import Finding, Resource, finding_for, skipped_for
from rightsizer.rules.support.ecs_common import ServiceView, ecs_services, revision_name
from rightsizer.rules.support.fargate_sizes import ARM64, LINUX, X86_64
from rightsizer.rules.support.graviton import (
    CACHE_SOURCE,
    RDS_VERSION_NOTE,
    cache_counterpart,
    image_verdict,
    rds_counterpart,
)
from rightsizer.rules.support.rds_common import (
    CLASS_SUPPORT_SOURCE,
    family_of,
    no_price,
    rds_instances,
    reservation_held,
)
from rightsizer.snapshot.store import Snapshot, as_int, decode_json_cell, records

RULE_ID = "graviton-migration"
FARGATE_ARM_DOC = ("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
                   "ecs-arm64.html")
# The region where the embedded Fargate table has a sourced Linux/ARM64 rate: elsewhere the
# ARM64 rate is that region's x86 rate times this region's ARM64/x86 ratio, an ESTIMATE.
RATIO_REGION = "us-east-1"


class Settings(RuleSettings):
    pass


# --- Fargate ----------------------------------------------------------------------------------

def fargate_arm_hourly(region: str, cpu_units: int, memory_mib: int, *, spot: bool = False
                       ) -> tuple[float, str] | None:
    """(hourly USD of one Linux/ARM64 task, the price's basis). The region's own ARM64 rate
    where the pricing table has one; else an ESTIMATE from us-east-1's ARM64/x86 ratio per
    vCPU and per GB applied to the region's x86 rates; None without an x86 rate either."""
    own = pricing.fargate_platform_rates(region, os_kind=LINUX, arch=ARM64, spot=spot)
    if own is not None:
        return own.hourly(cpu_units, memory_mib), own.vcpu.source
    x86 = pricing.fargate_platform_rates(region, os_kind=LINUX, arch=X86_64, spot=spot)
    ref_arm = pricing.fargate_platform_rates(RATIO_REGION, os_kind=LINUX, arch=ARM64)
    ref_x86 = pricing.fargate_platform_rates(RATIO_REGION, os_kind=LINUX, arch=X86_64)
    if x86 is None or ref_arm is None or ref_x86 is None:
        return None
    vcpu_ratio = ref_arm.vcpu.usd / ref_x86.vcpu.usd
    gb_ratio = ref_arm.gb.usd / ref_x86.gb.usd
    hourly = (x86.vcpu.usd * vcpu_ratio * cpu_units / 1024
              + x86.gb.usd * gb_ratio * memory_mib / 1024)
    basis = (f"ESTIMATE: no sourced Linux/ARM64 Fargate rate for {region}; its x86 rates x "
             f"{RATIO_REGION}'s ARM64/x86 ratios (vCPU {vcpu_ratio:.4f}, GB {gb_ratio:.4f}) "
             f"from the embedded Fargate table ({ref_arm.vcpu.source})")
    return hourly, basis


def _container_images(snapshot: Snapshot) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for row in records(snapshot.table("ecs_services")):
        images = decode_json_cell(row.get("container_images"), [])
        found[str(row["service_arn"])] = [str(image) for image in images
                                          if isinstance(image, str) and image] \
            if isinstance(images, list) else []
    return found


def _ecs_problem(service: ServiceView) -> str | None:
    if service.not_fargate_reason or service.platform_problem or service.size_problem:
        return service.not_fargate_reason or service.platform_problem or service.size_problem
    if service.os_kind != LINUX:
        return f"{service.platform_label} task: Fargate runs ARM64 for Linux tasks only"
    if service.controller != "ECS":
        return (f"{service.controller} deployment controller: the task definition changes "
                "through its own deployment tool, which this rule does not write")
    if service.task_count <= 0:
        return "scaled to zero tasks"
    return None


def _ecs_finding(snapshot: Snapshot, service: ServiceView, images: list[str]
                 ) -> Finding | tuple[str, str]:
    problem = _ecs_problem(service)
    if problem is not None:
        return "not-applicable", problem
    if not images:
        return "insufficient-data", "the task definition's container images were not recorded"
    verdicts = [image_verdict(snapshot, image) for image in images]
    unchecked = [v.detail for v in verdicts if v.arm64 is None]
    single = [v.detail for v in verdicts if v.arm64 is False]
    if single:
        return "not-applicable", "; ".join(single)
    if unchecked:
        return "insufficient-data", "; ".join(unchecked)
    cpu, memory, region = service.cpu_units, service.memory_mib, service.region
    x86 = service.hourly_usd(cpu, memory)
    arm_on_demand = fargate_arm_hourly(region, cpu, memory)
    arm_spot = fargate_arm_hourly(region, cpu, memory, spot=True)
    if x86 is None or arm_on_demand is None or arm_spot is None:
        return "not-applicable", f"no Fargate Linux/ARM64 or x86 price for {region}"
    share = service.spot_share
    arm = share * arm_spot[0] + (1 - share) * arm_on_demand[0]
    hours, tasks = pricing.HOURS_PER_MONTH, service.task_count
    if arm >= x86:
        return "not-applicable", "ARM64 is not cheaper than x86 here"
    evidence: dict[str, Any] = {
        "cluster": service.cluster,
        "task_definition": service.task_definition,
        "task_count": tasks,
        "cpu_units": cpu, "memory_mib": memory,
        "spot_share": round(share, 3),
        "hourly_x86_usd": round(x86, 5),
        "hourly_arm64_usd": round(arm, 5),
        "images": [v.detail for v in verdicts],
        "price_basis": arm_on_demand[1],
        "platform_version": service.platform_version or "LATEST",
        "doc": FARGATE_ARM_DOC,
    }
    estimate = " (ARM64 rate estimated)" if arm_on_demand[1].startswith("ESTIMATE") else ""
    return finding_for(
        service.resource, RULE_ID,
        current={"cpu_architecture": service.arch or X86_64},
        recommended={"cpu_architecture": ARM64, "operating_system_family": LINUX},
        monthly_cost_usd=x86 * hours * tasks,
        monthly_savings_usd=(x86 - arm) * hours * tasks,
        pricing=pricing.basis(*service.prices(),
                              recommended=pricing.fargate_prices(service.region, arch=ARM64)),
        evidence=evidence,
        reason=(f"every container image has a linux/arm64 build; {tasks} task(s) of "
                f"{cpu / 1024:g} vCPU / {memory / 1024:g} GB cost ${x86:.4f}/hour on x86 and "
                f"${arm:.4f}/hour on ARM64{estimate}"),
    )


# --- RDS and ElastiCache ----------------------------------------------------------------------

def _held(snapshot: Snapshot, table: str, class_column: str) -> dict[tuple[str, str, str],
                                                                      list[str]]:
    """Held reservations by (account, region, class family): 'id until YYYY-MM-DD'."""
    held: dict[tuple[str, str, str], list[str]] = {}
    for row in records(snapshot.table(table)):
        if reservation_held(str(row.get("state") or "")) is not True:
            continue
        family = family_of(str(row.get(class_column) or "").lower())
        until = ""
        try:
            start = datetime.fromisoformat(str(row.get("start_time")))
            until = (start + timedelta(seconds=as_int(row.get("duration_seconds")))).date()
        except ValueError:
            pass
        key = (str(row["account"]), str(row["region"]), family)
        held.setdefault(key, []).append(
            f"{row.get('reservation_id') or '?'}" + (f" until {until}" if until else ""))
    return held


def _reservation_note(held: dict[tuple[str, str, str], list[str]], resource: Resource,
                      family: str) -> tuple[str, list[str]]:
    blocking = held.get((resource.account, resource.region, family), [])
    if not blocking:
        return "", []
    return (f"; a reservation on {family} ({', '.join(blocking)}) bills on until its term "
            "ends whatever the class: move when it expires"), blocking


def _rds(snapshot: Snapshot, result: RuleResult) -> None:
    held = _held(snapshot, "rds_reservations", "instance_class")
    for inst in rds_instances(snapshot):
        resource = inst.resource
        target = rds_counterpart(inst.engine, inst.instance_class)
        if target is None:
            if family_of(inst.instance_class).endswith("g"):
                continue  # already Graviton
            result.skipped.append(skipped_for(resource, RULE_ID, "not-applicable", (
                f"{inst.instance_class} ({inst.engine}): no Graviton class of the same size "
                "is tabled for the engine")))
            continue
        if inst.status not in ("available", ""):
            result.skipped.append(skipped_for(resource, RULE_ID, "not-applicable",
                                              f"DB instance status {inst.status}"))
            continue
        if inst.pending_instance_class:
            result.skipped.append(skipped_for(resource, RULE_ID, "not-applicable", (
                f"a change to {inst.pending_instance_class} is already pending")))
            continue
        now = pricing.rds_hourly_usd(inst.resource.region, inst.instance_class,
                                     multi_az=inst.multi_az, engine=inst.engine)
        arm = pricing.rds_hourly_usd(inst.resource.region, target, multi_az=inst.multi_az,
                                     engine=inst.engine)
        if now is None or arm is None:
            result.skipped.append(skipped_for(resource, RULE_ID, "not-applicable",
                                              no_price(inst, target if now else None)))
            continue
        if arm.usd >= now.usd:
            continue
        note, blocking = _reservation_note(held, resource, family_of(inst.instance_class))
        hours = pricing.HOURS_PER_MONTH
        result.findings.append(finding_for(
            resource, RULE_ID,
            current={"instance_class": inst.instance_class, "multi_az": inst.multi_az},
            recommended={"instance_class": target, "multi_az": inst.multi_az},
            monthly_cost_usd=now.usd * hours,
            monthly_savings_usd=(now.usd - arm.usd) * hours,
            pricing=pricing.basis(now, recommended=(arm,)),
            evidence={"engine": inst.engine, "engine_version": inst.engine_version,
                      "hourly_current_usd": now.usd, "hourly_graviton_usd": arm.usd,
                      "price_source": arm.source, "class_source": CLASS_SUPPORT_SOURCE,
                      "version_check": RDS_VERSION_NOTE, "blocked_by_reservations": blocking},
            reason=(f"{inst.instance_class} -> {target}, the Graviton2 class of the same size: "
                    f"${now.usd:.3f} -> ${arm.usd:.3f}/hour{note}"),
        ))


def _cache(snapshot: Snapshot, result: RuleResult) -> None:
    held = _held(snapshot, "elasticache_reservations", "node_type")
    for row in records(snapshot.table("elasticache_clusters")):
        node = str(row.get("node_type") or "").lower()
        resource = Resource("elasticache-cluster", str(row.get("arn") or row["cluster_id"]),
                            str(row["cluster_id"]), str(row["account"]), str(row["region"]))
        if family_of(node).endswith("g") or family_of(node).endswith("gd"):
            continue  # already Graviton
        engine, version = str(row.get("engine") or ""), str(row.get("engine_version") or "")
        if version == "nan":
            version = ""
        target, why = cache_counterpart(engine, version, node)
        if target is None:
            result.skipped.append(skipped_for(resource, RULE_ID, "not-applicable", why))
            continue
        now = pricing.elasticache_hourly_usd(resource.region, node)
        arm = pricing.elasticache_hourly_usd(resource.region, target)
        if now is None or arm is None:
            result.skipped.append(skipped_for(resource, RULE_ID, "not-applicable", (
                f"no price for {target if now else node} in {resource.region}")))
            continue
        if arm.usd >= now.usd:
            continue
        nodes = max(1, as_int(row.get("num_nodes")))
        note, blocking = _reservation_note(held, resource, family_of(node))
        hours = pricing.HOURS_PER_MONTH
        result.findings.append(finding_for(
            resource, RULE_ID,
            current={"node_type": node, "num_nodes": nodes},
            recommended={"node_type": target, "num_nodes": nodes},
            monthly_cost_usd=now.usd * hours * nodes,
            monthly_savings_usd=(now.usd - arm.usd) * hours * nodes,
            pricing=pricing.basis(now, recommended=(arm,)),
            evidence={"engine": engine, "engine_version": version,
                      "hourly_current_usd": now.usd, "hourly_graviton_usd": arm.usd,
                      "price_source": arm.source, "node_type_source": CACHE_SOURCE,
                      "blocked_by_reservations": blocking},
            reason=(f"{node} -> {target} ({engine} {version} runs on it): ${now.usd:.3f} -> "
                    f"${arm.usd:.3f}/hour a node, {nodes} node(s){note}"),
        ))


def evaluate(snapshot: Snapshot, settings: Settings) -> RuleResult:
    result = RuleResult()
    images = snapshot.derived("ecs-container-images", _container_images)
    for service in ecs_services(snapshot):
        if service.arch == ARM64:
            continue  # already ARM64
        outcome = _ecs_finding(snapshot, service, images.get(service.arn, []))
        if isinstance(outcome, Finding):
            result.findings.append(outcome)
        else:
            result.skipped.append(skipped_for(service.resource, RULE_ID, *outcome))
    _rds(snapshot, result)
    _cache(snapshot, result)
    return result


# --- how to apply -----------------------------------------------------------------------------

# Copies the described revision with runtimePlatform.cpuArchitecture = ARM64 (argv: the
# describe-task-definition output), keeping only what RegisterTaskDefinition takes.
ARM64_TASK_DEFINITION = """\
import json, sys
described = json.load(open(sys.argv[1]))
task = described["taskDefinition"]
for key in ("taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
            "registeredAt", "registeredBy", "deregisteredAt", "deleteRequestedAt"):
    task.pop(key, None)
if described.get("tags"):
    task["tags"] = described["tags"]
platform = dict(task.get("runtimePlatform") or {})
platform["cpuArchitecture"] = "ARM64"
platform.setdefault("operatingSystemFamily", "LINUX")
task["runtimePlatform"] = platform
json.dump(task, sys.stdout, indent=2)
"""


def _ecs_apply(finding: Finding) -> dict[str, str]:
    q = shlex.quote
    region, service = finding.region, finding.name
    cluster = str(finding.evidence.get("cluster") or "default")
    revision = revision_name(str(finding.evidence.get("task_definition") or service))
    stem = "rightsizer-arm64-" + "".join(ch if ch.isalnum() or ch in "-_" else "-"
                                         for ch in service)
    cli = (
        f"# graviton-migration: {service} (cluster {cluster}, {region}): {revision} -> ARM64\n"
        "# Copies the revision with runtimePlatform.cpuArchitecture = ARM64, registers it and\n"
        "# rolls the service onto it (a rolling deployment; the old tasks stop as new ones run).\n"
        "(\n"
        "set -euo pipefail\n"
        'export AWS_PAGER=""\n'
        f"aws ecs describe-task-definition --region {q(region)} --task-definition "
        f"{q(revision)} --include TAGS --output json > {stem}-current.json\n"
        f"python3 - {stem}-current.json > {stem}-taskdef.json <<'PY'\n"
        f"{ARM64_TASK_DEFINITION}PY\n"
        f"NEW_TASK_DEFINITION=$(aws ecs register-task-definition --region {q(region)} "
        f"--cli-input-json file://{stem}-taskdef.json "
        "--query taskDefinition.taskDefinitionArn --output text)\n"
        'echo "registered $NEW_TASK_DEFINITION"\n'
        f"aws ecs update-service --region {q(region)} --cluster {q(cluster)} --service "
        f"{q(service)} --task-definition \"$NEW_TASK_DEFINITION\" "
        "--query 'service.taskDefinition' --output text\n"
        ")"
    )
    return {
        "cli": cli,
        "terraform": ("# aws_ecs_task_definition: add\nruntime_platform {\n"
                      "  operating_system_family = \"LINUX\"\n"
                      "  cpu_architecture        = \"ARM64\"\n}"),
        "cdk": ("// ecs.FargateTaskDefinition props:\nruntimePlatform: {\n"
                "  cpuArchitecture: ecs.CpuArchitecture.ARM64,\n"
                "  operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,\n},"),
    }


def _rds_apply(finding: Finding) -> dict[str, str]:
    q = shlex.quote
    region, name = finding.region, finding.name
    target = str(finding.recommended["instance_class"])
    engine = str(finding.evidence.get("engine") or "postgres")
    version = str(finding.evidence.get("engine_version") or "")
    version_arg = f" --engine-version {q(version)}" if version else ""
    check = (f"aws rds describe-orderable-db-instance-options --region {q(region)} --engine "
             f"{q(engine)}{version_arg} --db-instance-class {q(target)} "
             "--query 'OrderableDBInstanceOptions[0].DBInstanceClass' --output text")
    missing = (f"{target} is not offered for {engine} {version} in {region}: upgrade the "
               "engine first")
    cli = (
        f"# graviton-migration: {name} ({region}) -> {target}\n"
        "# Precondition (read-only): the class is orderable for this engine and version.\n"
        "# The class change restarts the instance (Multi-AZ: a failover); it is queued for the\n"
        "# next maintenance window (--no-apply-immediately).\n"
        "(\n"
        f"if {check} | grep -qx {q(target)}; then\n"
        f"  aws rds modify-db-instance --region {q(region)} --db-instance-identifier {q(name)} "
        f"--db-instance-class {q(target)} --no-apply-immediately "
        "--query 'DBInstance.PendingModifiedValues' --output json\n"
        "else\n"
        f"  echo {q(missing)} >&2\n"
        "  exit 1\n"
        "fi\n"
        ")"
    )
    return {"cli": cli, "terraform": f'# aws_db_instance "{name}":\ninstance_class = "{target}"',
            "cdk": f"// rds.DatabaseInstance props:\ninstanceType: new ec2.InstanceType('"
                   f"{target.removeprefix('db.')}'),"}


def _cache_apply(finding: Finding) -> dict[str, str]:
    q = shlex.quote
    region, name = finding.region, finding.name
    target = str(finding.recommended["node_type"])
    check = (f"aws elasticache list-allowed-node-type-modifications --region {q(region)} "
             f"--cache-cluster-id {q(name)} "
             "--query '[ScaleUpModifications, ScaleDownModifications][]' --output text")
    missing = (f"{target} is not an allowed node type for {name}: a cluster in a replication "
               "group changes with modify-replication-group")
    cli = (
        f"# graviton-migration: {name} ({region}) -> {target}\n"
        "# Precondition (read-only): ElastiCache lists the node type as an allowed change.\n"
        "(\n"
        f"if {check} | tr '\\t' '\\n' | grep -qx {q(target)}; then\n"
        f"  aws elasticache modify-cache-cluster --region {q(region)} --cache-cluster-id "
        f"{q(name)} --cache-node-type {q(target)} --apply-immediately "
        "--query 'CacheCluster.PendingModifiedValues' --output json\n"
        "else\n"
        f"  echo {q(missing)} >&2\n"
        "  exit 1\n"
        "fi\n"
        ")"
    )
    return {"cli": cli,
            "terraform": f'# aws_elasticache_cluster "{name}":\nnode_type = "{target}"',
            "cdk": f"// elasticache.CfnCacheCluster props:\ncacheNodeType: '{target}',"}


def how_to_apply(finding: Finding) -> dict[str, str]:
    if finding.resource_type == "rds-instance":
        return _rds_apply(finding)
    if finding.resource_type == "elasticache-cluster":
        return _cache_apply(finding)
    return _ecs_apply(finding)


RULE = Rule(
    id=RULE_ID,
    title="Move to Graviton (ARM64)",
    why=(
        "Graviton (ARM64) Fargate tasks cost about 20% less than x86 for the same vCPU and "
        "memory, and Graviton database and cache classes less than their x86 twins. A service "
        "whose images are built for linux/arm64 moves with one task definition setting; a "
        "database or cache changes class in its maintenance window."
    ),
    resource_type="ecs-service",
    bill_services=("Amazon Elastic Container Service", "Amazon Relational Database Service",
                   "Amazon ElastiCache"),
    settings_model=Settings,
    evaluate=evaluate,
    how_to_apply=how_to_apply,
)
