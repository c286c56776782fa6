# Posterior of RR = p_t / p_c under independent Jeffreys Beta(0.5, 0.5) priors, for LARGE trials,
# by R's own integrate() on dbeta() densities (restricted to the central mass) and uniroot().
# Independent of pmrtrial's Python implementation. Run: Rscript tests/reference/r/bayes_large_reference.R
cdf_rr <- function(r, at, bt, ac, bc) {
  lo <- qbeta(1e-15, ac, bc); hi <- qbeta(1e-15, ac, bc, lower.tail = FALSE)
  integrate(function(p) pbeta(pmin(r * p, 1), at, bt) * dbeta(p, ac, bc), lo, hi,
            rel.tol = 1e-12, subdivisions = 1000L)$value
}
quant_rr <- function(q, at, bt, ac, bc) {
  uniroot(function(u) cdf_rr(exp(u), at, bt, ac, bc) - q, c(-5, 5), tol = 1e-13)$root
}
cases <- list(c(400, 500, 150, 500), c(1600, 2000, 600, 2000), c(90, 120, 60, 130))
out <- lapply(cases, function(x) {
  at <- 0.5 + x[1]; bt <- 0.5 + x[2] - x[1]; ac <- 0.5 + x[3]; bc <- 0.5 + x[4] - x[3]
  list(events_treated = x[1], n_treated = x[2], events_control = x[3], n_control = x[4],
       median = exp(quant_rr(0.5, at, bt, ac, bc)), lo = exp(quant_rr(0.025, at, bt, ac, bc)),
       hi = exp(quant_rr(0.975, at, bt, ac, bc)))
})
res <- list(software = R.version.string, call = "integrate(pbeta(r p) * dbeta(p)) + uniroot on log r; Jeffreys prior",
            cases = out)
writeLines(jsonlite::toJSON(res, auto_unbox = TRUE, digits = 15, pretty = TRUE), "tests/reference/values/bayes_large.json")
