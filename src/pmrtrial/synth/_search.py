"""Fit a small group of participants' values to published summaries by local search on value grids.

A *group* is one arm at one visit (n <= 18). It holds a few *variables* (each value lives on a grid: VAS to
0.1, stiffness in whole minutes, EQ-5D on the attainable index values...) and *composites* (fixed linear
combinations of variables, e.g. the CRP PMR-AS). Composites may carry per-participant bounds (the four-state
partition: PMR-AS <= 10 or > 10; > 17 at inclusion), which are hard constraints. *Targets* are published
summaries (mean, SD, median, quartiles) of a variable or a composite, each with the half-width of its
printed precision.

The search starts from values drawn by the caller, snaps them to the grids, repairs the hard constraints,
then proposes random moves (one value a few grid steps up or down, or two participants swapping a value)
and keeps a move when it does not increase the loss. Every move keeps the hard constraints. The loss of a
target is ``max(0, x - 0.5)^2 + 100 * max(0, x - 0.9)^2`` with ``x = |achieved - published| / half-width``:
a target is met (``x <= 0.9``) well inside the rounding interval, and the search prefers the centre.

Quantiles are SAS's default definition 5 (R ``quantile(type = 2)``, numpy ``"averaged_inverted_cdf"``):
the average of the two order statistics when ``n p`` is an integer, else the next order statistic.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pmrtrial.exceptions import DataError

__all__ = ["GroupSearch", "affine_fit", "anchor_quantiles", "quantile_type2"]

_STATS = ("mean", "sd", "median", "q1", "q3")
_PROB = {"median": 0.5, "q1": 0.25, "q3": 0.75}


def quantile_type2(sorted_values: Sequence[float], p: float) -> float:
    """Quantile of already sorted values by SAS definition 5 / R type 2."""
    n = len(sorted_values)
    np_ = n * p
    k = math.floor(np_ + 1e-9)
    if abs(np_ - k) < 1e-9:
        return 0.5 * (sorted_values[k - 1] + sorted_values[min(k, n - 1)])
    return sorted_values[k]


def affine_fit(values: np.ndarray, *, mean: float, sd: float, lo: float, hi: float, rounds: int = 20) -> np.ndarray:
    """Affine-transform ``values`` to the given mean and SD (ddof 1), clipping to [lo, hi] and re-fitting.

    Ranks are preserved. Clipping moves the moments, so the transform is repeated a few times; the result is
    only a starting point for :class:`GroupSearch`.
    """
    x = np.asarray(values, dtype=float).copy()
    if x.size < 2:
        return np.asarray(np.clip(np.full_like(x, mean), lo, hi), dtype=float)
    for _ in range(rounds):
        s = x.std(ddof=1)
        x = mean + (x - x.mean()) * (sd / s) if s > 0 else np.full_like(x, mean)
        x = np.clip(x, lo, hi)
        if abs(x.mean() - mean) < 1e-6 * (1 + abs(mean)) and abs(x.std(ddof=1) - sd) < 1e-6 * (1 + sd):
            break
    return x


def _positions(n: int, p: float) -> tuple[int, ...]:
    """0-based order statistics that define the type-2 quantile ``p`` of ``n`` values."""
    np_ = n * p
    k = math.floor(np_ + 1e-9)
    if abs(np_ - k) < 1e-9:
        return (k - 1, min(k, n - 1))
    return (k,)


def _pin(n: int, g: np.ndarray, quantiles: Mapping[str, tuple[float, float]], spread: int) -> dict[int, float]:
    """Order statistic (0-based) -> pinned grid value, for each published quantile."""
    pinned: dict[int, float] = {}
    for stat, (value, hw) in quantiles.items():
        pos = _positions(n, _PROB[stat])
        j = int(np.abs(g - value).argmin())
        if len(pos) == 1:
            pinned[pos[0]] = float(g[j])
            continue
        best = (float(g[j]), float(g[j]))
        for d in range(spread, -1, -1):
            a = float(g[max(j - d, 0)])
            b = float(g[int(np.abs(g - (2 * value - a)).argmin())])
            if a <= b and abs((a + b) / 2 - value) <= 0.5 * hw:
                best = (a, b)
                break
        pinned[pos[0]], pinned[pos[1]] = best
    return pinned


def anchor_quantiles(
    initial: np.ndarray,
    grid: np.ndarray,
    quantiles: Mapping[str, tuple[float, float]],
    *,
    lo: float,
    hi: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pin the order statistics that define the published median/quartiles, and bound the others between them.

    ``quantiles`` maps ``"median"``/``"q1"``/``"q3"`` to (published value, half-width). Participants keep the
    rank order of ``initial``. Returns the new initial values and per-participant lower and upper bounds: any
    values within those bounds have exactly the pinned quantiles, so a search inside them only has the mean and
    SD left to fit.
    """
    n = len(initial)
    g = np.asarray(grid, dtype=float)
    pinned = _pin(n, g, quantiles, int(rng.integers(0, 3)))
    keys = sorted(pinned)
    if any(pinned[a] > pinned[b] for a, b in itertools.pairwise(keys)):
        pinned = _pin(n, g, quantiles, 0)  # a spread pair overlapped its neighbour: pin pairs at the value itself
    order = np.argsort(initial, kind="stable")
    lo_pos = np.empty(n)
    hi_pos = np.empty(n)
    for j in range(n):
        below = [pinned[k] for k in keys if k <= j]
        above = [pinned[k] for k in keys if k >= j]
        lo_pos[j] = max(below) if below else lo
        hi_pos[j] = min(above) if above else hi
    lo_pos = np.minimum(lo_pos, hi_pos)
    init_sorted = np.clip(np.sort(initial), lo_pos, hi_pos)
    new_init = np.empty(n)
    lo_out = np.empty(n)
    hi_out = np.empty(n)
    new_init[order] = init_sorted
    lo_out[order] = lo_pos
    hi_out[order] = hi_pos
    return new_init, lo_out, hi_out


