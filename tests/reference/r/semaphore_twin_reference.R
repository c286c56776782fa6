#!/usr/bin/env Rscript
# Adjusted risk ratios of the SEMAPHORE twin (modified Poisson, robust HC0) from R glm + sandwich.
#
# Data (tests/reference/data/semaphore_twin/): response_w24.csv and gc_free_w24.csv are OUT/derived/<endpoint>.csv
# written by:  pmrtrial synth semaphore --seed 2022 --out TWIN && pmrtrial analyse TWIN --protocol semaphore --out OUT
# baseline.csv is the week-0 rows of TWIN/visits.csv (PMR-AS components and the prednisone dose).
# Covariates (the protocol's assumed adjustment set): baseline prednisone (oral_gc_mg_day at W0) and baseline
# CRP PMR-AS, computed here from the components (Leeb & Bird: CRP mg/dL + VASp + VASph + 0.1 x MST + EUL).
# Usage (from the repository root):  Rscript tests/reference/r/semaphore_twin_reference.R
# Writes tests/reference/values/semaphore_twin.json:
#   fit <- glm(value ~ treated + oral_gc_mg_day + crp_pmr_as, family = poisson)
#   V <- sandwich::vcovHC(fit, type = "HC0"); RR = exp(coef), Wald CI with qnorm(0.975), z-test p
suppressPackageStartupMessages(library(sandwich))
args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else file.path(getwd(), "tests", "reference", "r")
root <- normalizePath(file.path(here, "..", "..", ".."))
source(file.path(here, "_json.R"))
data_dir <- file.path(root, "tests", "reference", "data", "semaphore_twin")
base <- read.csv(file.path(data_dir, "baseline.csv"))
base$crp_pmr_as <- base$crp_mg_l / 10 + base$pain_vas + base$physician_global_vas +
  0.1 * base$morning_stiffness_min + base$upper_limb_elevation
out <- list(meta = list(r_version = R.version.string, sandwich = as.character(packageVersion("sandwich"))))
for (endpoint in c("response_w24", "gc_free_w24")) {
  d <- merge(read.csv(file.path(data_dir, paste0(endpoint, ".csv"))), base, by = "subject_id")
  d$treated <- as.integer(d$arm == "tocilizumab")
  fit <- glm(value ~ treated + oral_gc_mg_day + crp_pmr_as, family = poisson, data = d,
             control = glm.control(epsilon = 1e-12, maxit = 100))
  se <- sqrt(diag(vcovHC(fit, type = "HC0")))[["treated"]]
  b <- coef(fit)[["treated"]]
  z <- qnorm(0.975)
  out[[endpoint]] <- list(n = nrow(d), events = sum(d$value), rr = exp(b), lo = exp(b - z * se),
                          hi = exp(b + z * se), p = 2 * pnorm(-abs(b / se)))
}
write_json_file(out, file.path(root, "tests", "reference", "values", "semaphore_twin.json"))
