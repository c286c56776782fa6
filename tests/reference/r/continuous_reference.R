# Reference values for pmrtrial.stats.continuous (Welch and pooled two-sample t), computed in R.
#
# Run from the repository root:
#   Rscript tests/reference/r/continuous_reference.R
# Writes tests/reference/data/continuous_datasets.csv (made here with a fixed seed) and
# tests/reference/values/continuous.json.
#
# Data cases: t.test(x = treated, y = control, var.equal = FALSE / TRUE) after dropping NA.
# Summary cases (mean, SD, n per arm): t.test() on pseudo-data built to have exactly that mean and SD
# (m + s * scale(z)), cross-checked against the textbook formulas; the three BACHELOR rows are the
# published per-arm summaries of bachelor_published.yaml (secondary endpoints).

suppressPackageStartupMessages(library(jsonlite))
set.seed(20250302)

datasets <- list(
  sf36_like_missing = local({
    tr <- round(rnorm(18, 48, 10), 1); tr[c(3, 11)] <- NA
    co <- round(rnorm(14, 44, 6), 1); co[5] <- NA
    list(treated = tr, control = co)
  }),
  small_unequal = list(treated = c(1.2, 3.4, 2.2), control = c(0.5, 0.7, 0.1, 0.9)),
  haq_like = list(treated = round(runif(17, 0, 3) * 8) / 8, control = round(runif(14, 0.5, 2.5) * 8) / 8)
)

rows <- do.call(rbind, lapply(names(datasets), function(nm) {
  d <- datasets[[nm]]
  rbind(data.frame(dataset = nm, arm = "treated", value = d$treated),
        data.frame(dataset = nm, arm = "control", value = d$control))
}))
dir.create("tests/reference/data", showWarnings = FALSE, recursive = TRUE)
write.csv(rows, "tests/reference/data/continuous_datasets.csv", row.names = FALSE, na = "NA")
# Re-read so that the values tested are exactly the stored ones.
rows <- read.csv("tests/reference/data/continuous_datasets.csv")

tt <- function(x, y, var_equal) {
  r <- t.test(x, y, var.equal = var_equal, conf.level = 0.95)
  list(estimate = unname(r$estimate[1] - r$estimate[2]), lo = r$conf.int[1], hi = r$conf.int[2],
       p = r$p.value, t = unname(r$statistic), df = unname(r$parameter), se = r$stderr)
}

data_cases <- lapply(names(datasets), function(nm) {
  x <- rows$value[rows$dataset == nm & rows$arm == "treated"]
  y <- rows$value[rows$dataset == nm & rows$arm == "control"]
  list(name = nm, dataset_file = "tests/reference/data/continuous_datasets.csv",
       n_treated = sum(!is.na(x)), n_control = sum(!is.na(y)),
       n_dropped_treated = sum(is.na(x)), n_dropped_control = sum(is.na(y)),
       welch = tt(x[!is.na(x)], y[!is.na(y)], FALSE),
       pooled = tt(x[!is.na(x)], y[!is.na(y)], TRUE))
})

exact_sample <- function(m, s, n) m + s * as.numeric(scale(rnorm(n)))

formula_t <- function(m1, s1, n1, m2, s2, n2, var_equal) {
  if (var_equal) {
    df <- n1 + n2 - 2
    se <- sqrt(((n1 - 1) * s1^2 + (n2 - 1) * s2^2) / df * (1 / n1 + 1 / n2))
  } else {
    v1 <- s1^2 / n1; v2 <- s2^2 / n2
    se <- sqrt(v1 + v2)
    df <- (v1 + v2)^2 / (v1^2 / (n1 - 1) + v2^2 / (n2 - 1))
  }
  d <- m1 - m2
  list(estimate = d, lo = d - qt(0.975, df) * se, hi = d + qt(0.975, df) * se,
       p = 2 * pt(-abs(d / se), df), t = d / se, df = df, se = se)
}

summaries <- list(
  list(name = "w24_sf36_pcs", source = "bachelor_published.yaml secondary week 24 sf36_pcs",
       m1 = 48.6, s1 = 10.3, n1 = 18, m2 = 44.1, s2 = 9.8, n2 = 14),
  list(name = "w12_esr_mm_h", source = "bachelor_published.yaml secondary week 12 esr_mm_h",
       m1 = 22.2, s1 = 15.9, n1 = 18, m2 = 12.9, s2 = 10.2, n2 = 15),
  list(name = "w36_haq_di", source = "bachelor_published.yaml secondary week 36 haq_di",
       m1 = 1.0, s1 = 0.6, n1 = 17, m2 = 1.5, s2 = 0.5, n2 = 14),
  list(name = "unequal_n_sd", source = "synthetic", m1 = 5, s1 = 1, n1 = 5, m2 = 3, s2 = 4, n2 = 30)
)

summary_cases <- lapply(summaries, function(s) {
  x <- exact_sample(s$m1, s$s1, s$n1)
  y <- exact_sample(s$m2, s$s2, s$n2)
  out <- list(name = s$name, source = s$source,
              mean_treated = s$m1, sd_treated = s$s1, n_treated = s$n1,
              mean_control = s$m2, sd_control = s$s2, n_control = s$n2)
  for (ve in c(FALSE, TRUE)) {
    by_tt <- tt(x, y, ve)
    by_formula <- formula_t(s$m1, s$s1, s$n1, s$m2, s$s2, s$n2, ve)
    stopifnot(isTRUE(all.equal(unlist(by_tt), unlist(by_formula), tolerance = 1e-10)))
    out[[if (ve) "pooled" else "welch"]] <- by_tt
  }
  out
})

result <- list(
  generated_by = "tests/reference/r/continuous_reference.R",
  date = format(Sys.Date()),
  r_version = R.version.string,
  packages = list(jsonlite = as.character(packageVersion("jsonlite"))),
  calls = list(
    welch = "t.test(x = treated, y = control, var.equal = FALSE, conf.level = 0.95)",
    pooled = "t.test(x = treated, y = control, var.equal = TRUE, conf.level = 0.95)",
    summary = "t.test on m + s*scale(rnorm(n)) per arm (exact mean and SD), checked against the formulas to 1e-10"
  ),
  data_cases = data_cases,
  summary_cases = summary_cases
)
write_json(result, "tests/reference/values/continuous.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote tests/reference/values/continuous.json\n")
