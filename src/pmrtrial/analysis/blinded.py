"""Pooled blinded review: what a blinded data review may look at, with arms pooled (ICH E9 §7.1).

A blinded export (``dataset.json`` ``"blinded": true``) carries a per-participant code instead of
the arm, so no comparison between arms is possible; :func:`blinded_review` summarises the pooled
data (baseline characteristics, status, each visit's measurements, adverse events) and refuses any
grouping by arm with :class:`BlindedComparisonRefused`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pmrtrial.datasets import AnalysisDatasets
from pmrtrial.exceptions import PmrTrialError
from pmrtrial.vocabulary import table_variables

__all__ = ["BlindedComparisonRefused", "BlindedReview", "blinded_review", "describe_pooled"]

#: Pooled summaries cover the numeric variables of the vocabulary, never one that reveals the arm
#: (study-drug dose) and never a key.
_BASELINE = tuple(v.name for v in table_variables("subjects") if v.kind in ("float", "integer") and not v.reveals_arm)
_VISIT = tuple(
    v.name
    for v in table_variables("visits")
    if v.kind in ("float", "integer") and not v.reveals_arm and v.name != "week"
)


class BlindedComparisonRefused(PmrTrialError):
    """A blinded review compares no arms."""


@dataclass(frozen=True)
class BlindedReview:
    """Pooled summaries: ``n_subjects``, ``baseline`` (variable -> summary), ``categories`` (variable ->
    level counts), ``visits`` (week -> variable -> summary), ``adverse_events`` (counts)."""

    n_subjects: int
    baseline: Mapping[str, Mapping[str, Any]]
    categories: Mapping[str, Mapping[str, int]]
    visits: Mapping[float, Mapping[str, Mapping[str, Any]]]
    adverse_events: Mapping[str, Any]
    synthetic: bool
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "blinded_review": True,
            "arms_compared": False,
            "synthetic": self.synthetic,
            "n_subjects": self.n_subjects,
            "baseline": {k: dict(v) for k, v in self.baseline.items()},
            "categories": {k: dict(v) for k, v in self.categories.items()},
            "visits": {str(w): {k: dict(v) for k, v in rows.items()} for w, rows in self.visits.items()},
            "adverse_events": dict(self.adverse_events),
            "notes": list(self.notes),
        }


def describe_pooled(values: Any) -> dict[str, Any]:
    """n, missing, mean, SD (n-1), median, quartiles (type 7, R's default), min and max of the non-missing values.

    >>> describe_pooled([1.0, 2.0, 3.0, None])["mean"], describe_pooled([1.0, 2.0, 3.0, 4.0])["q1"]
    (2.0, 1.75)
    """
    x = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").to_numpy(dtype=float)
    ok = x[~np.isnan(x)]
    out: dict[str, Any] = {"n": int(ok.size), "missing": int(x.size - ok.size)}
    if ok.size == 0:
        return out | {"mean": None, "sd": None, "median": None, "q1": None, "q3": None, "min": None, "max": None}
    q1, med, q3 = np.quantile(ok, [0.25, 0.5, 0.75])
    return out | {
        "mean": float(ok.mean()),
        "sd": float(ok.std(ddof=1)) if ok.size > 1 else None,
        "median": float(med),
        "q1": float(q1),
        "q3": float(q3),
        "min": float(ok.min()),
        "max": float(ok.max()),
    }


def blinded_review(data: AnalysisDatasets, *, group_by: str | None = None) -> BlindedReview:
    """Pooled summaries of ``data``; ``group_by="arm"`` (or any arm comparison) is refused."""
    if group_by is not None:
        raise BlindedComparisonRefused(
            f"A blinded review does not group by {group_by!r}: it reports pooled summaries only "
            "(arms are per-participant codes in a blinded export)."
        )
    s, v, a = data.subjects, data.visits, data.adverse_events
    baseline = {c: describe_pooled(s[c]) for c in _BASELINE if c in s.columns}
    categories = {
        c: {str(k): int(n) for k, n in s[c].astype("string").fillna("(missing)").value_counts().sort_index().items()}
        for c in ("sex", "status", "site_id")
        if c in s.columns
    }
    visits: dict[float, dict[str, dict[str, Any]]] = {}
    for week in sorted(float(w) for w in v["week"].dropna().unique()):
        rows = v[v["week"] == week]
        visits[week] = {c: describe_pooled(rows[c]) for c in _VISIT if c in rows.columns}
    serious = a["serious"] if "serious" in a.columns else pd.Series([], dtype="boolean")
    aes = {
        "n_events": len(a),
        "n_subjects_with_event": int(a["subject_id"].nunique()) if len(a) else 0,
        "n_serious": int(pd.Series(serious, dtype="boolean").fillna(False).sum()),
        "by_soc": {str(k): int(n) for k, n in a["soc"].value_counts().sort_index().items()} if "soc" in a else {},
    }
    notes = ("arms pooled: the blinded export codes each participant separately; no arm comparison",)
    return BlindedReview(len(s), baseline, categories, visits, aes, data.synthetic, notes)
