"""Generative model of the trial simulator: allocation, baseline, variance components, drop-out, rescue."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest

from pmrtrial.design.scenario import load_scenario
from pmrtrial.design.simulate_model import (
    PrimaryData,
    _choose_centres,
    _skip_uniforms,
    compile_model,
    endpoint_values,
    simulate_allocation,
    simulate_block,
    simulate_block_primary,
)
from pmrtrial.protocol import evaluate_predicate, parse_predicate


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return compile_model(load_scenario("bachelor-as-run"))


def test_allocation_is_permuted_blocks_within_centre() -> None:
    rng = np.random.default_rng(3)
    centre, treated = simulate_allocation(rng, 400, 34, 6, np.full(6, 1 / 6), (1, 1), (2, 4))
    for r, c in itertools.product(range(400), range(6)):
        seq = treated[r][centre[r] == c].astype(int)
        imbalance = np.cumsum(2 * seq - 1)
        # blocks of 2 and 4 with 1:1 allocation: a running imbalance never exceeds half the largest block (2)
        assert np.all(np.abs(imbalance) <= 2)
    # 1:1 overall: 400 * 34 = 13600 allocations; the treated share is 0.5 up to block remainders
    assert abs(treated.mean() - 0.5) < 0.01
    # centres drawn with equal probability: each share 1/6 (binomial SE sqrt(1/6*5/6/13600) = 0.0032)
    assert np.all(np.abs(np.bincount(centre.ravel(), minlength=6) / centre.size - 1 / 6) < 0.015)


def test_allocation_two_to_one() -> None:
    rng = np.random.default_rng(4)
    centre, treated = simulate_allocation(rng, 300, 60, 3, np.full(3, 1 / 3), (1, 2), (3, 6))
    for r, c in itertools.product(range(300), range(3)):
        seq = treated[r][centre[r] == c].astype(int)
        # control weight 2, treated weight -1: balanced at every completed block of 3 or 6; bounded by 6 in between
        running = np.cumsum(np.where(seq == 1, 1, -2))
        assert np.all(np.abs(running) <= 6)
    # ratio 1:2 -> 2/3 treated
    assert abs(treated.mean() - 2 / 3) < 0.01


def test_baseline_truncated_above_inclusion_threshold(model) -> None:  # type: ignore[no-untyped-def]
    trials = simulate_block(model, 500, np.random.default_rng(5), 200)
    base = trials.baseline_pmr_as
    assert base.min() > 17.0  # protocol inc-activity: CRP PMR-AS > 17
    # Published whole-cohort baseline CRP PMR-AS: mean 31.7, SD 10.5 (bachelor_published.yaml,
    # baseline.whole_cohort_summary). 100,000 draws: MC SE of the mean 10.5/sqrt(1e5) = 0.033.
    assert base.mean() == pytest.approx(31.7, abs=0.2)
    assert base.std() == pytest.approx(10.5, abs=0.2)


def test_centre_icc_recovered(model) -> None:  # type: ignore[no-untyped-def]
    big = dataclasses.replace(model, dropout=np.zeros(2))
    trials = simulate_block(big, 600, np.random.default_rng(6), 100)
    d = trials.latent_deviation[..., big.primary_index]  # b + c + e at W12
    # one-way ANOVA over the 100 x 6 (trial, centre) groups
    groups = trials.centre + 6 * np.arange(100)[:, None]
    g = groups.ravel()
    x = d.ravel()
    k = np.bincount(g)
    means = np.bincount(g, weights=x) / k
    n, n_groups = x.size, k.size
    msb = np.sum(k * (means - x.mean()) ** 2) / (n_groups - 1)
    msw = np.sum((x - means[g]) ** 2) / (n - n_groups)
    k0 = (n - np.sum(k**2) / n) / (n_groups - 1)
    icc = (msb - msw) / (msb + (k0 - 1) * msw)
    # The scenario states centre_icc 0.05. Large-sample SE of the ANOVA ICC with 600 groups of ~100:
    # sqrt(2 (1-0.05)^2 (1+99*0.05)^2 / (100*99*599)) = 0.0033; tolerance 0.015 (about 4.5 SE).
    assert icc == pytest.approx(0.05, abs=0.015)
    # total latent SD: sqrt(sd_subject^2 + sd_residual^2) / sqrt(1 - icc)
    expected_sd = math.sqrt((big.sd_subject**2 + big.sd_residual**2) / (1 - 0.05))
    assert x.std() == pytest.approx(expected_sd, rel=0.03)


def test_dropout_per_visit(model) -> None:  # type: ignore[no-untyped-def]
    heavy = dataclasses.replace(model, dropout=np.array([0.05, 0.02]))
    trials = simulate_block(heavy, 200, np.random.default_rng(7), 200)
    obs = trials.observed
    assert np.all(obs[..., :-1] >= obs[..., 1:])  # monotone: once dropped out, never back
    for arm, q in ((False, 0.05), (True, 0.02)):
        sel = trials.treated == arm
        for v in range(obs.shape[-1]):
            # still assessed at post-baseline visit v (0-based) with a per-visit hazard q: (1 - q)^(v + 1)
            expected = (1 - q) ** (v + 1)
            n = sel.sum()
            assert obs[..., v][sel].mean() == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / n))
    assert np.all(np.isnan(trials.pmr_as[~obs]))


def test_rescue_rule(model) -> None:  # type: ignore[no-untyped-def]
    trials = simulate_block(model, 200, np.random.default_rng(8), 200)
    gc = trials.on_oral_gc
    assert np.all(gc[..., 1:] >= gc[..., :-1])  # GC persists once started
    starts = gc & ~np.concatenate([np.zeros_like(gc[..., :1]), gc[..., :-1]], axis=-1)
    # GC only starts at a visit whose PMR-AS is above the flare threshold 9.35, never before from_week
    assert np.all(trials.pmr_as[starts & trials.observed] > 9.35)
    weeks = np.array(model.visit_weeks)
    assert not starts[..., weeks < 2].any()
    # a participant on GC at the primary visit is a non-responder (protocol: on_oral_gc = False required)
    on_gc_primary = gc[..., model.primary_index] & trials.observed[..., model.primary_index]
    assert np.all(trials.response[on_gc_primary] == 0.0)
    assert on_gc_primary.any()
    # among participants above the threshold and not yet on GC, the start frequency is the scenario's p
    before = np.concatenate([np.zeros_like(gc[..., :1]), gc[..., :-1]], axis=-1)
    # pmr_as is NaN after drop-out; use only assessed visits
    at_risk = ~before & (trials.pmr_as > 9.35)
    for v, p in enumerate(model.rescue_p):
        n = at_risk[..., v].sum()
        if n > 200:
            rate = starts[..., v][at_risk[..., v]].mean()
            assert rate == pytest.approx(p, abs=4 * math.sqrt(max(p * (1 - p), 1e-4) / n) + 1e-12)


PREDICATES = [
    {"all": [{"var": "crp_pmr_as", "op": "le", "value": 10}, {"var": "on_oral_gc", "op": "eq", "value": False}]},
    {"any": [{"var": "crp_pmr_as", "op": "gt", "value": 9.35}, {"var": "on_oral_gc", "op": "ne", "value": False}]},
    {"not": {"var": "crp_pmr_as", "op": "lt", "value": 7}},
    {
        "all": [
            {"var": "crp_pmr_as", "op": "ge", "value": 1.5},
            {
                "any": [
                    {"var": "on_oral_gc", "op": "in", "value": [True]},
                    {"var": "crp_pmr_as", "op": "not_in", "value": [3.0, 4.0]},
                ]
            },
        ]
    },
]


@pytest.mark.parametrize("data", PREDICATES)
def test_simulated_endpoint_equals_scalar_evaluator(model, data: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    # The simulator evaluates the endpoint with the protocol's one evaluator: same answers as the scalar
    # form row by row, including values at the cut-offs and unobserved (dropped-out) participants.
    predicate = parse_predicate(data)
    rng = np.random.default_rng(9)
    n = 3000
    crp = rng.choice([0.5, 1.5, 3.0, 4.0, 6.99, 7.0, 9.35, 9.36, 10.0, 10.0000004, 10.01, 25.0], size=n)
    gc = rng.random(n) < 0.4
    observed = rng.random(n) >= 0.2
    value = endpoint_values(dataclasses.replace(model, endpoint=predicate), crp, gc, observed)
    for i in range(n):
        row = {"crp_pmr_as": float(crp[i]), "on_oral_gc": bool(gc[i])} if observed[i] else {}
        expected = evaluate_predicate(predicate, row)
        assert (None if np.isnan(value[i]) else bool(value[i])) == expected


@pytest.mark.parametrize("name", ["bachelor-as-run", "larger-confirmatory"])
def test_primary_fast_path_equals_full_trials_exactly(name: str) -> None:
    # simulate_block_primary draws the same random numbers in the same order as simulate_block (skipping
    # the rescue uniforms after the primary visit exactly), so its primary-visit data are bit-for-bit those
    # of the full trials. Both sides are the model's own code: this checks the fast path, not the model.
    model = compile_model(load_scenario(name))
    for n_subjects, seed in ((34, 0), (61, 1), (200, 2)):
        full = PrimaryData.of(simulate_block(model, n_subjects, np.random.default_rng(seed), 300), model)
        fast = simulate_block_primary(model, n_subjects, np.random.default_rng(seed), 300)
        for field in ("treated", "centre", "response", "rescued"):
            assert np.array_equal(getattr(full, field), getattr(fast, field), equal_nan=True), field


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.PCG64DXSM, np.random.Philox, np.random.MT19937])
def test_skipping_uniforms_equals_drawing_them(bit_generator) -> None:  # type: ignore[no-untyped-def]
    a, b = np.random.Generator(bit_generator(11)), np.random.Generator(bit_generator(11))
    a.standard_normal(1001)
    b.standard_normal(1001)
    a.random(777)
    _skip_uniforms(b, 777)
    assert np.array_equal(a.random(50), b.random(50))
    assert np.array_equal(a.standard_normal(50), b.standard_normal(50))


@pytest.mark.parametrize("p", [[1 / 6] * 6, [0.5, 0.2, 0.0, 0.3], [0.05, 0.9, 0.05], [1.0], [0.1] * 10])
def test_centre_draw_equals_numpy_choice(p: list[float]) -> None:
    # Reference: numpy.random.Generator.choice(n, size, p=p) on a generator of the same seed; the
    # generators must also end in the same state (the allocation draws that follow are unchanged).
    centre_p = np.asarray(p, dtype=np.float64)
    for seed in range(20):
        a, b = np.random.default_rng(seed), np.random.default_rng(seed)
        expected = a.choice(len(p), size=(40, 34), p=centre_p)
        got = _choose_centres(b, (40, 34), centre_p)
        assert got.dtype == np.int64 and np.array_equal(got, expected)
        assert a.random() == b.random()
