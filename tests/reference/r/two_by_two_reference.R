# Reference values for pmrtrial.stats exact tests, risk ratios, risk differences and the Bayesian
# risk ratio, computed independently in R.
#
# Run from the repository root:
#   Rscript tests/reference/r/two_by_two_reference.R
# Writes tests/reference/values/two_by_two.json.
#
# Packages: base R, stats, epitools (Debian r-cran-epitools), jsonlite.
# Not available from Debian here: exact2x2, Exact, PropCIs, ratesci (`apt-cache policy` shows no
# candidate). Hence, written in this file directly from their definitions:
#   * Boschloo's test (scipy's definition: statistic = one-sided Fisher p; one-sided p = max over the
#     nuisance pi of P(statistic <= observed); two-sided = 2 * min(one-sided), capped at 1), by full
#     enumeration of the 2x2 tables, maximised over a grid of 20,001 values of pi and refined with
#     optimize() around the best grid points. Also the "minlike" variant (statistic = two-sided Fisher p,
#     as exact2x2's default), for information only.
#   * Barnard's test with the pooled z statistic (scipy's default), same maximisation.
#   * Newcombe's hybrid score interval (Newcombe 1998, method 10) from the Wilson limits that
#     prop.test(correct = FALSE) returns.
#   * Score intervals for the risk ratio (Koopman 1984; Miettinen-Nurminen 1985 with the N/(N-1)
#     variance factor), with the constrained MLE found numerically by optimize() on the binomial
#     log-likelihood (not by the closed-form quadratic the Python code uses), limits by uniroot().
#   * Katz log CI: epitools::riskratio(method = "wald") when both arms have events; otherwise the
#     formula with 0.5 added to every cell (pmrtrial's documented zero-cell rule).
#   * Bayesian RR with independent Beta priors: G(r) = P(p_t <= r p_c) = integral_0^min(1,1/r) F_t(r p)
#     f_c(p) dp + (1 - F_c(1/r)), integrated by integrate() after the substitution u = F_c(p) (so that the
#     integrand stays bounded), quantiles by uniroot(); plus a Monte Carlo check with rbeta().

suppressPackageStartupMessages({
  library(epitools)
  library(jsonlite)
})

cases <- list(
  list(name = "bachelor_w12_primary", et = 14, nt = 18, ec = 2, nc = 15,
       source = "BACHELOR primary endpoint, bachelor_published.yaml primary_endpoint"),
  list(name = "bachelor_w12_crp_le10", et = 15, nt = 18, ec = 10, nc = 15,
       source = "BACHELOR week-12 secondary crp_pmr_as_le10 counts"),
  list(name = "full_treated_cell", et = 18, nt = 18, ec = 12, nc = 14,
       source = "a zero non-responder cell (BACHELOR week-24 crp_pmr_as_le10 counts)"),
  list(name = "no_events", et = 0, nt = 10, ec = 0, nc = 10, source = "edge: no event in either arm"),
  list(name = "zero_treated", et = 0, nt = 10, ec = 3, nc = 10, source = "edge: no event on treatment"),
  list(name = "zero_control", et = 5, nt = 10, ec = 0, nc = 10, source = "edge: no event on control"),
  list(name = "all_respond", et = 10, nt = 10, ec = 10, nc = 10, source = "edge: everyone responds"),
  list(name = "equal_arms", et = 7, nt = 20, ec = 7, nc = 20, source = "null table"),
  list(name = "large_arms", et = 40, nt = 100, ec = 25, nc = 100, source = "larger trial"),
  list(name = "extreme", et = 1, nt = 30, ec = 29, nc = 30, source = "treatment much worse")
)

conf_level <- 0.95
z <- qnorm(0.975)

# ---- exact tests -------------------------------------------------------------------------------

fisher_p <- function(et, nt, ec, nc, alternative = "two.sided") {
  fisher.test(matrix(c(et, nt - et, ec, nc - ec), 2, byrow = TRUE), alternative = alternative)$p.value
}

