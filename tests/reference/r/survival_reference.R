#!/usr/bin/env Rscript
# Reference values for pmrtrial.stats.survival (Kaplan-Meier, log-rank, Cox PH) from R survival.
#
# Usage (from the repository root):  Rscript tests/reference/r/survival_reference.R
# Writes the datasets tests/reference/data/survival/*.csv (built here with a fixed seed; re-read so
# that the values are computed on exactly the stored numbers) and tests/reference/values/survival.json.
#
# Columns of every dataset: subject_id, arm ("treated"/"control"), time (days), event (1 = event,
# 0 = censored), age (years), stratum ("low"/"high").
#
# Calls recorded per dataset (treated = as.integer(arm == "treated")):
#   survfit(Surv(time, event) ~ arm)                        (defaults: conf.type = "log", conf.int = 0.95)
#   quantile(fit, 0.5)  (= the median and its CI printed by print(fit))
#   summary(fit, times = c(0, 28, 91, 182, 273, 364))       (survival and numbers at risk at given days)
#   survdiff(Surv(time, event) ~ treated)                   (log-rank, rho = 0)
#   coxph(Surv(time, event) ~ treated, ties = "efron")      (Wald CI and p, summary(fit))
#   coxph(Surv(time, event) ~ treated + age + stratum, ties = "efron")
#   the same two with control = coxph.control(eps = 1e-13) ("cox_tight", "cox_adjusted_tight")
# Warnings raised by R (e.g. "Loglik converged before variable 1; coefficient may be infinite") are
# recorded beside the numbers.
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else file.path(getwd(), "tests", "reference", "r")
root <- normalizePath(file.path(here, "..", "..", ".."))
source(file.path(here, "_json.R"))
data_dir <- file.path(root, "tests", "reference", "data", "survival")
dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)
set.seed(20261129)

make <- function(arm, time, event, age = NULL, stratum = NULL) {
  n <- length(arm)
  if (is.null(age)) age <- round(rnorm(n, 72, 7))
  if (is.null(stratum)) stratum <- ifelse(runif(n) < 0.5, "low", "high")
  data.frame(subject_id = sprintf("S%03d", seq_len(n)), arm = arm, time = time, event = event,
             age = age, stratum = stratum)
}

# SAPHYR-like: 60 sarilumab-like vs 58 placebo-like, flare hazard ratio 0.56, 52 weeks of follow-up
# assessed every 2 weeks (so times are multiples of 14 days: many ties), ~8% drop-out.
saphyr_like <- local({
  arm <- c(rep("treated", 60), rep("control", 58))
  rate <- ifelse(arm == "treated", 0.56, 1) * 1.0 / 364
  t_event <- rexp(118, rate)
  t_drop <- ifelse(runif(118) < 0.08, runif(118, 0, 364), Inf)
  t <- pmin(t_event, t_drop, 364)
  event <- as.integer(t_event <= pmin(t_drop, 364))
  time <- pmax(14, ceiling(t / 14) * 14)
  make(arm, time, event)
})
datasets <- list(
  saphyr_like = saphyr_like,
  small_ties = make(rep(c("treated", "control"), each = 10),
                    c(7, 7, 14, 14, 14, 21, 28, 28, 35, 42, 7, 7, 7, 14, 14, 21, 21, 21, 28, 28),
                    c(1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0)),
  median_exact_half = make(rep(c("treated", "control"), each = 6),
                           c(10, 20, 30, 40, 50, 60, 5, 15, 25, 35, 45, 55),
                           c(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0)),
  no_events_treated = make(rep(c("treated", "control"), each = 8),
                           c(30, 60, 90, 120, 150, 180, 200, 210, 10, 20, 20, 40, 50, 80, 90, 210),
                           c(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0)),
  all_censored = make(rep(c("treated", "control"), each = 5),
                      c(30, 60, 90, 120, 150, 40, 50, 80, 90, 210), rep(0, 10)),
  one_arm_empty = make(rep("control", 8), c(10, 20, 20, 40, 50, 80, 90, 210), c(1, 1, 1, 0, 1, 1, 0, 0))
)
for (nm in names(datasets)) write.csv(datasets[[nm]], file.path(data_dir, paste0(nm, ".csv")), row.names = FALSE)

