"""Flatten R's own GEE output (tests/reference/values/gee.json) to md_t_inputs.csv for gee_t_reference.R.

Usage (repository root): python tests/reference/data/gee/make_md_t_inputs.py
(jsonlite, which wrote gee.json, is not in this image's R, so R reads this CSV instead.)
Columns: dataset, model, log_rr, se_md (R's Mancl-DeRouen SE), n_clusters.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

HERE = Path(__file__).parent
ref = json.loads((HERE.parents[1] / "values" / "gee.json").read_text())
with (HERE / "md_t_inputs.csv").open("w", newline="") as fh:
    out = csv.writer(fh)
    out.writerow(["dataset", "model", "log_rr", "se_md", "n_clusters"])
    for name, ds in sorted(ref["datasets"].items()):
        for model in ("log_binomial", "modified_poisson"):
            fit = ds.get(model) or {}
            se = fit.get("se_log_rr_mancl_derouen")
            if fit.get("ok") and fit.get("geese_error_code") == 0 and isinstance(se, float):
                out.writerow([name, model, repr(fit["log_rr"]), repr(se), ds["n_clusters"]])
