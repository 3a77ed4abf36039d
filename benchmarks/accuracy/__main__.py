"""python -m benchmarks.accuracy [--seed N] [--per-archetype N] [--docs PATH | --no-docs]

Generates the traces, runs the three strategies on the training window, judges them on the next
window, prints the tables and writes docs/accuracy.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from benchmarks.accuracy.scoring import Score, ideal_savings_usd, score
from benchmarks.accuracy.strategies import (
    REGION,
    STRATEGIES,
    describe_settings,
    ours,
    training_snapshot,
)
from benchmarks.accuracy.traces import (
    ARCHETYPES,
    EXAM_DRIFT_DAYS,
    EXAM_FACTOR,
    GROWTH_PER_WEEK,
    JUDGE_DAYS,
    TRAIN_DAYS,
    YEAR_ON_YEAR_GROWTH,
    Trace,
    generate,
)
from rightsizer.rules import ecs_rightsize
from rightsizer.rules.support import year_ago

DEFAULT_SEED = 20260901
DEFAULT_PER_ARCHETYPE = 100
# The CPU peak margin, swept: what each point of safety costs in savings.
PEAK_HEADROOMS = (0.0, 5.0, 10.0, 15.0, 20.0)
# Ours at its defaults on more draws of the same archetypes: one seed can be lucky.
MORE_SEEDS = (11, 12345, 777, 4242)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "accuracy.md"


def run(traces: list[Trace]) -> dict[str, tuple[Score, Score, dict[str, Score]]]:
    """Per strategy: the score on every service, on the services without an exam week split
    across the windows, and per archetype."""
    steady_world = [trace for trace in traces if not trace.exam_in_one_window]
    results = {}
    for name, strategy in STRATEGIES.items():
        recommendations = strategy(traces)
        by_archetype = {
            archetype: score([t for t in traces if t.archetype == archetype], recommendations)
            for archetype in ARCHETYPES
        }
        results[name] = (score(traces, recommendations), score(steady_world, recommendations),
                         by_archetype)
    return results


def main_table(results: dict[str, tuple[Score, Score, dict[str, Score]]]) -> str:
    lines = [
        "| strategy | recommendations | unsafe downsizes | of which unforeseeable in 14 days | "
        "captured $/month | ideal $/month | share of ideal | share of ideal, no split exam "
        "week | share of the promised ideal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, (everything, steady, _) in results.items():
        lines.append(
            f"| {name} | {everything.recommendations} | {everything.unsafe} | "
            f"{everything.unsafe_unforeseeable} | {everything.captured_usd:,.0f} | "
            f"{everything.ideal_usd:,.0f} | {everything.share:.1%} | {steady.share:.1%} | "
            f"{everything.share_of_promised:.1%} |"
        )
    return "\n".join(lines)


def margin_table(traces: list[Trace]) -> str:
    """Ours at several CPU peak margins, the rest of the settings at their defaults."""
    lines = ["| peak_headroom_percent | unsafe downsizes | share of ideal | "
             "share of the promised ideal |", "|---:|---:|---:|---:|"]
    default = ecs_rightsize.Settings().peak_headroom_percent
    snapshot = training_snapshot(traces)
    for margin in PEAK_HEADROOMS:
        result = score(traces, ours(traces, ecs_rightsize.Settings(
            peak_headroom_percent=margin), snapshot))
        label = f"**{margin:g}** (default)" if margin == default else f"{margin:g}"
        lines.append(f"| {label} | {result.unsafe} | {result.share:.1%} | "
                     f"{result.share_of_promised:.1%} |")
    return "\n".join(lines)


def archetype_table(results: dict[str, tuple[Score, Score, dict[str, Score]]],
                    traces: list[Trace]) -> str:
    names = list(results)
    header = "| archetype | services | ideal $/month | " + " | ".join(
        f"{name}: share / unsafe" for name in names) + " |"
    lines = [header, "|---|---:|---:|" + "---:|" * len(names)]
    for archetype in ARCHETYPES:
        members = [t for t in traces if t.archetype == archetype]
        ideal = sum(ideal_savings_usd(t) for t in members)
        cells = []
        for name in names:
            part = results[name][2][archetype]
            cells.append(f"{part.share:.0%} / {part.unsafe}")
        lines.append(f"| {archetype} | {len(members)} | {ideal:,.0f} | " + " | ".join(cells)
                     + " |")
    return "\n".join(lines)


def seeds_table(seeds: tuple[int, ...], per_archetype: int) -> str:
    lines = ["| seed | services | unsafe downsizes | share of ideal | share of the promised "
             "ideal |", "|---:|---:|---:|---:|---:|"]
    for seed in seeds:
        traces = generate(seed, per_archetype)
        result = score(traces, ours(traces))
        lines.append(f"| {seed} | {len(traces)} | {result.unsafe} | {result.share:.1%} | "
                     f"{result.share_of_promised:.1%} |")
    return "\n".join(lines)


def render_docs(seed: int, per_archetype: int, traces: list[Trace], main: str, by_type: str,
                margins: str, seeds: str, seconds: float) -> str:
    command = "python -m benchmarks.accuracy"
    if seed != DEFAULT_SEED or per_archetype != DEFAULT_PER_ARCHETYPE:
        command += f" --seed {seed} --per-archetype {per_archetype}"
    split = sum(t.exam_in_one_window for t in traces)
    unforeseeable = sum(t.unforeseeable for t in traces)
    template = (Path(__file__).with_name("accuracy_template.md")).read_text()
    return template.format(
        command=command, seed=seed, services=len(traces), per_archetype=per_archetype,
        archetypes=len(ARCHETYPES), train_days=TRAIN_DAYS, judge_days=JUDGE_DAYS,
        region=REGION, main_table=main, archetype_table=by_type, split=split,
        unforeseeable=unforeseeable, exam_factor=f"{EXAM_FACTOR:g}", margin_table=margins,
        seeds_table=seeds,
        drift=EXAM_DRIFT_DAYS, ahead=year_ago.AHEAD_DAYS, year_days=year_ago.YEAR.days,
        yoy=f"x{YEAR_ON_YEAR_GROWTH[0]:g} to x{YEAR_ON_YEAR_GROWTH[1]:g}",
        growth=f"{GROWTH_PER_WEEK:.0%}", settings=describe_settings(),
        seconds=f"{seconds:.0f}",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.accuracy", description=__doc__)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--per-archetype", type=int, default=DEFAULT_PER_ARCHETYPE,
                        help=f"services per archetype ({len(ARCHETYPES)} archetypes)")
    parser.add_argument("--docs", type=Path, default=DOCS, help="where to write the results")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    args = parser.parse_args(argv)

    started = time.monotonic()
    traces = generate(args.seed, args.per_archetype)
    results = run(traces)
    main_md, by_type_md = main_table(results), archetype_table(results, traces)
    margins_md = margin_table(traces)
    seeds_md = seeds_table(MORE_SEEDS, args.per_archetype)
    seconds = time.monotonic() - started
    print(f"seed {args.seed}, {len(traces)} services, train {TRAIN_DAYS} days, judge "
          f"{JUDGE_DAYS} days, {seconds:.1f} s\n")
    print(main_md, "\n")
    print(by_type_md, "\n")
    print(margins_md, "\n")
    print(seeds_md)
    if not args.no_docs:
        args.docs.parent.mkdir(parents=True, exist_ok=True)
        args.docs.write_text(render_docs(args.seed, args.per_archetype, traces, main_md,
                                         by_type_md, margins_md, seeds_md, seconds))
        print(f"\nwrote {args.docs}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
