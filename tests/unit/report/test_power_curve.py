"""Power-curve figure: files written, one line per method, no warnings (pytest turns them into errors)."""

from __future__ import annotations

from pathlib import Path

from pmrtrial.design import PowerCurvePoint
from pmrtrial.report.power_curve import render_power_curve


def test_render_writes_both_formats_with_labels(tmp_path: Path) -> None:
    curves = {
        "normal": [PowerCurvePoint(n, n, 0.5 + 0.02 * n) for n in range(5, 15)],
        "fisher-exact": [PowerCurvePoint(n, n, 0.4 + 0.02 * n) for n in range(5, 15)],
    }
    png, svg = render_power_curve(curves, tmp_path / "out", target_power=0.9, title="demo")
    assert png == tmp_path / "out" / "power_curve.png" and png.stat().st_size > 1000
    text = svg.read_text()
    for label in ("normal", "fisher-exact", "target 0.9", "power", "participants per group", "demo"):
        assert label in text
    assert text.count("<path") >= 3
