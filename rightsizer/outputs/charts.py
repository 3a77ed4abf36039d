"""Geometry for the inline SVG charts: numbers in, shapes out; the template draws them.

Kept apart from the template so the arithmetic is testable and the template stays markup.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from rightsizer.outputs.formatting import as_number, money

# Distinguishable on screen and in greyscale print; the last one is for "Other".
SERIES_COLOURS = ("#2f6fde", "#12a19a", "#e08a1e", "#8b5cf6", "#d9467a", "#6aa31c", "#0e8db8")
OTHER_COLOUR = "#a3adbb"
MAX_TREND_SERVICES = len(SERIES_COLOURS)  # more than this and the legend stops being readable


def nice_ceiling(value: float) -> float:
    """Round up to 1, 2, 2.5 or 5 times a power of ten, so axis labels are round numbers."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def cost_trend_chart(rows: list[dict[str, Any]], as_of: str | None = None
                     ) -> dict[str, Any] | None:
    """Stacked monthly bars by service from context["cost_trend"]; None when there is no data.

    A month not over yet (the month of `as_of`, the report's timestamp, or later; or a row
    Cost Explorer marked `estimated`) is drawn as a partial bar labelled "to date", so it does
    not read as a cheap month. The legend gives each service's cost month by month.
    """
    amounts: dict[tuple[str, str], float] = defaultdict(float)
    current_month = str(as_of or "")[:7]
    partial: set[str] = set()
    for row in rows or []:
        amount = as_number(row.get("amount_usd")) if isinstance(row, dict) else None
        if amount is None or amount <= 0:
            continue  # credits/refunds are negative and cannot be stacked
        month = str(row.get("month", ""))
        amounts[(month, str(row.get("service", "")))] += amount
        if row.get("estimated") is True or (len(current_month) == 7 and month[:7] >= current_month):
            partial.add(month)
    if not amounts:
        return None
    months = sorted({month for month, _ in amounts})
    series = _trend_series(amounts)
    width, height = 600, 260
    left, right, top, bottom = 56, 8, 22, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = {month: sum(v for (m, _), v in amounts.items() if m == month) for month in months}
    y_max = nice_ceiling(max(totals.values()))
    band = plot_w / len(months)
    bar_w = min(56.0, band * 0.62)
    bars = []
    for index, month in enumerate(months):
        x = left + band * index + (band - bar_w) / 2
        y_cursor = top + plot_h
        segments = []
        for entry in series:
            value = sum(amounts.get((month, s), 0.0) for s in entry["members"])
            if value <= 0:
                continue
            h = value / y_max * plot_h
            y_cursor -= h
            segments.append({"y": round(y_cursor, 2), "h": round(h, 2), "colour": entry["colour"],
                             "title": f"{month} · {entry['name']}: {money(value)}"})
        bars.append({"x": round(x, 2), "w": round(bar_w, 2), "cx": round(x + bar_w / 2, 2),
                     "month": month, "total": money(totals[month]),
                     "partial": month in partial,
                     "total_y": round(y_cursor - 6, 2), "segments": segments})
    ticks = [{"y": round(top + plot_h - plot_h * i / 4, 2), "label": _axis_money(y_max * i / 4)}
             for i in range(5)]
    legend = [{"name": e["name"], "colour": e["colour"],
               "months": [money(sum(amounts.get((month, s), 0.0) for s in e["members"]))
                          for month in months]}
              for e in series]
    columns = [{"month": month, "partial": month in partial, "total": money(totals[month])}
               for month in months]
    return {"width": width, "height": height, "left": left, "right": width - right,
            "baseline": top + plot_h, "label_y": height - 8, "ticks": ticks, "bars": bars,
            "legend": legend, "columns": columns}


def _axis_money(value: float) -> str:
    return f"${value:,.0f}" if float(value).is_integer() else money(value)


def _trend_series(amounts: dict[tuple[str, str], float]) -> list[dict[str, Any]]:
    """Services by total spend, biggest first (bottom of the stack); the tail becomes Other."""
    by_service: dict[str, float] = defaultdict(float)
    for (_, service), value in amounts.items():
        by_service[service] += value
    ranked = sorted(by_service, key=lambda s: (-by_service[s], s))
    keep = ranked if len(ranked) <= MAX_TREND_SERVICES else ranked[: MAX_TREND_SERVICES - 1]
    series = [{"name": s, "members": [s], "colour": SERIES_COLOURS[i], "total": by_service[s]}
              for i, s in enumerate(keep)]
    rest = ranked[len(keep):]
    if rest:
        series.append({"name": f"Other ({len(rest)} services)", "members": rest,
                       "colour": OTHER_COLOUR, "total": sum(by_service[s] for s in rest)})
    return series