# Maximise sum over the rejection region R of dbinom(x1; n1, pi) dbinom(x2; n2, pi) over pi in [0, 1].
max_over_nuisance <- function(region, n1, n2, grid_size = 20001) {
  prob <- function(pi) {
    b1 <- dbinom(0:n1, n1, pi)
    b2 <- dbinom(0:n2, n2, pi)
    sum(b1 * (region %*% b2))
  }
  grid <- seq(0, 1, length.out = grid_size)
  b1 <- outer(0:n1, grid, function(x, p) dbinom(x, n1, p))
  b2 <- outer(0:n2, grid, function(x, p) dbinom(x, n2, p))
  values <- colSums(b1 * (region %*% b2))
  best <- max(values)
  top <- order(values, decreasing = TRUE)[1:5]
  for (i in top) {
    lo <- grid[max(i - 1, 1)]
    hi <- grid[min(i + 1, grid_size)]
    if (hi > lo) {
      o <- optimize(prob, c(lo, hi), maximum = TRUE, tol = 1e-12)
      best <- max(best, o$objective)
    }
  }
  min(best, 1)
}

# x1 = responders on treatment (0..n1), x2 = responders on control (0..n2); matrices indexed [x1+1, x2+1].
boschloo_p <- function(et, nt, ec, nc) {
  n <- nt + nc
  x1 <- matrix(0:nt, nt + 1, nc + 1)
  x2 <- matrix(0:nc, nt + 1, nc + 1, byrow = TRUE)
  # one-sided Fisher p for "treated worse" (less): P(X1 <= x1 | x1 + x2), X1 hypergeometric
  p_less <- phyper(x1, nt, nc, x1 + x2)
  # one-sided Fisher p for "treated better" (greater): P(X2 <= x2 | x1 + x2)
  p_greater <- phyper(x2, nc, nt, x1 + x2)
  one_sided <- function(stat) {
    region <- (stat <= stat[et + 1, ec + 1] * (1 + 1e-13)) * 1
    max_over_nuisance(region, nt, nc)
  }
  pl <- one_sided(p_less)
  pg <- one_sided(p_greater)
  list(two_sided = min(1, 2 * min(pl, pg)), less = pl, greater = pg)
}

boschloo_minlike_p <- function(et, nt, ec, nc) {
  stat <- matrix(NA_real_, nt + 1, nc + 1)
  for (a in 0:nt) for (c in 0:nc) stat[a + 1, c + 1] <- fisher_p(a, nt, c, nc)
  region <- (stat <= stat[et + 1, ec + 1] * (1 + 1e-7)) * 1
  max_over_nuisance(region, nt, nc)
}

barnard_pooled_p <- function(et, nt, ec, nc) {
  x1 <- matrix(0:nt, nt + 1, nc + 1)
  x2 <- matrix(0:nc, nt + 1, nc + 1, byrow = TRUE)
  p1 <- x1 / nt
  p2 <- x2 / nc
  p <- (x1 + x2) / (nt + nc)
  stat <- (p1 - p2) / sqrt(p * (1 - p) * (1 / nt + 1 / nc))
  stat[p1 == p2] <- 0
  obs <- abs(stat[et + 1, ec + 1])
  region <- (abs(stat) >= obs * (1 - 1e-12)) * 1
  z_obs <- stat[et + 1, ec + 1]
  region_greater <- (stat >= z_obs - 1e-12 * max(1, abs(z_obs))) * 1
  list(p = max_over_nuisance(region, nt, nc), statistic = z_obs,
       p_greater = max_over_nuisance(region_greater, nt, nc))
}

# ---- risk ratio: Katz ----------------------------------------------------------------------------

