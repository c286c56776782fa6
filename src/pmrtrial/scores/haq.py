"""HAQ-DI: the Stanford Health Assessment Questionnaire Disability Index.

Scores the 20 disability items in 8 categories, each answered 0 = without any difficulty,
1 = with some difficulty, 2 = with much difficulty, 3 = unable to do.

Input keys
----------
Pass a plain ``dict`` (one respondent; or equal-length sequences for several) or a pandas
``DataFrame`` with these columns (one row per respondent). An absent key, ``None`` or NaN is an
unanswered item. In a dict an unknown key raises; in a DataFrame other columns are ignored.

==============  =====================================================  ===============================
category        item keys (each 0-3)                                    flags (True/False/None)
==============  =====================================================  ===============================
dressing        ``dressing_dress``, ``dressing_shampoo``                ``dressing_aid``, ``dressing_help``
arising         ``arising_chair``, ``arising_bed``                      ``arising_aid``, ``arising_help``
eating          ``eating_cut_meat``, ``eating_lift_cup``,               ``eating_aid``, ``eating_help``
                ``eating_open_carton``
walking         ``walking_outdoors``, ``walking_steps``                 ``walking_aid``, ``walking_help``
hygiene         ``hygiene_wash_body``, ``hygiene_tub_bath``,            ``hygiene_aid``, ``hygiene_help``
                ``hygiene_toilet``
reach           ``reach_overhead_object``, ``reach_pick_up_clothing``   ``reach_aid``, ``reach_help``
grip            ``grip_car_doors``, ``grip_open_jars``, ``grip_faucets``  ``grip_aid``, ``grip_help``
activities      ``activities_errands``, ``activities_car``,             ``activities_help``
                ``activities_chores``
==============  =====================================================  ===============================

``<category>_aid`` is True when an aid or device that counts for that category is used. The
questionnaire's device checklist maps to categories as follows (Bruce & Fries 2003): devices used
for dressing (button hook, zipper pull, long-handled shoe horn) -> dressing; built-up or special
chair -> arising; built-up or special utensils -> eating; cane, walker, crutches, wheelchair ->
walking; raised toilet seat, bathtub seat, bathtub bar, long-handled appliances in bathroom ->
hygiene; long-handled appliances for reach -> reach; jar opener (for jars previously opened) ->
grip. Activities has no device, only help from another person. ``<category>_help`` is True when
help from another person is needed for that category. An unanswered flag (None) counts as not
ticked, as on the paper form.

Scoring (standard, "with aids/devices")
---------------------------------------
1. A category's score is the highest answered item score in it; a category with no item
   answered is not answered (its flags alone do not score it).
2. If an aid or device for the category is used, or help from another person is needed, a
   category score of 0 or 1 is raised to 2; 2 and 3 are unchanged.
3. HAQ-DI = sum of the answered category scores / number of categories answered, provided at
   least 6 of the 8 categories are answered; otherwise it is missing and ``reason`` says why.

:func:`compute_haq_di_without_aids` is the same without step 2 (a separate function, since it is
a different algorithm, not an option).

References
----------
Fries JF, Spitz P, Kraines RG, Holman HR. Measurement of patient outcome in arthritis. Arthritis
Rheum 1980;23:137-45.
Bruce B, Fries JF. The Stanford Health Assessment Questionnaire: dimensions and practical
applications. Health Qual Life Outcomes 2003;1:20 (scoring rules used here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from pmrtrial._validate import FloatArray
from pmrtrial.scores._pro_items import ItemSpec, ItemTable, read_items

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "HAQ_CATEGORIES",
    "HAQ_MIN_CATEGORIES",
    "HaqDiResult",
    "compute_haq_di",
    "compute_haq_di_without_aids",
    "haq_item_keys",
]

#: Category -> its item keys, in questionnaire order (Fries 1980; Bruce & Fries 2003).
HAQ_CATEGORIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "dressing": ("dressing_dress", "dressing_shampoo"),
        "arising": ("arising_chair", "arising_bed"),
        "eating": ("eating_cut_meat", "eating_lift_cup", "eating_open_carton"),
        "walking": ("walking_outdoors", "walking_steps"),
        "hygiene": ("hygiene_wash_body", "hygiene_tub_bath", "hygiene_toilet"),
        "reach": ("reach_overhead_object", "reach_pick_up_clothing"),
        "grip": ("grip_car_doors", "grip_open_jars", "grip_faucets"),
        "activities": ("activities_errands", "activities_car", "activities_chores"),
    }
)

#: Categories that have aids or devices (activities has help from another person only).
_AID_CATEGORIES = ("dressing", "arising", "eating", "walking", "hygiene", "reach", "grip")

#: The HAQ-DI needs at least 6 of the 8 categories answered (Bruce & Fries 2003).
HAQ_MIN_CATEGORIES = 6

_VARIANT_WITH = "with aids/devices"
_VARIANT_WITHOUT = "without aids/devices"


def _specs() -> tuple[ItemSpec, ...]:
    specs: list[ItemSpec] = []
    for category, items in HAQ_CATEGORIES.items():
        specs.extend(ItemSpec(key, lo=0, hi=3) for key in items)
        if category in _AID_CATEGORIES:
            specs.append(ItemSpec(f"{category}_aid", is_flag=True))
        specs.append(ItemSpec(f"{category}_help", is_flag=True))
    return tuple(specs)


_SPECS = _specs()


def haq_item_keys() -> tuple[str, ...]:
    """All accepted input keys: the 20 item keys and the aid/help flags, in questionnaire order."""
    return tuple(spec.key for spec in _SPECS)


@dataclass(frozen=True)
class HaqDiResult:
    """HAQ-DI score(s) with the category scores and why a score is missing.

    For one respondent given as scalars the fields are Python values; for several (sequences or
    a DataFrame) they are arrays with one element per respondent.

    Attributes
    ----------
    score : float or ndarray
        HAQ-DI in [0, 3], unrounded; NaN when missing.
    category_scores : mapping of str to float or ndarray
        Score of each of the 8 categories after the aids/help rule (if it applies); NaN when the
        category is unanswered.
    n_categories : int or ndarray
        Number of categories answered.
    reason : str or None, or tuple of them
        Why the score is missing (None when it is scored).
    variant : str
        ``"with aids/devices"`` (standard) or ``"without aids/devices"``.
    """

    score: Any
    category_scores: Mapping[str, Any]
    n_categories: Any
    reason: Any
    variant: str
    index: pd.Index | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (arrays become lists, NaN becomes None)."""

        def plain(value: Any) -> Any:
            if isinstance(value, np.ndarray):
                return [plain(v) for v in value.tolist()]
            if isinstance(value, float) and np.isnan(value):
                return None
            return value

        return {
            "score": plain(self.score),
            "category_scores": {k: plain(v) for k, v in self.category_scores.items()},
            "n_categories": plain(self.n_categories),
            "reason": list(self.reason) if isinstance(self.reason, tuple) else self.reason,
            "variant": self.variant,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per respondent: ``haq_di``, ``n_categories``, ``reason`` and one column per category."""
        data: dict[str, Any] = {
            "haq_di": np.atleast_1d(self.score),
            "n_categories": np.atleast_1d(self.n_categories),
            "reason": list(self.reason) if isinstance(self.reason, tuple) else [self.reason],
        }
        for category, values in self.category_scores.items():
            data[f"haq_{category}"] = np.atleast_1d(values)
        import pandas as pd

        return pd.DataFrame(data, index=self.index)


def _category_maxima(table: ItemTable) -> dict[str, FloatArray]:
    maxima: dict[str, FloatArray] = {}
    for category, items in HAQ_CATEGORIES.items():
        stacked = np.vstack([table.values[item] for item in items])
        answered = ~np.isnan(stacked)
        filled = np.where(answered, stacked, -np.inf)
        best = filled.max(axis=0)
        maxima[category] = np.where(answered.any(axis=0), best, np.nan)
    return maxima


def _apply_aids_and_help(table: ItemTable, maxima: dict[str, FloatArray]) -> dict[str, FloatArray]:
    adjusted: dict[str, FloatArray] = {}
    for category, scores in maxima.items():
        flags = np.nan_to_num(table.values[f"{category}_help"], nan=0.0)
        if category in _AID_CATEGORIES:
            flags = np.maximum(flags, np.nan_to_num(table.values[f"{category}_aid"], nan=0.0))
        raise_to_two = (flags == 1.0) & (scores < 2.0)  # NaN < 2 is False: unanswered stays NaN
        adjusted[category] = np.where(raise_to_two, 2.0, scores)
    return adjusted


def _summarise(table: ItemTable, categories: dict[str, FloatArray], variant: str) -> HaqDiResult:
    stacked = np.vstack(list(categories.values()))
    answered = ~np.isnan(stacked)
    n_answered = answered.sum(axis=0)
    total = np.where(answered, stacked, 0.0).sum(axis=0)
    enough = n_answered >= HAQ_MIN_CATEGORIES
    score = np.where(enough, total / np.maximum(n_answered, 1), np.nan)
    reasons = tuple(
        None if ok else f"only {int(k)} of 8 HAQ-DI categories answered (at least {HAQ_MIN_CATEGORIES} needed)"
        for ok, k in zip(enough, n_answered, strict=True)
    )
    if table.is_scalar:
        return HaqDiResult(
            score=float(score[0]),
            category_scores={k: float(v[0]) for k, v in categories.items()},
            n_categories=int(n_answered[0]),
            reason=reasons[0],
            variant=variant,
        )
    return HaqDiResult(
        score=score,
        category_scores=dict(categories),
        n_categories=n_answered.astype(np.int64),
        reason=reasons,
        variant=variant,
        index=table.index,
    )


def compute_haq_di(answers: Mapping[str, Any] | pd.DataFrame) -> HaqDiResult:
    """Score the HAQ-DI with the standard aids/devices and help-from-another-person rule.

    Parameters
    ----------
    answers : dict or pandas.DataFrame
        Item answers (0-3) and per-category ``_aid``/``_help`` flags, keyed as in the module
        docstring. A dict of scalars is one respondent; a DataFrame has one row per respondent.

    Returns
    -------
    HaqDiResult
        ``score`` is the mean of the answered category scores (range 0-3), or NaN with a
        ``reason`` when fewer than 6 categories are answered.

    Raises
    ------
    ScoreInputError
        An item answer outside 0-3 or not an integer, a flag that is not a boolean, or an
        unknown key in a dict; the message names the item and the value.

    Examples
    --------
    >>> compute_haq_di({"dressing_dress": 1, "arising_chair": 1, "eating_cut_meat": 1,
    ...                 "walking_outdoors": 1, "hygiene_toilet": 1, "reach_overhead_object": 1,
    ...                 "walking_aid": True}).score  # walking 1 -> 2: (5 + 2) / 6
    1.1666666666666667
    """
    table = read_items(answers, _SPECS, instrument="HAQ-DI")
    categories = _apply_aids_and_help(table, _category_maxima(table))
    return _summarise(table, categories, _VARIANT_WITH)


def compute_haq_di_without_aids(answers: Mapping[str, Any] | pd.DataFrame) -> HaqDiResult:
    """Score the HAQ-DI "without aids/devices": category maxima only, flags ignored.

    Takes the same input as :func:`compute_haq_di` (the ``_aid``/``_help`` flags are validated
    but do not change any score) and applies the same 6-of-8 rule.
    """
    table = read_items(answers, _SPECS, instrument="HAQ-DI")
    return _summarise(table, _category_maxima(table), _VARIANT_WITHOUT)
