"""wilcoxon_hodges_lehmann against R ``wilcox.test(x, y, conf.int = TRUE)`` (stored output).

Expected values: tests/reference/values/wilcoxon.json, written by tests/reference/r/wilcoxon_reference.R
on tests/reference/data/wilcoxon_datasets.csv (x = treated, y = control, NA dropped). Covers the exact
branch (n < 50, no ties), the normal approximation with ties and with n >= 50, R's "conf.level not
achievable" rule (tiny), and missing values. Medians/IQR: R ``quantile`` type 7; mean/SD: ``mean``/``sd``.

Tolerance 1e-6 relative (observed ~1e-14: the exact branch is closed form and the normal branch
reproduces R's uniroot path step by step).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from pmrtrial.stats import wilcoxon_hodges_lehmann
from tests.reference._util import DATA, close, load_values

CASES = load_values("wilcoxon.json")["cases"]
ROWS = pd.read_csv(DATA / "wilcoxon_datasets.csv")
RTOL = 1e-6


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_wilcox_test(case: dict[str, Any]) -> None:
    sel = ROWS[ROWS.dataset == case["name"]]
    res = wilcoxon_hodges_lehmann(sel.value[sel.arm == "treated"], sel.value[sel.arm == "control"])
    assert res.available
    assert (res.n_treated, res.n_control) == (case["n_treated"], case["n_control"])
    for mine, theirs in (
        ("estimate", "estimate"),
        ("lo", "lo"),
        ("hi", "hi"),
        ("p", "p"),
        ("conf_level", "conf_level"),
    ):
        assert close(getattr(res, mine), case[theirs], RTOL), (mine, getattr(res, mine), case[theirs])
    assert close(res.details["W"], case["W"], RTOL)
    assert close(res.details["hodges_lehmann_median"], case["hl_exact"], RTOL)
    assert res.details["exact"] == ("exact" in case["method"])
    assert res.details["correct"] == ("continuity correction" in case["method"])
    for arm in ("treated", "control"):
        for key in ("median", "q1", "q3", "mean", "sd"):
            assert close(res.details["arms"][arm][key], case[arm][key], RTOL), (arm, key)
    r_tie_warning = any("ties" in w for w in case["warnings"])
    assert r_tie_warning == any("ties" in w for w in res.warnings)
    assert any("not achievable" in w for w in case["warnings"]) == any("not achievable" in w for w in res.warnings)
