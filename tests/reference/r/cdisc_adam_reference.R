# Primary and key secondary analyses of the SYNTHETIC BACHELOR twin recomputed in R from ADaM alone
# (ADSL + ADEFF read with haven::read_xpt), as an independent programmer would.
# Make the XPT files, then run from the repository root:
#   pmrtrial export cdisc tests/reference/data/twin --protocol bachelor --out /tmp/cdisc --format xpt
#   Rscript tests/reference/r/cdisc_adam_reference.R /tmp/cdisc/adam tests/reference/values/cdisc_adam.json
suppressPackageStartupMessages({ library(haven); library(epitools) })
# jsonlite is not installed here: a small writer for lists of strings and numbers (17 significant digits).
to_json <- function(x, indent = "") {
  pad <- paste0(indent, "  ")
  if (is.list(x)) {
    keys <- names(x)
    items <- vapply(seq_along(x), function(i) {
      v <- to_json(x[[i]], pad)
      if (is.null(keys)) paste0(pad, v) else paste0(pad, '"', keys[i], '": ', v)
    }, "")
    open <- if (is.null(keys)) "[" else "{"; close <- if (is.null(keys)) "]" else "}"
    return(paste0(open, "\n", paste(items, collapse = ",\n"), "\n", indent, close))
  }
  if (is.character(x)) return(paste0('"', gsub('"', '\\\\"', x), '"'))
  if (is.na(x)) return("null")
  formatC(x, digits = 17, format = "g")
}
args <- commandArgs(trailingOnly = TRUE)
adam <- args[1]
adsl <- as.data.frame(read_xpt(file.path(adam, "adsl.xpt")))
adeff <- as.data.frame(read_xpt(file.path(adam, "adeff.xpt")))
treated <- adsl$TRT01P[adsl$TRT01PN == 1][1]
control <- adsl$TRT01P[adsl$TRT01PN == 2][1]
# Primary: PARAMCD RESP at Week 12, analysis records (ANL01FL = "Y") of the primary analysis set (EFFFL = "Y").
eff <- adsl$USUBJID[adsl$EFFFL == "Y"]
prim <- adeff[adeff$PARAMCD == "RESP" & adeff$AVISIT == "Week 12" & adeff$ANL01FL == "Y" &
              adeff$USUBJID %in% eff, ]
count <- function(arm) list(n = sum(prim$TRTP == arm), events = sum(prim$AVAL[prim$TRTP == arm] == 1))
ct <- count(treated); cc <- count(control)
tab <- matrix(c(ct$events, ct$n - ct$events, cc$events, cc$n - cc$events), nrow = 2, byrow = TRUE)
ft <- fisher.test(tab)
rr <- riskratio(matrix(c(cc$n - cc$events, cc$events, ct$n - ct$events, ct$events), nrow = 2, byrow = TRUE),
                method = "wald")
# Key secondary: CRP PMR-AS (PARAMCD CRPPMRAS) at weeks 12, 24, 36, Welch t (randomised, ITTFL = "Y").
itt <- adsl$USUBJID[adsl$ITTFL == "Y"]
welch <- lapply(c("Week 12", "Week 24", "Week 36"), function(v) {
  d <- adeff[adeff$PARAMCD == "CRPPMRAS" & adeff$AVISIT == v & adeff$ANL01FL == "Y" & adeff$USUBJID %in% itt, ]
  t <- t.test(d$AVAL[d$TRTP == treated], d$AVAL[d$TRTP == control], var.equal = FALSE)
  list(visit = v, n_treated = sum(d$TRTP == treated), n_control = sum(d$TRTP == control),
       estimate = unname(t$estimate[1] - t$estimate[2]), lo = t$conf.int[1], hi = t$conf.int[2], p = t$p.value)
})
out <- list(
  software = list(R = R.version.string, haven = as.character(packageVersion("haven")),
                  epitools = as.character(packageVersion("epitools"))),
  dataset = paste("ADaM XPT of tests/reference/data/twin (pmrtrial synth bachelor --seed 2025)",
                  "via pmrtrial export cdisc --format xpt"),
  calls = list(
    read = "haven::read_xpt('adsl.xpt'), haven::read_xpt('adeff.xpt')",
    fisher = "fisher.test(matrix(c(trt resp, trt non-resp, ctrl resp, ctrl non-resp), 2, byrow = TRUE))",
    riskratio = "epitools::riskratio(matrix(c(ctrl non-resp, ctrl resp, trt non-resp, trt resp)), method = 'wald')",
    welch = "t.test(AVAL[treated], AVAL[control], var.equal = FALSE) for PARAMCD CRPPMRAS"
  ),
  treated = treated, control = control,
  responders = list(treated = ct, control = cc),
  fisher_p = ft$p.value,
  rr_crude = list(estimate = rr$measure[2, 1], lo = rr$measure[2, 2], hi = rr$measure[2, 3]),
  crp_pmr_as_welch = welch
)
writeLines(to_json(out), args[2])
