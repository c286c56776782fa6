"""Unit tests of pmrtrial.stats.gee: statsmodels as independent reference, batch == single,
degenerate replicates, fallback rule, input validation."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from pmrtrial.exceptions import ConvergenceError, EstimationError, ScoreInputError
from pmrtrial.stats import gee as G

N_ACTIVE, N_PLACEBO, N_SITES = 18, 15, 6


def _replicates(n_reps: int, seed: int, p_active: float = 0.7, p_placebo: float = 0.3):
    rng = np.random.default_rng(seed)
    n = N_ACTIVE + N_PLACEBO
    trt = np.r_[np.ones(N_ACTIVE), np.zeros(N_PLACEBO)]
    site = np.repeat(np.arange(N_SITES), [9, 7, 6, 5, 3, 3])
    perm = np.argsort(rng.random((n_reps, n)), axis=1)
    trt_r = trt[perm]
    y = (rng.random((n_reps, n)) < np.where(trt_r == 1, p_active, p_placebo)).astype(float)
    return y, trt_r, site


def _statsmodels_fit(y, trt, site, family_name: str):
    """statsmodels GEE(..., cov_struct=Exchangeable()).fit() with its defaults; None if it fails."""
    import statsmodels.api as sm
    from statsmodels.genmod.cov_struct import Exchangeable
    from statsmodels.genmod.families import Binomial, Poisson
    from statsmodels.genmod.families.links import Log

    family = Binomial(link=Log()) if family_name == "binomial" else Poisson(link=Log())
    x = np.column_stack([np.ones_like(trt), trt])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = sm.GEE(y, x, groups=site, family=family, cov_struct=Exchangeable()).fit()
            res_bc = sm.GEE(y, x, groups=site, family=family, cov_struct=Exchangeable()).fit(cov_type="bias_reduced")
        except Exception:
            return None
    # DomainWarning (log link with binomial) is expected on every fit; anything else = failure
    bad = [w for w in caught if type(w.message).__name__ != "DomainWarning"]
    if bad or res is None or not np.all(np.isfinite(res.params)) or not res.converged:
        return None
    return (
        res.params,
        np.sqrt(np.diag(res.cov_robust)),
        np.sqrt(res_bc.cov_robust_bc[1, 1]),
        float(res.cov_struct.dep_params),
    )


@pytest.mark.parametrize("family_name", ["binomial", "poisson"])
def test_statsmodels_moments_match_statsmodels_gee_on_1000_replicates(family_name: str) -> None:
    # Reference: statsmodels 0.15 GEE(y, X, groups, family=Binomial(link=Log()) or Poisson(Log()),
    # cov_struct=Exchangeable()).fit(), run here replicate by replicate (independent code).
    y, trt, site = _replicates(1000, seed=2024)
    fit = G.fit_log_binomial_gee if family_name == "binomial" else G.fit_modified_poisson_gee
    compared = skipped_sm = ours_failed = 0
    for i in range(y.shape[0]):
        ref = _statsmodels_fit(y[i], trt[i], site, family_name)
        if ref is None:
            skipped_sm += 1
            continue
        params, se, se_bc, rho = ref
        try:
            res = fit(y[i], trt[i], site, moments="statsmodels")
        except (ConvergenceError, EstimationError):
            ours_failed += 1
            continue
        compared += 1
        np.testing.assert_allclose([res.intercept, res.log_rr], params, rtol=1e-8, atol=1e-10)
        assert res.se_robust == pytest.approx(se[1], rel=1e-6)
        assert res.se_mancl_derouen == pytest.approx(se_bc, rel=1e-6)
        assert res.rho == pytest.approx(rho, rel=1e-6, abs=1e-10)
    print(f"{family_name}: compared {compared}, statsmodels failed {skipped_sm}, ours failed {ours_failed}")
    # Measured (seed 2024): binomial 864 compared / 100 statsmodels failures (non-convergence,
    # overflow) / 36 ours failed (a fitted probability reached 1: statsmodels clips the variance
    # and carries on, we stop); Poisson 881 / 118 / 1. Exchangeable GEE with 6 centres often
    # fails to converge in either implementation; every compared replicate agrees.
    assert skipped_sm <= 150
    assert ours_failed <= 50
    assert compared >= 800


def test_batch_equals_single_to_1e12() -> None:
    y, trt, site = _replicates(300, seed=5, p_active=0.8, p_placebo=0.2)
    for moments in ("geepack", "statsmodels"):
        batch = G.fit_risk_ratio_gee_batch(y, trt, site, moments=moments, chunk_size=77)
        n_checked = 0
        for i in range(y.shape[0]):
            try:
                single = G.fit_risk_ratio_gee(y[i], trt[i], site, moments=moments)
            except (ConvergenceError, EstimationError):
                assert not batch.estimable[i]
                continue
            assert batch.estimable[i]
            n_checked += 1
            for a, b in (
                (single.log_rr, batch.log_rr[i]),
                (single.se_robust, batch.se_robust[i]),
                (single.rho, batch.rho[i]),
                (single.phi, batch.phi[i]),
            ):
                assert abs(a - b) <= 1e-12 * max(1.0, abs(b))
            if np.isfinite(batch.se_md[i]):
                assert abs(single.se_mancl_derouen - batch.se_md[i]) <= 1e-12 * batch.se_md[i]
            assert single.method == G._METHOD_NAMES[int(batch.method[i])]
            assert single.fallback_used == bool(batch.fallback_used[i])
        assert n_checked > 250


def test_batch_per_replicate_clusters_equals_shared() -> None:
    y, trt, site = _replicates(50, seed=9)
    a = G.fit_risk_ratio_gee_batch(y, trt, site)
    b = G.fit_risk_ratio_gee_batch(y, trt, np.tile(site, (50, 1)))
    np.testing.assert_allclose(a.log_rr, b.log_rr, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(a.se_md, b.se_md, rtol=1e-12, equal_nan=True)


def test_degenerate_replicates_marked_not_estimable_without_warnings() -> None:
    trt = np.r_[np.ones(4), np.zeros(4)]
    site = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    y = np.array(
        [
            [1, 1, 0, 1, 0, 0, 0, 0],  # no placebo responder -> RR infinite
            [0, 0, 0, 0, 1, 0, 1, 0],  # no active responder -> RR 0
            [1, 1, 1, 1, 1, 1, 1, 1],  # everybody responded
            [1, 1, 1, 1, 1, 0, 0, 0],  # all active responded -> boundary -> modified Poisson
        ],
        dtype=float,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = G.fit_risk_ratio_gee_batch(y, trt, site)
    assert b.estimable.tolist() == [False, False, False, True]
    assert b.status[:3].tolist() == [1, 1, 2]  # ZERO_RESPONDERS, ZERO_RESPONDERS, NO_VARIATION
    assert b.method[3] == G.METHOD_MODIFIED_POISSON and b.fallback_used[3]
    # modified Poisson with all 4 active responders: exp(log RR) = (4/4)/(1/4) = 4 only when the
    # exchangeable weights are equal; here centres are balanced (2+2 per arm), so RR = 4 exactly
    # (hand calculation: each centre has the same arm sizes, so the weighted means are the arm means)
    assert np.exp(b.log_rr[3]) == pytest.approx(4.0, rel=1e-9)
    counts = b.counts()
    assert counts["estimable"] == 1 and counts["modified_poisson"] == 1
    with pytest.raises(EstimationError, match="no responders"):
        G.fit_risk_ratio_gee(y[0], trt, site)
    with pytest.raises(EstimationError, match="every participant responded"):
        G.fit_log_binomial_gee(y[2], trt, site)


def test_single_arm_not_estimable() -> None:
    with pytest.raises(EstimationError, match="does not vary"):
        G.fit_risk_ratio_gee([1, 0, 1, 0], [1, 1, 1, 1], [0, 0, 1, 1])


def test_bad_inputs_raise_score_input_error() -> None:
    with pytest.raises(ScoreInputError, match="y"):
        G.fit_risk_ratio_gee([1, 2, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1])
    with pytest.raises(ScoreInputError, match="missing"):
        G.fit_risk_ratio_gee([1, None, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1])
    with pytest.raises(ScoreInputError, match="moments"):
        G.fit_risk_ratio_gee([1, 0, 0, 1], [1, 1, 0, 0], [0, 0, 1, 1], moments="sas")  # type: ignore[arg-type]
    with pytest.raises(ScoreInputError, match="cluster"):
        G.fit_risk_ratio_gee([1, 0, 0, 1], [1, 1, 0, 0], [0, 0, 1])


def test_result_fields_and_wald_arithmetic() -> None:
    y, trt, site = _replicates(1, seed=3)
    res = G.fit_risk_ratio_gee(y[0], trt[0], site)
    # Wald CI and p by hand: exp(log_rr +/- 1.959964 se), p = 2 * (1 - Phi(|z|))
    from scipy.stats import norm

    z = norm.ppf(0.975)
    assert res.ci[0] == pytest.approx(np.exp(res.log_rr - z * res.se_robust), rel=1e-12)
    assert res.ci_md[1] == pytest.approx(np.exp(res.log_rr + z * res.se_mancl_derouen), rel=1e-12)
    assert res.p == pytest.approx(2 * norm.sf(abs(res.log_rr / res.se_robust)), rel=1e-12)
    assert res.se_mancl_derouen > res.se_robust  # MD inflates the sandwich (Mancl-DeRouen 2001)
    d = res.to_dict()
    assert d["software"]["reproduces"].startswith("moment estimators of R geepack")
    assert d["moments"] == "geepack" and isinstance(d["ci"], list)
    with pytest.raises(AttributeError):
        res.log_rr = 0.0  # type: ignore[misc]


# 2/17 vs 2/17 from simulate_trials(load_scenario("bachelor-null"), 4000, seed=18), replicate 1450
# (also tests/reference/data/gee/zero_variance_balanced_null.csv): every centre has equal arm
# sizes and equal responders in both arms.
_ZV_SITE = np.repeat(np.arange(6), [6, 8, 4, 8, 6, 2])
_ZV_ARM = np.array([int(c) for c in "1100011010010100110011100111001001"])
_ZV_Y = np.array([int(c) for c in "0000000001010000001000000100000000"])


def test_zero_robust_variance_not_estimable_without_numpy_warnings() -> None:
    # Hand argument: at log RR = 0 each centre's treatment score is half its intercept score
    # (mirror-image arms), so every cluster score is proportional to B (1, 0)' and the sandwich
    # variance of the log RR, sum_i ((B^-1 g_i)_1)^2, is exactly 0. It used to come out as
    # -1.96e-16, giving estimable=True, se_robust=NaN and "invalid value encountered in sqrt".
    for k in range(6):
        s = np.equal(_ZV_SITE, k)
        assert _ZV_ARM[s].sum() * 2 == s.sum() and _ZV_Y[s & (_ZV_ARM == 1)].sum() == _ZV_Y[s & (_ZV_ARM == 0)].sum()
    y = np.vstack([_ZV_Y, _ZV_Y, np.r_[_ZV_Y[:-1], 1]]).astype(float)  # third row: not balanced
    for moments in ("geepack", "statsmodels"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            b = G.fit_risk_ratio_gee_batch(y, _ZV_ARM, _ZV_SITE, moments=moments)
        assert b.estimable.tolist() == [False, False, True]
        assert b.status[:2].tolist() == [9, 9]  # ZERO_VARIANCE
        assert np.isnan(b.se_robust[:2]).all() and np.isfinite(b.se_robust[2]) and b.se_robust[2] > 0
        assert not b.fallback_used[:2].any() and b.method[:2].tolist() == [G.METHOD_NONE] * 2
        key = f"not_estimable: {G.STATUS_MESSAGES[9]}"
        assert b.counts()[key] == 2
        with pytest.raises(EstimationError, match="zero up to rounding"):
            G.fit_risk_ratio_gee(_ZV_Y, _ZV_ARM, _ZV_SITE, moments=moments)


def test_estimable_replicates_always_have_positive_finite_se() -> None:
    # Invariant of GeeBatchResult (docstring): estimable -> 0 < se_robust < inf; includes small,
    # balanced null trials where exact ties are frequent.
    rng = np.random.default_rng(11)
    site = np.repeat(np.arange(4), 4)
    arm = np.tile([1, 0], 8)
    y = (rng.random((3000, 16)) < 0.2).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = G.fit_risk_ratio_gee_batch(y, arm, site)
    se = b.se_robust[b.estimable]
    assert se.size > 1000 and np.all(np.isfinite(se) & (se > 0))
    assert (b.status == 9).sum() > 0  # exact balance does occur in such trials


def test_missing_drop_equals_fitting_each_replicate_on_its_analysed_participants() -> None:
    # Reference: the same estimator on each replicate's complete cases (fit one by one, no NaN).
    y, trt, site = _replicates(120, seed=21)
    rng = np.random.default_rng(4)
    y_missing = np.where(rng.random(y.shape) < 0.1, np.nan, y)
    for moments in ("geepack", "statsmodels"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            b = G.fit_risk_ratio_gee_batch(y_missing, trt, site, moments=moments, missing="drop")
        for i in range(y.shape[0]):
            keep = ~np.isnan(y_missing[i])
            ref = G.fit_risk_ratio_gee_batch(y_missing[i, keep], trt[i, keep], site[keep], moments=moments)
            assert b.n_obs[i] == keep.sum() == ref.n_obs[0]
            assert b.status[i] == ref.status[0] and b.method[i] == ref.method[0]
            for field in ("log_rr", "se_robust", "se_md", "rho", "phi"):
                a, r = getattr(b, field)[i], getattr(ref, field)[0]
                assert (np.isnan(a) and np.isnan(r)) or abs(a - r) <= 1e-12 * max(1.0, abs(r))
    with pytest.raises(ScoreInputError, match="y"):
        G.fit_risk_ratio_gee_batch(y_missing, trt, site)
    with pytest.raises(ScoreInputError, match="missing"):
        G.fit_risk_ratio_gee_batch(y, trt, site, missing="impute")  # type: ignore[arg-type]


# every per-replicate array of the result
_BATCH_FIELDS = tuple(f.name for f in dataclasses.fields(G.GeeBatchResult) if f.name not in ("moments", "software"))


def _counts_by_hand(y: np.ndarray, trt: np.ndarray, site: np.ndarray, n_sites: int) -> np.ndarray:
    """Per replicate and site: (control responders, control non-responders, active responders, active
    non-responders), counted participant by participant (NaN responses not counted)."""
    out = np.zeros((y.shape[0], n_sites, 4), dtype=np.int64)
    for r in range(y.shape[0]):
        for j in range(y.shape[1]):
            if np.isnan(y[r, j]):
                continue
            col = (2 if trt[r, j] == 1 else 0) + (0 if y[r, j] == 1 else 1)
            out[r, site[j], col] += 1
    return out


def test_counts_entry_equals_participant_level_fit_exactly() -> None:
    # Reference: fit_risk_ratio_gee_batch on the participant-level data (itself checked against R geepack
    # and statsmodels above); the counts path must give the same numbers bit for bit, with either moments.
    y, trt, site = _replicates(300, seed=31)
    rng = np.random.default_rng(5)
    y = np.where(rng.random(y.shape) < 0.08, np.nan, y)
    counts = _counts_by_hand(y, trt, site, N_SITES)
    # the same counts with an empty centre inserted between centres 2 and 3: it must change nothing
    padded = np.concatenate([counts[:, :3], np.zeros((300, 1, 4), dtype=np.int64), counts[:, 3:]], axis=1)
    for moments in ("geepack", "statsmodels"):
        ref = G.fit_risk_ratio_gee_batch(y, trt, site, moments=moments, missing="drop")
        for c in (counts, padded):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                got = G.fit_risk_ratio_gee_counts(c, moments=moments)
            for field in _BATCH_FIELDS:
                assert np.array_equal(getattr(got, field), getattr(ref, field), equal_nan=True), (moments, field)
    assert ref.estimable.sum() > 250  # the comparison covers fitted replicates, not only degenerate ones
    one = G.fit_risk_ratio_gee_counts(counts[7], moments="statsmodels")  # (n_clusters, 4): one trial
    assert one.n_reps == 1
    for field in _BATCH_FIELDS:
        assert np.array_equal(getattr(one, field), getattr(ref, field)[7:8], equal_nan=True), field


@pytest.mark.parametrize("n_sites", [N_SITES, 15, 40])
def test_counts_entry_results_do_not_depend_on_chunks_or_other_replicates(n_sites: int) -> None:
    # Bit for bit, also with 8 or more centres (where NumPy would sum a lone replicate's centres pairwise)
    if n_sites == N_SITES:
        y, trt, site = _replicates(500, seed=32)
        counts = _counts_by_hand(y, trt, site, N_SITES)
    else:
        rng = np.random.default_rng(n_sites)
        counts = rng.integers(0, 3, (500, n_sites, 4)) * (rng.random((500, n_sites, 1)) < 0.9)
    whole = G.fit_risk_ratio_gee_counts(counts)
    chunked = G.fit_risk_ratio_gee_counts(counts, chunk_size=37)
    reordered = G.fit_risk_ratio_gee_counts(counts[::-1])
    singles = [G.fit_risk_ratio_gee_counts(counts[i]) for i in range(0, 500, 25)]
    assert whole.estimable.sum() > 300
    for field in _BATCH_FIELDS:
        a = getattr(whole, field)
        assert np.array_equal(a, getattr(chunked, field), equal_nan=True), field
        assert np.array_equal(a, getattr(reordered, field)[::-1], equal_nan=True), field
        single = np.concatenate([getattr(one, field) for one in singles])
        assert np.array_equal(a[::25], single, equal_nan=True), field


def test_counts_entry_bad_inputs_name_the_field() -> None:
    good = np.array([[2, 3, 4, 1], [1, 2, 2, 2]])
    with pytest.raises(ScoreInputError, match=r"counts.*non-negative whole numbers.*-1"):
        G.fit_risk_ratio_gee_counts(np.array([[2, 3, 4, 1], [1, -1, 2, 2]]))
    with pytest.raises(ScoreInputError, match=r"counts.*4\.5"):
        G.fit_risk_ratio_gee_counts(good + np.array([[0, 0, 0.5, 0], [0, 0, 0, 0]]))
    with pytest.raises(ScoreInputError, match=r"counts.*nan"):
        G.fit_risk_ratio_gee_counts(np.where(good == 4, np.nan, good))
    with pytest.raises(ScoreInputError, match=r"counts.*n_clusters, 4.*\(2, 3\)"):
        G.fit_risk_ratio_gee_counts(good[:, :3])
    with pytest.raises(ScoreInputError, match="counts"):
        G.fit_risk_ratio_gee_counts([["a", "b", "c", "d"]])
    with pytest.raises(ScoreInputError, match="chunk_size"):
        G.fit_risk_ratio_gee_counts(good, chunk_size=0)
