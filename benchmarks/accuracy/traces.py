"""Synthetic utilization traces with a known right answer.

Each trace is hourly CloudWatch-like series for one ECS service: CPU and memory utilization,
Maximum and Average, in percent of the service's current task size. It spans a year and ten
weeks: the 8 weeks a strategy is shown (the sizing history; its last 14 days are the recent
window the rule judges coverage on and the 14-day baselines read), the next 14 days, drawn from
the same process, that its recommendation is judged against, and the year before them, of which
a strategy may read the same weeks a year ago (as CloudWatch keeps hourly data for 455 days).

Exam weeks come once a year, at about the same time: this year's lands anywhere in the last 28
days (the recent window and the judged fortnight), last year's within a week of the same date.
So an exam week may land in the recent window, in judging or straddle them; a strategy that
reads a year back can see it coming, one that reads only this year cannot. The product grew
since last year (x1 to x2.5 load, the reference stack's users grew tenfold), so last year's
peaks are not this year's.

Planted throttling services (archetype "throttled") are too small for their load: their busy
hours pin CPU at its limit, or memory just under it. No downsize may touch them, and the
under-provisioned rule should find every one.

Everything is drawn from one numpy Generator, so a seed reproduces the whole benchmark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rightsizer.rules.support import year_ago

HISTORY_DAYS = 56  # shown: the sizing history (analysis.sizing_history_days)
RECENT_DAYS = 14  # its last part: the lookback window (analysis.lookback_days)
TRAIN_DAYS = HISTORY_DAYS
JUDGE_DAYS = 14
HOURS_PER_DAY = 24
YEAR_DAYS = year_ago.YEAR.days  # 52 weeks: weekdays line up
TRAIN_START = YEAR_DAYS * HOURS_PER_DAY  # hour index where the shown history starts
TRAIN_HOURS = TRAIN_DAYS * HOURS_PER_DAY
TRAIN_END = TRAIN_START + TRAIN_HOURS
RECENT_START = TRAIN_END - RECENT_DAYS * HOURS_PER_DAY
TOTAL_HOURS = TRAIN_END + JUDGE_DAYS * HOURS_PER_DAY
# The year-ago counterpart of the shown history, and the days after it that a strategy may read
# (year_ago.window of the history).
YEAR_AGO_HOURS = slice(0, (TRAIN_DAYS + year_ago.AHEAD_DAYS) * HOURS_PER_DAY)
# A Monday 00:00 UTC, so every window holds whole school weeks.
START = pd.Timestamp("2026-08-10T00:00:00Z")
TIMESTAMPS = pd.date_range(START - year_ago.YEAR, periods=TOTAL_HOURS, freq="h")
# This year's exam week starts within the last this many days before the judge window ends.
EXAM_SPAN_DAYS = RECENT_DAYS + JUDGE_DAYS
# Last year's exam week lands within this many days of this year's date.
EXAM_DRIFT_DAYS = 7
# Last year's load, relative to this year's: the product grew since.
YEAR_ON_YEAR_GROWTH = (1.0, 2.5)

# Task sizes the services start from (cpu units, memory MiB): the reference stack's 256/512
# MVP task, its 512/1024 jobs task, and the larger sizes teams reach for "to be safe".
CURRENT_SIZES: tuple[tuple[int, int], ...] = (
    (256, 512), (512, 1024), (512, 2048), (1024, 2048), (1024, 4096), (2048, 4096),
    (2048, 8192), (4096, 8192), (4096, 16384),
)

ARCHETYPES = ("steady", "diurnal", "exam", "spikes", "idle", "memory-bound", "growth", "mix")
THROTTLED = "throttled"
# Planted throttling services: one for every this many services of an archetype.
THROTTLED_SHARE = 5
EXAM_FACTOR = 3.0  # load during the exam week, relative to the same hour of a normal week
GROWTH_PER_WEEK = 0.02  # +2% load a week, compounding


@dataclass(frozen=True)
class Trace:
    name: str
    archetype: str
    cpu_units: int
    memory_mib: int
    task_count: int
    cpu_max: np.ndarray  # percent of cpu_units, hourly Maximum, TOTAL_HOURS long
    cpu_avg: np.ndarray
    memory_max: np.ndarray  # percent of memory_mib
    memory_avg: np.ndarray
    exam_hours: np.ndarray  # bool mask of the exam weeks, this year's and last year's

    @property
    def unforeseeable(self) -> bool:
        """An exam week in the judge window with no exam hour in the shown history: no
        strategy that reads only this year can see it coming (one that reads a year back
        can)."""
        school_exam = self.exam_hours & _SCHOOL_HOURS  # exam nights and weekends stay quiet
        return bool(self.judge(school_exam).any() and not self.train(school_exam).any())

    @property
    def exam_in_one_window(self) -> bool:
        """The exam week's school hours fall in training or in judging, not both: either the
        burst is unforeseeable, or the hindsight ideal knows it ended and sizes for a quiet
        fortnight that training never showed."""
        school_exam = self.exam_hours & _SCHOOL_HOURS
        return bool(self.train(school_exam).any()) != bool(self.judge(school_exam).any())

    def train(self, series: np.ndarray) -> np.ndarray:
        """The shown history (8 weeks)."""
        return series[TRAIN_START:TRAIN_END]

    def recent(self, series: np.ndarray) -> np.ndarray:
        """The last 14 days of it: what a 14-day strategy reads."""
        return series[RECENT_START:TRAIN_END]

    def judge(self, series: np.ndarray) -> np.ndarray:
        return series[TRAIN_END:]

    def year_ago(self, series: np.ndarray) -> np.ndarray:
        """The hours a strategy may read a year back (year_ago.window of training)."""
        return series[YEAR_AGO_HOURS]

    @property
    def judge_cpu_peak_units(self) -> float:
        return float(self.judge(self.cpu_max).max()) / 100 * self.cpu_units

    @property
    def judge_memory_peak_mib(self) -> float:
        return float(self.judge(self.memory_max).max()) / 100 * self.memory_mib

    @property
    def train_cpu_peak_units(self) -> float:
        return float(self.train(self.cpu_max).max()) / 100 * self.cpu_units

    @property
    def train_memory_peak_mib(self) -> float:
        return float(self.train(self.memory_max).max()) / 100 * self.memory_mib


# --- shapes (load as a fraction of a level, one value an hour) ------------------------------

_IST = TIMESTAMPS.tz_convert("Asia/Kolkata") + pd.Timedelta(minutes=30)  # hour midpoints
_IST_HOUR = np.asarray(_IST.hour + _IST.minute / 60, dtype=float)
_WEEKDAY = np.asarray(_IST.dayofweek < 5)
_SCHOOL_HOURS = _WEEKDAY & (_IST_HOUR >= 8) & (_IST_HOUR < 16)
_DAY_INDEX = np.arange(TOTAL_HOURS) // HOURS_PER_DAY


def school_day_shape(rng: np.random.Generator) -> np.ndarray:
    """1.0 at the busiest school hour (IST 08:00-16:00 on weekdays), low at night and weekends."""
    busy = (_IST_HOUR >= 8) & (_IST_HOUR < 16)
    bump = np.sin(np.clip((_IST_HOUR - 8) / 8, 0, 1) * np.pi)  # rises to 1 around 12:00 IST
    night = rng.uniform(0.08, 0.2)
    shape = np.where(busy, night + (1 - night) * (0.55 + 0.45 * bump), night)
    weekend = rng.uniform(0.15, 0.35)
    return np.where(_WEEKDAY, shape, shape * weekend)


def exam_mask(rng: np.random.Generator) -> np.ndarray:
    """This year's exam week: seven days anywhere in the last EXAM_SPAN_DAYS, so the shown
    history or judging may miss it; and last year's, within EXAM_DRIFT_DAYS of the same
    date."""
    start_day = YEAR_DAYS + TRAIN_DAYS + JUDGE_DAYS - EXAM_SPAN_DAYS + int(
        rng.integers(0, EXAM_SPAN_DAYS - 7 + 1))
    last_year = max(0, start_day - YEAR_DAYS + int(rng.integers(-EXAM_DRIFT_DAYS,
                                                                EXAM_DRIFT_DAYS + 1)))
    day = _DAY_INDEX
    return ((day >= start_day) & (day < start_day + 7)) | \
        ((day >= last_year) & (day < last_year + 7))


def growth(per_week: float = GROWTH_PER_WEEK) -> np.ndarray:
    """Compounding weekly growth, 1.0 when training starts (so 0.36 a year before)."""
    return (1 + per_week) ** ((np.arange(TOTAL_HOURS) - TRAIN_START) / (7 * HOURS_PER_DAY))


def year_on_year(rng: np.random.Generator) -> np.ndarray:
    """Load relative to this year's: lower a year ago (the product grew), 1 since then."""
    factor = np.ones(TOTAL_HOURS)
    factor[YEAR_AGO_HOURS] = 1 / rng.uniform(*YEAR_ON_YEAR_GROWTH)
    return factor


