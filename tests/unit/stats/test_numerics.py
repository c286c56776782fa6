"""Edge paths of the numerical helpers (root bracketing, CDF limits, non-convergence reporting)."""

from __future__ import annotations

import math

import pytest

from pmrtrial.stats import bayes, estimate_risk_ratio_bayes, estimate_risk_ratio_score_ci, proportions


def test_search_log_root_reports_a_missing_root() -> None:
    # f never changes sign: the limit is reported as infinite and not found.
    assert proportions._search_log_root(lambda u: 1.0, 0.0, 1.0) == (math.inf, False)
    assert proportions._search_log_root(lambda u: 1.0, 0.0, -1.0) == (-math.inf, False)


def test_search_log_root_accepts_an_exact_zero_on_a_step() -> None:
    # First step from 0 in direction +1 lands on u = 0.25, where f is exactly 0.
    assert proportions._search_log_root(lambda u: u - 0.25, 0.0, 1.0) == (0.25, True)


def test_ratio_posterior_cdf_limits_and_unbracketed_quantile() -> None:
    post = bayes._RatioPosterior(2.0, 3.0, 4.0, 5.0)
    assert post.cdf(0.0) == 0.0
    assert post.cdf(math.inf) == 1.0


def test_ratio_posterior_lower_quantile_not_bracketed(monkeypatch: pytest.MonkeyPatch) -> None:
    post = bayes._RatioPosterior(2.0, 3.0, 4.0, 5.0)
    monkeypatch.setattr(post, "cdf", lambda r: 1.0)  # G(r) above q everywhere: no bracket below
    assert post.quantile(0.5) == (0.0, False)


def test_ratio_posterior_upper_quantile_not_bracketed(monkeypatch: pytest.MonkeyPatch) -> None:
    post = bayes._RatioPosterior(2.0, 3.0, 4.0, 5.0)
    monkeypatch.setattr(post, "cdf", lambda r: 0.0)
    assert post.quantile(0.5) == (math.inf, False)


def test_bayes_non_convergence_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bayes._RatioPosterior, "quantile", lambda self, q: (math.nan, False))
    res = estimate_risk_ratio_bayes(14, n_treated=18, events_control=2, n_control=15)
    assert not res.converged
    assert any("did not meet its tolerance" in w for w in res.warnings)


def test_score_ci_non_convergence_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proportions, "_search_log_root", lambda f, u, d: (d * math.inf, False))
    res = estimate_risk_ratio_score_ci(14, n_treated=18, events_control=2, n_control=15)
    assert not res.converged
    assert (res.lo, res.hi) == (0.0, math.inf)
    assert any("not bracketed" in w for w in res.warnings)