@dataclass
class _Target:
    series: str
    stat: str
    value: float
    halfwidth: float
    weight: float


class GroupSearch:
    """Local search for one arm-visit group; see the module docstring.

    Parameters
    ----------
    n : int
        Number of participants in the group.
    rng : numpy.random.Generator
        Source of every random choice.
    """

    def __init__(self, n: int, rng: np.random.Generator) -> None:
        self.n = n
        self.rng = rng
        self._grids: dict[str, list[float]] = {}
        self._idx: dict[str, list[int]] = {}
        self._lo: dict[str, list[int]] = {}
        self._hi: dict[str, list[int]] = {}
        self._step: dict[str, int] = {}
        self._comp_w: dict[str, dict[str, float]] = {}
        self._comp_lo: dict[str, list[float]] = {}
        self._comp_hi: dict[str, list[float]] = {}
        self._targets: list[_Target] = []

    # -- building -------------------------------------------------------------------------------------------
    def add_variable(
        self,
        name: str,
        grid: Sequence[float] | np.ndarray,
        initial: Sequence[float] | np.ndarray,
        *,
        lo: Sequence[float] | np.ndarray | None = None,
        hi: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        """Add a variable on ``grid`` (sorted), started at the grid points nearest ``initial``.

        ``lo``/``hi`` are optional per-participant value bounds (inclusive), e.g. an upper-limb elevation that
        must stay 0, or must stay in 1-3.
        """
        g = np.asarray(grid, dtype=float)
        init = np.asarray(initial, dtype=float)
        lo_v = np.full(self.n, g[0]) if lo is None else np.asarray(lo, dtype=float)
        hi_v = np.full(self.n, g[-1]) if hi is None else np.asarray(hi, dtype=float)
        lo_i = np.searchsorted(g, lo_v - 1e-9, side="left")
        hi_i = np.searchsorted(g, hi_v + 1e-9, side="right") - 1
        if np.any(lo_i > hi_i):
            raise DataError(f"Empty value range for {name!r} in the synthetic twin search.")
        idx = np.clip(np.abs(g[None, :] - init[:, None]).argmin(axis=1), lo_i, hi_i)
        self._grids[name] = g.tolist()
        self._idx[name] = [int(i) for i in idx]
        self._lo[name] = [int(i) for i in lo_i]
        self._hi[name] = [int(i) for i in hi_i]
        self._step[name] = max(1, len(g) // 40)

    def add_composite(
        self,
        name: str,
        weights: Mapping[str, float],
        *,
        lo: Sequence[float] | np.ndarray | None = None,
        hi: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        """Add a composite ``sum(w * variable)`` with optional per-participant hard bounds (inclusive)."""
        self._comp_w[name] = dict(weights)
        self._comp_lo[name] = [-math.inf] * self.n if lo is None else [float(v) for v in lo]
        self._comp_hi[name] = [math.inf] * self.n if hi is None else [float(v) for v in hi]

    def add_target(self, series: str, stat: str, value: float, halfwidth: float, *, weight: float = 1.0) -> None:
        """Ask for ``stat`` (mean, sd, median, q1, q3) of a variable or composite to equal ``value``."""
        if stat not in _STATS:
            raise ValueError(f"unknown statistic {stat!r}")
        if series not in self._grids and series not in self._comp_w:
            raise ValueError(f"unknown series {series!r}")
        self._targets.append(_Target(series, stat, float(value), float(halfwidth), weight))

    # -- evaluation -----------------------------------------------------------------------------------------
    def _value(self, var: str, i: int) -> float:
        return self._grids[var][self._idx[var][i]]

    def _series_values(self, name: str) -> list[float]:
        if name in self._grids:
            g, idx = self._grids[name], self._idx[name]
            return [g[k] for k in idx]
        w = self._comp_w[name]
        return [sum(c * self._value(v, i) for v, c in w.items()) for i in range(self.n)]

    def _stat(self, values: list[float], stat: str) -> float:
        n = len(values)
        if stat == "mean":
            return sum(values) / n
        if stat == "sd":
            m = sum(values) / n
            return math.sqrt(max(0.0, sum((v - m) ** 2 for v in values) / (n - 1)))
        return quantile_type2(sorted(values), _PROB[stat])

    @staticmethod
    def _penalty(t: _Target, achieved: float, scale: float = 1.0) -> float:
        x = abs(achieved - t.value) / (t.halfwidth * scale)
        return t.weight * (max(0.0, x - 0.5) ** 2 + 100.0 * max(0.0, x - 0.9) ** 2)

    # -- repair ---------------------------------------------------------------------------------------------
    def _repair(self) -> None:
        """Move values until every participant meets the composite bounds (largest contributors first)."""
        for i in range(self.n):
            for _ in range(10_000):
                bad = None
                for name, w in self._comp_w.items():
                    v = round(sum(c * self._value(var, i) for var, c in w.items()), 6)
                    if v < self._comp_lo[name][i]:
                        bad = (w, +1)
                        break
                    if v > self._comp_hi[name][i]:
                        bad = (w, -1)
                        break
                if bad is None:
                    break
                w, direction = bad
                movable = [
                    var
                    for var, c in w.items()
                    if c > 0
                    and (
                        self._idx[var][i] < self._hi[var][i] if direction > 0 else self._idx[var][i] > self._lo[var][i]
                    )
                ]
                if not movable:
                    raise DataError("The synthetic twin cannot meet a participant's score bounds.")
                var = movable[int(self.rng.integers(len(movable)))]
                self._idx[var][i] += direction
            else:  # pragma: no cover - defensive
                raise DataError("The synthetic twin repair did not converge.")

    # -- search ---------------------------------------------------------------------------------------------
    def run(self, *, max_iter: int = 20_000, patience: int = 3_000) -> dict[str, np.ndarray]:
        """Repair, then search; return each variable's values (in participant order).

        The search runs in phases with the tolerances widened 16-fold, then 4-fold, then as printed, so that
        a very tight target (an SD printed to 0.01) does not trap the others far from theirs.
        """
        self._repair()
        if not self._targets:
            return self.values()
        for scale in (16.0, 4.0, 1.0):
            self._phase(scale, max_iter=max_iter // 3 if scale > 1 else max_iter, patience=patience)
            if scale == 1.0 or self.met():
                break
        return self.values()

    def _phase(self, scale: float, *, max_iter: int, patience: int, polish: int = 300) -> None:
        n = self.n
        mutable = list(self._grids)
        bounded = [
            c
            for c in self._comp_w
            if any(v > -math.inf for v in self._comp_lo[c]) or any(v < math.inf for v in self._comp_hi[c])
        ]
        series_names = sorted({t.series for t in self._targets})
        # per variable: the tracked series it feeds, with the weight (1 for itself)
        feeds: dict[str, list[tuple[str, float]]] = {v: [] for v in self._grids}
        for s in series_names:
            if s in self._grids:
                feeds[s].append((s, 1.0))
            else:
                for v, wt in self._comp_w[s].items():
                    feeds[v].append((s, wt))
        feeds_bounded: dict[str, list[tuple[str, float]]] = {v: [] for v in self._grids}
        for comp in bounded:
            for v, wt in self._comp_w[comp].items():
                feeds_bounded[v].append((comp, wt))
        cur = {s: self._series_values(s) for s in set(series_names) | set(bounded)}
        s1 = {s: sum(cur[s]) for s in series_names}
        s2 = {s: sum(x * x for x in cur[s]) for s in series_names}
        by_series: dict[str, list[int]] = {s: [] for s in series_names}
        for k, t in enumerate(self._targets):
            by_series[t.series].append(k)
        has_q = {s: any(self._targets[k].stat not in ("mean", "sd") for k in by_series[s]) for s in series_names}

        def stats_pen(s: str, a: float, b: float, vals: list[float] | None) -> tuple[float, int]:
            mean = a / n
            sd = math.sqrt(max(0.0, (b - a * a / n) / (n - 1)))
            srt = sorted(vals) if vals is not None else None
            total = 0.0
            unmet = 0
            for k in by_series[s]:
                t = self._targets[k]
                if t.stat == "mean":
                    got = mean
                elif t.stat == "sd":
                    got = sd
                else:
                    assert srt is not None
                    got = quantile_type2(srt, _PROB[t.stat])
                total += self._penalty(t, got, scale)
                unmet += abs(got - t.value) > 0.9 * t.halfwidth * scale
            return total, unmet

        pen_un = {s: stats_pen(s, s1[s], s2[s], cur[s] if has_q[s] else None) for s in series_names}
        pen = {s: v[0] for s, v in pen_un.items()}
        unmet = {s: v[1] for s, v in pen_un.items()}
        loss = sum(pen.values())
        n_unmet = sum(unmet.values())
        since = 0
        rng = self.rng
        block = 4096
        u = rng.random((block, 4))
        b_i = 0
        for _ in range(max_iter):
            if loss <= 1e-15 or since >= patience or (n_unmet == 0 and since >= polish):
                break
            if b_i == block:
                u = rng.random((block, 4))
                b_i = 0
            r = u[b_i]
            b_i += 1
            since += 1
            var = mutable[int(r[0] * len(mutable))]
            i = int(r[1] * n)
            idx = self._idx[var]
            lo_v, hi_v = self._lo[var], self._hi[var]
            old_i = idx[i]
            if r[3] < 0.45:
                k = 1 + int(self._step[var] * r[2] ** 3)
                new_i = old_i + (k if (r[2] * 1000.0) % 1.0 < 0.5 else -k)
                new_i = min(max(new_i, lo_v[i]), hi_v[i])
                if new_i == old_i:
                    continue
                changes = [(i, new_i)]
            elif r[3] < 0.8:
                # transfer: one participant up, another down (keeps a mean on an even grid, moves the SD)
                j = int(r[2] * n)
                k = 1 + int(self._step[var] * ((r[2] * 1000.0) % 1.0) ** 3)
                new_i, new_j = old_i + k, idx[j] - k
                if j == i or new_i > hi_v[i] or new_j < lo_v[j]:
                    continue
                changes = [(i, new_i), (j, new_j)]
            else:
                j = int(r[2] * n)
                old_j = idx[j]
                if j == i or old_j == old_i:
                    continue
                if not (lo_v[i] <= old_j <= hi_v[i] and lo_v[j] <= old_i <= hi_v[j]):
                    continue
                changes = [(i, old_j), (j, old_i)]
            g = self._grids[var]
            deltas = [(p, g[q] - g[idx[p]]) for p, q in changes]
            ok = True
            for comp, w in feeds_bounded[var]:
                lo_c, hi_c, vals_c = self._comp_lo[comp], self._comp_hi[comp], cur[comp]
                for p, d in deltas:
                    x = round(vals_c[p] + w * d, 6)
                    if x < lo_c[p] or x > hi_c[p]:
                        ok = False
                        break
                if not ok:
                    break
            if not ok:
                continue
            new_pen: dict[str, float] = {}
            new_un: dict[str, int] = {}
            new_s: dict[str, tuple[float, float, list[float] | None]] = {}
            for s, w in feeds[var]:
                a, b = s1[s], s2[s]
                vals = cur[s]
                new_vals = list(vals) if has_q[s] else None
                for p, d in deltas:
                    old = vals[p]
                    nv = old + w * d
                    a += nv - old
                    b += nv * nv - old * old
                    if new_vals is not None:
                        new_vals[p] = nv
                new_s[s] = (a, b, new_vals)
                new_pen[s], new_un[s] = stats_pen(s, a, b, new_vals)
            new_loss = loss + sum(new_pen[s] - pen[s] for s in new_pen)
            if new_loss > loss + 1e-12:
                continue
            if new_loss < loss - 1e-12:
                since = 0
            loss = new_loss
            for s, (a, b, _nv) in new_s.items():
                s1[s], s2[s] = a, b
                pen[s] = new_pen[s]
                n_unmet += new_un[s] - unmet[s]
                unmet[s] = new_un[s]
            touched = {s for s, _ in feeds[var]} | {comp for comp, _ in feeds_bounded[var]}
            for s in touched:
                w = 1.0 if s == var else self._comp_w[s][var]
                vals = cur[s]
                for p, d in deltas:
                    vals[p] = vals[p] + w * d
            for p, q in changes:
                idx[p] = q

    def met(self) -> bool:
        """True if every target is within 0.9 of its printed half-width."""
        for t in self._targets:
            got = self._stat(self._series_values(t.series), t.stat)
            if abs(got - t.value) > 0.9 * t.halfwidth + 1e-12:
                return False
        return True

    def values(self) -> dict[str, np.ndarray]:
        """Current values of every variable."""
        return {v: np.array(self._series_values(v)) for v in self._grids}

    def achieved(self) -> dict[tuple[str, str], float]:
        """Achieved value of every target statistic, keyed by (series, stat)."""
        return {(t.series, t.stat): self._stat(self._series_values(t.series), t.stat) for t in self._targets}
