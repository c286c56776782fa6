"""The generative model of the trial simulator: participants, centres, allocation, trajectories.

Everything here is vectorised over replicates (axis 0) and participants (axis 1); visits are the
last axis. The model is described in :mod:`pmrtrial.design.scenario`. One function generates one
RNG block of trials (:func:`simulate_block`); the draws are made in a fixed order from the block's
own :class:`numpy.random.Generator`, so a block is the same whatever else is being simulated.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

from pmrtrial.design.scenario import Scenario
from pmrtrial.protocol.predicates import Predicate, evaluate_predicate_vectorised
from pmrtrial.scores import RESPONSE_STATES, classify_response_state

__all__ = [
    "Buffers",
    "PrimaryData",
    "SimulatedTrials",
    "SimulationModel",
    "compile_model",
    "endpoint_values",
    "simulate_allocation",
    "simulate_block",
    "simulate_block_primary",
    "simulate_primary_visit",
    "simulate_subjects",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class SimulationModel:
    """A scenario compiled to plain arrays (cheap to pickle to Dask workers).

    Arm index 0 is the control arm and 1 the treated arm throughout the simulator.
    """

    name: str
    visit_codes: tuple[str, ...]
    visit_weeks: tuple[float, ...]
    primary_index: int
    log_ratio: FloatArray  # (2, V): log geometric-mean ratio to baseline, control then treated
    dropout: FloatArray  # (2,)
    baseline_mean: float
    baseline_sd: float
    baseline_threshold: float
    sd_subject: float
    sd_residual: float
    autocorrelation: float
    sd_centre: float
    n_centres: int
    centre_p: FloatArray  # (C,)
    ratio: tuple[int, int]  # control, treated
    block_sizes: tuple[int, ...]
    rescue_threshold: float
    rescue_p: FloatArray  # (V,)
    log_gc_effect: float
    endpoint: Predicate
    alpha: float
    conf_level: float
    moments: str
    arm_ids: tuple[str, str]
    extras: dict[str, Any] = field(default_factory=dict)


def compile_model(scenario: Scenario) -> SimulationModel:
    """Compile a checked scenario into a :class:`SimulationModel`."""
    codes = scenario.visit_codes()
    control, treated = scenario.control_arm, scenario.treated_arm
    log_ratio = np.log(np.array([[arm.pmr_as_ratio[c] for c in codes] for arm in (control, treated)]))
    weights = scenario.design.centre_weights or [1.0] * scenario.design.centres
    centre_p = np.asarray(weights, dtype=np.float64)
    return SimulationModel(
        name=scenario.name,
        visit_codes=codes,
        visit_weeks=scenario.visit_weeks(),
        primary_index=codes.index(scenario.primary_visit()),
        log_ratio=log_ratio,
        dropout=np.array([control.dropout_per_visit, treated.dropout_per_visit]),
        baseline_mean=scenario.baseline.mean,
        baseline_sd=scenario.baseline.sd,
        baseline_threshold=scenario.inclusion_threshold(),
        sd_subject=scenario.variability.sd_subject,
        sd_residual=scenario.variability.sd_residual,
        autocorrelation=scenario.variability.residual_autocorrelation,
        sd_centre=scenario.variability.sd_centre,
        n_centres=scenario.design.centres,
        centre_p=centre_p / centre_p.sum(),
        ratio=scenario.ratio(),
        block_sizes=scenario.block_sizes(),
        rescue_threshold=scenario.rescue.threshold,
        rescue_p=np.array(scenario.rescue_probabilities()),
        log_gc_effect=math.log(scenario.rescue.gc_effect_ratio),
        endpoint=scenario.protocol_obj.primary_endpoint.definition,  # type: ignore[arg-type]
        alpha=scenario.design.alpha,
        conf_level=scenario.design.conf_level,
        moments=scenario.design.moments,
        arm_ids=(control.id, treated.id),
    )


@dataclass(frozen=True)
class SimulatedTrials:
    """Patient-level data of ``R`` simulated trials of ``N`` randomised participants each.

    Attributes
    ----------
    treated : bool (R, N)
        Allocation (True = treated arm).
    centre : int (R, N)
        Centre index, 0-based.
    baseline_pmr_as : float (R, N)
    pmr_as : float (R, N, V)
        Observed CRP PMR-AS per post-baseline visit; NaN after drop-out.
    on_oral_gc : bool (R, N, V)
        Rescue GC at the visit (defined after drop-out too; see ``observed``).
    observed : bool (R, N, V)
        Assessed at the visit (not yet dropped out).
    latent_deviation : float (R, N, V)
        ``b_i + c_j + e_iv`` on the log scale (for checking the variance components).
    response : float (R, N)
        Primary endpoint at the primary visit: 1, 0 or NaN (missing: not assessed).
    """

    treated: BoolArray
    centre: IntArray
    baseline_pmr_as: FloatArray
    pmr_as: FloatArray
    on_oral_gc: BoolArray
    observed: BoolArray
    latent_deviation: FloatArray
    response: FloatArray
    visit_codes: tuple[str, ...]

    @property
    def n_reps(self) -> int:
        return int(self.treated.shape[0])

    def visit_values(self, code: str) -> dict[str, Any]:
        """The endpoint variables at one visit, with ``None``-style missingness as masks."""
        v = self.visit_codes.index(code)
        return {
            "crp_pmr_as": self.pmr_as[..., v],
            "on_oral_gc": self.on_oral_gc[..., v],
            "observed": self.observed[..., v],
        }


# ------------------------------------------------------------------------------------------------
# allocation


@functools.lru_cache(maxsize=64)
def _block_patterns(ratio: tuple[int, int], block_sizes: tuple[int, ...]) -> tuple[BoolArray, IntArray]:
    """Every distinct arrangement of each block size: (n_sizes, max_patterns, max_size) and counts.

    A uniformly random permutation of a block's allocations is a uniformly random distinct
    arrangement (every arrangement of a multiset has the same number of underlying permutations).
    Cached per design (read-only arrays).
    """
    unit = ratio[0] + ratio[1]
    smax = max(block_sizes)
    tables = []
    for size in block_sizes:
        n_treated = size * ratio[1] // unit
        rows = [[j in chosen for j in range(smax)] for chosen in itertools.combinations(range(size), n_treated)]
        tables.append(rows)
    n_max = max(len(t) for t in tables)
    patterns = np.zeros((len(block_sizes), n_max, smax), dtype=bool)
    for i, rows in enumerate(tables):
        patterns[i, : len(rows)] = rows
    counts = np.array([len(t) for t in tables], dtype=np.int64)
    patterns.flags.writeable = False
    counts.flags.writeable = False
    return patterns, counts


def simulate_allocation(
    rng: np.random.Generator,
    n_reps: int,
    n_subjects: int,
    n_centres: int,
    centre_p: FloatArray,
    ratio: tuple[int, int],
    block_sizes: tuple[int, ...],
) -> tuple[IntArray, BoolArray]:
    """Centres and allocation by permuted blocks stratified by centre.

    Each participant (in recruitment order) is recruited at a centre drawn with probabilities
    ``centre_p``; each centre has its own allocation list of consecutive permuted blocks, each
    block's size drawn uniformly from ``block_sizes`` and holding ``size * ratio / sum(ratio)``
    of each arm in random order (as the EDC's randomisation). Participant *k* of a centre takes
    the *k*-th entry of that centre's list.

    Draw order: centres ``(R, N)``; block-size indices ``(R, C, K)``; arrangement uniforms
    ``(R, C, K)``, with ``K = ceil(largest centre size among the R trials / min(block_sizes))``.

    Returns
    -------
    centre : int (n_reps, n_subjects)
    treated : bool (n_reps, n_subjects)
    """
    sizes = np.asarray(block_sizes, dtype=np.int64)
    patterns, n_patterns = _block_patterns(tuple(int(r) for r in ratio), tuple(int(b) for b in block_sizes))
    smax = int(sizes.max())
    centre = _choose_centres(rng, (n_reps, n_subjects), centre_p)
    # each participant's place in its centre's list: the number of earlier participants of that centre,
    # by a loop over participants on (replicate, centre) counters addressed flat
    slot = (np.arange(n_reps)[:, None] * n_centres + centre).T.copy()  # (N, R)
    counter = np.zeros(n_reps * n_centres, dtype=np.int64)  # running count, then participants per centre
    position_t = np.empty((n_subjects, n_reps), dtype=np.int64)
    for k in range(n_subjects):
        idx = slot[k]
        seen = counter[idx]
        position_t[k] = seen
        seen += 1
        counter[idx] = seen
    position = position_t.T
    total = counter.reshape(n_reps, n_centres)
    # enough blocks for the largest centre of this block of replicates (a function of the draws)
    n_blocks = max(1, -(-int(total.max()) // int(sizes.min())))
    size_index = rng.integers(0, len(sizes), size=(n_reps, n_centres, n_blocks))
    u = rng.random((n_reps, n_centres, n_blocks))
    pattern_index = (u * n_patterns[size_index]).astype(np.int64)
    size = sizes[size_index]
    # every centre's list: the entries of its blocks, consecutive, in (replicate, centre, block) order;
    # blocks that start after the centre's last participant are drawn but not expanded
    used = (np.cumsum(size, axis=-1) - size) < total[..., None]
    size_used = size[used]
    expanded = patterns.reshape(-1, smax)[size_index[used] * patterns.shape[1] + pattern_index[used]]
    entries = expanded[np.arange(smax) < size_used[:, None]]
    length = np.zeros(size.shape, dtype=np.int64)
    length[used] = size_used
    length = length.sum(axis=-1).ravel()  # (R * C,)
    first = (np.cumsum(length) - length).reshape(n_reps, n_centres)
    treated = entries[np.take_along_axis(first, centre, axis=1) + position]
    return centre, treated


def _choose_centres(rng: np.random.Generator, shape: tuple[int, int], centre_p: FloatArray) -> IntArray:
    """``rng.choice(len(centre_p), size=shape, p=centre_p)``, computed as NumPy's ``Generator.choice`` does.

    ``Generator.choice`` with ``p`` draws ``rng.random(shape)`` and returns
    ``cdf.searchsorted(u, side="right")`` with ``cdf = p.cumsum(); cdf /= cdf[-1]``: the number of
    cumulative probabilities at or below ``u``, counted here with one comparison per centre (the same
    draws and the same centres, tested against ``rng.choice``; a few times faster for a handful of centres).
    """
    cdf = np.cumsum(centre_p, dtype=np.float64)
    cdf /= cdf[-1]
    u = rng.random(shape)
    centre = np.zeros(shape, dtype=np.int64)
    for bound in cdf[:-1]:
        centre += u >= bound
    return centre


# ------------------------------------------------------------------------------------------------
# trajectories


class Buffers:
    """Arrays reused from one RNG block to the next (the generator fills them in place: the same numbers).

    Fresh arrays of a block's size cost page faults every time; a task keeps one ``Buffers`` for its
    blocks. Only random numbers and intermediate planes live here, never returned values.
    """

    def __init__(self) -> None:
        self._arrays: dict[str, FloatArray] = {}

    def get(self, name: str, shape: tuple[int, ...]) -> FloatArray:
        arr = self._arrays.get(name)
        if arr is None or arr.shape != shape:
            arr = self._arrays[name] = np.empty(shape)
        return arr


def _draw_subjects(
    rng: np.random.Generator, shape: tuple[int, ...], n_visits: int, n_rescue: int, buffers: Buffers | None = None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The participants' random numbers, in the draw order of :func:`simulate_subjects`.

    Baseline uniforms ``S``; standard normal subject effects ``S``; residual innovations
    ``(V,) + S``; rescue uniforms ``(V,) + S``, of which only the first ``n_rescue`` visits are
    returned (the generator is moved past the others exactly, as if they had been drawn).
    With ``buffers``, the numbers are drawn into reused arrays (the same numbers).
    """
    b = Buffers() if buffers is None else buffers
    u0 = rng.random(out=b.get("u0", shape))
    subject = rng.standard_normal(out=b.get("subject", shape))
    z = rng.standard_normal(out=b.get("z", (n_visits, *shape)))
    u_rescue = rng.random(out=b.get("u_rescue", (n_rescue, *shape)))
    _skip_uniforms(rng, (n_visits - n_rescue) * math.prod(shape))
    return u0, subject, z, u_rescue


def _skip_uniforms(rng: np.random.Generator, count: int) -> None:
    """Move ``rng`` on as if ``rng.random(count)`` had been called (the values are not needed).

    A double from :meth:`numpy.random.Generator.random` takes exactly one 64-bit output of the bit
    generator, so the PCG64 generators (whose ``advance(k)`` moves exactly ``k`` 64-bit outputs on)
    skip in constant time; other bit generators draw and discard.
    """
    if count <= 0:
        return
    bit_generator = rng.bit_generator
    if isinstance(bit_generator, np.random.PCG64 | np.random.PCG64DXSM):
        bit_generator.advance(count)
    else:
        rng.random(count)


def _trajectories(
    model: SimulationModel,
    draws: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    treated: BoolArray,
    centre_effect: FloatArray,
    n_visits: int,
    keep: bool,
) -> tuple[FloatArray, FloatArray, BoolArray, FloatArray | None]:
    """The model's equations on drawn random numbers, for the first ``n_visits`` visits.

    With ``keep``, every visit's values are returned (visit-major, ``(V,) + S``); otherwise only
    the last visit's (shape ``S``) and no deviations.
    """
    u0, subject, z, u_rescue = draws
    shape = treated.shape
    lo = float(ndtr((model.baseline_threshold - model.baseline_mean) / model.baseline_sd))
    baseline = model.baseline_mean + model.baseline_sd * ndtri(lo + (1.0 - lo) * u0)
    phi = model.autocorrelation
    innovation_sd = model.sd_residual * math.sqrt(1.0 - phi * phi)
    level = model.sd_subject * subject + centre_effect
    log_base = np.log(baseline)
    resid = model.sd_residual * z[0]
    out_shape = (n_visits, *shape) if keep else (1, *shape)
    deviation = np.empty(out_shape) if keep else None
    pmr_as = np.empty(out_shape)
    on_gc = np.empty(out_shape, dtype=bool)
    on_before = np.zeros(shape, dtype=bool)
    dev = np.empty(shape)
    innovation = np.empty(shape)
    start = np.empty(shape, dtype=bool)
    arm = treated.astype(np.intp)  # 0 control, 1 treated: the row of log_ratio
    log_value = np.empty(shape)
    for v in range(n_visits):
        if v:
            # resid = phi * resid + innovation_sd * z[v], in place (the same operations)
            np.multiply(resid, phi, out=resid)
            np.multiply(z[v], innovation_sd, out=innovation)
            resid += innovation
        np.add(level, resid, out=dev)
        if deviation is not None:
            deviation[v] = dev
        np.take(model.log_ratio[:, v], arm, out=log_value)  # the arm's log ratio at visit v
        np.add(log_base, log_value, out=log_value)
        log_value += dev
        if model.log_gc_effect != 0.0 and v:
            # + log_gc_effect where on rescue GC (nobody is before the first visit): adding 0.0 elsewhere
            # leaves every value as it was
            np.multiply(on_before, model.log_gc_effect, out=innovation)
            log_value += innovation
        value = np.exp(log_value, out=log_value)
        np.greater(value, model.rescue_threshold, out=start)
        start &= u_rescue[v] < model.rescue_p[v]
        on_before |= start
        if keep:
            pmr_as[v] = value
            on_gc[v] = on_before
    if not keep:
        pmr_as[0] = value
        on_gc[0] = on_before
    return baseline, pmr_as, on_gc, deviation


def simulate_subjects(
    model: SimulationModel,
    rng: np.random.Generator,
    treated: BoolArray,
    centre_effect: FloatArray,
) -> tuple[FloatArray, FloatArray, BoolArray, FloatArray]:
    """Baseline, post-baseline PMR-AS and rescue for participants of any array shape ``S``.

    Draw order: baseline uniforms ``S``; subject effects ``S``; residual innovations ``(V,) + S``;
    rescue uniforms ``(V,) + S``.

    Returns
    -------
    baseline : float S
    pmr_as : float S + (V,)
        CRP PMR-AS as measured at each visit (before GC started at that visit takes effect).
    on_gc : bool S + (V,)
    deviation : float S + (V,)
        Latent deviation ``b + c + e`` on the log scale.
    """
    n_visits = len(model.visit_codes)
    draws = _draw_subjects(rng, treated.shape, n_visits, n_visits)
    baseline, pmr_as, on_gc, deviation = _trajectories(model, draws, treated, centre_effect, n_visits, keep=True)
    kept = cast(FloatArray, deviation)  # keep=True returns every visit's deviation
    return baseline, np.moveaxis(pmr_as, 0, -1), np.moveaxis(on_gc, 0, -1), np.moveaxis(kept, 0, -1)


def simulate_primary_visit(
    model: SimulationModel,
    rng: np.random.Generator,
    treated: BoolArray,
    centre_effect: FloatArray,
    buffers: Buffers | None = None,
) -> tuple[FloatArray, BoolArray]:
    """PMR-AS and rescue at the primary visit only (shape ``S``), from :func:`simulate_subjects`'s draws.

    The generator ends where :func:`simulate_subjects` leaves it and the values are bit-for-bit its
    values at the primary visit; the equations stop at the primary visit. ``buffers``: arrays to draw
    the random numbers into (:class:`Buffers`; the same numbers).
    """
    n_visits = len(model.visit_codes)
    n_used = model.primary_index + 1
    draws = _draw_subjects(rng, treated.shape, n_visits, n_used, buffers)
    _, pmr_as, on_gc, _ = _trajectories(model, draws, treated, centre_effect, n_used, keep=False)
    return pmr_as[0], on_gc[0]


def endpoint_values(model: SimulationModel, pmr_as: FloatArray, on_gc: BoolArray, observed: BoolArray) -> FloatArray:
    """The endpoint's predicate on simulated values (any shape): 1.0, 0.0 or NaN where not observed.

    Evaluated by the protocol's one predicate evaluator
    (:func:`pmrtrial.protocol.predicates.evaluate_predicate_vectorised`), with the same 6-decimal
    rounding at cut-offs as the analysis of real data.
    """
    columns = {
        "crp_pmr_as": np.where(observed, pmr_as, np.nan),
        "on_oral_gc": np.where(observed, on_gc.astype(np.float64), np.nan),
    }
    return evaluate_predicate_vectorised(model.endpoint, columns)


def _endpoint(model: SimulationModel, pmr_as: FloatArray, on_gc: BoolArray, observed: BoolArray) -> FloatArray:
    return endpoint_values(
        model, pmr_as[..., model.primary_index], on_gc[..., model.primary_index], observed[..., model.primary_index]
    )


def _allocate_block(
    model: SimulationModel, n_subjects: int, rng: np.random.Generator, n_reps: int
) -> tuple[IntArray, BoolArray, FloatArray]:
    """Allocation and each participant's centre effect: the first draws of a block."""
    centre, treated = simulate_allocation(
        rng, n_reps, n_subjects, model.n_centres, model.centre_p, model.ratio, model.block_sizes
    )
    centre_effects = model.sd_centre * rng.standard_normal((n_reps, model.n_centres))
    return centre, treated, np.take_along_axis(centre_effects, centre, axis=1)


def _dropout_hazard(model: SimulationModel, treated: BoolArray) -> FloatArray:
    hazard: FloatArray = np.where(treated, model.dropout[1], model.dropout[0])[..., None]
    return hazard


def simulate_block(model: SimulationModel, n_subjects: int, rng: np.random.Generator, n_reps: int) -> SimulatedTrials:
    """Simulate ``n_reps`` trials of ``n_subjects`` randomised participants from one generator.

    Draw order (fixed; part of the reproducibility contract): allocation
    (:func:`simulate_allocation`), centre effects ``(R, C)``, participants
    (:func:`simulate_subjects`), drop-out uniforms ``(R, N, V)``.
    """
    centre, treated, centre_effect = _allocate_block(model, n_subjects, rng, n_reps)
    baseline, pmr_as, on_gc, deviation = simulate_subjects(model, rng, treated, centre_effect)
    u_drop = rng.random(pmr_as.shape)
    observed = ~np.logical_or.accumulate(u_drop < _dropout_hazard(model, treated), axis=-1)
    pmr_obs = np.where(observed, pmr_as, np.nan)
    response = _endpoint(model, pmr_as, on_gc, observed)
    return SimulatedTrials(
        treated=treated,
        centre=centre,
        baseline_pmr_as=baseline,
        pmr_as=pmr_obs,
        on_oral_gc=on_gc,
        observed=observed,
        latent_deviation=deviation,
        response=response,
        visit_codes=model.visit_codes,
    )


@dataclass(frozen=True)
class PrimaryData:
    """What the primary analysis of ``R`` simulated trials needs: the primary visit only.

    Attributes
    ----------
    treated : bool (R, N)
    centre : int (R, N)
    response : float (R, N)
        Primary endpoint: 1, 0 or NaN (not assessed at the primary visit).
    rescued : bool (R, N)
        On rescue GC and assessed at the primary visit.
    """

    treated: BoolArray
    centre: IntArray
    response: FloatArray
    rescued: BoolArray

    @classmethod
    def of(cls, trials: SimulatedTrials, model: SimulationModel) -> PrimaryData:
        """The primary-visit data of full simulated trials."""
        v = model.primary_index
        return cls(trials.treated, trials.centre, trials.response, trials.on_oral_gc[..., v] & trials.observed[..., v])

    @classmethod
    def concatenate(cls, parts: list[PrimaryData]) -> PrimaryData:
        if len(parts) == 1:
            return parts[0]
        names = ("treated", "centre", "response", "rescued")
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in names))

    def rows(self, lo: int, hi: int) -> PrimaryData:
        return PrimaryData(self.treated[lo:hi], self.centre[lo:hi], self.response[lo:hi], self.rescued[lo:hi])


