#!/usr/bin/env Rscript
# Reference values for pmrtrial.design.survival from rpact (fixed designs: kMax = 1, two-sided).
#
# Usage (from the repository root):  Rscript tests/reference/r/survival_design_reference.R
# Writes tests/reference/values/survival_design.json. Per sample-size case:
#   design <- getDesignGroupSequential(kMax = 1, alpha = alpha, sided = 2, beta = 1 - power)
#   getSampleSizeSurvival(design, typeOfComputation = method, hazardRatio = hr, lambda2 = log(2) / median_control,
#     allocationRatioPlanned = ratio, accrualTime = c(0, accrual), followUpTime = follow_up,
#     dropoutRate1 = dropout, dropoutRate2 = dropout, dropoutTime = dropout_time)  ->  eventsFixed, nFixed, nFixed1
# Per power case:
#   getPowerSurvival(getDesignGroupSequential(kMax = 1, alpha = alpha, sided = 2), typeOfComputation = method,
#     hazardRatio = hr, lambda2 = log(2) / 12, allocationRatioPlanned = ratio, accrualTime = c(0, 24),
#     maxNumberOfEvents = events, maxNumberOfSubjects = 500)  ->  overallReject
# The SAPHYR-like cases: HR 0.56 (the published flare HR), two-sided alpha 0.05, power 80% and 90%,
# time unit months, control median time to flare 12, accrual 24, follow-up 12, 10% drop-out by 12.
suppressPackageStartupMessages(library(rpact))
args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else file.path(getwd(), "tests", "reference", "r")
root <- normalizePath(file.path(here, "..", "..", ".."))
source(file.path(here, "_json.R"))

ss_cases <- list(
  list(name = "saphyr_like_80", method = "Schoenfeld", hr = 0.56, alpha = 0.05, power = 0.8, ratio = 1,
       median_control = 12, accrual = 24, follow_up = 12, dropout = 0.1, dropout_time = 12),
  list(name = "saphyr_like_90", method = "Schoenfeld", hr = 0.56, alpha = 0.05, power = 0.9, ratio = 1,
       median_control = 12, accrual = 24, follow_up = 12, dropout = 0.1, dropout_time = 12),
  list(name = "saphyr_like_80_freedman", method = "Freedman", hr = 0.56, alpha = 0.05, power = 0.8, ratio = 1,
       median_control = 12, accrual = 24, follow_up = 12, dropout = 0.1, dropout_time = 12),
  list(name = "unequal_2to1_no_dropout", method = "Schoenfeld", hr = 0.7, alpha = 0.05, power = 0.9, ratio = 2,
       median_control = 6, accrual = 18, follow_up = 6, dropout = 0, dropout_time = 12),
  list(name = "freedman_unequal", method = "Freedman", hr = 0.65, alpha = 0.025, power = 0.85, ratio = 0.5,
       median_control = 20, accrual = 12, follow_up = 24, dropout = 0.05, dropout_time = 12),
  list(name = "harmful_hr", method = "Schoenfeld", hr = 1.5, alpha = 0.05, power = 0.8, ratio = 1,
       median_control = 30, accrual = 12, follow_up = 12, dropout = 0.2, dropout_time = 24)
)
ss <- lapply(ss_cases, function(cs) {
  design <- getDesignGroupSequential(kMax = 1, alpha = cs$alpha, sided = 2, beta = 1 - cs$power)
  s <- getSampleSizeSurvival(design, typeOfComputation = cs$method, hazardRatio = cs$hr,
                             lambda2 = log(2) / cs$median_control, allocationRatioPlanned = cs$ratio,
                             accrualTime = c(0, cs$accrual), followUpTime = cs$follow_up,
                             dropoutRate1 = cs$dropout, dropoutRate2 = cs$dropout, dropoutTime = cs$dropout_time)
  c(cs, list(events = s$eventsFixed, n = s$nFixed, n_treated = s$nFixed1, n_control = s$nFixed2))
})
pw_cases <- list(
  list(method = "Schoenfeld", hr = 0.56, alpha = 0.05, ratio = 1, events = 94),
  list(method = "Schoenfeld", hr = 0.56, alpha = 0.05, ratio = 1, events = 69),
  list(method = "Freedman", hr = 0.56, alpha = 0.05, ratio = 1, events = 69),
  list(method = "Schoenfeld", hr = 0.75, alpha = 0.01, ratio = 2, events = 300),
  list(method = "Freedman", hr = 1.4, alpha = 0.05, ratio = 0.5, events = 120)
)
pw <- lapply(pw_cases, function(cs) {
  design <- getDesignGroupSequential(kMax = 1, alpha = cs$alpha, sided = 2)
  p <- suppressWarnings(getPowerSurvival(design, typeOfComputation = cs$method, hazardRatio = cs$hr,
                                         lambda2 = log(2) / 12, allocationRatioPlanned = cs$ratio,
                                         accrualTime = c(0, 24), maxNumberOfEvents = cs$events,
                                         maxNumberOfSubjects = 500))
  c(cs, list(power = p$overallReject))
})
meta <- list(generated_by = "tests/reference/r/survival_design_reference.R", date = as.character(Sys.Date()),
             r_version = R.version.string, packages = list(rpact = as.character(packageVersion("rpact"))),
             calls = list(sample_size = "getSampleSizeSurvival(getDesignGroupSequential(kMax = 1, alpha, sided = 2, beta = 1 - power), typeOfComputation, hazardRatio, lambda2 = log(2) / median_control, allocationRatioPlanned, accrualTime = c(0, accrual), followUpTime, dropoutRate1 = dropoutRate2 = dropout, dropoutTime)",
                          power = "getPowerSurvival(getDesignGroupSequential(kMax = 1, alpha, sided = 2), typeOfComputation, hazardRatio, lambda2 = log(2) / 12, allocationRatioPlanned, accrualTime = c(0, 24), maxNumberOfEvents = events, maxNumberOfSubjects = 500)$overallReject"))
write_json_file(list(meta = meta, sample_size = ss, power = pw), file.path(root, "tests", "reference", "values", "survival_design.json"))
