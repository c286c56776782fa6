# Reference values for pmrtrial.design (power and sample size, two independent proportions).
# Run from the repository root:  Rscript tests/reference/r/design_reference.R
# Writes tests/reference/values/design.json. Needs R >= 4.2 with pwr, rpact and jsonlite.
suppressPackageStartupMessages({
  library(pwr)
  library(rpact)
  library(jsonlite)
})

out <- list(
  generated_by = "tests/reference/r/design_reference.R",
  r_version = R.version.string,
  packages = list(
    stats = as.character(packageVersion("stats")),
    pwr = as.character(packageVersion("pwr")),
    rpact = as.character(packageVersion("rpact")),
    jsonlite = as.character(packageVersion("jsonlite"))
  ),
  notes = list(
    power.prop.test = paste(
      "stats::power.prop.test (equal n only). Non-strict power:",
      "pnorm((sqrt(n)*abs(p1-p2) - qnorm(sig.level/2, lower.tail=FALSE)*sqrt((p1+p2)*(1-(p1+p2)/2)))",
      "/ sqrt(p1*(1-p1) + p2*(1-p2))), i.e. pooled pbar=(p1+p2)/2 under H0, one tail only.",
      "strict=TRUE adds pnorm((sqrt(n)*d + qu*sqrt(2*vbar))/sqrt(v1+v2), lower.tail=FALSE).",
      "When n is solved, it is a uniroot() root with tol=.Machine$double.eps^0.25 by default",
      "(about 1e-4 accuracy), not the closed form; we also call it with tol=1e-12."
    ),
    pwr = paste(
      "pwr::pwr.2p.test / pwr.2p2n.test with h = ES.h(p1, p2) = 2*asin(sqrt(p1)) - 2*asin(sqrt(p2));",
      "two-sided power counts both tails:",
      "pnorm(qnorm(a/2, lower=FALSE) - h*sqrt(n1*n2/(n1+n2)), lower=FALSE) +",
      "pnorm(qnorm(a/2, lower=TRUE) - h*sqrt(n1*n2/(n1+n2)), lower=TRUE).",
      "Solved n is a uniroot() root with default tol (about 1e-4)."
    ),
    fisher = paste(
      "Exact power by enumeration: sum over all (x0, x1) of dbinom(x0, n0, p0) * dbinom(x1, n1, p1)",
      "* (fisher.test(matrix(c(x0, n0 - x0, x1, n1 - x1), 2))$p.value <= alpha)."
    ),
    rpact = "rpact::getSampleSizeRates / getPowerRates, fixed design (one stage), normalApproximation=TRUE (default)."
  )
)

# ---- power.prop.test -------------------------------------------------------------------------------
ppt <- list()
for (cfg in list(c(0.2, 0.8, 13), c(0.2, 0.8, 12), c(0.3, 0.5, 100), c(0.1, 0.25, 40))) {
  for (strict in c(FALSE, TRUE)) {
    r <- power.prop.test(n = cfg[3], p1 = cfg[1], p2 = cfg[2], sig.level = 0.05, strict = strict)
    ppt[[length(ppt) + 1]] <- list(
      call = sprintf("power.prop.test(n = %g, p1 = %g, p2 = %g, sig.level = 0.05, strict = %s)$power",
                     cfg[3], cfg[1], cfg[2], strict),
      p_control = cfg[1], p_treated = cfg[2], n = cfg[3], alpha = 0.05, strict = strict, power = r$power)
  }
}
ppt_n <- list()
for (cfg in list(c(0.2, 0.8, 0.9), c(0.3, 0.5, 0.8))) {
  r_def <- power.prop.test(p1 = cfg[1], p2 = cfg[2], sig.level = 0.05, power = cfg[3])
  r_tight <- power.prop.test(p1 = cfg[1], p2 = cfg[2], sig.level = 0.05, power = cfg[3], tol = 1e-12)
  ppt_n[[length(ppt_n) + 1]] <- list(
    call = sprintf("power.prop.test(p1 = %g, p2 = %g, sig.level = 0.05, power = %g[, tol = 1e-12])$n",
                   cfg[1], cfg[2], cfg[3]),
    p_control = cfg[1], p_treated = cfg[2], alpha = 0.05, power = cfg[3],
    n_default_tol = r_def$n, n_tol_1e12 = r_tight$n)
}
out$power_prop_test <- list(power = ppt, n = ppt_n)