def weekly_job_spikes(rng: np.random.Generator) -> np.ndarray:
    """A few 1-2 h spikes a week, at the same weekday and hour every week (a report job on a
    schedule), so a 14-day window sees each of them twice."""
    mask = np.zeros(TOTAL_HOURS, dtype=bool)
    for _ in range(int(rng.integers(1, 4))):
        first = int(rng.integers(0, 7 * HOURS_PER_DAY))
        length = int(rng.integers(1, 3))
        for start in range(first, TOTAL_HOURS, 7 * HOURS_PER_DAY):
            mask[start:start + length] = True
    return mask


# --- archetypes ---------------------------------------------------------------------------------

@dataclass
class _Load:
    cpu: np.ndarray  # hourly mean CPU, percent of the task
    memory: np.ndarray  # hourly mean memory, percent of the task
    exam: np.ndarray
    spike: np.ndarray  # hours pinned near 90% CPU


def _noise(rng: np.random.Generator, sigma: float) -> np.ndarray:
    return rng.lognormal(0.0, sigma, TOTAL_HOURS)


def _memory_following(rng: np.random.Generator, cpu: np.ndarray, base: float) -> np.ndarray:
    """Memory: a resident base plus a little that follows load (caches, request buffers)."""
    return base + rng.uniform(0.05, 0.2) * cpu + rng.normal(0, 0.8, TOTAL_HOURS)