capture <- function(expr) {
  warns <- character(0)
  value <- withCallingHandlers(tryCatch(expr, error = function(e) list(error = conditionMessage(e))),
                               warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  list(value = value, warnings = as.list(warns))
}

km_arm <- function(d) {
  fit <- survfit(Surv(time, event) ~ 1, data = d)
  q <- quantile(fit, 0.5)
  times <- c(0, 28, 91, 182, 273, 364)
  s <- summary(fit, times = times)
  list(n = nrow(d), events = sum(d$event), median = unname(q$quantile), median_lo = unname(q$lower),
       median_hi = unname(q$upper),
       table = list(time = as.list(fit$time), n_risk = as.list(fit$n.risk), n_event = as.list(fit$n.event),
                    n_censor = as.list(fit$n.censor), surv = as.list(fit$surv), std_err = as.list(fit$std.err),
                    lower = as.list(fit$lower), upper = as.list(fit$upper)),
       at = list(time = as.list(s$time), surv = as.list(s$surv), n_risk = as.list(s$n.risk),
                 lower = as.list(s$lower), upper = as.list(s$upper)))
}

cox <- function(formula, d, eps = 1e-9) {
  r <- capture({
    fit <- coxph(formula, data = d, ties = "efron", control = coxph.control(eps = eps, iter.max = 100))
    sm <- summary(fit)
    list(coef = unname(coef(fit)[1]), se = unname(sqrt(diag(vcov(fit)))[1]),
         hr = unname(sm$conf.int[1, 1]), lo = unname(sm$conf.int[1, 3]), hi = unname(sm$conf.int[1, 4]),
         p = unname(sm$coefficients[1, 5]), loglik = as.list(fit$loglik), iter = fit$iter,
         coefs = as.list(coef(fit)), ses = as.list(unname(sqrt(diag(vcov(fit))))))
  })
  c(r$value, list(warnings = r$warnings))
}

out <- lapply(names(datasets), function(nm) {
  d <- read.csv(file.path(data_dir, paste0(nm, ".csv")))
  d$treated <- as.integer(d$arm == "treated")
  arms <- list()
  for (a in c("treated", "control")) if (any(d$arm == a)) arms[[a]] <- km_arm(d[d$arm == a, ])
  res <- list(name = nm, file = paste0("tests/reference/data/survival/", nm, ".csv"),
              n = nrow(d), events = sum(d$event), kaplan_meier = arms)
  if (length(unique(d$treated)) == 2) {
    lr <- capture({
      sd <- survdiff(Surv(time, event) ~ treated, data = d)
      list(chisq = sd$chisq, p = pchisq(sd$chisq, 1, lower.tail = FALSE),
           observed = as.list(unname(sd$obs)), expected = as.list(unname(sd$exp)), groups = as.list(names(sd$n)))
    })
    res$logrank <- c(lr$value, list(warnings = lr$warnings))
    res$cox <- cox(Surv(time, event) ~ treated, d)
    res$cox_adjusted <- cox(Surv(time, event) ~ treated + age + stratum, d)
    res$cox_tight <- cox(Surv(time, event) ~ treated, d, eps = 1e-13)
    res$cox_adjusted_tight <- cox(Surv(time, event) ~ treated + age + stratum, d, eps = 1e-13)
  }
  res
})
names(out) <- names(datasets)
meta <- list(generated_by = "tests/reference/r/survival_reference.R", date = as.character(Sys.Date()),
             r_version = R.version.string, packages = list(survival = as.character(packageVersion("survival"))),
             calls = list(km = "survfit(Surv(time, event) ~ 1) per arm; quantile(fit, 0.5); summary(fit, times = c(0, 28, 91, 182, 273, 364))",
                          logrank = "survdiff(Surv(time, event) ~ treated); p = pchisq(chisq, 1, lower.tail = FALSE)",
                          cox = "coxph(Surv(time, event) ~ treated, ties = 'efron'); summary(fit)$conf.int (Wald), $coefficients[, 5]",
                          cox_adjusted = "coxph(Surv(time, event) ~ treated + age + stratum, ties = 'efron')",
                          cox_tight = "as cox / cox_adjusted with control = coxph.control(eps = 1e-13, iter.max = 100): converged to machine precision (the default eps = 1e-9 on the log-likelihood leaves ~1e-7 in the HR)"))
write_json_file(list(meta = meta, datasets = out), file.path(root, "tests", "reference", "values", "survival.json"))