katz <- function(et, nt, ec, nc) {
  if (et > 0 && ec > 0) {
    # epitools layout: rows = exposure (row 1 = reference = control), columns = (no event, event)
    tab <- matrix(c(nc - ec, ec, nt - et, et), 2, byrow = TRUE)
    rr <- epitools::riskratio(tab, method = "wald", conf.level = conf_level)$measure
    est <- rr[2, "estimate"]
    lo <- rr[2, "lower"]
    hi <- rr[2, "upper"]
    se <- sqrt(1 / et - 1 / nt + 1 / ec - 1 / nc)
    call <- "epitools::riskratio(matrix(c(nc-ec, ec, nt-et, et), 2, byrow=TRUE), method='wald')$measure[2, ]"
    correction <- 0
  } else {
    a <- et + 0.5; c <- ec + 0.5; n1 <- nt + 1; n0 <- nc + 1
    est <- (a / n1) / (c / n0)
    se <- sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
    lo <- exp(log(est) - z * se)
    hi <- exp(log(est) + z * se)
    call <- "0.5 added to every cell; exp(log((a/n1)/(c/n0)) -/+ qnorm(0.975)*sqrt(1/a-1/n1+1/c-1/n0))"
    correction <- 0.5
  }
  p <- if (se > 0) 2 * pnorm(-abs(log(est) / se)) else NaN
  list(estimate = unname(est), lo = unname(lo), hi = unname(hi), p_wald = p, se_log_rr = se,
       correction = correction, call = call)
}

# ---- risk ratio: score intervals --------------------------------------------------------------------

# Constrained MLE of the control probability under p_t = theta * p_c, by optimize() on the log-likelihood.
constrained_mle <- function(theta, et, nt, ec, nc) {
  upper <- min(1, 1 / theta)
  ll <- function(p2) dbinom(et, nt, theta * p2, log = TRUE) + dbinom(ec, nc, p2, log = TRUE)
  o <- optimize(ll, c(0, upper), maximum = TRUE, tol = 1e-14)
  p2 <- o$maximum
  # optimize() never evaluates the interval ends; check them (the MLE can sit on a bound).
  for (b in c(0, upper)) if (is.finite(ll(b)) && ll(b) > o$objective) p2 <- b
  p2
}

score_z <- function(theta, et, nt, ec, nc, lambda) {
  num <- et / nt - theta * ec / nc
  if (abs(num) < 1e-15) return(0)
  p2 <- constrained_mle(theta, et, nt, ec, nc)
  p1 <- theta * p2
  v <- lambda * (p1 * (1 - p1) / nt + theta^2 * p2 * (1 - p2) / nc)
  if (v <= 0) return(sign(num) * Inf)
  num / sqrt(v)
}

score_ci <- function(et, nt, ec, nc, correction) {
  n <- nt + nc
  lambda <- if (correction) n / (n - 1) else 1
  f_hi <- function(u) score_z(exp(u), et, nt, ec, nc, lambda) + z
  f_lo <- function(u) score_z(exp(u), et, nt, ec, nc, lambda) - z
  est <- if (ec > 0) (et / nt) / (ec / nc) else if (et > 0) Inf else NaN
  if (et == 0 && ec == 0) {
    lo <- 0; hi <- Inf
  } else {
    lo <- if (et == 0) 0 else exp(uniroot(f_lo, c(-30, if (is.finite(est)) log(est) else 30),
                                         tol = 1e-13, extendInt = "no")$root)
    hi <- if (ec == 0) Inf else exp(uniroot(f_hi, c(if (et > 0) log(est) else -30, 30),
                                           tol = 1e-13, extendInt = "no")$root)
  }
  pooled <- (et + ec) / n
  p <- if (pooled > 0 && pooled < 1) {
    2 * pnorm(-abs((et / nt - ec / nc) / sqrt(lambda * pooled * (1 - pooled) * (1 / nt + 1 / nc))))
  } else NaN
  list(estimate = est, lo = lo, hi = hi, p_score = p)
}

# ---- risk difference ----------------------------------------------------------------------------------

wilson <- function(x, n) {
  suppressWarnings(prop.test(x, n, correct = FALSE, conf.level = conf_level)$conf.int[1:2])
}

newcombe <- function(et, nt, ec, nc) {
  p1 <- et / nt; p2 <- ec / nc
  w1 <- wilson(et, nt); w2 <- wilson(ec, nc)
  d <- p1 - p2
  list(estimate = d,
       lo = d - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2),
       hi = d + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2),
       wilson_treated = w1, wilson_control = w2)
}