def _steady(rng: np.random.Generator, *, grew: bool = True) -> _Load:
    level = rng.uniform(5, 45)
    cpu = level * _noise(rng, rng.uniform(0.05, 0.15))
    if grew:
        cpu = cpu * year_on_year(rng)
    return _Load(cpu, _memory_following(rng, cpu, rng.uniform(10, 45)),
                 np.zeros(TOTAL_HOURS, bool), np.zeros(TOTAL_HOURS, bool))


def _diurnal(rng: np.random.Generator, *, exam: bool = False, grow: bool = False,
             peak_high: float = 45) -> _Load:
    peak = rng.uniform(8, peak_high)
    cpu = peak * school_day_shape(rng) * _noise(rng, 0.1)
    mask = exam_mask(rng) if exam else np.zeros(TOTAL_HOURS, bool)
    cpu = np.where(mask, cpu * EXAM_FACTOR, cpu)
    # compounding growth over the year, or the step up since last year
    cpu = cpu * (growth() if grow else year_on_year(rng))
    return _Load(cpu, _memory_following(rng, cpu, rng.uniform(10, 40)), mask,
                 np.zeros(TOTAL_HOURS, bool))


def _exam(rng: np.random.Generator) -> _Load:
    # Normal-week peak up to 30% so the 3x exam week still fits the current task.
    return _diurnal(rng, exam=True, peak_high=30)


def _spikes(rng: np.random.Generator) -> _Load:
    cpu = rng.uniform(3, 20) * _noise(rng, 0.1) * year_on_year(rng)
    spike = weekly_job_spikes(rng)
    return _Load(cpu, _memory_following(rng, cpu, rng.uniform(10, 40)),
                 np.zeros(TOTAL_HOURS, bool), spike)


def _idle(rng: np.random.Generator) -> _Load:
    cpu = rng.uniform(0.3, 2.5) * _noise(rng, 0.2)
    memory = rng.uniform(5, 15) + rng.normal(0, 0.3, TOTAL_HOURS)
    return _Load(cpu, memory, np.zeros(TOTAL_HOURS, bool), np.zeros(TOTAL_HOURS, bool))


