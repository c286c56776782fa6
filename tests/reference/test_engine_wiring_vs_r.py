"""The analysis engine's registry wiring reproduces R on the stored reference datasets, end to end.

The datasets and R outputs are the ones of the estimator tests (tests/reference/r/adjusted_reference.R,
wilcoxon_reference.R); here they go through canonical datasets, the protocol's declarations, the derivations
(baseline covariate from the visits, cumulative dose from a gc_doses log) and the registry.
"""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from pmrtrial._yaml import safe_load
from pmrtrial.analysis import analyse_trial
from pmrtrial.datasets import validate_datasets
from pmrtrial.protocol import parse_protocol
from pmrtrial.protocol.registry import read_bundled_text
from tests.reference._util import DATA, load_values

RTOL = 1e-6
_AE = pd.DataFrame({c: pd.Series([], dtype=object) for c in ("subject_id", "soc", "term")}).assign(
    serious=pd.Series([], dtype=bool)
)


def _protocol(extra_endpoint: dict) -> object:
    doc = copy.deepcopy(safe_load(read_bundled_text("bachelor")))
    doc["endpoints"].append({"role": "secondary", "population": "randomised", "source_text": "reference data",
                             "source_ref": "tests/reference", **extra_endpoint})  # fmt: skip
    return parse_protocol(doc)


def _subjects(ids: pd.Series, treated: pd.Series, **columns: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "subject_id": ids,
            "site_id": "S1",
            "arm": ["baricitinib" if t else "placebo" for t in treated],
            "randomised_on": "2021-01-04",
            "status": "completed",
            **columns,
        }
    )


def test_adjusted_risk_ratio__semaphore_like_matches_r_glm_sandwich():
    # R: glm(y ~ treated + stratum + gc_baseline, family = poisson); sandwich::vcovHC(type = "HC0")
    case = next(c for c in load_values("adjusted.json")["cases"] if c["dataset"] == "semaphore_like")
    data = pd.read_csv(DATA / "adjusted" / "semaphore_like.csv")
    subjects = _subjects(data["subject_id"], data["treated"] == 1, stratum=data["stratum"])
    visits = pd.concat(
        [
            pd.DataFrame({"subject_id": data["subject_id"], "week": 0.0, "oral_gc_mg_day": data["gc_baseline"]}),
            pd.DataFrame({"subject_id": data["subject_id"], "week": 12.0, "us_synovitis": data["y"] == 1}),
        ],
        ignore_index=True,
    )
    proto = _protocol(
        {"id": "composite", "label": "composite", "type": "binary", "visits": ["W12"],
         "definition": {"var": "us_synovitis", "op": "eq", "value": True},
         "covariates": ["stratum", "oral_gc_mg_day"], "analysis": ["adjusted_risk_ratio", "risk_ratio"]}
    )  # fmt: skip
    result = analyse_trial(validate_datasets(subjects, visits, _AE, protocol=proto), proto)
    entry = next(e for e in result.endpoints if e.id == "composite").analyses["adjusted_risk_ratio"]
    want = case["modified_poisson"]
    assert entry["available"]
    for mine, theirs in (("estimate", "rr"), ("lo", "lo"), ("hi", "hi"), ("p", "p")):
        assert entry[mine] == pytest.approx(want[theirs], rel=RTOL), mine
    assert entry["arms"]["baricitinib"] == {"n": 49, "events": 33, "pct": 100 * 33 / 49}


def test_wilcoxon_hodges_lehmann__cumulative_dose_from_a_gc_log_matches_r():
    # R: wilcox.test(x = treated, y = control, conf.int = TRUE); each participant's cumulative dose is
    # logged as a constant daily dose over days 0-251, so the cumulative dose to week 36 (day 252) is the value.
    case = next(c for c in load_values("wilcoxon.json")["cases"] if c["name"] == "saphyr_like_cumulative_gc")
    data = pd.read_csv(DATA / "wilcoxon_datasets.csv")
    data = data[data["dataset"] == "saphyr_like_cumulative_gc"].reset_index(drop=True)
    data["subject_id"] = [f"X{i:03d}" for i in range(len(data))]
    subjects = _subjects(data["subject_id"], data["arm"] == "treated")
    visits = pd.DataFrame({"subject_id": list(data["subject_id"]) * 2, "week": [0.0] * len(data) + [36.0] * len(data)})
    log = pd.DataFrame(
        {
            "subject_id": data["subject_id"],
            "start_day": 0,
            "end_day": 251,
            "dose_mg_day": data["value"] / 252.0,
            "reason": "taper",
        }
    )
    proto = _protocol(
        {"id": "cumulative_gc", "label": "cumulative GC", "type": "continuous", "visits": ["W36"],
         "variable": "cumulative_gc_mg", "analysis": ["wilcoxon_hodges_lehmann", "median_iqr"]}
    )  # fmt: skip
    result = analyse_trial(validate_datasets(subjects, visits, _AE, protocol=proto), proto, gc_doses=log)
    entry = next(e for e in result.endpoints if e.id == "cumulative_gc").analyses
    hl = entry["wilcoxon_hodges_lehmann"]
    for key in ("estimate", "lo", "hi", "p"):
        assert hl[key] == pytest.approx(case[key], rel=RTOL), key
    assert entry["median_iqr"]["arms"]["baricitinib"]["n"] == case["n_treated"]
    assert entry["median_iqr"]["arms"]["placebo"]["median"] == pytest.approx(case["control"]["median"], rel=RTOL)
