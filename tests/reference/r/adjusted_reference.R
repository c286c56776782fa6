#!/usr/bin/env Rscript
# Reference values for pmrtrial.stats.adjusted (covariate-adjusted risk ratio).
#
# Usage (from the repository root):  Rscript tests/reference/r/adjusted_reference.R
# Writes the datasets tests/reference/data/adjusted/*.csv (built here with a fixed seed and re-read) and
# tests/reference/values/adjusted.json.
#
# Columns: subject_id, treated (1/0), y (1/0), stratum ("a"/"b"/"c"), gc_baseline (mg/day).
# Calls per case (formula y ~ treated + <covariates>):
#   modified Poisson (Zou 2004): fit <- glm(f, family = poisson); V <- sandwich::vcovHC(fit, type = "HC0");
#     RR = exp(coef), Wald CI exp(coef -+ qnorm(0.975) * sqrt(V)), p = 2 * pnorm(-|coef / sqrt(V)|);
#     cross-check: geepack::geeglm(f, family = poisson, id = subject, corstr = "independence") SEs
#     (geepack's sandwich = HC0 here);
#   log-binomial: glm(f, family = binomial(link = "log"), start = c(log(mean(y)), 0, ..., 0),
#     control = glm.control(epsilon = 1e-12, maxit = 200)), model-based SE (summary.glm), Wald CI
#     (confint.default) and z-test p. A fit that errors, does not converge, or has a fitted probability
#     within 1e-6 of 1 (boundary) is recorded as failed with R's message.
suppressPackageStartupMessages({ library(sandwich); library(geepack) })
args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else file.path(getwd(), "tests", "reference", "r")
root <- normalizePath(file.path(here, "..", "..", ".."))
source(file.path(here, "_json.R"))
data_dir <- file.path(root, "tests", "reference", "data", "adjusted")
dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)
set.seed(20261130)

make <- function(n_t, n_c, e_t, e_c, p_strat = c(0.4, 0.35, 0.25)) {
  treated <- c(rep(1L, n_t), rep(0L, n_c))
  stratum <- sample(c("a", "b", "c"), n_t + n_c, replace = TRUE, prob = p_strat)
  gc <- round(pmax(5, rnorm(n_t + n_c, 12, 4)), 1)
  # responders: more likely with a lower baseline dose, exact counts per arm
  pick <- function(idx, k) idx[order(gc[idx] + rnorm(length(idx), 0, 4))][seq_len(k)]
  y <- integer(n_t + n_c)
  y[pick(which(treated == 1L), e_t)] <- 1L
  y[pick(which(treated == 0L), e_c)] <- 1L
  data.frame(subject_id = sprintf("P%03d", seq_along(y)), treated = treated, y = y, stratum = stratum,
             gc_baseline = gc)
}
datasets <- list(
  semaphore_like = make(49, 51, 33, 16),   # SEMAPHORE composite primary 67.3% vs 31.4%
  gc_free_like = make(49, 51, 24, 10),     # GC-free at week 24: 49% vs 19.6%
  high_response = make(30, 30, 28, 22),   # near 100%: log-binomial at or near the boundary
  zero_events_control = make(30, 30, 8, 0)
)
for (nm in names(datasets)) write.csv(datasets[[nm]], file.path(data_dir, paste0(nm, ".csv")), row.names = FALSE)

capture <- function(expr) {
  warns <- character(0)
  value <- withCallingHandlers(tryCatch(expr, error = function(e) list(error = conditionMessage(e))),
                               warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  c(value, list(warnings = as.list(unique(warns))))
}
z <- qnorm(0.975)
summ <- function(b, se) list(rr = exp(b[2]), lo = exp(b[2] - z * se[2]), hi = exp(b[2] + z * se[2]),
                             p = 2 * pnorm(-abs(b[2] / se[2])), coef = b[2], se = se[2],
                             coefs = as.list(b), ses = as.list(se))
cases <- list(
  list(dataset = "semaphore_like", covariates = c("stratum", "gc_baseline")),
  list(dataset = "semaphore_like", covariates = character(0)),
  list(dataset = "semaphore_like", covariates = c("stratum")),
  list(dataset = "gc_free_like", covariates = c("stratum", "gc_baseline")),
  list(dataset = "high_response", covariates = c("stratum", "gc_baseline")),
  list(dataset = "zero_events_control", covariates = c("stratum"))
)
out <- lapply(cases, function(cs) {
  d <- read.csv(file.path(data_dir, paste0(cs$dataset, ".csv")))
  f <- as.formula(paste("y ~", paste(c("treated", cs$covariates), collapse = " + ")))
  pois <- capture({
    fit <- glm(f, family = poisson, data = d, control = glm.control(epsilon = 1e-12, maxit = 100))
    V <- vcovHC(fit, type = "HC0")
    # geeglm loops without end when an arm has no event: cross-check only the estimable cases.
    gee_se <- if (all(tapply(d$y, d$treated, sum) > 0)) {
      g <- geeglm(f, family = poisson, data = d, id = seq_len(nrow(d)), corstr = "independence")
      as.list(unname(sqrt(diag(g$geese$vbeta))))
    } else "not run: an arm has no event"
    c(summ(unname(coef(fit)), unname(sqrt(diag(V)))), list(gee_se = gee_se, converged = fit$converged))
  })
  lb <- capture({
    p_coef <- ncol(model.matrix(f, d))
    start <- c(log(mean(d$y)), rep(0, p_coef - 1))
    fit <- glm(f, family = binomial(link = "log"), data = d, start = start,
               control = glm.control(epsilon = 1e-12, maxit = 200))
    sm <- summary(fit)
    c(summ(unname(coef(fit)), unname(sqrt(diag(vcov(fit))))),
      list(converged = fit$converged, max_fitted = max(fitted(fit)),
           boundary = fit$boundary || max(fitted(fit)) > 1 - 1e-6))
  })
  list(dataset = cs$dataset, file = paste0("tests/reference/data/adjusted/", cs$dataset, ".csv"),
       covariates = as.list(cs$covariates), n_treated = sum(d$treated), n_control = sum(1 - d$treated),
       events_treated = sum(d$y[d$treated == 1]), events_control = sum(d$y[d$treated == 0]),
       modified_poisson = pois, log_binomial = lb)
})
meta <- list(generated_by = "tests/reference/r/adjusted_reference.R", date = as.character(Sys.Date()),
             r_version = R.version.string,
             packages = list(sandwich = as.character(packageVersion("sandwich")),
                             geepack = as.character(packageVersion("geepack"))),
             calls = list(modified_poisson = "glm(y ~ treated + covariates, family = poisson); sandwich::vcovHC(fit, type = 'HC0'); Wald z CI and p",
                          log_binomial = "glm(y ~ treated + covariates, family = binomial(link = 'log'), start = c(log(mean(y)), 0, ..., 0), control = glm.control(epsilon = 1e-12, maxit = 200)); summary.glm SE; confint.default; z p"))
write_json_file(list(meta = meta, cases = out), file.path(root, "tests", "reference", "values", "adjusted.json"))
