# Sensitivity analyses and per-centre estimates of the primary endpoint of the SYNTHETIC BACHELOR twin (seed 2025),
# computed independently in R from the raw canonical datasets (R derives the CRP PMR-AS and the week-12 response).
# Run from the repository root: Rscript tests/reference/r/twin_sensitivity_reference.R
suppressPackageStartupMessages(library(epitools))
source(file.path("tests", "reference", "r", "_json.R"))
subjects <- read.csv("tests/reference/data/twin/subjects.csv", stringsAsFactors = FALSE,
                     colClasses = c(site_id = "character"))
visits <- read.csv("tests/reference/data/twin/visits.csv", stringsAsFactors = FALSE)
w12 <- visits[visits$week == 12, ]
# Leeb & Bird 2004: CRP (mg/dL) + pain VAS + physician VAS + 0.1 x morning stiffness + EUL
w12$pmr_as <- round(w12$crp_mg_l / 10 + w12$pain_vas + w12$physician_global_vas +
                    0.1 * w12$morning_stiffness_min + w12$upper_limb_elevation, 6)
w12$response <- ifelse(is.na(w12$pmr_as) | is.na(w12$oral_gc_mg_day), NA,
                       as.integer(w12$pmr_as <= 10 & w12$oral_gc_mg_day == 0))
all <- merge(subjects[, c("subject_id", "site_id", "arm")], w12[, c("subject_id", "response")],
             by = "subject_id", all.x = TRUE)
counts <- function(d) list(
  baricitinib = list(events = sum(d$response[d$arm == "baricitinib"]), n = sum(d$arm == "baricitinib")),
  placebo = list(events = sum(d$response[d$arm == "placebo"]), n = sum(d$arm == "placebo")))
two_by_two <- function(et, nt, ec, nc) {
  ft <- fisher.test(matrix(c(et, nt - et, ec, nc - ec), nrow = 2, byrow = TRUE))
  rr <- riskratio(matrix(c(nc - ec, ec, nt - et, et), nrow = 2, byrow = TRUE), method = "wald")
  list(fisher_p = ft$p.value, rr = rr$measure[2, 1], rr_lo = rr$measure[2, 2], rr_hi = rr$measure[2, 3])
}
# Newcombe (1998) method 10: hybrid of the two Wilson score intervals (prop.test without continuity correction)
newcombe <- function(et, nt, ec, nc) {
  p1 <- et / nt; p2 <- ec / nc
  w1 <- prop.test(et, nt, correct = FALSE)$conf.int; w2 <- prop.test(ec, nc, correct = FALSE)$conf.int
  d <- p1 - p2
  list(estimate = d, lo = d - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2), hi = d + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2))
}
# (1) all randomised, no decided response = non-responder
nr <- all; n_missing <- list(baricitinib = sum(is.na(nr$response) & nr$arm == "baricitinib"),
                             placebo = sum(is.na(nr$response) & nr$arm == "placebo"))
nr$response[is.na(nr$response)] <- 0L
c1 <- counts(nr)
s1 <- c(list(counts = c1, missing = n_missing),
        two_by_two(c1$baricitinib$events, c1$baricitinib$n, c1$placebo$events, c1$placebo$n),
        list(rd = newcombe(c1$baricitinib$events, c1$baricitinib$n, c1$placebo$events, c1$placebo$n)))
# (3) tipping point: every number of responders among the missing of each arm, on all randomised
obs <- all[!is.na(all$response), ]
co <- counts(obs)
cells <- list()
for (i in 0:n_missing$baricitinib) for (j in 0:n_missing$placebo) {
  et <- co$baricitinib$events + i; nt <- co$baricitinib$n + n_missing$baricitinib
  ec <- co$placebo$events + j; nc <- co$placebo$n + n_missing$placebo
  cells[[length(cells) + 1]] <- c(list(imputed_treated = i, imputed_control = j, events_treated = et,
                                       n_treated = nt, events_control = ec, n_control = nc),
                                  two_by_two(et, nt, ec, nc))
}
# per centre: counts and Newcombe risk difference in the primary analysis set
centres <- lapply(sort(unique(obs$site_id)), function(s) {
  d <- obs[obs$site_id == s, ]; k <- counts(d)
  list(site_id = s, counts = k,
       rd = newcombe(k$baricitinib$events, k$baricitinib$n, k$placebo$events, k$placebo$n))
})
out <- list(
  software = list(R = R.version.string, epitools = as.character(packageVersion("epitools"))),
  dataset = "tests/reference/data/twin/{subjects,visits}.csv (pmrtrial synth bachelor --seed 2025)",
  calls = list(fisher = "fisher.test(matrix(c(et, nt - et, ec, nc - ec), 2, byrow = TRUE))",
               riskratio = "epitools::riskratio(matrix(c(nc - ec, ec, nt - et, et), 2, byrow = TRUE), method = 'wald')",
               newcombe = "Newcombe 1998 method 10 from prop.test(x, n, correct = FALSE)$conf.int (Wilson)"),
  missing_as_non_response = s1,
  tipping_point = list(observed = co, missing = n_missing, cells = cells),
  by_centre = centres
)
writeLines(to_json(out), "tests/reference/values/twin_sensitivity.json")
