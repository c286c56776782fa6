#!/usr/bin/env Rscript
# Mancl-DeRouen interval and p with the t(K - 2) reference distribution (K = clusters), from R's own
# GEE output: tests/reference/data/gee/md_t_inputs.csv (log RR and Mancl-DeRouen SE of every converged
# fit of gee.json, flattened by make_md_t_inputs.py).
#
# Usage (from the repository root):  Rscript tests/reference/r/gee_t_reference.R
# Writes tests/reference/values/gee_t.json with, per fit,
#   df = K - 2; q = qt(0.975, df); lo, hi = exp(log_rr -+ q * se_md); p = 2 * pt(-abs(log_rr / se_md), df).
args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else file.path(getwd(), "tests", "reference", "r")
root <- normalizePath(file.path(here, "..", "..", ".."))
source(file.path(here, "_json.R"))
d <- read.csv(file.path(root, "tests", "reference", "data", "gee", "md_t_inputs.csv"), stringsAsFactors = FALSE)
out <- lapply(seq_len(nrow(d)), function(i) {
  r <- d[i, ]
  df <- r$n_clusters - 2
  q <- qt(0.975, df)
  list(dataset = r$dataset, model = r$model, df = df, q = q, log_rr = r$log_rr, se_md = r$se_md,
       lo = exp(r$log_rr - q * r$se_md), hi = exp(r$log_rr + q * r$se_md),
       p = 2 * pt(-abs(r$log_rr / r$se_md), df))
})
meta <- list(generated_by = "tests/reference/r/gee_t_reference.R", date = as.character(Sys.Date()),
             r_version = R.version.string,
             calls = list(t = "qt(0.975, K - 2); exp(log_rr -+ q * se_md); 2 * pt(-abs(log_rr / se_md), K - 2)"))
write_json_file(list(meta = meta, fits = out), file.path(root, "tests", "reference", "values", "gee_t.json"))