def utilization_chart(title: str, daily_peaks: Any, recommended_percent: Any = None,
                      threshold_percent: Any = None) -> dict[str, Any] | None:
    """Daily peak utilization (% of the current task size) as bars under a 100% line.

    The dashed line is the recommended size as a share of the current one: peaks under it
    would still have fit, which is the whole argument of an ecs-rightsize finding.
    """
    values = [as_number(v) for v in daily_peaks] if isinstance(daily_peaks, list) else []
    if not values or all(v is None for v in values):
        return None
    recommended = as_number(recommended_percent)
    threshold = as_number(threshold_percent)
    peak = max(v for v in values if v is not None)
    y_max = max(100.0, peak, recommended or 0.0) * 1.08
    y_max = math.ceil(y_max / 25) * 25  # gridlines stay on round percentages
    width, height = 340, 150
    left, right, top, bottom = 36, 8, 10, 20
    plot_w, plot_h = width - left - right, height - top - bottom

    def y_of(pct: float) -> float:
        return round(top + plot_h - pct / y_max * plot_h, 2)

    band = plot_w / len(values)
    bars = []
    for index, value in enumerate(values):
        if value is None:
            continue
        clipped = max(0.0, value)
        bars.append({"x": round(left + band * index + band * 0.15, 2),
                     "w": round(max(band * 0.7, 1.0), 2), "y": y_of(clipped),
                     "h": round(clipped / y_max * plot_h, 2),
                     "over": recommended is not None and value > recommended,
                     "title": f"day {index + 1}: {value:.1f}%"})
    lines = [{"y": y_of(100), "label": "100% = current size", "kind": "current"}]
    if recommended is not None:
        lines.append({"y": y_of(recommended), "label": f"recommended {recommended:.1f}%",
                      "kind": "recommended"})
    if threshold is not None:
        lines.append({"y": y_of(threshold), "label": f"threshold {threshold:.0f}%",
                      "kind": "threshold"})
    _place_labels(lines, left + 4, width - right - 2)
    ticks = [{"y": y_of(p), "label": f"{p:g}%"} for p in range(0, int(y_max) + 1, 50)]
    return {"title": title, "width": width, "height": height, "left": left,
            "right": width - right, "baseline": top + plot_h, "bars": bars, "lines": lines,
            "ticks": ticks, "days": len(values), "peak": f"{peak:.1f}%"}


def _place_labels(lines: list[dict[str, Any]], left_x: float, right_x: float) -> None:
    """Right-align labels, but move one to the left edge when it would overlap the previous
    (e.g. a recommended size of 50% sitting on a 50% threshold)."""
    previous: dict[str, Any] | None = None
    for line in sorted(lines, key=lambda item: item["y"]):
        clash = previous is not None and previous["anchor"] == "end" and \
            abs(line["y"] - previous["y"]) < 12
        line["anchor"], line["x"] = ("start", left_x) if clash else ("end", right_x)
        previous = line


def evidence_charts(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    """The ecs-rightsize evidence charts (CPU, memory) when the daily series are present."""
    charts = []
    for metric, label in (("cpu", "CPU"), ("memory", "Memory")):
        chart = utilization_chart(
            f"{label}: daily peak, % of current size",
            evidence.get(f"{metric}_daily_max_percent"),
            evidence.get(f"recommended_{metric}_percent_of_current"),
            evidence.get("threshold_percent"),
        )
        if chart:
            charts.append(chart)
    return charts


def savings_trend_chart(points: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A small line of potential savings per month (history["trend"]); None under two months.

    The y axis starts at zero so a drop from $110 to $100 does not look like a collapse.
    """
    values = [(str(p.get("month", "")), as_number(p.get("monthly_savings_usd")),
               p.get("findings")) for p in points or [] if isinstance(p, dict)]
    values = [(month, value, count) for month, value, count in values if value is not None]
    if len(values) < 2:
        return None
    width, height = 240, 64
    left, right, top, bottom = 6, 6, 16, 16
    plot_w, plot_h = width - left - right, height - top - bottom
    y_max = max(value for _, value, _ in values) or 1.0
    step = plot_w / (len(values) - 1)
    dots = []
    for index, (month, value, count) in enumerate(values):
        dots.append({"x": round(left + step * index, 2),
                     "y": round(top + plot_h - value / y_max * plot_h, 2),
                     "title": f"{month}: {money(value)}/month potential"
                              + (f" · {count} findings" if isinstance(count, int) else "")})
    return {"width": width, "height": height, "baseline": top + plot_h,
            "left": left, "right": width - right,
            "path": " ".join(f"{d['x']},{d['y']}" for d in dots), "dots": dots,
            "first_month": values[0][0], "last_month": values[-1][0],
            "label_y": height - 3, "last": dots[-1], "last_value": money(values[-1][1])}
