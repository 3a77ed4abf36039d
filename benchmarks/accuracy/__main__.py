"""python -m benchmarks.accuracy [--seed N ...] [--per-archetype N] [--docs PATH | --no-docs]

Generates the traces of each seed, runs the strategies on the 8 weeks shown, judges them on the
fortnight after, runs the under-provisioned rule where it is registered, prints the tables and
writes docs/accuracy.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchmarks.accuracy.scoring import SAFE_SHARE, Score, ideal_savings_usd, score
from benchmarks.accuracy.strategies import (
    FIXED,
    OURS,
    REGION,
    STRATEGIES,
    TODAY,
    describe_settings,
    krr,
    naive,
    ours,
    ours_fixed_margin,
    todays_rule,
    training_snapshot,
)
from benchmarks.accuracy.traces import (
    ARCHETYPES,
    EXAM_DRIFT_DAYS,
    EXAM_FACTOR,
    EXAM_SPAN_DAYS,
    GROWTH_PER_WEEK,
    JUDGE_DAYS,
    RECENT_DAYS,
    THROTTLED,
    THROTTLED_SHARE,
    TRAIN_DAYS,
    YEAR_ON_YEAR_GROWTH,
    Trace,
    generate,
)
from rightsizer.rules import ecs_rightsize
from rightsizer.rules.registry import REGISTRY
from rightsizer.rules.support import backtest, year_ago
from rightsizer.snapshot.store import Snapshot

DEFAULT_SEEDS = (20260901, 11, 12345, 777, 4242)
DEFAULT_PER_ARCHETYPE = 100
# The backtest's floor, swept: what each point of safety costs in savings.
FLOORS = (0.0, 5.0, 10.0)
UNDERPROVISIONED = "ecs-underprovisioned"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "accuracy.md"


@dataclass
class SeedRun:
    seed: int
    traces: list[Trace]
    scores: dict[str, Score]
    by_archetype: dict[str, dict[str, Score]]
    floors: dict[float, Score]
    not_downsized: int  # skipped because their own backtest failed
    # planted found, planted, alarms on the others, their archetypes
    underprovisioned: tuple[int, int, int, str] | None


def run_seed(seed: int, per_archetype: int) -> SeedRun:
    traces = generate(seed, per_archetype)
    snapshot = training_snapshot(traces)
    recommendations = {
        OURS: ours(traces, snapshot=snapshot),
        FIXED: ours_fixed_margin(traces, snapshot),
        TODAY: todays_rule(traces),
        **{name: strategy(traces) for name, strategy in STRATEGIES.items()
           if strategy in (krr, naive)},
    }
    scores = {name: score(traces, recommendations[name]) for name in STRATEGIES}
    by_archetype = {
        name: {archetype: score([t for t in traces if t.archetype == archetype],
                                recommendations[name])
               for archetype in (*ARCHETYPES, THROTTLED)}
        for name in STRATEGIES}
    default_floor = ecs_rightsize.Settings().min_margin_percent
    floors = {floor: scores[OURS] if floor == default_floor else score(traces, ours(
        traces, ecs_rightsize.Settings(min_margin_percent=floor), snapshot))
        for floor in FLOORS}
    result = ecs_rightsize.evaluate(snapshot, ecs_rightsize.Settings())
    not_downsized = sum("backtest" in row.detail for row in result.skipped)
    return SeedRun(seed, traces, scores, by_archetype, floors, not_downsized,
                   _underprovisioned(traces, snapshot))


def _underprovisioned(traces: list[Trace], snapshot: Snapshot
                      ) -> tuple[int, int, int, str] | None:
    """The under-provisioned rule (by registry id) on the same snapshot: planted throttling
    services it flags, how many were planted, the other services it flags (alarms) and their
    archetypes. None when it is not registered."""
    rule = REGISTRY.get(UNDERPROVISIONED)
    if rule is None:
        return None
    result = rule.evaluate(snapshot, rule.settings_model())
    # a risk rule reports risks (RuleResult.risks), not savings findings
    flagged = {item.name for item in (*getattr(result, "risks", ()), *result.findings)}
    planted = {t.name for t in traces if t.archetype == THROTTLED}
    others = Counter(t.archetype for t in traces if t.name in flagged - planted)
    where = ", ".join(f"{archetype} {count}" for archetype, count in sorted(others.items()))
    return len(flagged & planted), len(planted), len(flagged - planted), where or "-"


def main_table(run: SeedRun) -> str:
    lines = [
        "| strategy | recommendations | unsafe downsizes | of which unforeseeable | "
        "captured $/month | ideal $/month | share of ideal | share of the promised ideal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, result in run.scores.items():
        lines.append(
            f"| {name} | {result.recommendations} | {result.unsafe} | "
            f"{result.unsafe_unforeseeable} | {result.captured_usd:,.0f} | "
            f"{result.ideal_usd:,.0f} | {result.share:.1%} | {result.share_of_promised:.1%} |")
    return "\n".join(lines)


def seeds_table(runs: list[SeedRun]) -> str:
    names = list(STRATEGIES)
    lines = ["| seed | services | " + " | ".join(names) + " |",
             "|---:|---:|" + "---:|" * len(names)]
    for run in runs:
        cells = [f"{run.scores[n].unsafe} / {run.scores[n].share:.1%} / "
                 f"{run.scores[n].share_of_promised:.1%}" for n in names]
        lines.append(f"| {run.seed} | {len(run.traces)} | " + " | ".join(cells) + " |")
    totals = []
    for name in names:
        unsafe = sum(run.scores[name].unsafe for run in runs)
        share = sum(run.scores[name].share for run in runs) / len(runs)
        promised = sum(run.scores[name].share_of_promised for run in runs) / len(runs)
        totals.append(f"**{unsafe} / {share:.1%} / {promised:.1%}**")
    lines.append("| all (unsafe summed, shares averaged) | "
                 f"{sum(len(run.traces) for run in runs)} | " + " | ".join(totals) + " |")
    return "\n".join(lines)


def archetype_table(run: SeedRun) -> str:
    names = list(STRATEGIES)
    header = "| archetype | services | ideal $/month | " + " | ".join(
        f"{name}: share / unsafe" for name in names) + " |"
    lines = [header, "|---|---:|---:|" + "---:|" * len(names)]
    for archetype in (*ARCHETYPES, THROTTLED):
        members = [t for t in run.traces if t.archetype == archetype]
        ideal = sum(ideal_savings_usd(t) for t in members)
        cells = [f"{run.by_archetype[name][archetype].share:.0%} / "
                 f"{run.by_archetype[name][archetype].unsafe}" for name in names]
        lines.append(f"| {archetype} | {len(members)} | {ideal:,.0f} | " + " | ".join(cells)
                     + " |")
    return "\n".join(lines)


def floor_table(runs: list[SeedRun]) -> str:
    default = ecs_rightsize.Settings().min_margin_percent
    lines = ["| min_margin_percent | unsafe downsizes (all seeds) | unsafe per seed | "
             "share of ideal (mean) | share of the promised ideal (mean) |",
             "|---:|---:|---|---:|---:|"]
    for floor in FLOORS:
        scores = [run.floors[floor] for run in runs]
        label = f"**{floor:g}** (default)" if floor == default else f"{floor:g}"
        lines.append(f"| {label} | {sum(s.unsafe for s in scores)} | "
                     f"{', '.join(str(s.unsafe) for s in scores)} | "
                     f"{sum(s.share for s in scores) / len(scores):.1%} | "
                     f"{sum(s.share_of_promised for s in scores) / len(scores):.1%} |")
    return "\n".join(lines)


def unsafe_list(runs: list[SeedRun]) -> str:
    parts = [f"seed {run.seed}: {', '.join(run.scores[OURS].unsafe_names)}"
             for run in runs if run.scores[OURS].unsafe_names]
    return "; ".join(parts) if parts else "none"


def underprovisioned_table(runs: list[SeedRun]) -> str:
    if all(run.underprovisioned is None for run in runs):
        return (f"`{UNDERPROVISIONED}` is not registered in this build: no column. Re-run the "
                "command once it is.")
    lines = ["| seed | planted throttling services | found | alarms on the other services | "
             "their archetypes |", "|---:|---:|---:|---:|---|"]
    for run in runs:
        if run.underprovisioned is None:
            continue
        found, planted, alarms, where = run.underprovisioned
        lines.append(f"| {run.seed} | {planted} | {found} | {alarms} | {where} |")
    return "\n".join(lines)


def render_docs(seeds: tuple[int, ...], per_archetype: int, runs: list[SeedRun],
                seconds: float) -> str:
    command = "python -m benchmarks.accuracy"
    if seeds != DEFAULT_SEEDS:
        command += " --seed " + " ".join(str(seed) for seed in seeds)
    if per_archetype != DEFAULT_PER_ARCHETYPE:
        command += f" --per-archetype {per_archetype}"
    first = runs[0]
    template = (Path(__file__).with_name("accuracy_template.md")).read_text()
    return template.format(
        command=command, seeds=", ".join(str(seed) for seed in seeds), seed=first.seed,
        services=len(first.traces), per_archetype=per_archetype,
        planted=max(1, per_archetype // THROTTLED_SHARE), archetypes=len(ARCHETYPES),
        train_days=TRAIN_DAYS, recent_days=RECENT_DAYS, judge_days=JUDGE_DAYS, region=REGION,
        main_table=main_table(first), seeds_table=seeds_table(runs),
        archetype_table=archetype_table(first), floor_table=floor_table(runs),
        underprovisioned_table=underprovisioned_table(runs), unsafe_list=unsafe_list(runs),
        not_downsized=", ".join(f"{run.not_downsized}" for run in runs),
        ours_unsafe=sum(run.scores[OURS].unsafe for run in runs),
        ours_share=f"{sum(run.scores[OURS].share for run in runs) / len(runs):.1%}",
        ours_promised=f"{sum(run.scores[OURS].share_of_promised for run in runs) / len(runs):.1%}",
        floor=f"{ecs_rightsize.Settings().min_margin_percent:g}",
        ceiling=", ".join(f"{run.scores[OURS].promised_usd / run.scores[OURS].ideal_usd:.1%}"
                          for run in runs),
        split=sum(t.exam_in_one_window for t in first.traces),
        unforeseeable=sum(t.unforeseeable for t in first.traces),
        exam_factor=f"{EXAM_FACTOR:g}", exam_span=EXAM_SPAN_DAYS, drift=EXAM_DRIFT_DAYS,
        ahead=year_ago.AHEAD_DAYS, year_days=year_ago.YEAR.days,
        yoy=f"x{YEAR_ON_YEAR_GROWTH[0]:g} to x{YEAR_ON_YEAR_GROWTH[1]:g}",
        growth=f"{GROWTH_PER_WEEK:.0%}", settings=describe_settings(),
        safe=f"{SAFE_SHARE:.0%}", step=backtest.STEP_DAYS, ahead_days=backtest.AHEAD_DAYS,
        min_past=backtest.MIN_PAST_DAYS, seconds=f"{seconds:.0f}",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.accuracy", description=__doc__)
    parser.add_argument("--seed", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    parser.add_argument("--per-archetype", type=int, default=DEFAULT_PER_ARCHETYPE,
                        help=f"services per archetype ({len(ARCHETYPES)} archetypes, plus one "
                        f"planted throttling service per {THROTTLED_SHARE})")
    parser.add_argument("--docs", type=Path, default=DOCS, help="where to write the results")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    args = parser.parse_args(argv)

    started = time.monotonic()
    seeds = tuple(args.seed)
    runs = []
    for seed in seeds:
        runs.append(run_seed(seed, args.per_archetype))
        print(f"seed {seed}: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    seconds = time.monotonic() - started
    print(main_table(runs[0]), "\n")
    print(seeds_table(runs), "\n")
    print(archetype_table(runs[0]), "\n")
    print(floor_table(runs), "\n")
    print(underprovisioned_table(runs), "\n")
    print("unsafe (ours):", unsafe_list(runs))
    if not args.no_docs:
        args.docs.parent.mkdir(parents=True, exist_ok=True)
        args.docs.write_text(render_docs(seeds, args.per_archetype, runs, seconds))
        print(f"\nwrote {args.docs}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