rd_wald <- function(et, nt, ec, nc) {
  p1 <- et / nt; p2 <- ec / nc
  d <- p1 - p2
  se <- sqrt(p1 * (1 - p1) / nt + p2 * (1 - p2) / nc)
  list(estimate = d, lo = d - z * se, hi = d + z * se,
       p = if (se > 0) 2 * pnorm(-abs(d / se)) else NaN)
}

# ---- Bayesian risk ratio ---------------------------------------------------------------------------------

# integrate() to rel.tol 1e-11; where roundoff stops it (tiny integrals), retry with abs.tol 1e-14.
integrate_precise <- function(f, lower, upper) {
  tryCatch(
    integrate(f, lower, upper, rel.tol = 1e-11, abs.tol = 0, subdivisions = 1000L)$value,
    error = function(e) integrate(f, lower, upper, rel.tol = 1e-11, abs.tol = 1e-14, subdivisions = 1000L)$value
  )
}

bayes_rr <- function(et, nt, ec, nc, a, b) {
  at <- a + et; bt <- b + nt - et; ac <- a + ec; bc <- b + nc - ec
  # Integrate over the control arm's posterior quantile u = F_c(p) (p = qbeta(u)): the integrand is then
  # bounded even where the Beta density is infinite (Jeffreys prior with 0 or n events).
  G <- function(r) {
    u_max <- pbeta(min(1, 1 / r), ac, bc)
    inner <- if (u_max > 0) {
      integrate_precise(function(u) pbeta(r * qbeta(u, ac, bc), at, bt), 0, u_max)
    } else 0
    inner + (1 - u_max)
  }
  q <- function(prob) {
    exp(uniroot(function(u) G(exp(u)) - prob, c(-5, 5), extendInt = "upX", tol = 1e-13)$root)
  }
  # P(p_t > p_c) can be tiny (1e-16): integrate in p over four pieces, where the product of the survival
  # function and the density is resolved; fall back to the u-space form if an endpoint singularity stops it.
  prob_gt_1 <- tryCatch(
    sum(sapply(list(c(0, 0.25), c(0.25, 0.5), c(0.5, 0.75), c(0.75, 1)), function(ab) {
      integrate(function(p) pbeta(p, at, bt, lower.tail = FALSE) * dbeta(p, ac, bc), ab[1], ab[2],
                rel.tol = 1e-11, abs.tol = 0, subdivisions = 1000L)$value
    })),
    error = function(e) {
      integrate_precise(function(u) pbeta(qbeta(u, ac, bc), at, bt, lower.tail = FALSE), 0, 1)
    }
  )
  list(median = q(0.5), lo = q(0.025), hi = q(0.975), prob_rr_gt_1 = prob_gt_1)
}

bayes_rr_mc <- function(et, nt, ec, nc, a, b, n_draws = 4e6, n_batches = 40) {
  at <- a + et; bt <- b + nt - et; ac <- a + ec; bc <- b + nc - ec
  per <- n_draws / n_batches
  stats <- t(sapply(seq_len(n_batches), function(i) {
    rr <- rbeta(per, at, bt) / rbeta(per, ac, bc)
    c(quantile(rr, c(0.5, 0.025, 0.975), names = FALSE), mean(rr > 1))
  }))
  est <- colMeans(stats)
  se <- apply(stats, 2, sd) / sqrt(n_batches)
  list(median = est[1], lo = est[2], hi = est[3], prob_rr_gt_1 = est[4],
       se_median = se[1], se_lo = se[2], se_hi = se[3], se_prob_rr_gt_1 = se[4],
       n_draws = n_draws, n_batches = n_batches)
}

# ---- run ---------------------------------------------------------------------------------------------

