"""The accuracy benchmark's trace generator behaves as documented, and ours stays safe on it."""

from __future__ import annotations

import numpy as np

from benchmarks.accuracy import scoring, strategies, traces
from benchmarks.accuracy.traces import TRAIN_HOURS, generate, make_trace


def _many(archetype: str, count: int = 20, seed: int = 7) -> list[traces.Trace]:
    rng = np.random.default_rng(seed)
    return [make_trace(rng, archetype, f"{archetype}-{i}") for i in range(count)]


def test_same_seed_same_traces():
    first, second = generate(3, 2), generate(3, 2)
    assert [t.name for t in first] == [t.name for t in second]
    assert all(np.array_equal(a.cpu_max, b.cpu_max) for a, b in zip(first, second, strict=True))


def test_exam_week_is_about_three_times_the_normal_load():
    for trace in _many("exam"):
        exam = trace.exam_hours
        assert exam.sum() == 7 * 24
        # same hours of the day, exam week vs the rest (Average: before the 100% clip)
        busy = traces._SCHOOL_HOURS
        ratio = trace.cpu_avg[exam & busy].mean() / trace.cpu_avg[~exam & busy].mean()
        assert 2.5 < ratio < 3.5


def test_idle_is_near_zero_and_memory_bound_sits_at_80_to_90_percent():
    assert all(t.cpu_max.max() < 6 for t in _many("idle"))
    for trace in _many("memory-bound"):
        assert trace.memory_avg.min() >= 78 and trace.memory_max.max() <= 95


def test_school_day_traffic_is_busy_on_weekday_ist_mornings_and_low_at_weekends():
    for trace in _many("diurnal"):
        weekday_busy = trace.cpu_avg[traces._SCHOOL_HOURS].mean()
        weekend = trace.cpu_avg[~traces._WEEKDAY].mean()
        assert weekday_busy > 2 * weekend


def test_growth_is_two_percent_a_week():
    assert traces.growth()[7 * 24] == np.float64(1.02)


def test_weekly_spikes_reach_90_percent_in_both_windows():
    for trace in _many("spikes"):
        assert trace.cpu_max[:TRAIN_HOURS].max() > 85
        assert trace.cpu_max[TRAIN_HOURS:].max() > 85


def test_ours_makes_no_foreseeable_unsafe_downsize_on_a_small_run():
    small = generate(seed=11, per_archetype=3)  # 24 services
    result = scoring.score(small, strategies.ours(small))
    assert result.recommendations > 0
    assert result.unsafe_foreseeable == 0, result.unsafe_names
    # every unsafe one had its exam week only in the judge window
    assert all(next(t for t in small if t.name == name).unforeseeable
               for name in result.unsafe_names)
