"""Report figures drawn with matplotlib's Agg backend (no display, no pyplot global state).

Each function returns PNG bytes. When ``synthetic`` is True every figure carries the banner
"SYNTHETIC — not trial data".
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Patch
from PIL import Image

from pmrtrial import vocabulary
from pmrtrial.analysis import AnalysisResult, TrajectoryPoint
from pmrtrial.analysis.results import NOT_DECLARED, SecondaryRow
from pmrtrial.report.tables import fmt_p, primary_adjusted, short_label

__all__ = [
    "SYNTHETIC_BANNER",
    "numbers_at_risk",
    "plot_centre_forest",
    "plot_consort",
    "plot_cumulative_gc",
    "plot_forest",
    "plot_kaplan_meier",
    "plot_primary_forest",
    "plot_state_bars",
    "plot_trajectory",
    "render_figures",
    "risk_table_times",
    "trajectory_points",
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


#: Resolution of the report figures (pixels per inch).
_DPI = 100


def _png(fig: Figure, synthetic: bool) -> bytes:
    """The figure drawn once by Agg and encoded as an opaque RGB PNG.

    The pixels are those of ``fig.savefig(format="png", dpi=100)``; the encoding skips the alpha channel (the
    figures are opaque) and uses zlib level 1: together about half of savefig's PNG encoding CPU, for files of
    about the same size.
    """
    if synthetic:
        fig.text(0.99, 0.995, SYNTHETIC_BANNER, ha="right", va="top", color="#b00020", fontsize=10, fontweight="bold")
    fig.set_dpi(_DPI)
    canvas: Any = FigureCanvasAgg(fig)  # draw and buffer_rgba are untyped in matplotlib
    canvas.draw()
    rgba = Image.frombuffer("RGBA", canvas.get_width_height(physical=True), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    rgba.convert("RGB").save(buf, format="png", compress_level=1)
    return buf.getvalue()


def _labels(result: AnalysisResult) -> dict[str, str]:
    return {str(a["id"]): str(a["label"]) for a in result.arms}


def trajectory_points(result: AnalysisResult, arm: str, variable: str) -> list[TrajectoryPoint]:
    """The trajectory points of one arm and one variable (``crp_pmr_as``, ``cumulative_gc_mg``), by week."""
    return sorted((p for p in result.trajectories if p.arm == arm and p.variable == variable), key=lambda p: p.week)


def plot_trajectory(result: AnalysisResult) -> bytes:
    """Mean CRP PMR-AS over time by arm with 95% CIs (t-based)."""
    fig = Figure(figsize=(7, 4))
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.13)
    ax = fig.add_subplot()
    labels = _labels(result)
    arms = (result.primary.treated_arm, result.primary.control_arm)
    for i, arm in enumerate(arms):
        # only the CRP PMR-AS points: with a gc_doses log the trajectories also hold cumulative_gc_mg
        pts = trajectory_points(result, arm, "crp_pmr_as")
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


def _endpoint_label(row: SecondaryRow) -> str:
    """Human label of a secondary endpoint at its visit: the vocabulary's label, else the protocol's."""
    name = vocabulary.label(row.endpoint_id)
    if name == row.endpoint_id:
        name = row.label or row.endpoint_id
    at = f"week {row.week:g}"
    return name if at in name.lower() else f"{name}, {at}"  # "Glucocorticoid-free at week 24" says it already


#: The primary risk-ratio estimates, in the order of the forest plot: (attribute, label).
PRIMARY_RR_METHODS = (
    ("rr_crude", "Crude RR, Katz log CI"),
    ("rr_score", "Crude RR, score CI"),
    ("rr_gee", "Log-binomial GEE by centre"),
    ("rr_bayes", "Bayesian RR"),
)


def plot_primary_forest(result: AnalysisResult) -> bytes:
    """Forest plot of the primary risk ratio by estimation method (log axis), with the number of responders.

    Only the methods the protocol declares are drawn (with the adjusted risk ratio when declared); a declared method
    that could not run is listed with "not available" instead of a point.
    """
    pr = result.primary
    labels = _labels(result)
    t, c = pr.treated_arm, pr.control_arm
    rows: list[tuple[str, Mapping[str, Any]]] = [
        (name, getattr(pr, attr).to_dict())
        for attr, name in PRIMARY_RR_METHODS
        if getattr(pr, attr).reason != NOT_DECLARED
    ]
    adjusted = primary_adjusted(result)
    if adjusted is not None:
        rows.append(("Adjusted RR, modified Poisson", adjusted))
    height = 1.6 + 0.45 * max(len(rows), 1)  # inches: 0.8 under the axes (tick labels, axis label), 0.8 above (title)
    fig = Figure(figsize=(9, height))
    ax = fig.add_axes((0.37, 0.8 / height, 0.6, (height - 1.6) / height))
    ticks: list[str] = []
    for k, (name, s) in enumerate(rows):
        y = len(rows) - k
        est, lo, hi = s.get("estimate"), s.get("lo"), s.get("hi")
        if s.get("available") and est is not None and lo is not None and hi is not None and 0 < lo <= hi < math.inf:
            ax.hlines(y, lo, hi, color=_COLOURS[0])
            ax.scatter([est], [y], marker="s", color=_COLOURS[0], zorder=3)
            ticks.append(f"{name}: {est:.2f} ({lo:.2f} to {hi:.2f})")
        else:
            ticks.append(f"{name}: not available")
    ax.set_yticks(range(len(rows), 0, -1), ticks, fontsize=7.5)
    ax.set_ylim(0.5, max(len(rows), 1) + 0.5)
    if not rows:  # the protocol declares tests only (e.g. Fisher and Barnard): say so, draw no empty estimate
        ax.text(1.0, 1.0, "no risk-ratio analysis declared by the protocol", ha="center", va="center", fontsize=8)
    ax.set_xscale("log")
    ax.minorticks_off()
    ticks_x = [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    ax.set_xticks(ticks_x, [f"{v:g}" for v in ticks_x])
    ax.axvline(1, color="grey", linewidth=1)
    rt, rc = pr.responders[t], pr.responders[c]
    ax.set_xlabel(
        f"Risk ratio ({short_label(labels[t], 30)} / {short_label(labels[c], 30)}), 95% interval, log scale",
        fontsize=8,
    )
    title = textwrap.fill(f"{pr.label} ({pr.visit})", 95)
    treated, control = short_label(labels[t], 45), short_label(labels[c], 45)
    arms_line = f"{treated} {rt['events']}/{rt['n']} vs {control} {rc['events']}/{rc['n']}"
    fig.text(0.02, 1 - 0.12 / fig.get_figheight(), f"{title}\n{arms_line}", fontsize=8.5, va="top")
    return _png(fig, result.synthetic)


def _ci_row(ax: Any, y: float, d: Mapping[str, Any], colour: str, marker: str = "s", log: bool = False) -> bool:
    """Draw one estimate with its interval; False (nothing drawn) when not estimable or not drawable."""
    return _ci_rows(ax, [(y, d)], colour, marker, log) == [True]


def _ci_rows(
    ax: Any, rows: Sequence[tuple[float, Mapping[str, Any]]], colour: str, marker: str = "s", log: bool = False
) -> list[bool]:
    """Draw the estimates with their intervals in one line collection and one scatter (not two artists per row:
    a 100-centre forest then builds in a fraction of the time); per row, False when not estimable or drawable."""
    drawn: list[bool] = []
    ys: list[float] = []
    ests: list[float] = []
    los: list[float] = []
    his: list[float] = []
    for y, d in rows:
        est, lo, hi = d.get("estimate"), d.get("lo"), d.get("hi")
        if not d.get("available") or est is None or lo is None or hi is None or (log and not 0 < lo <= hi < math.inf):
            drawn.append(False)
        else:
            drawn.append(True)
            ys.append(y)
            ests.append(est)
            los.append(lo)
            his.append(hi)
    if ys:
        ax.hlines(ys, los, his, color=colour)
        ax.scatter(ests, ys, marker=marker, color=colour, zorder=3)
    return drawn


def plot_centre_forest(result: AnalysisResult) -> bytes:
    """Forest plot of the primary endpoint by centre.

    Left: risk difference (Newcombe 95% CI) per centre and the crude pooled risk difference. Right: risk ratio
    (Katz 95% CI, log axis) per centre where each arm has a responder, the crude and the GEE-by-centre estimates.
    A centre whose risk ratio is not estimable (no responder in an arm) is written "RR not estimable", never
    drawn with an invented value.
    """
    pr = result.primary
    labels = _labels(result)
    t, c = pr.treated_arm, pr.control_arm
    centres = list(pr.by_centre)
    gee_declared = pr.rr_gee.reason != NOT_DECLARED  # no "GEE not available" row when the protocol asks for none
    n_rows = len(centres) + 1 + gee_declared
    height = 0.2 * n_rows + 1.6  # inches; 0.2 per row keeps 17 centres (SEMAPHORE) legible at the report's 11 cm
    fig = Figure(figsize=(10, height))
    ax_rd, ax_rr = fig.subplots(1, 2, sharey=True)
    names: list[str] = []
    rows_y = [n_rows - k for k in range(len(centres))]
    rd_drawn = _ci_rows(ax_rd, [(y, centre["rd"]) for y, centre in zip(rows_y, centres, strict=True)], _COLOURS[0])
    rr_rows = [(y, centre["rr"]) for y, centre in zip(rows_y, centres, strict=True)]
    rr_drawn = _ci_rows(ax_rr, rr_rows, _COLOURS[0], log=True)
    for y, centre, rd_ok, rr_ok in zip(rows_y, centres, rd_drawn, rr_drawn, strict=True):
        a, b = centre["arms"][t], centre["arms"][c]
        names.append(f"Centre {centre['site_id']}: {a['events']}/{a['n']} vs {b['events']}/{b['n']}")
        if not rd_ok:  # an arm with no one at this centre
            ax_rd.text(0.0, y, "RD not estimable", ha="center", va="center", fontsize=7, color="#555555")
        if not rr_ok:
            ax_rr.text(1.0, y, "RR not estimable", ha="center", va="center", fontsize=7, color="#555555")
    rt, rc = pr.responders[t], pr.responders[c]
    names.append(f"All centres (crude): {rt['events']}/{rt['n']} vs {rc['events']}/{rc['n']}")
    crude_y = 1 + gee_declared
    _ci_row(ax_rd, crude_y, pr.rd.to_dict(), _COLOURS[1], marker="D")
    _ci_row(ax_rr, crude_y, pr.rr_crude.to_dict(), _COLOURS[1], marker="D")
    if gee_declared:
        names.append("Pooled: GEE clustered by centre")
        if not _ci_row(ax_rr, 1, pr.rr_gee.to_dict(), _COLOURS[2], marker="D", log=True):
            ax_rr.text(1.0, 1, "not available", ha="center", va="center", fontsize=7, color="#555555")
        ax_rd.text(0.0, 1, "(risk ratio only)", ha="center", va="center", fontsize=7, color="#555555")
    ax_rd.set_yticks(range(n_rows, 0, -1), names, fontsize=7.5)
    ax_rd.set_ylim(0.5, n_rows + 0.5)
    ax_rd.set_xlim(-1.05, 1.05)
    ax_rd.axvline(0, color="grey", linewidth=1)
    ax_rd.set_xlabel("Risk difference, 95% CI", fontsize=8)
    ax_rr.set_xscale("log")
    ax_rr.minorticks_off()
    ticks_x = [0.25, 1.0, 4.0, 16.0, 64.0]
    ax_rr.set_xticks(ticks_x, [f"{v:g}" for v in ticks_x])
    ax_rr.set_xlim(0.1, 200)
    ax_rr.axvline(1, color="grey", linewidth=1)
    ax_rr.set_xlabel("Risk ratio, 95% CI (log scale)", fontsize=8)
    title = textwrap.fill(f"{pr.label} ({pr.visit}) by centre", 95)
    arms_line = f"{short_label(labels[t], 40)} vs {short_label(labels[c], 40)}: responders/analysed"
    fig.text(0.02, 1 - 0.08 / height, f"{title}\n{arms_line}", fontsize=8.5, va="top")
    fig.subplots_adjust(left=0.3, right=0.97, wspace=0.1, bottom=0.8 / height, top=1 - 0.75 / height)
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
    fig = Figure(figsize=(12, height))
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
    ax1.set_yticks(range(len(cont), 0, -1), [_endpoint_label(r) for r in cont], fontsize=7)
    ax1.axvline(0, color="grey", linewidth=1)
    labels = _labels(result)
    short_t, short_c = short_label(labels.get(t, t), 18), short_label(labels.get(c, c), 18)
    ax1.set_xlabel(f"Standardised difference ({short_t} − {short_c})\n/ pooled SD", fontsize=8)
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
    ax2.set_yticks(range(len(binr), 0, -1), [_endpoint_label(r) for r in binr], fontsize=7)
    ax2.axvline(1, color="grey", linewidth=1)
    ax2.set_xlabel(f"Risk ratio ({short_t} / {short_c}),\nlog scale", fontsize=8)
    ax2.set_title("Binary endpoints", fontsize=10)
    fig.suptitle("Secondary endpoints: effects with 95% CIs", fontsize=11)
    fig.subplots_adjust(left=0.24, right=0.94, wspace=1.25, bottom=0.2, top=1 - 0.75 / height)  # labels, titles
    return _png(fig, result.synthetic)


def _box(ax: object, x: float, y: float, text: str, width: float = 0.36) -> None:
    height = max(0.09, 0.035 * (text.count("\n") + 1) + 0.02)  # three lines need a taller box
    ax.add_patch(  # type: ignore[attr-defined]
        FancyBboxPatch(
            (x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.01", fc="#f4f6f8", ec="#333"
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=8)  # type: ignore[attr-defined]


def plot_consort(result: AnalysisResult, enrolment: Mapping[str, Any] | None = None) -> bytes:
    """CONSORT flow diagram: [enrolment: assessed -> excluded with reasons ->] randomised -> allocated -> primary
    analysis -> completed / withdrawn / lost. The enrolment stage is drawn when the EDC's screening data are given."""
    fig = Figure(figsize=(7, 6.2 if enrolment else 5))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    top = 1.24 if enrolment else 1.0
    ax.set_ylim(0, top)
    ax.axis("off")
    labels = _labels(result)
    c = result.consort
    arms = (result.primary.treated_arm, result.primary.control_arm)
    total = sum(c.randomised.values())
    if enrolment:
        _box(ax, 0.5, 1.16, f"Assessed for eligibility\nn = {enrolment['assessed']}", 0.34)
        reasons = [f"{k}: {v}" for k, v in enrolment.get("reasons", {}).items()]
        if enrolment.get("other"):
            reasons.append(f"eligible, not randomised: {enrolment['other']}")
        text = f"Excluded n = {enrolment['excluded']}" + ("\n" + "\n".join(reasons[:5]) if reasons else "")
        ax.text(0.72, 1.04, text, ha="left", va="center", fontsize=7, bbox={"fc": "#f4f6f8", "ec": "#333"})
        ax.annotate("", xy=(0.5, 0.945), xytext=(0.5, 1.115), arrowprops={"arrowstyle": "->"})
        ax.annotate("", xy=(0.71, 1.04), xytext=(0.5, 1.04), arrowprops={"arrowstyle": "->"})
    _box(ax, 0.5, 0.9, f"Randomised\nn = {total}", 0.3)
    for i, arm in enumerate(arms):
        x = 0.27 + 0.46 * i
        ax.annotate("", xy=(x, 0.745), xytext=(0.5, 0.855), arrowprops={"arrowstyle": "->"})
        # long arm labels (SAPHYR: "... + 14-week prednisone taper") are wrapped to the box width
        allocated = textwrap.fill(f"Allocated to {labels[arm]}", 38)
        _box(ax, x, 0.7, f"{allocated}\nn = {c.randomised[arm]}")
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


