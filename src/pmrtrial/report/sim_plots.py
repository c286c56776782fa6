"""Figures of the trial simulator: power against sample size, with Monte Carlo error bars.

Uses matplotlib's object-oriented API with the Agg canvas (no pyplot, no global state, no display).
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pmrtrial.design.simulate import SimulationResult
from pmrtrial.design.simulate_tte_scenario import TteSimulationResult

__all__ = ["render_power_vs_n"]

_SERIES = (
    ("power_fisher", "Fisher exact"),
    ("power_gee", "GEE, robust SE"),
    ("power_gee_md", "GEE, Mancl-DeRouen SE"),
    ("power_rd_newcombe", "risk difference, Newcombe CI"),
    ("power_logrank", "log-rank (flare)"),
    ("power_cox_wald", "Cox Wald (flare)"),
)


def render_power_vs_n(
    result: SimulationResult | TteSimulationResult,
    out_dir: str | Path,
    *,
    target_power: float = 0.9,
    stem: str = "power_vs_n",
) -> tuple[Path, Path]:
    """Write ``{stem}.png`` and ``{stem}.svg``: simulated power (±1.96 MC SE) against n, for the binary and the
    time-to-event kinds (each analysis present in the result is one line); with a time-to-event result that reports
    it, the closed-form log-rank power as a dashed line.

    Returns
    -------
    (png_path, svg_path)
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(7.0, 4.5), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    xs = [p.n_axis_value for p in result.points]
    for key, label in _SERIES:
        if not all(key in p.metrics for p in result.points):
            continue
        ys = [p.metrics[key].value for p in result.points]
        err = [1.96 * p.metrics[key].mcse for p in result.points]
        ax.errorbar(xs, ys, yerr=err, marker="o", markersize=3, linewidth=1.4, capsize=2, label=label)
    closed = getattr(result, "closed_form", None)
    if closed is not None:
        ax.plot(
            [c["n_axis_value"] for c in closed["points"]], [c["power"] for c in closed["points"]],
            linestyle=":", color="black", linewidth=1.2, label="log-rank, Schoenfeld closed form",
        )  # fmt: skip
    null = any(p.is_null for p in result.points)
    ref = result.points[0].alpha if null else target_power
    ax.axhline(ref, color="grey", linestyle="--", linewidth=1.0, label=("alpha" if null else "target") + f" {ref:g}")
    ax.set_xlabel(result.n_axis_label)
    ax.set_ylabel("type I error" if null else "power")
    ax.set_ylim(0.0, 1.02)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title(
        f"{result.scenario}: {result.n_sims:,} simulated trials per point (seed {result.seed})", fontsize="medium"
    )
    fig.tight_layout()
    png = out / f"{stem}.png"
    svg = out / f"{stem}.svg"
    fig.savefig(png)
    fig.savefig(svg)
    return png, svg