set.seed(20250301)
out_cases <- list()
for (cs in cases) {
  et <- cs$et; nt <- cs$nt; ec <- cs$ec; nc <- cs$nc
  bos <- boschloo_p(et, nt, ec, nc)
  bar <- barnard_pooled_p(et, nt, ec, nc)
  values <- list(
    fisher_p = fisher_p(et, nt, ec, nc),
    fisher_p_greater = fisher_p(et, nt, ec, nc, "greater"),
    boschloo_p = bos$two_sided,
    boschloo_p_less = bos$less,
    boschloo_p_greater = bos$greater,
    boschloo_minlike_p_info_only = boschloo_minlike_p(et, nt, ec, nc),
    barnard_p = bar$p,
    barnard_statistic = bar$statistic,
    barnard_p_greater = bar$p_greater,
    katz = katz(et, nt, ec, nc),
    score_mn = score_ci(et, nt, ec, nc, correction = TRUE),
    score_koopman = score_ci(et, nt, ec, nc, correction = FALSE),
    newcombe = newcombe(et, nt, ec, nc),
    rd_wald = rd_wald(et, nt, ec, nc),
    bayes_jeffreys = bayes_rr(et, nt, ec, nc, 0.5, 0.5),
    bayes_uniform = bayes_rr(et, nt, ec, nc, 1, 1),
    bayes_jeffreys_mc = bayes_rr_mc(et, nt, ec, nc, 0.5, 0.5),
    bayes_uniform_mc = bayes_rr_mc(et, nt, ec, nc, 1, 1)
  )
  out_cases[[length(out_cases) + 1]] <- c(
    list(name = cs$name, events_treated = et, n_treated = nt, events_control = ec, n_control = nc,
         source = cs$source),
    list(values = values)
  )
  cat(cs$name, "done\n")
}

calls <- list(
  fisher_p = "fisher.test(matrix(c(et, nt-et, ec, nc-ec), 2, byrow=TRUE))$p.value",
  fisher_p_greater = "fisher.test(matrix(c(et, nt-et, ec, nc-ec), 2, byrow=TRUE), alternative='greater')$p.value",
  boschloo_p = "boschloo_p(): enumeration, statistic phyper(x1, nt, nc, x1+x2) / phyper(x2, nc, nt, x1+x2), region stat <= obs*(1+1e-13), max over pi (grid 20001 + optimize tol 1e-12), 2*min",
  boschloo_minlike_p_info_only = "statistic = two-sided fisher.test p; NOT scipy's definition; information only",
  barnard_p = "barnard_pooled_p(): pooled z, region |z| >= |z_obs|*(1-1e-12) (ties of equal |z| included), max over pi as above",
  barnard_p_greater = "barnard_pooled_p(): region z >= z_obs - 1e-12*max(1,|z_obs|)",
  katz = "see katz(): epitools::riskratio(method='wald') or 0.5-corrected formula; p_wald = 2*pnorm(-|log RR|/SE)",
  score_mn = "score_ci(correction=TRUE): lambda = N/(N-1); constrained MLE by optimize(); limits by uniroot(tol=1e-13)",
  score_koopman = "score_ci(correction=FALSE): lambda = 1",
  newcombe = "Newcombe 1998 method 10 with Wilson limits prop.test(x, n, correct=FALSE)$conf.int",
  rd_wald = "d -/+ qnorm(0.975)*sqrt(p1(1-p1)/n1 + p2(1-p2)/n2)",
  bayes = "G(r) = integrate(function(u) pbeta(r*qbeta(u, ac, bc), at, bt), 0, pbeta(min(1,1/r), ac, bc), rel.tol=1e-11) + 1 - pbeta(min(1,1/r), ac, bc); uniroot(tol=1e-13) on log r; P(RR>1) = sum of integrate(pbeta(p, at, bt, lower.tail=FALSE)*dbeta(p, ac, bc)) over [0,.25,.5,.75,1] (fallback: u-space)",
  bayes_mc = "set.seed(20250301) once; 40 batches of 1e5 rbeta ratios; mean of batch quantiles, se = sd/sqrt(40)"
)

result <- list(
  generated_by = "tests/reference/r/two_by_two_reference.R",
  date = format(Sys.Date()),
  r_version = R.version.string,
  packages = list(epitools = as.character(packageVersion("epitools")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  conf_level = conf_level,
  calls = calls,
  cases = out_cases
)
dir.create("tests/reference/values", showWarnings = FALSE, recursive = TRUE)
write_json(result, "tests/reference/values/two_by_two.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "string")
cat("wrote tests/reference/values/two_by_two.json\n")
