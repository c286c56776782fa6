#!/usr/bin/env Rscript
# Reference values for pmrtrial.stats.gee (log-binomial and modified Poisson GEE, exchangeable
# correlation within centre) from geepack::geeglm.
#
# Usage (from the repository root):  Rscript tests/reference/r/gee_reference.R
# Reads every tests/reference/data/gee/*.csv (columns subject_id, site_id, arm, response) and writes
# tests/reference/values/gee.json plus tests/reference/values/gee_sessionInfo.txt.
#
# For each dataset it records
#   * geeglm(response ~ arm, family = binomial("log"), id = site, corstr = "exchangeable")
#   * when that call fails or does not converge (geese error code != 0):
#     geese(..., b = coefficients of the Poisson GEE), the alternative
#     starting values of the fallback rule
#   * geeglm(response ~ arm, family = poisson("log"), id = site, corstr = "exchangeable")
# and, for each successful fit, a Mancl-DeRouen (2001) bias-corrected sandwich computed below
# directly from its formula (geepack has no Mancl-DeRouen option; Debian ships none of geesmv,
# saws, glmtoolbox), plus the plain sandwich recomputed from the same formula as a cross-check
# of that implementation against geepack's own vbeta.
suppressPackageStartupMessages({
  library(geepack)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
root <- if (length(file_arg)) normalizePath(file.path(dirname(file_arg), "..", "..", "..")) else getwd()
data_dir <- file.path(root, "tests", "reference", "data", "gee")
out_json <- file.path(root, "tests", "reference", "values", "gee.json")
out_session <- file.path(root, "tests", "reference", "values", "gee_sessionInfo.txt")

# Mancl & DeRouen (2001) bias-corrected sandwich, written from the formula:
#   B = sum_i D_i' V_i^-1 D_i,  H_ii = D_i B^-1 D_i' V_i^-1,  e_i = (I - H_ii)^-1 (y_i - mu_i),
#   V_MD = B^-1 [sum_i D_i' V_i^-1 e_i e_i' V_i^-1 D_i] B^-1,
# with V_i = A_i^1/2 R(alpha) A_i^1/2 (the scale cancels), A_i = diag(v(mu_i)), D_i = diag(mu_i) X_i
# (log link). With correct = FALSE the same code gives the ordinary sandwich.
sandwich_by_formula <- function(X, y, id, beta, alpha, variance, correct) {
  mu <- as.vector(exp(X %*% beta))
  v <- variance(mu)
  p <- ncol(X)
  clusters <- unique(id)
  parts <- lapply(clusters, function(k) {
    idx <- which(id == k)
    m <- length(idx)
    R <- matrix(alpha, m, m); diag(R) <- 1
    Vi <- diag(sqrt(v[idx]), m) %*% R %*% diag(sqrt(v[idx]), m)
    Di <- diag(mu[idx], m) %*% X[idx, , drop = FALSE]
    list(D = Di, Vinv = solve(Vi), r = y[idx] - mu[idx], m = m)
  })
  B <- Reduce(`+`, lapply(parts, function(q) t(q$D) %*% q$Vinv %*% q$D))
  Binv <- solve(B)
  M <- matrix(0, p, p)
  for (q in parts) {
    e <- q$r
    if (correct) {
      H <- q$D %*% Binv %*% t(q$D) %*% q$Vinv
      e <- solve(diag(q$m) - H, q$r)
    }
    u <- t(q$D) %*% q$Vinv %*% e
    M <- M + u %*% t(u)
  }
  Binv %*% M %*% Binv
}

fit_one <- function(formula_call, d, fam, start = NULL) {
  res <- tryCatch({
    warns <- character(0)
    fit <- withCallingHandlers(
      if (is.null(start)) {
        geeglm(response ~ arm, family = fam, data = d, id = site, corstr = "exchangeable")
      } else {
        # geeglm(start = ...) is unusable in geepack 1.3.9 (it passes `start` on to model.frame,
        # which stops with "variable lengths differ"), so starting values go through geese(b = ...)
        geese(response ~ arm, family = fam, data = d, id = site, corstr = "exchangeable", b = start)
      },
      warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") }
    )
    gs <- if (inherits(fit, "geeglm")) fit$geese else fit
    X <- model.matrix(~ arm, d)
    beta <- unname(gs$beta)
    alpha <- unname(gs$alpha)
    vb <- gs$vbeta
    v_formula <- sandwich_by_formula(X, d$response, d$site, beta, alpha, fam$variance, FALSE)
    v_md <- sandwich_by_formula(X, d$response, d$site, beta, alpha, fam$variance, TRUE)
    list(
      ok = TRUE, call = formula_call, error = NULL, warnings = warns,
      coef = beta, robust_se = sqrt(diag(vb)), vbeta = vb,
      log_rr = beta[2], se_log_rr = sqrt(vb[2, 2]),
      alpha = alpha, scale_gamma = unname(gs$gamma),
      geese_error_code = gs$error,
      fitted_values_range = range(exp(X %*% beta)),
      se_log_rr_sandwich_by_formula = sqrt(v_formula[2, 2]),
      se_log_rr_mancl_derouen = sqrt(v_md[2, 2]),
      vbeta_mancl_derouen = v_md,
      start = if (is.null(start)) unname(coef(glm(response ~ arm, family = fam, data = d))) else start
    )
  }, error = function(e) list(ok = FALSE, call = formula_call, error = conditionMessage(e)))
  res
}

files <- sort(list.files(data_dir, pattern = "\\.csv$", full.names = TRUE))
out <- list()
for (f in files) {
  raw <- read.csv(f, stringsAsFactors = FALSE)
  # geeglm needs the rows of one cluster to be contiguous: sort by site (stable)
  d <- raw[order(raw$site_id, seq_len(nrow(raw))), ]
  d$site <- as.integer(factor(d$site_id))
  d$arm <- as.numeric(d$arm)
  name <- sub("\\.csv$", "", basename(f))
  lb_call <- 'geeglm(response ~ arm, family = binomial("log"), data = d, id = site, corstr = "exchangeable")'
  po_call <- 'geeglm(response ~ arm, family = poisson("log"), data = d, id = site, corstr = "exchangeable")'
  lb <- fit_one(lb_call, d, binomial("log"))
  po <- fit_one(po_call, d, poisson("log"))
  entry <- list(
    file = paste0("tests/reference/data/gee/", basename(f)),
    n_obs = nrow(d), n_clusters = length(unique(d$site)),
    responders = c(placebo = sum(d$response[d$arm == 0]), active = sum(d$response[d$arm == 1])),
    n = c(placebo = sum(d$arm == 0), active = sum(d$arm == 1)),
    log_binomial = lb, modified_poisson = po
  )
  # (as in the pmrtrial rule: only from a converged Poisson fit with fitted values < 1; geese
  # would otherwise loop forever halving its step from an invalid start)
  if ((!lb$ok || lb$geese_error_code != 0) && po$ok && po$geese_error_code == 0 &&
      po$fitted_values_range[2] < 1) {
    st_call <- paste0('geese(response ~ arm, family = binomial("log"), data = d, id = site, ',
                      'corstr = "exchangeable", b = <coefficients of the modified Poisson fit>)')
    entry$log_binomial_poisson_start <- fit_one(st_call, d, binomial("log"), start = po$coef)
  }
  out[[name]] <- entry
}

meta <- list(
  generated_by = "tests/reference/r/gee_reference.R",
  r_version = R.version.string,
  geepack_version = as.character(packageVersion("geepack")),
  jsonlite_version = as.character(packageVersion("jsonlite")),
  geese_control_defaults = geese.control(),
  note = paste("robust_se = sqrt(diag(fit$geese$vbeta)) (geepack's sandwich, std.err = 'san.se');",
               "alpha = fit$geese$alpha (exchangeable correlation); scale_gamma = fit$geese$gamma (scale);",
               "se_log_rr_mancl_derouen from sandwich_by_formula(correct = TRUE) in this script.")
)
writeLines(toJSON(list(meta = meta, datasets = out), auto_unbox = TRUE, digits = NA, pretty = TRUE,
                  null = "null"), out_json)
writeLines(capture.output(sessionInfo()), out_session)
cat("wrote", out_json, "\n")
