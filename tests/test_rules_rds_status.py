"""Every RDS rule judges a running database and only a running one, by the DBInstanceStatus
table of "Viewing DB instance status"
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html#Overview.DBInstance.Status)."""

from __future__ import annotations

import pytest

from rightsizer.rules import rds_idle, rds_reserved_instance, rds_rightsize, rds_storage_gp3
from rightsizer.rules.support.rds_common import (
    NOT_RUNNING_DB_STATUSES,
    RUNNING_DB_STATUSES,
    not_running,
    reservation_held,
)
from tests.snapshot_factory import SnapshotBuilder, flat

GIB = 1024**3
REGION = "us-east-1"  # RDS instance and storage prices are both tabled here
RULES = (rds_reserved_instance, rds_rightsize, rds_idle, rds_storage_gp3)

# Statuses of the doc's table that mean the database runs (billed for instance hours while RDS
# backs it up, reconfigures or optimizes it), the ones the issue lists among them included.
DOC_RUNNING = ("available", "backing-up", "configuring-enhanced-monitoring",
               "configuring-iam-database-auth", "configuring-log-exports", "converting-to-vpc",
               "maintenance", "modifying", "moving-to-vpc", "rebooting", "renaming",
               "resetting-master-credentials", "storage-optimization", "upgrading")
DOC_NOT_RUNNING = ("stopped", "stopping", "starting", "creating", "deleting", "failed",
                   "inaccessible-encryption-credentials",
                   "inaccessible-encryption-credentials-recoverable", "incompatible-credentials",
                   "incompatible-network", "incompatible-option-group",
                   "incompatible-parameters", "incompatible-restore", "insufficient-capacity",
                   "restore-error", "storage-full")


def idle_oversized_gp2_database(status: str) -> SnapshotBuilder:
    """A db.r6g.xlarge on 100 GiB gp2 that nobody connects to, with low CPU and memory: every
    RDS rule has a finding for it when it runs."""
    snap = SnapshotBuilder()
    snap.rds_instance("edufly-db", instance_class="db.r6g.xlarge", status=status,
                      region=REGION)
    snap.rds_storage("edufly-db", "gp2", 100)
    snap.rds_metric("edufly-db", "CPUUtilization", "Maximum", flat(10), region=REGION)
    snap.rds_metric("edufly-db", "FreeableMemory", "Minimum", flat(24 * GIB), region=REGION)
    snap.rds_metric("edufly-db", "DatabaseConnections", "Maximum", flat(0), region=REGION)
    return snap


def test_the_classification_covers_the_doc_table_and_nothing_twice():
    """The two sets are disjoint and hold every status of the doc's table."""
    assert RUNNING_DB_STATUSES.isdisjoint(NOT_RUNNING_DB_STATUSES)
    assert set(DOC_RUNNING) == RUNNING_DB_STATUSES
    assert set(DOC_NOT_RUNNING) == set(NOT_RUNNING_DB_STATUSES)


@pytest.mark.parametrize("status", DOC_RUNNING)
@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.RULE_ID)
def test_a_running_status_is_judged_by_every_rds_rule(rule, status):
    """backing-up, modifying, storage-optimization... are running, billed databases
    (accessing-monitoring.html#Overview.DBInstance.Status): each rule gives its finding."""
    result = rule.evaluate(idle_oversized_gp2_database(status).build(), rule.Settings())
    assert result.skipped == []
    [finding] = result.findings
    assert finding.name == "edufly-db"


@pytest.mark.parametrize("status", DOC_NOT_RUNNING)
@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.RULE_ID)
def test_a_status_that_is_not_running_is_a_skipped_row_naming_it(rule, status):
    """stopped, failed, storage-full, incompatible-*... are not judged
    (accessing-monitoring.html#Overview.DBInstance.Status): one skipped row names the status."""
    result = rule.evaluate(idle_oversized_gp2_database(status).build(), rule.Settings())
    assert result.findings == []
    [row] = result.skipped
    assert row.reason == "not-applicable"
    assert row.detail.startswith(f"status is {status}:")


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.RULE_ID)
def test_an_unknown_status_is_a_skipped_row_never_a_guess(rule):
    """A DBInstanceStatus the doc's table does not list (a new one AWS adds, say) is not
    guessed to be running or stopped: the row says it is unknown."""
    result = rule.evaluate(idle_oversized_gp2_database("storage-initialization").build(),
                           rule.Settings())
    assert result.findings == []
    [row] = result.skipped
    assert "unknown DB instance status 'storage-initialization'" in row.detail


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.RULE_ID)
def test_a_missing_status_is_unknown_not_a_crash(rule):
    """DescribeDBInstances without DBInstanceStatus (an optional member in the API reference)
    gives an unknown-status row."""
    result = rule.evaluate(idle_oversized_gp2_database("").build(), rule.Settings())
    [row] = result.skipped
    assert "unknown DB instance status ''" in row.detail


def test_status_is_read_case_insensitively():
    """RDS reports statuses in lower case; an upper-case copy (a hand-written snapshot) reads
    the same."""
    assert not_running("Available") is None
    assert not_running(" STOPPED ").startswith("status is stopped")


@pytest.mark.parametrize(("state", "held"), [
    ("active", True), ("payment-pending", True), ("retired", False),
    ("payment-failed", False), ("queued", None), ("", None)])
def test_reservation_states_held_not_held_or_unknown(state, held):
    """payment-pending is a purchase AWS returns (AWS CLI example purchase-reserved-db-instances-
    offering) and counts as held, so it is never bought twice; retired and payment-failed bill
    nothing; any other state is unknown (API_ReservedDBInstance.html lists no values)."""
    assert reservation_held(state) is held
