# Primary analysis of the SYNTHETIC BACHELOR twin (seed 2025), computed independently in R from the raw
# canonical datasets: R derives the CRP PMR-AS and the week-12 response itself, then runs the SAP's tests.
# Run from the repository root: Rscript tests/reference/r/twin_primary_reference.R
suppressPackageStartupMessages({ library(geepack); library(epitools); library(jsonlite) })
subjects <- read.csv("tests/reference/data/twin/subjects.csv", stringsAsFactors = FALSE)
visits <- read.csv("tests/reference/data/twin/visits.csv", stringsAsFactors = FALSE)
w12 <- merge(visits[visits$week == 12, ], subjects[, c("subject_id", "site_id", "arm")], by = "subject_id")
# Leeb & Bird 2004: CRP (mg/dL) + pain VAS + physician VAS + 0.1 x morning stiffness + EUL
w12$pmr_as <- round(w12$crp_mg_l / 10 + w12$pain_vas + w12$physician_global_vas +
                    0.1 * w12$morning_stiffness_min + w12$upper_limb_elevation, 6)
w12 <- w12[!is.na(w12$pmr_as) & !is.na(w12$oral_gc_mg_day), ]
w12$response <- as.integer(w12$pmr_as <= 10 & w12$oral_gc_mg_day == 0)
w12$treated <- as.integer(w12$arm == "baricitinib")
w12 <- w12[order(w12$site_id, w12$subject_id), ]
tab <- table(factor(w12$treated, levels = c(1, 0)), factor(w12$response, levels = c(1, 0)))
ft <- fisher.test(tab)
rr <- riskratio(matrix(c(tab[2, 2], tab[2, 1], tab[1, 2], tab[1, 1]), nrow = 2, byrow = TRUE), method = "wald")
fit <- geeglm(response ~ treated, family = binomial("log"), id = factor(w12$site_id), data = w12,
              corstr = "exchangeable")
s <- summary(fit)$coefficients
est <- s["treated", "Estimate"]; se <- s["treated", "Std.err"]
out <- list(
  software = list(R = R.version.string, geepack = as.character(packageVersion("geepack")),
                  epitools = as.character(packageVersion("epitools"))),
  dataset = "tests/reference/data/twin/{subjects,visits}.csv (pmrtrial synth bachelor --seed 2025)",
  calls = list(
    fisher = "fisher.test(table(treated, response))",
    riskratio = "epitools::riskratio(matrix(c(ctrl non-resp, ctrl resp, trt non-resp, trt resp)), method = 'wald')",
    gee = "geepack::geeglm(response ~ treated, family = binomial('log'), id = site_id, corstr = 'exchangeable')"
  ),
  responders = list(baricitinib = list(events = sum(w12$response[w12$treated == 1]), n = sum(w12$treated == 1)),
                    placebo = list(events = sum(w12$response[w12$treated == 0]), n = sum(w12$treated == 0))),
  fisher_p = ft$p.value,
  rr_crude = list(estimate = rr$measure[2, 1], lo = rr$measure[2, 2], hi = rr$measure[2, 3]),
  rr_gee = list(log_rr = est, se_robust = se, estimate = exp(est), lo = exp(est - qnorm(0.975) * se),
                hi = exp(est + qnorm(0.975) * se), p = s["treated", "Pr(>|W|)"],
                alpha = as.numeric(fit$geese$alpha), phi = as.numeric(fit$geese$gamma))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = 15, pretty = TRUE), "tests/reference/values/twin_primary.json")