def _memory_bound(rng: np.random.Generator) -> _Load:
    cpu = rng.uniform(5, 30) * _noise(rng, 0.1)
    low = rng.uniform(80, 85)
    memory = np.clip(low + rng.uniform(0, 5) * rng.random(TOTAL_HOURS), 0, 90)
    return _Load(cpu, memory, np.zeros(TOTAL_HOURS, bool), np.zeros(TOTAL_HOURS, bool))


def _growth(rng: np.random.Generator) -> _Load:
    if rng.random() < 0.5:
        load = _steady(rng, grew=False)
        factor = growth()
        return _Load(load.cpu * factor, load.memory * factor, load.exam, load.spike)
    return _diurnal(rng, grow=True)


def _mix(rng: np.random.Generator) -> _Load:
    exam = rng.random() < 0.4
    load = _diurnal(rng, exam=exam, grow=rng.random() < 0.5, peak_high=30 if exam else 45)
    if rng.random() < 0.5:
        load.spike = weekly_job_spikes(rng)
        load.cpu = load.cpu + rng.uniform(3, 10)  # a job runner keeps a floor
    return load


def _throttled(rng: np.random.Generator) -> _Load:
    """Too small for its load: school-day demand at 1.2-2x the task's CPU in the busy hours
    (the hourly Maximum pinned at the limit), or memory sitting at 96-99% through them."""
    demand = rng.uniform(120, 200) * school_day_shape(rng) * _noise(rng, 0.05)
    busy = _SCHOOL_HOURS
    if rng.random() < 0.5:
        cpu = np.minimum(demand, 99.0)
        memory = _memory_following(rng, cpu, rng.uniform(30, 45))
    else:
        cpu = demand * rng.uniform(0.2, 0.35)
        memory = np.where(busy, rng.uniform(96, 99, TOTAL_HOURS),
                          rng.uniform(70, 85) + rng.normal(0, 1, TOTAL_HOURS))
    return _Load(cpu, memory, np.zeros(TOTAL_HOURS, bool), np.zeros(TOTAL_HOURS, bool))


_MAKERS: dict[str, Callable[[np.random.Generator], _Load]] = {
    "steady": _steady, "diurnal": _diurnal, "exam": _exam, "spikes": _spikes, "idle": _idle,
    "memory-bound": _memory_bound, "growth": _growth, "mix": _mix, THROTTLED: _throttled,
}


def make_trace(rng: np.random.Generator, archetype: str, name: str) -> Trace:
    cpu_units, memory_mib = CURRENT_SIZES[int(rng.integers(len(CURRENT_SIZES)))]
    load = _MAKERS[archetype](rng)
    cpu_avg = np.clip(load.cpu, 0.1, 99 if archetype == THROTTLED else 95)
    # Within an hour the per-minute Maximum runs 10-40% above the hourly mean.
    burst = rng.uniform(1.1, 1.4)
    cpu_max = np.clip(cpu_avg * burst * _noise(rng, 0.05), 0.1, 100)
    if load.spike.any():
        cpu_max = np.where(load.spike, rng.uniform(86, 94, TOTAL_HOURS), cpu_max)
        cpu_avg = np.where(load.spike, cpu_max * rng.uniform(0.6, 0.85), cpu_avg)
    limit = 100 if archetype == THROTTLED else 95
    memory_avg = np.clip(load.memory, 1, limit)
    memory_max = np.clip(memory_avg * rng.uniform(1.0, 1.05, TOTAL_HOURS), 1, limit)
    return Trace(name=name, archetype=archetype, cpu_units=cpu_units, memory_mib=memory_mib,
                 task_count=int(rng.integers(1, 3)), cpu_max=cpu_max, cpu_avg=cpu_avg,
                 memory_max=memory_max, memory_avg=memory_avg, exam_hours=load.exam)


def generate(seed: int, per_archetype: int) -> list[Trace]:
    """`per_archetype` services of every archetype, then the planted throttling services (one
    for every THROTTLED_SHARE of an archetype), in a fixed order, from one seed."""
    rng = np.random.default_rng(seed)
    traces = [make_trace(rng, archetype, f"{archetype}-{i:03d}")
              for archetype in ARCHETYPES for i in range(per_archetype)]
    return traces + [make_trace(rng, THROTTLED, f"{THROTTLED}-{i:03d}")
                     for i in range(max(1, per_archetype // THROTTLED_SHARE))]
