# SF-36 v1 standard scoring reference values for pmrtrial's tests.
#
# INDEPENDENT ARITHMETIC in R, written from the scoring rules of the SF-36 manual (Ware et al.
# 1993) and the 1990 US norms and factor score coefficients of Ware, Kosinski & Keller (1994), as
# tabulated in Ware, Kosinski & Keller 1994. No R package scores the SF-36 v1 standard
# PCS/MCS here, so this is a second implementation in another language, not a published program.
#
# 1. Generates tests/reference/data/sf36_respondents.csv: 300 respondents, each of the 36 items
#    drawn uniformly over its codes and set missing with probability 0.15 (set.seed(20261126)),
#    plus 3 fixed rows (Ware, Kosinski & Keller 1994 S3, all best, all missing).
# 2. Scores them and writes tests/reference/values/sf36_reference.json.
#
# Run from the repository root:  Rscript tests/reference/r/sf36_reference.R

library(jsonlite)

codes <- c(q1 = 5, q2 = 5, setNames(rep(3, 10), paste0("q3", letters[1:10])),
           setNames(rep(2, 4), paste0("q4", letters[1:4])), setNames(rep(2, 3), paste0("q5", letters[1:3])),
           q6 = 5, q7 = 6, q8 = 5, setNames(rep(6, 9), paste0("q9", letters[1:9])), q10 = 5,
           setNames(rep(5, 4), paste0("q11", letters[1:4])))

set.seed(20261126)
n <- 300
d <- as.data.frame(lapply(codes, function(k) {
  x <- sample.int(k, n, replace = TRUE)
  x[runif(n) < 0.15] <- NA
  x
}))
s3 <- c(q1 = 3, q2 = NA, q3a = 1, q3b = 2, q3c = 2, q3d = 2, q3e = 3, q3f = 3, q3g = 2, q3h = 3, q3i = 3,
        q3j = 3, q4a = 1, q4b = 1, q4c = 2, q4d = 2, q5a = 2, q5b = 2, q5c = 1, q6 = 2, q7 = 3, q8 = 2,
        q9a = 3, q9b = 5, q9c = 5, q9d = 3, q9e = 4, q9f = 4, q9g = 4, q9h = 3, q9i = 3, q10 = 4,
        q11a = 4, q11b = 2, q11c = 3, q11d = 3)
best <- c(q1 = 1, q2 = 1, setNames(rep(3, 10), paste0("q3", letters[1:10])),
          setNames(rep(2, 4), paste0("q4", letters[1:4])), setNames(rep(2, 3), paste0("q5", letters[1:3])),
          q6 = 1, q7 = 1, q8 = 1, q9a = 1, q9b = 6, q9c = 6, q9d = 1, q9e = 1, q9f = 6, q9g = 6, q9h = 1,
          q9i = 6, q10 = 5, q11a = 5, q11b = 1, q11c = 5, q11d = 1)
fixed <- rbind(s3[names(codes)], best[names(codes)], rep(NA, length(codes)))
colnames(fixed) <- names(codes)
d <- rbind(as.data.frame(fixed), d)
d <- cbind(respondent = seq_len(nrow(d)), d)
write.csv(d, "tests/reference/data/sf36_respondents.csv", row.names = FALSE, na = "")

score_one <- function(r) {
  rec <- r
  rec["q1"] <- c(5.0, 4.4, 3.4, 2.0, 1.0)[r["q1"]]
  rec["q7"] <- c(6.0, 5.4, 4.2, 3.1, 2.2, 1.0)[r["q7"]]
  if (!is.na(r["q8"])) {
    if (!is.na(r["q7"])) {
      rec["q8"] <- if (r["q8"] == 1) (if (r["q7"] == 1) 6 else 5) else c(NA, 4, 3, 2, 1)[r["q8"]]
    } else {
      rec["q8"] <- c(6.0, 4.75, 3.5, 2.25, 1.0)[r["q8"]]
    }
  }
  for (k in c("q6", "q11b", "q11d")) rec[k] <- 6 - r[k]
  for (k in c("q9a", "q9e", "q9d", "q9h")) rec[k] <- 7 - r[k]
  scales <- list(
    pf = list(items = paste0("q3", letters[1:10]), lo = 10, hi = 30),
    rp = list(items = paste0("q4", letters[1:4]), lo = 4, hi = 8),
    bp = list(items = c("q7", "q8"), lo = 2, hi = 12),
    gh = list(items = c("q1", "q11a", "q11b", "q11c", "q11d"), lo = 5, hi = 25),
    vt = list(items = c("q9a", "q9e", "q9g", "q9i"), lo = 4, hi = 24),
    sf = list(items = c("q6", "q10"), lo = 2, hi = 10),
    re = list(items = paste0("q5", letters[1:3]), lo = 3, hi = 6),
    mh = list(items = c("q9b", "q9c", "q9d", "q9f", "q9h"), lo = 5, hi = 30))
  out <- c()
  for (s in names(scales)) {
    x <- rec[scales[[s]]$items]
    k <- length(x)
    answered <- sum(!is.na(x))
    if (answered >= k / 2) {
      x[is.na(x)] <- mean(x, na.rm = TRUE)
      out[s] <- (sum(x) - scales[[s]]$lo) / (scales[[s]]$hi - scales[[s]]$lo) * 100
    } else {
      out[s] <- NA
    }
  }
  mean_ <- c(pf = 84.52404, rp = 81.19907, bp = 75.49196, gh = 72.21316, vt = 61.05453, sf = 83.59753,
             re = 81.29467, mh = 74.84212)
  sd_ <- c(pf = 22.89490, rp = 33.79729, bp = 23.55879, gh = 20.16964, vt = 20.86942, sf = 22.37642,
           re = 33.02717, mh = 18.01189)
  pcs_ <- c(pf = 0.42402, rp = 0.35119, bp = 0.31754, gh = 0.24954, vt = 0.02877, sf = -0.00753,
            re = -0.19206, mh = -0.22069)
  mcs_ <- c(pf = -0.22999, rp = -0.12329, bp = -0.09731, gh = -0.01571, vt = 0.23534, sf = 0.26876,
            re = 0.43407, mh = 0.48581)
  z <- (out - mean_[names(out)]) / sd_[names(out)]
  c(out, pcs = 50 + 10 * sum(z * pcs_[names(out)]), mcs = 50 + 10 * sum(z * mcs_[names(out)]))
}

items <- as.matrix(d[, names(codes)])
scored <- t(apply(items, 1, score_one))
values <- lapply(colnames(scored), function(cn) unname(scored[, cn]))
names(values) <- colnames(scored)

result <- list(
  software = "R (independent arithmetic of the SF-36 v1 standard scoring; no package)",
  r_version = R.version.string,
  packages = list(jsonlite = as.character(packageVersion("jsonlite"))),
  call = "Rscript tests/reference/r/sf36_reference.R",
  dataset = "tests/reference/data/sf36_respondents.csv",
  date = format(Sys.Date()),
  tolerance = "1e-9 absolute: closed-form arithmetic",
  n_respondents = nrow(d),
  values = values
)
write_json(result, "tests/reference/values/sf36_reference.json", auto_unbox = TRUE, digits = NA, na = "null")
cat("wrote tests/reference/values/sf36_reference.json\n")
