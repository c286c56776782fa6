"""Power-curve figure: one line per method, a reference line at the target power.

Uses matplotlib's object-oriented API with the Agg canvas (no pyplot, no global state, no display).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pmrtrial.design import PowerCurvePoint

__all__ = ["render_power_curve"]


def render_power_curve(
    curves: Mapping[str, Sequence[PowerCurvePoint]],
    out_dir: str | Path,
    *,
    target_power: float = 0.9,
    title: str | None = None,
    stem: str = "power_curve",
) -> tuple[Path, Path]:
    """Write ``{stem}.png`` and ``{stem}.svg`` into ``out_dir`` (created if needed).

    Parameters
    ----------
    curves : mapping of method name to power-curve points
        e.g. ``{m: compute_power_curve(0.2, 0.8, range(5, 41), method=m) for m in METHODS}``.
    out_dir : path
        Output folder.
    target_power : float
        Height of the dashed reference line.
    title : str, optional
        Figure title.
    stem : str
        File name without extension.

    Returns
    -------
    (png_path, svg_path)
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(7.0, 4.5), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for method, points in curves.items():
        xs = [p.n_control for p in points]
        ys = [p.power for p in points]
        ax.plot(xs, ys, marker="o", markersize=3, linewidth=1.4, label=method)
    ax.axhline(target_power, color="grey", linestyle="--", linewidth=1.0, label=f"target {target_power:g}")
    ax.set_xlabel("participants per group (control)")
    ax.set_ylabel("power")
    ax.set_ylim(0.0, 1.02)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    png = out / f"{stem}.png"
    svg = out / f"{stem}.svg"
    fig.savefig(png)
    fig.savefig(svg, metadata={"Date": None})
    return png, svg
