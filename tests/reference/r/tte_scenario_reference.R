#!/usr/bin/env Rscript
# Reference values for the time-to-event scenario kind of `pmrtrial simulate`
# (pmrtrial.design.simulate_tte_scenario, pmrtrial.design.simulate_tte.cox_efron_statistics).
#
# Usage (from the repository root):  Rscript tests/reference/r/tte_scenario_reference.R
# Reads tests/reference/data/tte_scenario/{flare_replicates,sustained_remission_tables}.csv, writes
# tests/reference/values/tte_scenario.json.
#
# The stored replicates are simulated trials: replicates 1-4 are the first four of saphyr-as-run with seed 2026
# (simulate_tte_replicates(load_tte_scenario("saphyr-as-run"), n_sims = 4, seed = 2026)), only the participants in
# remission at the landmark, time in weeks from the landmark; 5-6 are replicates 1-2 with the times rounded up to
# whole days (ceiling(7 t) / 7), so that flare times are tied; 7-8 are the first two of next-pmr-flare
# (n = 40 per arm, seed 7), also in whole days.
#   per replicate:  coxph(Surv(time_weeks, event) ~ treated, ties = "efron")  -> coef, se(coef), loglik[2]
#                   survdiff(Surv(time_weeks, event) ~ treated)               -> chisq, O - E (treated)
#   per table:      fisher.test(matrix(c(x_t, n_t - x_t, x_c, n_c - x_c), 2))$p.value
#                   Newcombe hybrid-score RD: Wilson limits prop.test(x, n, correct = FALSE)$conf.int
#                   Katz RR: exp(log RR -/+ 1.96 sqrt(1/x_t - 1/n_t + 1/x_c - 1/n_c)), z-test p
# Power of the exponential scenario next-pmr-flare-exponential (rpact, fixed design, two-sided 0.05):
#   events D = 2 n x getEventProbabilities(time = 156, accrualTime = c(0, 104), lambda2 = 0.052801,
#              lambda1 = 0.56 x 0.052801, dropoutRate1 = dropoutRate2 = 0.05, dropoutTime = 52,
#              maxNumberOfSubjects = 2 n)$overallEventProbabilities   (analysis at week 104 + 52 = 156)
#   power    = getPowerSurvival(getDesignGroupSequential(kMax = 1, alpha = 0.05, sided = 2),
#              typeOfComputation = "Schoenfeld", hazardRatio = 0.56, lambda2 = 0.052801, accrualTime = c(0, 104),
#              maxNumberOfEvents = D, maxNumberOfSubjects = 2 n, dropoutRate1 = dropoutRate2 = 0.05,
#              dropoutTime = 52)$overallReject
# Independent simulation of the same exponential design in R (its own RNG, survdiff per replicate), because the
# Schoenfeld power assumes equal arms at risk at every event time, which a large effect with most participants
# flaring violates (the treated arm dominates the late risk sets): per n, 10,000 replicates, seed 20261129:
#   entry ~ U(0, 104); flare ~ Exp(lambda_arm); drop-out ~ Exp(-log(0.95) / 52); censoring at min(drop-out, 156 - entry);
#   rejection when survdiff's chi-square p < 0.05; also the mean number of events.
suppressPackageStartupMessages({ library(survival); library(rpact) })
args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else file.path(getwd(), "tests", "reference", "r")
root <- normalizePath(file.path(here, "..", "..", ".."))
source(file.path(here, "_json.R"))
data_dir <- file.path(root, "tests", "reference", "data", "tte_scenario")

reps <- read.csv(file.path(data_dir, "flare_replicates.csv"))
cox <- lapply(split(reps, reps$replicate), function(d) {
  fit <- coxph(Surv(time_weeks, event) ~ treated, data = d, ties = "efron")
  sd <- survdiff(Surv(time_weeks, event) ~ treated, data = d)
  list(replicate = d$replicate[1], n = nrow(d), events = sum(d$event),
       max_tied_events = max(table(d$time_weeks[d$event == 1])),
       coef = unname(coef(fit)), se = unname(sqrt(diag(vcov(fit)))), loglik = fit$loglik[2],
       logrank_chisq = sd$chisq, logrank_o_minus_e = unname(sd$obs[2] - sd$exp[2]))
})

