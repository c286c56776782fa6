#!/usr/bin/env Rscript
# R survival on the SAPHYR twin's derived time-to-event dataset (flare after remission).
#
# The dataset tests/reference/data/saphyr_twin/flare_after_remission.csv is OUT/derived/flare_after_remission.csv
# written by:  pmrtrial synth saphyr --seed 2023 --out TWIN && pmrtrial analyse TWIN --protocol saphyr --out OUT
# Usage (from the repository root):  Rscript tests/reference/r/saphyr_twin_reference.R
# Writes tests/reference/values/saphyr_twin.json with:
#   coxph(Surv(time_days, event) ~ treated, ties = "efron")   HR, Wald 95% CI, Wald p
#   survdiff(Surv(time_days, event) ~ treated)                  log-rank chi-square and p
#   survfit(Surv(time_days, event) ~ arm) medians (conf.type = "log") and events per arm
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else file.path(getwd(), "tests", "reference", "r")
root <- normalizePath(file.path(here, "..", "..", ".."))
source(file.path(here, "_json.R"))
d <- read.csv(file.path(root, "tests", "reference", "data", "saphyr_twin", "flare_after_remission.csv"))
d$treated <- as.integer(d$arm == "sarilumab")
fit <- coxph(Surv(time_days, event) ~ treated, data = d, ties = "efron")
s <- summary(fit)
lr <- survdiff(Surv(time_days, event) ~ treated, data = d)
km <- survfit(Surv(time_days, event) ~ arm, data = d)
q <- quantile(km, 0.5)
arm_out <- list()
for (a in c("sarilumab", "placebo")) {
  key <- paste0("arm=", a)
  arm_out[[a]] <- list(
    n = sum(d$arm == a), events = sum(d$event[d$arm == a]),
    median = unname(q$quantile[key, 1]), median_lo = unname(q$lower[key, 1]), median_hi = unname(q$upper[key, 1])
  )
}
out <- list(
  meta = list(r_version = R.version.string, survival = as.character(packageVersion("survival")),
              dataset = "tests/reference/data/saphyr_twin/flare_after_remission.csv"),
  cox = list(hr = unname(s$conf.int[1, "exp(coef)"]), lo = unname(s$conf.int[1, "lower .95"]),
             hi = unname(s$conf.int[1, "upper .95"]), p = unname(s$coefficients[1, "Pr(>|z|)"]),
             se = unname(s$coefficients[1, "se(coef)"])),
  logrank = list(chisq = unname(lr$chisq), p = unname(1 - pchisq(lr$chisq, 1))),
  km = arm_out
)
write_json_file(out, file.path(root, "tests", "reference", "values", "saphyr_twin.json"))
