"""Report figures drawn with matplotlib's Agg backend (no display, no pyplot global state).

Each function returns PNG bytes. When ``synthetic`` is True every figure carries the banner
"SYNTHETIC — not trial data".
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Patch

from pmrtrial.analysis import AnalysisResult

__all__ = [
    "SYNTHETIC_BANNER",
    "numbers_at_risk",
    "plot_consort",
    "plot_cumulative_gc",
    "plot_forest",
    "plot_kaplan_meier",
    "plot_state_bars",
    "plot_trajectory",
    "render_figures",
]

SYNTHETIC_BANNER = "SYNTHETIC — not trial data"
_COLOURS = ("#1b6ca8", "#c44e52", "#55a868", "#8172b2")
_STATE_COLOURS = {
    "le10_no_gc": "#2a9d8f",
    "le10_gc": "#e9c46a",
    "gt10_no_gc": "#f4a261",
    "gt10_gc": "#e76f51",
    "missing": "#bdbdbd",
}


def _png(fig: Figure, synthetic: bool) -> bytes:
    if synthetic:
        fig.text(0.99, 0.995, SYNTHETIC_BANNER, ha="right", va="top", color="#b00020", fontsize=10, fontweight="bold")
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _labels(result: AnalysisResult) -> dict[str, str]:
    return {str(a["id"]): str(a["label"]) for a in result.arms}


def plot_trajectory(result: AnalysisResult) -> bytes:
    """Mean CRP PMR-AS over time by arm with 95% CIs (t-based)."""
    fig = Figure(figsize=(7, 4))
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.13)
    ax = fig.add_subplot()
    labels = _labels(result)
    arms = (result.primary.treated_arm, result.primary.control_arm)
    for i, arm in enumerate(arms):
        pts = sorted((p for p in result.trajectories if p.arm == arm), key=lambda p: p.week)
        if not pts:
            continue
        w = np.array([p.week for p in pts]) + (i - 0.5) * 0.3
        m = np.array([p.mean for p in pts])
        lo = np.array([p.lo for p in pts])
        hi = np.array([p.hi for p in pts])
        ax.errorbar(w, m, yerr=[m - lo, hi - m], marker="o", capsize=3, color=_COLOURS[i], label=labels[arm])
    ax.axhline(10, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("Week")
    ax.set_ylabel("CRP PMR-AS, mean (95% CI)")
    ax.set_title("CRP PMR-AS over time by arm")
    ax.legend(frameon=False)
    return _png(fig, result.synthetic)


def plot_state_bars(result: AnalysisResult) -> bytes:
    """Stacked bars of the four states (and missing) per visit, one bar per arm."""
    fig = Figure(figsize=(8, 4))
    fig.subplots_adjust(left=0.08, right=0.83, bottom=0.16)
    ax = fig.add_subplot()
    labels = _labels(result)
    arms = (result.primary.treated_arm, result.primary.control_arm)
    states = list(_STATE_COLOURS)
    rows = result.visit_states
    centres = [j * 3 + 0.5 for j in range(len(rows))]
    for i, arm in enumerate(arms):
        x = np.arange(len(rows)) * 3 + i
        n = np.array([max(row.counts[arm]["n"], 1) for row in rows], dtype=float)
        bottom = np.zeros(len(rows))
        for s in states:
            share = 100.0 * np.array([row.counts[arm][s] for row in rows]) / n
            ax.bar(x, share, bottom=bottom, color=_STATE_COLOURS[s], width=0.9, alpha=1.0 if i == 0 else 0.6)
            bottom += share
    ax.set_xticks(centres, [f"W{row.week:g}" for row in rows], fontsize=8)
    ax.set_xlabel(f"Visit (left bar: {labels[arms[0]]}; right, lighter: {labels[arms[1]]})", fontsize=8)
    ax.set_ylabel("% of participants seen")
    ax.set_title("Four states per visit: CRP PMR-AS ≤10/>10 × oral GC")
    ax.legend(
        [Patch(color=_STATE_COLOURS[s]) for s in states],
        ["≤10, no GC", "≤10, GC", ">10, no GC", ">10, GC", "missing"],
        fontsize=7,
        frameon=False,
        bbox_to_anchor=(1.0, 1.0),
        loc="upper left",
    )
    return _png(fig, result.synthetic)


def plot_forest(result: AnalysisResult) -> bytes:
    """Forest plot of the secondary effects.

    Left: continuous endpoints, difference in means divided by the pooled SD of the two arms
    (standardised, so that endpoints on different scales share an axis); right: binary endpoints,
    risk ratio on a log axis.
    """
    cont = [r for r in result.secondary if r.estimable and r.kind == "continuous" and r.effect.available]
    binr = [r for r in result.secondary if r.estimable and r.kind == "binary" and r.effect.available]
    height = max(3.0, 0.22 * max(len(cont), len(binr)) + 1.2)
    fig = Figure(figsize=(10, height))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    t, c = result.primary.treated_arm, result.primary.control_arm
    ys, est, lo, hi = [], [], [], []
    for k, r in enumerate(cont):
        dt, dc = r.arms[t], r.arms[c]
        nt, nc = dt["n"], dc["n"]
        sd = math.sqrt(((nt - 1) * (dt["sd"] or 0) ** 2 + (nc - 1) * (dc["sd"] or 0) ** 2) / max(nt + nc - 2, 1))
        if not sd:
            continue
        ys.append(len(cont) - k)
        est.append((r.effect.estimate or 0) / sd)
        lo.append((r.effect.lo or 0) / sd)
        hi.append((r.effect.hi or 0) / sd)
    if ys:
        ax1.hlines(ys, lo, hi, color=_COLOURS[0])
        ax1.scatter(est, ys, marker="s", color=_COLOURS[0], zorder=3)
    ax1.set_yticks(range(len(cont), 0, -1), [f"{r.endpoint_id} W{r.week:g}" for r in cont], fontsize=7)
    ax1.axvline(0, color="grey", linewidth=1)
    ax1.set_xlabel(f"Standardised difference ({t} − {c}) / pooled SD")
    ax1.set_title("Continuous endpoints", fontsize=10)
    ys, est, lo, hi = [], [], [], []
    for k, r in enumerate(binr):
        e = r.effect
        if e.estimate is None or e.lo is None or e.hi is None:
            continue
        if all(v > 0 and math.isfinite(v) for v in (e.estimate, e.lo, e.hi)):
            ys.append(len(binr) - k)
            est.append(float(e.estimate))
            lo.append(float(e.lo))
            hi.append(float(e.hi))
    if ys:
        ax2.hlines(ys, lo, hi, color=_COLOURS[1])
        ax2.scatter(est, ys, marker="s", color=_COLOURS[1], zorder=3)
    ax2.set_xscale("log")
    ax2.minorticks_off()
    ticks = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
    ax2.set_xticks(ticks, [f"{v:g}" for v in ticks])
    ax2.set_yticks(range(len(binr), 0, -1), [f"{r.endpoint_id} W{r.week:g}" for r in binr], fontsize=7)
    ax2.axvline(1, color="grey", linewidth=1)
    ax2.set_xlabel(f"Risk ratio ({t} / {c}), log scale")
    ax2.set_title("Binary endpoints", fontsize=10)
    fig.suptitle("Secondary endpoints: effects with 95% CIs", fontsize=11)
    fig.subplots_adjust(left=0.17, right=0.98, wspace=0.75, bottom=0.12)
    return _png(fig, result.synthetic)


def _box(ax: object, x: float, y: float, text: str, width: float = 0.36) -> None:
    ax.add_patch(  # type: ignore[attr-defined]
        FancyBboxPatch((x - width / 2, y - 0.045), width, 0.09, boxstyle="round,pad=0.01", fc="#f4f6f8", ec="#333")
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=8)  # type: ignore[attr-defined]


def plot_consort(result: AnalysisResult) -> bytes:
    """CONSORT flow diagram: randomised -> allocated -> primary analysis -> completed / withdrawn / lost."""
    fig = Figure(figsize=(7, 5))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    labels = _labels(result)
    c = result.consort
    arms = (result.primary.treated_arm, result.primary.control_arm)
    total = sum(c.randomised.values())
    _box(ax, 0.5, 0.9, f"Randomised\nn = {total}", 0.3)
    for i, arm in enumerate(arms):
        x = 0.27 + 0.46 * i
        ax.annotate("", xy=(x, 0.745), xytext=(0.5, 0.855), arrowprops={"arrowstyle": "->"})
        _box(ax, x, 0.7, f"Allocated to {labels[arm]}\nn = {c.randomised[arm]}")
        _box(ax, x, 0.5, f"Analysed at {result.primary.visit} (primary)\nn = {c.primary_analysed[arm]}")
        _box(ax, x, 0.3, f"Withdrawn n = {c.withdrawn[arm]}\nLost to follow-up n = {c.lost[arm]}")
        _box(ax, x, 0.1, f"Completed the study\nn = {c.completed[arm]}")
        for y0, y1 in ((0.655, 0.545), (0.455, 0.345), (0.255, 0.145)):
            ax.annotate("", xy=(x, y1), xytext=(x, y0), arrowprops={"arrowstyle": "->"})
    return _png(fig, result.synthetic)


def numbers_at_risk(n: int, table: Mapping[str, Any], at: Sequence[float]) -> list[int]:
    """Participants still at risk at each time of ``at``, from a Kaplan-Meier step table (``time``,
    ``n_risk``, ``n_event``, ``n_censor``): ``n`` at time 0, else the number at risk at the first table
    time >= t, else those left after the last time (0 once everyone has had the event or been censored)."""
    times = [float(x) for x in table.get("time", ())]
    risk = [int(x) for x in table.get("n_risk", ())]
    gone = [int(e) + int(c) for e, c in zip(table.get("n_event", ()), table.get("n_censor", ()), strict=True)]
    out = []
    for t in at:
        later = [k for k, x in enumerate(times) if x >= t]
        if t <= 0 or not times:
            out.append(n)
        elif later:
            out.append(risk[later[0]])
        else:
            out.append(risk[-1] - gone[-1])
    return out


def plot_kaplan_meier(result: AnalysisResult, endpoint_id: str) -> bytes:
    """Kaplan-Meier curves by arm (steps, censoring ticks) with the numbers at risk below the axis."""
    entry = next(e for e in result.endpoints if e.id == endpoint_id)
    arms_km: Mapping[str, Any] = entry.analyses["kaplan_meier"].get("arms") or {}
    labels = _labels(result)
    arms = [a for a in (result.primary.treated_arm, result.primary.control_arm) if a in arms_km]
    horizon = max((max(arms_km[a]["table"]["time"] or [0.0]) for a in arms), default=0.0) or 1.0
    ticks = [float(t) for t in np.linspace(0.0, horizon, 6)]
    fig = Figure(figsize=(7, 4.6))
    ax = fig.add_axes((0.1, 0.34, 0.87, 0.58))
    for i, arm in enumerate(arms):
        table = arms_km[arm]["table"]
        x = [0.0, *[float(t) for t in table["time"]]]
        y = [1.0, *[float(v) for v in table["survival"]]]
        ax.step(x, y, where="post", color=_COLOURS[i], label=labels.get(arm, arm))
        censored = [k for k, c in enumerate(table["n_censor"]) if c]
        ax.plot([x[k + 1] for k in censored], [y[k + 1] for k in censored], "|", color=_COLOURS[i], markersize=8)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, horizon * 1.02)
    ax.set_xticks(ticks, [f"{t:.0f}" for t in ticks])
    ax.set_xlabel("Days from the origin")
    ax.set_ylabel("Event-free probability")
    ax.set_title(entry.label, fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="lower left")
    fig.text(0.01, 0.17, "At risk", fontsize=8, fontweight="bold")
    for i, arm in enumerate(arms):
        counts = numbers_at_risk(int(arms_km[arm]["n"]), arms_km[arm]["table"], ticks)
        row_y = 0.12 - 0.05 * i
        fig.text(0.01, row_y, labels.get(arm, arm)[:14], fontsize=7, color=_COLOURS[i])
        for t, k in zip(ticks, counts, strict=True):
            fig.text(0.1 + 0.87 * t / (horizon * 1.02), row_y, str(k), fontsize=7, ha="center", color=_COLOURS[i])
    return _png(fig, result.synthetic)


def plot_cumulative_gc(result: AnalysisResult) -> bytes:
    """Mean cumulative glucocorticoid dose (mg, from the gc_doses log) by arm over time, with 95% CIs."""
    fig = Figure(figsize=(7, 4))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.13)
    ax = fig.add_subplot()
    labels = _labels(result)
    for i, arm in enumerate((result.primary.treated_arm, result.primary.control_arm)):
        pts = sorted(
            (p for p in result.trajectories if p.arm == arm and p.variable == "cumulative_gc_mg"), key=lambda p: p.week
        )
        if not pts:
            continue
        w = np.array([p.week for p in pts])
        ax.plot(w, [p.mean for p in pts], marker="o", color=_COLOURS[i], label=labels.get(arm, arm))
        ax.fill_between(w, [p.lo for p in pts], [p.hi for p in pts], color=_COLOURS[i], alpha=0.15)
    ax.set_xlabel("Week")
    ax.set_ylabel("Cumulative glucocorticoid (mg prednisone-equivalent)")
    ax.legend(frameon=False, fontsize=8)
    return _png(fig, result.synthetic)


def render_figures(result: AnalysisResult) -> Mapping[str, tuple[str, bytes]]:
    """All figures: id -> (caption, PNG bytes)."""
    figures: dict[str, tuple[str, bytes]] = {
        "consort": ("Figure 1. CONSORT flow diagram.", plot_consort(result)),
    }
    if result.trajectories:
        figures["trajectory"] = ("Figure 2. Mean CRP PMR-AS over time by arm, with 95% CIs.", plot_trajectory(result))
    if result.visit_states:
        figures["states"] = ("Figure 3. Four states per visit (% of participants seen).", plot_state_bars(result))
    figures["forest"] = (
        "Figure 4. Secondary endpoints. Continuous: difference in means / pooled SD; binary: risk ratio.",
        plot_forest(result),
    )
    for k, entry in enumerate(e for e in result.endpoints if "kaplan_meier" in e.analyses):
        if entry.analyses["kaplan_meier"].get("available"):
            figures[f"km_{entry.id}"] = (
                f"Figure {5 + k}. {entry.label}: Kaplan-Meier estimate by arm, with the numbers at risk.",
                plot_kaplan_meier(result, entry.id),
            )
    if any(p.variable == "cumulative_gc_mg" for p in result.trajectories):
        figures["cumulative_gc"] = (
            "Cumulative glucocorticoid dose by arm over time (gc_doses log), mean with 95% CI.",
            plot_cumulative_gc(result),
        )
    return figures