tabs <- read.csv(file.path(data_dir, "sustained_remission_tables.csv"))
binary <- lapply(seq_len(nrow(tabs)), function(i) {
  r <- tabs[i, ]
  xt <- r$x_treated; nt <- r$n_treated; xc <- r$x_control; nc <- r$n_control
  ft <- fisher.test(matrix(c(xt, nt - xt, xc, nc - xc), 2))$p.value
  wt <- prop.test(xt, nt, correct = FALSE)$conf.int; wc <- prop.test(xc, nc, correct = FALSE)$conf.int
  pt <- xt / nt; pc <- xc / nc; d <- pt - pc
  lrr <- log(pt / pc); se <- sqrt(1 / xt - 1 / nt + 1 / xc - 1 / nc)
  list(replicate = r$replicate, x_treated = xt, n_treated = nt, x_control = xc, n_control = nc,
       fisher_p = ft, rd = d, rd_lo = d - sqrt((pt - wt[1])^2 + (wc[2] - pc)^2),
       rd_hi = d + sqrt((wt[2] - pt)^2 + (pc - wc[1])^2), rr = exp(lrr), rr_lo = exp(lrr - qnorm(0.975) * se),
       rr_hi = exp(lrr + qnorm(0.975) * se), rr_p = 2 * pnorm(-abs(lrr / se)))
})

lambda2 <- 0.052801; hr <- 0.56
design <- getDesignGroupSequential(kMax = 1, alpha = 0.05, sided = 2)
power <- lapply(c(30, 40, 50, 60, 70, 80), function(n) {
  ep <- getEventProbabilities(time = 156, accrualTime = c(0, 104), lambda2 = lambda2, lambda1 = hr * lambda2,
                              dropoutRate1 = 0.05, dropoutRate2 = 0.05, dropoutTime = 52,
                              maxNumberOfSubjects = 2 * n)
  events <- 2 * n * ep$overallEventProbabilities
  p <- suppressWarnings(getPowerSurvival(design, typeOfComputation = "Schoenfeld", hazardRatio = hr,
                                         lambda2 = lambda2, accrualTime = c(0, 104), maxNumberOfEvents = events,
                                         maxNumberOfSubjects = 2 * n, dropoutRate1 = 0.05, dropoutRate2 = 0.05,
                                         dropoutTime = 52))
  list(n_per_arm = n, events = events, power = p$overallReject)
})

set.seed(20261129)
n_rep <- 10000
eta <- -log(0.95) / 52
r_sim <- lapply(c(30, 40, 50, 60, 70, 80), function(n) {
  arm <- rep(0:1, each = n)
  rate <- ifelse(arm == 1, hr * lambda2, lambda2)
  rejected <- 0; events <- 0
  for (r in seq_len(n_rep)) {
    entry <- runif(2 * n, 0, 104)
    flare <- rexp(2 * n, rate)
    censor <- pmin(rexp(2 * n, eta), 156 - entry)
    status <- as.integer(flare <= censor)
    sd <- survdiff(Surv(pmin(flare, censor), status) ~ arm)
    rejected <- rejected + (pchisq(sd$chisq, 1, lower.tail = FALSE) < 0.05)
    events <- events + sum(status)
  }
  list(n_per_arm = n, n_replicates = n_rep, power = rejected / n_rep, mean_events = events / n_rep)
})

meta <- list(generated_by = "tests/reference/r/tte_scenario_reference.R", date = as.character(Sys.Date()),
             r_version = R.version.string,
             packages = list(survival = as.character(packageVersion("survival")),
                             rpact = as.character(packageVersion("rpact"))))
write_json_file(list(meta = meta, cox = unname(cox), binary = binary, power_exponential = power,
                     r_simulation_exponential = r_sim),
                file.path(root, "tests", "reference", "values", "tte_scenario.json"))