def simulate_block_primary(
    model: SimulationModel, n_subjects: int, rng: np.random.Generator, n_reps: int, buffers: Buffers | None = None
) -> PrimaryData:
    """:func:`simulate_block`'s trials reduced to what the primary analysis needs, computed faster.

    The same draws in the same order, hence the same trials (``PrimaryData.of(simulate_block(...))``
    equals this exactly): all random numbers are drawn, except the rescue uniforms after the
    primary visit, which are skipped exactly (:func:`_skip_uniforms`); the equations run up to the
    primary visit only. ``buffers`` (:class:`Buffers`, one per task) receive the random numbers.
    """
    b = Buffers() if buffers is None else buffers
    centre, treated, centre_effect = _allocate_block(model, n_subjects, rng, n_reps)
    pmr_as, on_gc = simulate_primary_visit(model, rng, treated, centre_effect, b)
    n_visits, n_used = len(model.visit_codes), model.primary_index + 1
    u_drop = rng.random(out=b.get("u_drop", (*treated.shape, n_visits)))
    hazard = _dropout_hazard(model, treated)[..., 0]
    dropped = u_drop[..., 0] < hazard
    for v in range(1, n_used):
        dropped |= u_drop[..., v] < hazard
    observed = ~dropped
    response = endpoint_values(model, pmr_as, on_gc, observed)
    return PrimaryData(treated, centre, response, on_gc & observed)


def compute_state_proportions(
    model: SimulationModel, rng: np.random.Generator, n_per_arm: int
) -> dict[str, dict[str, dict[str, float]]]:
    """Four-state proportions per visit and arm among participants still assessed (no drop-out).

    Each participant has an independent centre effect, which gives the marginal distribution.
    Keys: arm id -> visit code -> {le10_no_gc, le10_gc, gt10_no_gc, gt10_gc}. The states are those of
    the analysis (:func:`pmrtrial.scores.classify_response_state`, 6-decimal rounding at the cut-off).
    """
    out: dict[str, dict[str, dict[str, float]]] = {}
    for index, arm_id in enumerate(model.arm_ids):
        treated = np.full(n_per_arm, bool(index))
        centre_effect = model.sd_centre * rng.standard_normal(n_per_arm)
        _, pmr_as, on_gc, _ = simulate_subjects(model, rng, treated, centre_effect)
        states = classify_response_state(pmr_as, on_oral_gc=on_gc)
        out[arm_id] = {
            code: {state: float(np.mean(states[:, v] == state)) for state in RESPONSE_STATES if state != "missing"}
            for v, code in enumerate(model.visit_codes)
        }
    return out
