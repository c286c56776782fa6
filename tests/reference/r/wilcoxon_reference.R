#!/usr/bin/env Rscript
# Reference values for pmrtrial.stats.continuous.wilcoxon_hodges_lehmann.
#
# Usage (from the repository root):  Rscript tests/reference/r/wilcoxon_reference.R
# Writes tests/reference/data/wilcoxon_datasets.csv (built here with a fixed seed; re-read) and
# tests/reference/values/wilcoxon.json.
#
# Per dataset (x = treated, y = control, missing values dropped):
#   wilcox.test(x, y, conf.int = TRUE, conf.level = 0.95)   (defaults: exact = NULL, correct = TRUE,
#     tol.root = 1e-4, digits.rank = Inf: exact p and CI when both n < 50 and no ties, else the normal
#     approximation with continuity correction and uniroot() for the CI and the estimate)
#   quantile(x, c(0.25, 0.5, 0.75)) (type 7) per arm; median(outer(x, y, "-")) (exact Hodges-Lehmann).
# R's warnings (ties, conf.level not achievable) are recorded beside the numbers.
args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else file.path(getwd(), "tests", "reference", "r")
root <- normalizePath(file.path(here, "..", "..", ".."))
source(file.path(here, "_json.R"))
set.seed(20261201)

datasets <- list(
  exact_small = list(x = round(rnorm(9, 10, 3), 2), y = round(rnorm(11, 8, 3), 2)),
  exact_unequal = list(x = round(rexp(23, 1 / 5), 3), y = round(rexp(17, 1 / 8), 3)),
  ties_gc_dose = list(x = round(rlnorm(30, log(800), 0.4) / 50) * 50, y = round(rlnorm(28, log(1900), 0.35) / 50) * 50),
  saphyr_like_cumulative_gc = list(x = round(rlnorm(60, log(777), 0.5)), y = round(rlnorm(58, log(2044), 0.3))),
  large_no_ties = list(x = rnorm(55, 1, 1), y = rnorm(52, 0.4, 1.2)),
  pmr_as_with_missing = list(x = c(round(rgamma(16, 2, 0.25), 1), NA, NA), y = c(round(rgamma(15, 3, 0.2), 1), NA)),
  tiny = list(x = c(1.5, 2.5, 4), y = c(0.5, 3))
)
rows <- do.call(rbind, lapply(names(datasets), function(nm) {
  d <- datasets[[nm]]
  rbind(data.frame(dataset = nm, arm = "treated", value = d$x), data.frame(dataset = nm, arm = "control", value = d$y))
}))
data_file <- file.path(root, "tests", "reference", "data", "wilcoxon_datasets.csv")
write.csv(rows, data_file, row.names = FALSE, na = "NA")
rows <- read.csv(data_file)

out <- lapply(names(datasets), function(nm) {
  x <- rows$value[rows$dataset == nm & rows$arm == "treated"]; x <- x[!is.na(x)]
  y <- rows$value[rows$dataset == nm & rows$arm == "control"]; y <- y[!is.na(y)]
  warns <- character(0)
  w <- withCallingHandlers(wilcox.test(x, y, conf.int = TRUE, conf.level = 0.95),
                           warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  qx <- unname(quantile(x, c(0.25, 0.5, 0.75))); qy <- unname(quantile(y, c(0.25, 0.5, 0.75)))
  list(name = nm, n_treated = length(x), n_control = length(y), method = w$method,
       W = unname(w$statistic), p = w$p.value, estimate = unname(w$estimate),
       lo = w$conf.int[1], hi = w$conf.int[2], conf_level = attr(w$conf.int, "conf.level"),
       hl_exact = median(outer(x, y, "-")),
       treated = list(median = qx[2], q1 = qx[1], q3 = qx[3], mean = mean(x), sd = sd(x)),
       control = list(median = qy[2], q1 = qy[1], q3 = qy[3], mean = mean(y), sd = sd(y)),
       warnings = as.list(warns))
})
meta <- list(generated_by = "tests/reference/r/wilcoxon_reference.R", date = as.character(Sys.Date()),
             r_version = R.version.string,
             calls = list(wilcox = "wilcox.test(x = treated, y = control, conf.int = TRUE, conf.level = 0.95)",
                          quantiles = "quantile(x, c(0.25, 0.5, 0.75)) (type 7)",
                          hl_exact = "median(outer(x, y, '-'))"))
write_json_file(list(meta = meta, cases = out), file.path(root, "tests", "reference", "values", "wilcoxon.json"))