def risk_table_times(horizon: float) -> list[float]:
    """Times (days) of the numbers-at-risk row: 0 and every multiple of a week-based step (1, 2, 4, 8, 12, 26 or 52
    weeks) up to ``horizon``, the smallest step giving at most 8 times (e.g. 364 days: 0, 56, ..., 336)."""
    for step in (7.0, 14.0, 28.0, 56.0, 84.0, 182.0, 364.0):
        if horizon / step < 8:
            break
    return [step * k for k in range(int(horizon // step) + 1)]


def _survival_annotation(entry: Any) -> str:
    """The hazard ratio (first arm vs second) with its 95% CI and the log-rank p of a time-to-event endpoint, or
    why they are absent."""
    lines = []
    cox = entry.analyses.get("cox_ph")
    if cox is not None:
        if cox.get("available") and cox.get("estimate") is not None:
            lines.append(f"Hazard ratio {cox['estimate']:.2f} (95% CI {cox['lo']:.2f} to {cox['hi']:.2f}), Cox")
        else:
            lines.append(f"HR not available: {cox.get('reason') or 'no estimate'}")
    logrank = entry.analyses.get("logrank")
    if logrank is not None:
        p = logrank.get("p") if logrank.get("available") else None
        lines.append(f"Log-rank p = {fmt_p(p)}" if p is not None else "Log-rank test not available")
    return "\n".join(lines)


def plot_kaplan_meier(result: AnalysisResult, endpoint_id: str) -> bytes:
    """Kaplan-Meier curves by arm (steps, censoring ticks) with the hazard ratio and log-rank p on the plot and the
    numbers at risk per arm below the axis, at week-based times."""
    entry = next(e for e in result.endpoints if e.id == endpoint_id)
    arms_km: Mapping[str, Any] = entry.analyses["kaplan_meier"].get("arms") or {}
    labels = _labels(result)
    arms = [a for a in (result.primary.treated_arm, result.primary.control_arm) if a in arms_km]
    horizon = max((max(arms_km[a]["table"]["time"] or [0.0]) for a in arms), default=0.0) or 1.0
    ticks = risk_table_times(horizon)
    fig = Figure(figsize=(7.5, 4.8))
    left, width = 0.22, 0.75
    ax = fig.add_axes((left, 0.36, width, 0.54))
    for i, arm in enumerate(arms):
        table = arms_km[arm]["table"]
        x = [0.0, *[float(t) for t in table["time"]]]
        y = [1.0, *[float(v) for v in table["survival"]]]
        ax.step(x, y, where="post", color=_COLOURS[i], label=labels.get(arm, arm))
        censored = [k for k, c in enumerate(table["n_censor"]) if c]
        ax.plot([x[k + 1] for k in censored], [y[k + 1] for k in censored], "|", color=_COLOURS[i], markersize=8)
    ax.plot([], [], "|", color="#555555", markersize=8, label="Censored")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, horizon * 1.02)
    ax.set_xticks(ticks, [f"{t:.0f}" for t in ticks])
    ax.set_xlabel("Days from the time origin (see Methods)", fontsize=8)
    ax.set_ylabel("Event-free probability")
    ax.set_title(entry.label, fontsize=10)
    ax.legend(frameon=False, fontsize=7, loc="lower left")
    short = [short_label(labels.get(a, a)) for a in arms]
    if len(arms) == 2:
        note = _survival_annotation(entry)
        if note:
            ax.text(0.98, 0.97, note, transform=ax.transAxes, ha="right", va="top", fontsize=7.5,
                    bbox={"fc": "white", "ec": "#999999", "boxstyle": "round,pad=0.3"})  # fmt: skip
    fig.text(0.01, 0.19, "Number at risk", fontsize=8, fontweight="bold")
    for i, arm in enumerate(arms):
        counts = numbers_at_risk(int(arms_km[arm]["n"]), arms_km[arm]["table"], ticks)
        row_y = 0.14 - 0.05 * i
        fig.text(0.01, row_y, short[i], fontsize=7, color=_COLOURS[i])
        for t, k in zip(ticks, counts, strict=True):
            fig.text(left + width * t / (horizon * 1.02), row_y, str(k), fontsize=7, ha="center", color=_COLOURS[i])
    return _png(fig, result.synthetic)


def plot_cumulative_gc(result: AnalysisResult) -> bytes:
    """Median cumulative glucocorticoid dose (mg, from the gc_doses log) by arm over time, with the IQR band."""
    fig = Figure(figsize=(7, 4))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.13)
    ax = fig.add_subplot()
    labels = _labels(result)
    for i, arm in enumerate((result.primary.treated_arm, result.primary.control_arm)):
        pts = trajectory_points(result, arm, "cumulative_gc_mg")
        if not pts:
            continue
        w = np.array([p.week for p in pts])
        ax.plot(
            w,
            [p.median for p in pts],
            marker="o",
            color=_COLOURS[i],
            label=f"{labels.get(arm, arm)}: median (band: IQR)",
        )
        ax.fill_between(w, [p.q1 for p in pts], [p.q3 for p in pts], color=_COLOURS[i], alpha=0.15)
    ax.set_xlabel("Week")
    ax.set_ylabel("mg prednisone-equivalent", fontsize=9)
    ax.set_title(f"{vocabulary.label('cumulative_gc_mg')} by arm: median and interquartile range", fontsize=10)
    ax.legend(frameon=False, fontsize=7, loc="upper left")
    return _png(fig, result.synthetic)


def render_figures(
    result: AnalysisResult, enrolment: Mapping[str, Any] | None = None
) -> Mapping[str, tuple[str, bytes]]:
    """All figures: id -> (caption, PNG bytes), in the report's order (the renderers number them)."""
    figures: dict[str, tuple[str, bytes]] = {
        "consort": (
            "CONSORT flow diagram" + (" (enrolment from the EDC's screening data)." if enrolment else "."),
            plot_consort(result, enrolment),
        ),
        "primary_forest": (
            "Primary endpoint: risk ratio by estimation method, with 95% intervals.",
            plot_primary_forest(result),
        ),
    }
    if result.primary.by_centre:
        figures["centre_forest"] = (
            "Primary endpoint by centre: risk difference (Newcombe 95% CI) and risk ratio (Katz 95% CI; not estimable "
            "in a centre without a responder in an arm, no continuity correction), with the crude estimates over all "
            "centres"
            + (" and the GEE risk ratio clustered by centre." if result.primary.rr_gee.reason != NOT_DECLARED else "."),
            plot_centre_forest(result),
        )
    if result.trajectories:
        figures["trajectory"] = ("Mean CRP PMR-AS over time by arm, with 95% CIs.", plot_trajectory(result))
    if result.visit_states:
        figures["states"] = ("Four states per visit (% of participants seen).", plot_state_bars(result))
    if any(r.estimable and r.effect.available for r in result.secondary):  # no empty axes (SAPHYR has none)
        figures["forest"] = (
            "Secondary endpoints. Continuous: difference in means / pooled SD; binary: risk ratio.",
            plot_forest(result),
        )
    for entry in (e for e in result.endpoints if "kaplan_meier" in e.analyses):
        if entry.analyses["kaplan_meier"].get("available"):
            figures[f"km_{entry.id}"] = (
                f"{entry.label}: Kaplan-Meier estimate by arm (ticks: censored), with the numbers at risk under the "
                f"axis; hazard ratio {_labels(result).get(result.primary.treated_arm, '')} vs "
                f"{_labels(result).get(result.primary.control_arm, '')} (Cox, 95% CI) and log-rank p on the plot.",
                plot_kaplan_meier(result, entry.id),
            )
    if any(p.variable == "cumulative_gc_mg" for p in result.trajectories):
        figures["cumulative_gc"] = (
            "Cumulative glucocorticoid dose by arm over time (gc_doses log): median with the interquartile range.",
            plot_cumulative_gc(result),
        )
    return figures