# ---- pwr (arcsine) ----------------------------------------------------------------------------------
pw <- list()
for (cfg in list(c(0.2, 0.8, 13, 13), c(0.2, 0.8, 12, 12), c(0.2, 0.8, 15, 18), c(0.3, 0.5, 60, 90))) {
  h <- ES.h(cfg[2], cfg[1])
  r <- pwr.2p2n.test(h = h, n1 = cfg[3], n2 = cfg[4], sig.level = 0.05)
  pw[[length(pw) + 1]] <- list(
    call = sprintf("pwr.2p2n.test(h = ES.h(%g, %g), n1 = %g, n2 = %g, sig.level = 0.05)$power",
                   cfg[2], cfg[1], cfg[3], cfg[4]),
    p_control = cfg[1], p_treated = cfg[2], n_control = cfg[3], n_treated = cfg[4], alpha = 0.05,
    h = h, power = r$power)
}
r_eq <- pwr.2p.test(h = ES.h(0.8, 0.2), n = 13, sig.level = 0.05)
pw_n <- pwr.2p.test(h = ES.h(0.8, 0.2), sig.level = 0.05, power = 0.9)
out$pwr <- list(
  power_2p2n = pw,
  power_2p = list(call = "pwr.2p.test(h = ES.h(0.8, 0.2), n = 13, sig.level = 0.05)$power",
                  p_control = 0.2, p_treated = 0.8, n = 13, alpha = 0.05, power = r_eq$power),
  n_2p = list(call = "pwr.2p.test(h = ES.h(0.8, 0.2), sig.level = 0.05, power = 0.9)$n",
              p_control = 0.2, p_treated = 0.8, alpha = 0.05, power = 0.9, n = pw_n$n)
)

# ---- rpact ------------------------------------------------------------------------------------------
rp <- list()
for (ratio in c(1, 1.5)) {
  x <- getSampleSizeRates(pi1 = 0.8, pi2 = 0.2, alpha = 0.05, sided = 2, beta = 0.1,
                          allocationRatioPlanned = ratio)
  rp[[length(rp) + 1]] <- list(
    call = sprintf(paste0("getSampleSizeRates(pi1 = 0.8, pi2 = 0.2, alpha = 0.05, sided = 2, beta = 0.1, ",
                          "allocationRatioPlanned = %g)$numberOfSubjects1/2"), ratio),
    p_control = 0.2, p_treated = 0.8, alpha = 0.05, power = 0.9,
    ratio_treated_to_control = ratio,
    n_treated = as.numeric(x$numberOfSubjects1), n_control = as.numeric(x$numberOfSubjects2))
}
pr <- getPowerRates(pi1 = 0.8, pi2 = 0.2, alpha = 0.05, sided = 2, maxNumberOfSubjects = 26)
out$rpact <- list(
  sample_size = rp,
  power = list(call = "getPowerRates(pi1 = 0.8, pi2 = 0.2, alpha = 0.05, sided = 2, maxNumberOfSubjects = 26)$overallReject",
               p_control = 0.2, p_treated = 0.8, n_control = 13, n_treated = 13, alpha = 0.05,
               power = as.numeric(pr$overallReject))
)

# ---- exact Fisher power by enumeration with fisher.test -----------------------------------------------
fisher_p <- function(x0, n0, x1, n1) fisher.test(matrix(c(x0, n0 - x0, x1, n1 - x1), 2))$p.value
exact_power <- function(p0, p1, n0, n1, alpha) {
  total <- 0
  for (x0 in 0:n0) for (x1 in 0:n1) {
    if (fisher_p(x0, n0, x1, n1) <= alpha) total <- total + dbinom(x0, n0, p0) * dbinom(x1, n1, p1)
  }
  total
}
cases <- c(lapply(12:20, function(n) c(0.2, 0.8, n, n, 0.05)),
           list(c(0.2, 0.8, 15, 18, 0.05), c(0.2, 0.8, 18, 15, 0.05), c(0.3, 0.6, 25, 40, 0.05),
                c(0.13, 0.78, 15, 18, 0.05), c(0.5, 0.5, 20, 20, 0.05), c(0.1, 0.4, 50, 50, 0.05),
                c(0.2, 0.8, 16, 16, 0.01)))
ef <- lapply(cases, function(cfg) list(
  call = sprintf("exact_power(p0 = %g, p1 = %g, n0 = %g, n1 = %g, alpha = %g)", cfg[1], cfg[2], cfg[3], cfg[4], cfg[5]),
  p_control = cfg[1], p_treated = cfg[2], n_control = cfg[3], n_treated = cfg[4], alpha = cfg[5],
  power = exact_power(cfg[1], cfg[2], cfg[3], cfg[4], cfg[5])))
pmats <- lapply(list(c(7, 9), c(15, 18)), function(nn) {
  m <- outer(0:nn[1], 0:nn[2], Vectorize(function(a, b) fisher_p(a, nn[1], b, nn[2])))
  list(call = sprintf("fisher.test(matrix(c(x0, %d - x0, x1, %d - x1), 2))$p.value for all x0, x1", nn[1], nn[2]),
       n_control = nn[1], n_treated = nn[2], pvalues = unname(split(m, row(m))))
})
out$fisher_exact <- list(power = ef, pvalue_matrices = pmats)

dir.create("tests/reference/values", showWarnings = FALSE, recursive = TRUE)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/values/design.json")
cat("wrote tests/reference/values/design.json\n")
