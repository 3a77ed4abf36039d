"""ecs-rightsize sizes from the sizing history and backtests its margins on the service's past."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from rightsizer.errors import RightsizerError
from rightsizer.rules.ecs_rightsize import Settings, evaluate
from rightsizer.rules.support import backtest
from rightsizer.rules.support.backtest import Sizing, Usage, replay_weeks
from rightsizer.snapshot.store import merge_snapshots
from tests.ecs_rows import add_service, deployment
from tests.snapshot_factory import WINDOW_END, SnapshotBuilder

DAY_NS = backtest.DAY_NS
HOURS_56 = 56 * 24


def noisy(level: float, hours: int = HOURS_56, seed: int = 3, sigma: float = 0.05) -> np.ndarray:
    return level * np.random.default_rng(seed).lognormal(0.0, sigma, hours)


def judge(cpu_max, memory_max, *, cpu: int = 2048, memory: int = 4096,
          settings: Settings | None = None, deployments: list[dict] | None = None):
    snap = SnapshotBuilder(history_days=56)
    add_service(snap, "api", cpu=cpu, memory=memory, deployments=deployments)
    snap.ecs_history("api", cpu_max, memory_max)
    return evaluate(snap.build(), settings or Settings())


# --- the replay itself -------------------------------------------------------------------------

def test_eight_weeks_replay_five_past_fortnights_and_three_weeks_none():
    end = 100 * DAY_NS
    weeks = replay_weeks(end - 56 * DAY_NS, end)
    # at 42, 35, 28, 21 and 14 days into the history: each with 14+ days before, 14 after
    assert [(end - at) // DAY_NS for at in weeks] == [14, 21, 28, 35, 42]
    assert replay_weeks(end - 27 * DAY_NS, end) == []


def test_the_margin_a_fortnight_needs_is_how_far_its_peak_rose_above_the_sized_peak():
    sizing = Sizing(fixed=0.0, peak=20.0, share=backtest.SAFE_SHARE)
    assert sizing.margin_to_hold(18.0) == 0.0
    assert sizing.margin_to_hold(23.0) == pytest.approx(15.0)
    # a part with its own headroom (a season) that kept the peak under 95%: nothing needed
    assert Sizing(fixed=30.0, peak=20.0).margin_to_hold(28.0) == 0.0
    # the need keeps the margin-raised peak under 95% of the size
    assert sizing.need(10.0) == pytest.approx(20.0 / 0.95 * 1.1)


def test_a_usage_series_joins_history_and_window_and_drops_gaps():
    usage = Usage.joined((np.array([1, 2]), np.array([5.0, np.nan])), (np.array([3]),
                                                                     np.array([7.0])))
    assert usage.stamps_ns.tolist() == [1, 3] and usage.peak == 7.0


# --- the rule ----------------------------------------------------------------------------------

def test_a_steady_service_gets_the_margin_its_own_history_held_with():
    finding = only_finding(judge(noisy(15), noisy(15, seed=4)))
    evidence = finding.evidence
    assert evidence["margin_basis"] == "backtest"
    assert evidence["backtest_fortnights"] == 5
    assert evidence["sizing_history_days"] == 56
    assert len(evidence["backtest_cpu_margin_needed_percent"]) == 5
    # a flat series never outgrew its past: the floor applies
    assert evidence["cpu_margin_percent"] == Settings().min_margin_percent
    assert "held in 5 of 5 past fortnights" in evidence["backtest"]
    assert "held in 5 of 5 past fortnights" in finding.reason
    assert "over 56 days" in finding.reason
    # CPU: 56-day peak / 0.95 x (1 + the floor) of 2048 units; memory likewise
    cpu_peak, floor = evidence["cpu_max_percent"], Settings().min_margin_percent
    assert evidence["cpu_needed_units"] == pytest.approx(
        cpu_peak / 0.95 * (1 + floor / 100) / 100 * 2048, abs=2)
    assert finding.recommended == {"cpu": 512, "memory": 1024}


def test_a_peak_weeks_ago_is_sized_for_though_the_window_is_quiet():
    cpu = noisy(10)
    cpu[20 * 24:20 * 24 + 3] = 45.0  # a busy afternoon five weeks ago, none since
    quiet = only_finding(judge(noisy(8), noisy(15, seed=4)))
    busy = judge(cpu, noisy(15, seed=4))
    assert quiet.recommended["cpu"] == 256
    # its own past shows a fortnight whose peak came from nowhere: not downsized
    assert busy.findings == []
    assert [row.reason for row in busy.skipped] == ["not-applicable"]
    assert "backtest on its own history" in busy.skipped[0].detail
    assert "not downsized" in busy.skipped[0].detail
    assert "CPU needed more than double in 1 of 5 past fortnights" in busy.skipped[0].detail
    # allowed a margin that large, it would size for it: nothing cheaper holds, no skip
    allowed = judge(cpu, noisy(15, seed=4), settings=Settings(max_margin_percent=1000))
    assert allowed.findings == [] and allowed.skipped == []


def test_a_young_service_keeps_the_fixed_margins_and_says_why():
    finding = only_finding(judge(noisy(15, hours=20 * 24), noisy(20, hours=20 * 24, seed=4)))
    evidence = finding.evidence
    assert evidence["margin_basis"] == "fixed"
    assert evidence["backtest_fortnights"] == 0
    assert evidence["sizing_history_days"] == 20
    assert evidence["cpu_margin_percent"] == Settings().peak_headroom_percent
    assert evidence["memory_margin_percent"] == Settings().headroom_percent
    assert "no past fortnight to backtest" in finding.reason


def test_backtest_off_is_todays_fixed_margins_on_the_whole_history():
    finding = only_finding(judge(noisy(15), noisy(15, seed=4),
                                 settings=Settings(backtest=False)))
    assert finding.evidence["margin_basis"] == "off"
    assert finding.evidence["cpu_margin_percent"] == 10
    assert "backtest off" in finding.reason


def test_history_before_the_running_revision_is_not_used():
    cpu = noisy(10)
    cpu[5 * 24:5 * 24 + 3] = 60.0  # seven weeks ago, on the revision before
    started = WINDOW_END - timedelta(days=30)
    finding = only_finding(judge(cpu, noisy(15, seed=4), deployments=[
        deployment("PRIMARY", "api:7", 1, created=started, cpu=2048, memory=4096)]))
    assert finding.evidence["sizing_history_days"] == 30
    assert finding.evidence["cpu_max_percent"] < 20
    # 30 days: one past fortnight to replay, too few to go below the fixed margins
    assert finding.evidence["backtest_fortnights"] == 1
    assert finding.evidence["margin_basis"] == "fixed"


def only_finding(result):
    assert result.skipped == [], [row.detail for row in result.skipped]
    assert len(result.findings) == 1
    return result.findings[0]


def test_shards_with_different_sizing_histories_are_not_merged():
    eight, four = SnapshotBuilder(history_days=56), SnapshotBuilder(history_days=28)
    assert merge_snapshots([eight.build(), SnapshotBuilder(history_days=56).build()])
    with pytest.raises(RightsizerError, match="sizing history"):
        merge_snapshots([eight.build(), four.build()])
