"""SF-36 (version 1, standard scoring): 8 scale scores, norm-based T-scores, and PCS/MCS.

SF-36 versus RAND-36
--------------------
The RAND-36 (RAND Medical Outcomes Study 36-Item Health Survey 1.0) has the same 36 items but a
different scoring: every item is recoded linearly to 0-100 and scales are item means, so bodily
pain (BP) and general health (GH) differ from the SF-36 standard scoring implemented here (which
uses the non-linear Q1, Q7 and Q8 recodings below), and the RAND-36 has no norm-based PCS/MCS.
The two must never be mixed: every result records its scoring name,
``"SF-36 v1 standard, 1990 US norms"``.

Input keys
----------
A plain ``dict`` of answers (one respondent; equal-length sequences for several) or a pandas
``DataFrame`` with one row per respondent. Answers are the codes printed on the form (1 = first
box). Absent key, ``None`` or NaN = unanswered. In a dict an unknown key raises; in a DataFrame
other columns are ignored.

=========================  ======  =====================  ==============================
keys                       codes   scale                  recoding (higher = better)
=========================  ======  =====================  ==============================
``q1``                     1-5     GH                     1->5.0, 2->4.4, 3->3.4, 4->2.0, 5->1.0
``q2`` (health transition) 1-5     none (validated only)
``q3a`` .. ``q3j``         1-3     PF                     as answered
``q4a`` .. ``q4d``         1-2     RP                     as answered
``q5a`` .. ``q5c``         1-2     RE                     as answered
``q6``                     1-5     SF                     6 - x
``q7``                     1-6     BP                     1->6.0, 2->5.4, 3->4.2, 4->3.1, 5->2.2, 6->1.0
``q8``                     1-5     BP                     see below
``q9a`` .. ``q9i``         1-6     VT (a, e, g, i),       a, e, d, h: 7 - x; others as answered
                                   MH (b, c, d, f, h)
``q10``                    1-5     SF                     as answered
``q11a`` .. ``q11d``       1-5     GH                     b, d: 6 - x; a, c as answered
=========================  ======  =====================  ==============================

Q8 with Q7 answered: Q8 = 1 and Q7 = 1 -> 6; Q8 = 1 and Q7 >= 2 -> 5; Q8 = 2, 3, 4, 5 -> 4, 3, 2,
1. Q8 with Q7 missing: 1 -> 6.0, 2 -> 4.75, 3 -> 3.5, 4 -> 2.25, 5 -> 1.0. Q7 answered and Q8
missing: Q8 takes Q7's recoded value (the half-scale rule below gives the same).

Scoring
-------
- Scale (0-100) = (raw - lowest possible raw) / (raw range) x 100, raw = sum of recoded items.
- Half-scale rule: if at least half of a scale's items are answered, each missing item takes the
  mean of the answered recoded items of that scale for that respondent; otherwise the scale is
  missing.
- Norm-based scoring with the 1990 US general-population norms (Ware, Kosinski & Keller 1994):
  :math:`z_s = (\\text{scale}_s - \\text{mean}_s)/\\text{sd}_s`, T-score :math:`50 + 10 z_s`,
  :math:`PCS = 50 + 10 \\sum_s z_s\\,\\text{pcs}_s`, :math:`MCS = 50 + 10 \\sum_s z_s\\,\\text{mcs}_s`.
  The norms and coefficients are a data file, ``pmrtrial/scores/data/sf36_norms_us1990.json``.
- PCS and MCS are missing if any of the 8 scales is missing.

References
----------
Ware JE, Sherbourne CD. The MOS 36-item short-form health survey (SF-36). I. Conceptual framework
and item selection. Med Care 1992;30:473-83.
Ware JE, Snow KK, Kosinski M, Gandek B. SF-36 Health Survey Manual and Interpretation Guide.
Boston: The Health Institute; 1993 (scale scoring, missing-data rule).
Ware JE, Kosinski M, Keller SD. SF-36 Physical and Mental Health Summary Scales: A User's Manual.
Boston: The Health Institute; 1994 (1990 US norms, factor score coefficients).
Hays RD, Sherbourne CD, Mazel RM. The RAND 36-Item Health Survey 1.0. Health Econ 1993;2:217-27
(the RAND-36 scoring, not used here).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from pmrtrial._validate import FloatArray, as_float_array, is_scalar_input
from pmrtrial.exceptions import ScoreInputError
from pmrtrial.scores._pro_items import ItemSpec, ItemTable, read_items

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SF36_SCALES",
    "SF36_SCORING",
    "Sf36Norms",
    "Sf36Result",
    "compute_sf36",
    "compute_sf36_norm_based",
    "load_sf36_norms",
    "sf36_item_keys",
]

#: Name recorded in every result; the RAND-36 scoring is a different thing.
SF36_SCORING = "SF-36 v1 standard, 1990 US norms"

#: The 8 scales, in the manual's order.
SF36_SCALES: tuple[str, ...] = ("pf", "rp", "bp", "gh", "vt", "sf", "re", "mh")

_NORM_FILES = MappingProxyType({"US-1990": "sf36_norms_us1990.json"})


def _letters(prefix: str, last: str) -> tuple[str, ...]:
    return tuple(f"{prefix}{chr(c)}" for c in range(ord("a"), ord(last) + 1))


_ITEM_CODES: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "q1": (1, 5),
        "q2": (1, 5),
        **{k: (1, 3) for k in _letters("q3", "j")},
        **{k: (1, 2) for k in _letters("q4", "d")},
        **{k: (1, 2) for k in _letters("q5", "c")},
        "q6": (1, 5),
        "q7": (1, 6),
        "q8": (1, 5),
        **{k: (1, 6) for k in _letters("q9", "i")},
        "q10": (1, 5),
        **{k: (1, 5) for k in _letters("q11", "d")},
    }
)
_SPECS = tuple(ItemSpec(k, lo=lo, hi=hi) for k, (lo, hi) in _ITEM_CODES.items())

#: Items of each scale (after recoding) and the lowest and highest possible raw sum.
_SCALE_ITEMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "pf": _letters("q3", "j"),
        "rp": _letters("q4", "d"),
        "bp": ("q7", "q8"),
        "gh": ("q1", "q11a", "q11b", "q11c", "q11d"),
        "vt": ("q9a", "q9e", "q9g", "q9i"),
        "sf": ("q6", "q10"),
        "re": _letters("q5", "c"),
        "mh": ("q9b", "q9c", "q9d", "q9f", "q9h"),
    }
)
_RAW_RANGE: Mapping[str, tuple[float, float]] = MappingProxyType(
    {"pf": (10, 30), "rp": (4, 8), "bp": (2, 12), "gh": (5, 25), "vt": (4, 24), "sf": (2, 10), "re": (3, 6),
     "mh": (5, 30)}
)  # fmt: skip

# Recoding tables (Ware et al. 1993). Index = answer code.
_Q1 = {1: 5.0, 2: 4.4, 3: 3.4, 4: 2.0, 5: 1.0}
_Q7 = {1: 6.0, 2: 5.4, 3: 4.2, 4: 3.1, 5: 2.2, 6: 1.0}
_Q8_WITH_Q7 = {2: 4.0, 3: 3.0, 4: 2.0, 5: 1.0}  # Q8 = 1 depends on Q7 (6 or 5)
_Q8_WITHOUT_Q7 = {1: 6.0, 2: 4.75, 3: 3.5, 4: 2.25, 5: 1.0}
_REVERSE_6 = ("q6", "q11b", "q11d")  # 6 - x
_REVERSE_7 = ("q9a", "q9e", "q9d", "q9h")  # 7 - x


@dataclass(frozen=True)
class Sf36Norms:
    """Norms (mean, SD) and factor score coefficients of one norm set."""

    id: str
    scoring: str
    citation: str
    mean: Mapping[str, float]
    sd: Mapping[str, float]
    pcs_coef: Mapping[str, float]
    mcs_coef: Mapping[str, float]


@cache
def load_sf36_norms(norms: str = "US-1990") -> Sf36Norms:
    """Read a bundled SF-36 norm set (only ``"US-1990"``: 1990 US general population)."""
    if norms not in _NORM_FILES:
        raise ScoreInputError("norms", norms, "one of " + ", ".join(_NORM_FILES))
    text = resources.files("pmrtrial.scores.data").joinpath(_NORM_FILES[norms]).read_text("utf-8")
    raw = json.loads(text)
    scales = raw["scales"]
    return Sf36Norms(
        id=str(raw["id"]),
        scoring=str(raw["scoring"]),
        citation=str(raw["citation"]),
        mean=MappingProxyType({s: float(scales[s]["mean"]) for s in SF36_SCALES}),
        sd=MappingProxyType({s: float(scales[s]["sd"]) for s in SF36_SCALES}),
        pcs_coef=MappingProxyType({s: float(scales[s]["pcs_coef"]) for s in SF36_SCALES}),
        mcs_coef=MappingProxyType({s: float(scales[s]["mcs_coef"]) for s in SF36_SCALES}),
    )


def sf36_item_keys() -> tuple[str, ...]:
    """The 36 accepted input keys, ``"q1"`` .. ``"q11d"``, in questionnaire order."""
    return tuple(_ITEM_CODES)


_OUTPUT_FIELDS = (*SF36_SCALES, *(f"{s}_t" for s in SF36_SCALES), "pcs", "mcs")


@dataclass(frozen=True)
class Sf36Result:
    """SF-36 scale scores (0-100), T-scores and PCS/MCS for one or several respondents.

    Scalars for one respondent given as scalars; arrays (one element per respondent) otherwise.
    NaN marks a missing score. ``scoring`` names the algorithm and norms.
    """

    pf: Any
    rp: Any
    bp: Any
    gh: Any
    vt: Any
    sf: Any
    re: Any
    mh: Any
    pf_t: Any
    rp_t: Any
    bp_t: Any
    gh_t: Any
    vt_t: Any
    sf_t: Any
    re_t: Any
    mh_t: Any
    pcs: Any
    mcs: Any
    scoring: str = SF36_SCORING
    norms: str = "US-1990"
    index: pd.Index | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the 8 scales, ``<scale>_t``, ``pcs``, ``mcs``, ``scoring``, ``norms``.

        Arrays become lists and NaN becomes None.
        """

        def plain(value: Any) -> Any:
            if isinstance(value, np.ndarray):
                return [plain(v) for v in value.tolist()]
            if isinstance(value, float) and np.isnan(value):
                return None
            return value

        out: dict[str, Any] = {name: plain(getattr(self, name)) for name in _OUTPUT_FIELDS}
        out["scoring"] = self.scoring
        out["norms"] = self.norms
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per respondent with columns ``sf36_<field>`` (index of the input DataFrame kept)."""
        data = {f"sf36_{name}": np.atleast_1d(getattr(self, name)) for name in _OUTPUT_FIELDS}
        import pandas as pd

        return pd.DataFrame(data, index=self.index)


def _lookup(values: FloatArray, table: Mapping[int, float]) -> FloatArray:
    out = np.full(values.shape, np.nan)
    for code, recoded in table.items():
        out[values == code] = recoded
    return out


def _recode(table: ItemTable) -> dict[str, FloatArray]:
    v = table.values
    rec: dict[str, FloatArray] = {key: arr.copy() for key, arr in v.items()}
    rec["q1"] = _lookup(v["q1"], _Q1)
    rec["q7"] = _lookup(v["q7"], _Q7)
    q7_answered = ~np.isnan(v["q7"])
    q8_with = _lookup(v["q8"], _Q8_WITH_Q7)
    q8_with = np.where((v["q8"] == 1) & (v["q7"] == 1), 6.0, q8_with)
    q8_with = np.where((v["q8"] == 1) & (v["q7"] >= 2), 5.0, q8_with)
    rec["q8"] = np.where(q7_answered, q8_with, _lookup(v["q8"], _Q8_WITHOUT_Q7))
    for key in _REVERSE_6:
        rec[key] = 6.0 - v[key]
    for key in _REVERSE_7:
        rec[key] = 7.0 - v[key]
    return rec


def _scale_scores(recoded: dict[str, FloatArray]) -> dict[str, FloatArray]:
    scores: dict[str, FloatArray] = {}
    for scale, items in _SCALE_ITEMS.items():
        stacked = np.vstack([recoded[item] for item in items])
        answered = ~np.isnan(stacked)
        n_answered = answered.sum(axis=0)
        mean = np.where(answered, stacked, 0.0).sum(axis=0) / np.maximum(n_answered, 1)
        # Half-scale rule: each missing item takes the respondent's mean of the answered items.
        raw = mean * len(items)
        lo, hi = _RAW_RANGE[scale]
        score = (raw - lo) / (hi - lo) * 100.0
        scores[scale] = np.where(2 * n_answered >= len(items), score, np.nan)
    return scores


def _norm_based(scales: Mapping[str, FloatArray], norm_set: Sf36Norms, n: int) -> dict[str, FloatArray]:
    z = {s: (scales[s] - norm_set.mean[s]) / norm_set.sd[s] for s in SF36_SCALES}
    # NaN propagates through the sums, so PCS/MCS are missing whenever any scale is missing.
    pcs = 50.0 + 10.0 * sum((z[s] * norm_set.pcs_coef[s] for s in SF36_SCALES), start=np.zeros(n))
    mcs = 50.0 + 10.0 * sum((z[s] * norm_set.mcs_coef[s] for s in SF36_SCALES), start=np.zeros(n))
    return {**{f"{s}_t": 50.0 + 10.0 * z[s] for s in SF36_SCALES}, "pcs": pcs, "mcs": mcs}


def compute_sf36_norm_based(scales: Mapping[str, Any], *, norms: str = "US-1990") -> dict[str, Any]:
    """T-scores and PCS/MCS from the 8 scale scores (0-100) already computed.

    For data that hold SF-36 v1 standard scale scores rather than item answers.

    Parameters
    ----------
    scales : mapping
        Keys ``"pf", "rp", "bp", "gh", "vt", "sf", "re", "mh"`` (all required), each a number in
        [0, 100] or an array of them; None/NaN is missing.
    norms : str
        ``"US-1990"`` (the only bundled norm set).

    Returns
    -------
    dict
        ``"<scale>_t"`` T-scores, ``"pcs"`` and ``"mcs"``: floats for scalar input, else arrays.
        PCS and MCS are NaN when any scale is missing.
    """
    norm_set = load_sf36_norms(norms)
    missing = [s for s in SF36_SCALES if s not in scales]
    if missing:
        raise ScoreInputError("SF-36 scales", missing[0], "all 8 scales " + ", ".join(SF36_SCALES))
    unknown = sorted(str(k) for k in scales if k not in SF36_SCALES)
    if unknown:
        raise ScoreInputError("SF-36 scale key", unknown[0], "one of " + ", ".join(SF36_SCALES))
    arrays = [np.atleast_1d(as_float_array(scales[s], field=s, lo=0, hi=100)) for s in SF36_SCALES]
    broadcast = np.broadcast_arrays(*arrays)
    values = _norm_based(dict(zip(SF36_SCALES, broadcast, strict=True)), norm_set, broadcast[0].shape[0])
    if all(is_scalar_input(scales[s]) for s in SF36_SCALES):
        return {k: float(v[0]) for k, v in values.items()}
    return values


def compute_sf36(answers: Mapping[str, Any] | pd.DataFrame, *, norms: str = "US-1990") -> Sf36Result:
    """Score the SF-36 v1 (standard scoring): 8 scales, T-scores, PCS and MCS.

    Parameters
    ----------
    answers : dict or pandas.DataFrame
        Item answers keyed ``"q1"`` .. ``"q11d"`` (see the module docstring for codes).
    norms : str
        Norm set for T-scores and PCS/MCS. Only ``"US-1990"`` (1990 US general population,
        Ware, Kosinski & Keller 1994) is bundled; the result records it.

    Returns
    -------
    Sf36Result
        Scales on 0-100 (NaN when fewer than half their items are answered), T-scores
        ``50 + 10 z``, and PCS/MCS (NaN if any scale is missing).

    Raises
    ------
    ScoreInputError
        An answer outside its codes or not an integer, an unknown key in a dict, or an unknown
        norm set; the message names the item and value.

    Examples
    --------
    >>> best = {**{f"q3{c}": 3 for c in "abcdefghij"}, **{f"q4{c}": 2 for c in "abcd"}}
    >>> compute_sf36(best).pf
    100.0
    """
    table = read_items(answers, _SPECS, instrument="SF-36")
    scales = _scale_scores(_recode(table))
    values: dict[str, Any] = {**scales, **_norm_based(scales, load_sf36_norms(norms), table.n)}
    if table.is_scalar:
        firsts: dict[str, Any] = {k: float(v[0]) for k, v in values.items()}
        return Sf36Result(**firsts, norms=norms)
    return Sf36Result(**values, norms=norms, index=table.index)
