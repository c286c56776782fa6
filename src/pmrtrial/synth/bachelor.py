"""The synthetic twin of BACHELOR: subject-level data consistent with the published aggregates.

SYNTHETIC — not trial data. The twin reproduces every published count exactly and every published mean and SD
at printed precision where the publication is internally consistent; where it is not, the twin's
:class:`~pmrtrial.synth.report.TwinReport` says which figure it kept and why.

How it is built
---------------
1. States by construction: :mod:`pmrtrial.synth._design` fixes who is in which four-state cell at each visit,
   who misses which visit and who takes rescue prednisone. The seed permutes which synthetic participant
   (site, id, randomisation date) gets which design row.
2. Values conditional on the states: for each arm and visit, values are drawn around state-dependent levels
   plus a participant-level severity, then fitted to the published mean, SD (and at baseline median and
   quartiles) by :class:`~pmrtrial.synth._search.GroupSearch`, which keeps every CRP PMR-AS on its side of 10
   (and above 17 at inclusion) and every value on its recording grid.
3. Glucocorticoid doses, study-drug doses (from the protocol) and the adverse-event listing follow.

Quantiles are SAS definition 5 / R type 2 (the publication does not say which definition it used).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pmrtrial.exceptions import DataError
from pmrtrial.protocol import load_protocol
from pmrtrial.scores import compute_eq5d_index
from pmrtrial.synth import _design as design
from pmrtrial.synth._feasibility import check_secondary_composites
from pmrtrial.synth._search import GroupSearch, affine_fit, anchor_quantiles
from pmrtrial.synth.published import load_bachelor_published
from pmrtrial.synth.report import SYNTHETIC_LABEL, TwinReport, build_twin_report

__all__ = ["ARMS", "SUBJECT_ID_PREFIX", "TwinResult", "generate_bachelor_twin"]

ARMS = ("baricitinib", "placebo")
#: Subject ids are ``SYN-<site>-<nnn>``: the prefix marks every record as synthetic.
SUBJECT_ID_PREFIX = "SYN"
_ARM_OF_ROW = {"B": "baricitinib", "P": "placebo"}
#: Participants per site and arm (6 centres; which centre gets which column is drawn from the seed).
_SITE_PLAN = {"baricitinib": (4, 4, 3, 3, 2, 2), "placebo": (4, 3, 3, 2, 2, 2)}
_RECRUIT_START = np.datetime64("2020-12-01")
_RECRUIT_END = np.datetime64("2023-08-31")
_TARGET_WEEKS = (12, 24, 36)
_LE10_HI = 10.0
_GT10_LO = 10.05
_INCLUSION_LO = 17.05

# value grids -------------------------------------------------------------------------------------------------
_VAS = np.round(np.arange(0, 101) / 10, 1)
_MINUTES = np.arange(0, 721, dtype=float)
_EUL = np.arange(0, 4, dtype=float)
_CRP = np.round(np.arange(0, 4001) / 10, 1)
_ESR = np.arange(1, 121, dtype=float)
_HAQ = np.arange(0, 25) / 8.0
_SF36 = np.round(np.arange(100, 701) / 10, 1)
_AGE = np.round(np.arange(500, 911) / 10, 1)  # age at randomisation, in tenths of a year
_DURATION = np.arange(7, 183, dtype=float)
_BMI = np.round(np.arange(160, 551) / 10, 1)


def _eq5d_grid() -> np.ndarray:
    states = ["".join(s) for s in itertools.product("123", repeat=5)]
    values = np.asarray(compute_eq5d_index(states, value_set="3L-FR-2013"), dtype=float)
    return np.unique(np.round(values, 3))


@dataclass(frozen=True)
class TwinResult:
    """The three canonical analysis datasets of the twin, and its report against the publication.

    Every frame carries ``attrs["synthetic"] = True`` and ``attrs["label"] = "SYNTHETIC — not trial data"``.
    """

    subjects: pd.DataFrame
    visits: pd.DataFrame
    adverse_events: pd.DataFrame
    report: TwinReport
    seed: int
    label: str = SYNTHETIC_LABEL
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "synthetic": True,
            "seed": self.seed,
            "n_subjects": len(self.subjects),
            "n_visits": len(self.visits),
            "n_adverse_events": len(self.adverse_events),
            "notes": list(self.notes),
            "report": self.report.to_dict(),
        }


# -- helpers ---------------------------------------------------------------------------------------------------
_Targets = list[tuple[str, float, float]]  # (statistic, value, half-width)


def _targets(
    summary: Mapping[str, Any],
    *,
    stats: tuple[str, ...],
    scale: float = 1.0,
    tighten: Mapping[str, float] | None = None,
) -> _Targets:
    """(stat, value, half-width) of the printed figures; ``tighten`` narrows some windows (see the callers)."""
    out = []
    for st in stats:
        if st in summary:
            printed = summary[st]
            out.append((st, float(printed) * scale, printed.halfwidth * scale * (tighten or {}).get(st, 1.0)))
    return out


def _pair(printed_mean: Any, printed_sd: Any, scale: float = 1.0) -> _Targets:
    return [
        ("mean", float(printed_mean) * scale, printed_mean.halfwidth * scale),
        ("sd", float(printed_sd) * scale, printed_sd.halfwidth * scale),
    ]


def _add_targets(search: GroupSearch, series: str, targets: _Targets, weight: float = 1.0) -> None:
    for stat, value, halfwidth in targets:
        w = weight if stat in ("mean", "sd") else 0.3 * weight
        search.add_target(series, stat, value, halfwidth, weight=w)


def _split_targets(targets: _Targets) -> tuple[_Targets, dict[str, tuple[float, float]]]:
    moments = [t for t in targets if t[0] in ("mean", "sd")]
    quantiles = {st: (v, hw) for st, v, hw in targets if st not in ("mean", "sd")}
    return moments, quantiles


def _fit_univariate(
    rng: np.random.Generator,
    raw: np.ndarray,
    grid: np.ndarray,
    targets: _Targets,
    *,
    lo: float | None = None,
    hi: float | None = None,
) -> np.ndarray:
    """Values on ``grid`` with the published mean and SD (and median/quartiles, pinned, when they can hold)."""
    n = len(raw)
    lo_v = float(grid[0]) if lo is None else lo
    hi_v = float(grid[-1]) if hi is None else hi
    moments, quantiles = _split_targets(targets)
    t = {st: v for st, v, _hw in moments}
    for attempt in range(4):
        x = raw + (rng.normal(0, 0.5, n) * (raw.std() + 1e-9) if attempt else 0.0)
        init = affine_fit(x, mean=t["mean"], sd=t["sd"], lo=lo_v, hi=hi_v) if len(t) == 2 else x
        lo_a, hi_a = np.full(n, lo_v), np.full(n, hi_v)
        if quantiles:
            init, lo_a, hi_a = anchor_quantiles(init, grid, quantiles, lo=lo_v, hi=hi_v, rng=rng)
        search = GroupSearch(n, rng)
        search.add_variable("x", grid, init, lo=lo_a, hi=hi_a)
        _add_targets(search, "x", moments)
        values = search.run(max_iter=6000, patience=1500)["x"]
        if search.met():
            return values
    # The quantiles cannot be pinned together with the mean and SD: keep the moments, quantiles as soft targets.
    search = GroupSearch(n, rng)
    init = affine_fit(raw, mean=t["mean"], sd=t["sd"], lo=lo_v, hi=hi_v) if len(t) == 2 else raw
    search.add_variable("x", grid, init, lo=np.full(n, lo_v), hi=np.full(n, hi_v))
    _add_targets(search, "x", targets)
    return search.run(max_iter=12000, patience=3000)["x"]


def _levels(rng: np.random.Generator, states: list[str], u: np.ndarray, week: int, arm: str) -> np.ndarray:
    """A plausible CRP PMR-AS level for each participant, on the right side of 10."""
    out = np.empty(len(states))
    for i, s in enumerate(states):
        if s.startswith("le10"):
            centre = {2: 7.0, 4: 5.5}.get(week, 3.5 if arm == "baricitinib" else 4.0)
            out[i] = np.clip(centre + 1.2 * u[i] + rng.normal(0, 1.2), 0.6, 9.6)
        else:
            out[i] = 10.8 + rng.exponential(3.5) + 1.0 * abs(u[i])
    return out


def _components(
    rng: np.random.Generator, level: np.ndarray, crp_median: np.ndarray, eul: np.ndarray
) -> dict[str, np.ndarray]:
    """Split a PMR-AS level into CRP (mg/L), pain, physician VAS and stiffness (min), given EUL."""
    n = len(level)
    crp = np.exp(np.log(np.maximum(crp_median, 0.5)) + rng.normal(0, 0.7, n))
    crp = np.minimum(crp, 10 * 0.5 * level)
    rest = np.maximum(level - crp / 10 - eul, 0.3)
    share = rng.dirichlet([6.0, 5.0, 4.0], size=n)
    return {
        "crp_mg_l": crp,
        "pain_vas": np.clip(rest * share[:, 0], 0, 10),
        "physician_global_vas": np.clip(rest * share[:, 1], 0, 10),
        "morning_stiffness_min": np.clip(10 * rest * share[:, 2], 0, 720),
    }


_PMR_WEIGHTS = {
    "crp_mg_l": 0.1,
    "pain_vas": 1.0,
    "physician_global_vas": 1.0,
    "morning_stiffness_min": 0.1,
    "upper_limb_elevation": 1.0,
}
_GRIDS = {
    "crp_mg_l": _CRP,
    "pain_vas": _VAS,
    "physician_global_vas": _VAS,
    "morning_stiffness_min": _MINUTES,
    "upper_limb_elevation": _EUL,
    "esr_mm_h": _ESR,
}


def _eul_bounds(nonzero: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo = np.where(nonzero, 1.0, 0.0)
    hi = np.where(nonzero, 3.0, 0.0)
    return lo, hi


def _choose_nonzero(rng: np.random.Generator, k: int, priority: np.ndarray) -> np.ndarray:
    """k participants with EUL >= 1, chosen with probability rising with ``priority``."""
    n = len(priority)
    p = np.exp(priority - priority.max())
    p = p / p.sum()
    chosen = rng.choice(n, size=k, replace=False, p=p) if k > 0 else np.array([], dtype=int)
    mask = np.zeros(n, dtype=bool)
    mask[chosen] = True
    return mask


# -- the generator -----------------------------------------------------------------------------------------------
def generate_bachelor_twin(*, seed: int = 2025) -> TwinResult:
    """Generate the synthetic twin of BACHELOR (34 participants, 6 centres).

    Parameters
    ----------
    seed : int
        Seed of :func:`numpy.random.default_rng`; the output depends on nothing else.

    Returns
    -------
    TwinResult
        ``subjects``, ``visits`` and ``adverse_events`` (the canonical analysis datasets, labelled SYNTHETIC)
        and ``report``: every published figure, the twin's value and whether it is exact, within printed
        precision, or a documented conflict.

    Examples
    --------
    >>> twin = generate_bachelor_twin(seed=2025)
    >>> twin.subjects.attrs["label"]
    'SYNTHETIC — not trial data'
    >>> twin.subjects["arm"].value_counts().to_dict()
    {'baricitinib': 18, 'placebo': 16}
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise DataError(f"Invalid seed. Expected an integer. Got {seed!r}.")
    pub = load_bachelor_published()
    protocol = load_protocol("bachelor")
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(8)]
    rng_alloc, rng_base, rng_visit, rng_gc, rng_search, _rng_misc = streams[:6]
    feas = {(c.week, c.arm, c.row, c.stat): c for c in check_secondary_composites(pub)}

    rows = list(design.STATE_TABLE)
    n_all = len(rows)
    arm_of = {r: _ARM_OF_ROW[r[0]] for r in rows}

    # allocation: sites, dates, ids ----------------------------------------------------------------------------
    site_perm = rng_alloc.permutation(6)
    site_of: dict[str, str] = {}
    for arm in ARMS:
        arm_rows = [r for r in rows if arm_of[r] == arm]
        order = rng_alloc.permutation(len(arm_rows))
        labels = [f"{site_perm[s] + 1:02d}" for s, count in enumerate(_SITE_PLAN[arm]) for _ in range(count)]
        for pos, k in enumerate(order):
            site_of[arm_rows[k]] = labels[pos]
    span = int((_RECRUIT_END - _RECRUIT_START).astype(int))
    days = np.sort(rng_alloc.choice(span + 1, size=n_all, replace=False))
    shuffled = rng_alloc.permutation(rows)
    date_of = {r: _RECRUIT_START + np.timedelta64(int(d), "D") for r, d in zip(shuffled, days, strict=True)}
    sid_of: dict[str, str] = {}
    for site in sorted(set(site_of.values())):
        members = sorted((r for r in rows if site_of[r] == site), key=lambda r: date_of[r])
        for seq, r in enumerate(members, start=1):
            sid_of[r] = f"{SUBJECT_ID_PREFIX}-{site}-{seq:03d}"

    u = dict(zip(rows, rng_base.normal(0, 1, n_all), strict=False))  # participant severity

    # baseline ----------------------------------------------------------------------------------------------------
    base = pub["baseline"]
    subj: dict[str, dict[str, Any]] = {r: {} for r in rows}
    visit_values: dict[tuple[str, int], dict[str, float]] = {}
    for arm in ARMS:
        arm_rows = [r for r in rows if arm_of[r] == arm]
        n = len(arm_rows)
        uu = np.array([u[r] for r in arm_rows])

        def fit(key: str, raw: np.ndarray, grid: np.ndarray, arm: str = arm) -> np.ndarray:
            # Age and disease duration also have whole-cohort means (69.1, 60.7): half-width windows per arm
            # keep the pooled mean on the printed side of its rounding boundary.
            tighten = {"mean": 0.5} if key in ("age_years", "disease_duration_days") else None
            return _fit_univariate(rng_search, raw, grid, _targets(base[key][arm], stats=_QSTATS, tighten=tighten))

        ages = fit("age_years", rng_base.normal(0, 1, n), _AGE)
        duration = fit("disease_duration_days", rng_base.gamma(2.0, 1.0, n), _DURATION)
        bmi = fit("bmi", rng_base.gamma(4.0, 1.0, n), _BMI)
        n_female = int(base["female"][arm]["n"])
        female = np.zeros(n, dtype=bool)
        female[rng_base.choice(n, size=n_female, replace=False)] = True
        n_us = int(base["synovitis_on_ultrasound"][arm]["n"])
        us = np.zeros(n, dtype=bool)
        us[rng_base.choice(n, size=n_us, replace=False)] = True
        pglobal = fit("patient_disease_activity_vas", uu + rng_base.normal(0, 0.7, n), _VAS)
        fatigue = fit("patient_fatigue_vas", 0.5 * uu + rng_base.normal(0, 0.9, n), _VAS)
        pcs = fit("sf36_pcs", -0.6 * uu + rng_base.normal(0, 0.8, n), _SF36)
        mcs = fit("sf36_mcs", -0.3 * uu + rng_base.normal(0, 1.0, n), _SF36)
        haq = fit("haq_di", 0.6 * uu + rng_base.normal(0, 0.8, n), _HAQ)
        eq5d = fit("eq5d_index", -0.6 * uu + rng_base.normal(0, 0.8, n), _eq5d_grid())

        vals = _baseline_pmr_group(rng_base, rng_search, base, arm, uu)

        for i, r in enumerate(arm_rows):
            miller = (ages[i] + 10) / 2 if female[i] else ages[i] / 2
            esr = float(np.clip(round(max(miller + 5 + rng_base.exponential(8), rng_base.normal(48, 20))), 1, 120))
            subj[r] = {
                "age_years": float(ages[i]),
                "sex": "female" if female[i] else "male",
                "disease_duration_days": float(duration[i]),
                "bmi": float(bmi[i]),
                "us_synovitis": bool(us[i]),
            }
            visit_values[(r, 0)] = {
                "crp_mg_l": float(vals["crp_mg_l"][i]),
                "esr_mm_h": esr,
                "pain_vas": float(vals["pain_vas"][i]),
                "patient_global_vas": float(pglobal[i]),
                "fatigue_vas": float(fatigue[i]),
                "physician_global_vas": float(vals["physician_global_vas"][i]),
                "morning_stiffness_min": float(vals["morning_stiffness_min"][i]),
                "upper_limb_elevation": float(vals["upper_limb_elevation"][i]),
                "haq_di": float(haq[i]),
                "eq5d_index": float(eq5d[i]),
                "sf36_pcs": float(pcs[i]),
                "sf36_mcs": float(mcs[i]),
            }

    # post-baseline visits ----------------------------------------------------------------------------------------
    secondary = {int(b["week"]): b for b in pub["secondary"]}
    for k, week in enumerate(design.POST_BASELINE_WEEKS):
        for arm in ARMS:
            arm_rows = [r for r in rows if arm_of[r] == arm and design.STATE_TABLE[r][k] != "."]
            n = len(arm_rows)
            states = [design.STATE_CODES[design.STATE_TABLE[r][k]] for r in arm_rows]
            uu = np.array([u[r] for r in arm_rows])
            block = secondary.get(week)
            out, level = _visit_pmr_group(rng_visit, rng_search, states, uu, week, arm, block, feas)
            pglobal_raw = 0.7 * level + rng_visit.normal(0, 1.0, n)
            fatigue_raw = 0.4 * level + 0.5 * uu + rng_visit.normal(0, 1.2, n)
            qol_raw = {
                "sf36_pcs": -0.5 * level - 0.5 * uu + rng_visit.normal(0, 1, n),
                "sf36_mcs": -0.3 * level - 0.3 * uu + rng_visit.normal(0, 1, n),
                "haq_di": 0.5 * level + 0.5 * uu + rng_visit.normal(0, 1, n),
                "eq5d_index": -0.5 * level - 0.5 * uu + rng_visit.normal(0, 1, n),
            }
            if block is not None:
                rws = block["rows"]
                pairs = (
                    ("patient_global_vas", "disease_activity_vas", pglobal_raw, _VAS),
                    ("fatigue_vas", "fatigue_vas", fatigue_raw, _VAS),
                    ("sf36_pcs", "sf36_pcs", qol_raw["sf36_pcs"], _SF36),
                    ("sf36_mcs", "sf36_mcs", qol_raw["sf36_mcs"], _SF36),
                    ("haq_di", "haq_di", qol_raw["haq_di"], _HAQ),
                    ("eq5d_index", "eq5d_index", qol_raw["eq5d_index"], _eq5d_grid()),
                )
                for col, row, raw, grid in pairs:
                    mean, sd = rws[row][arm]
                    out[col] = _fit_univariate(rng_search, raw, grid, _pair(mean, sd))
            else:
                out["patient_global_vas"] = np.round(np.clip(pglobal_raw, 0, 10), 1)
                out["fatigue_vas"] = np.round(np.clip(fatigue_raw, 0, 10), 1)
            for i, r in enumerate(arm_rows):
                rec = {c: float(v[i]) for c, v in out.items()}
                visit_values[(r, week)] = rec

    # glucocorticoid doses ----------------------------------------------------------------------------------------
    gc_dose = _gc_doses(rng_gc, rows, pub)

    # frames ------------------------------------------------------------------------------------------------------
    subjects = pd.DataFrame(
        [
            {
                "subject_id": sid_of[r],
                "site_id": site_of[r],
                "arm": arm_of[r],
                "randomised_on": date_of[r],
                **subj[r],
                "status": design.STATUS.get(r, "completed"),
            }
            for r in rows
        ]
    )
    subjects["randomised_on"] = pd.to_datetime(subjects["randomised_on"]).astype("datetime64[ns]")
    visit_rows = []
    for r in rows:
        for week in design.VISIT_WEEKS:
            if (r, week) not in visit_values:
                continue
            v = visit_values[(r, week)]
            dose = protocol.dose_at_week(arm_of[r], week)
            visit_rows.append(
                {
                    "subject_id": sid_of[r],
                    "week": week,
                    "crp_mg_l": round(v["crp_mg_l"], 1),
                    "esr_mm_h": float(v["esr_mm_h"]),
                    "pain_vas": round(v["pain_vas"], 1),
                    "patient_global_vas": round(v["patient_global_vas"], 1),
                    "fatigue_vas": round(v["fatigue_vas"], 1),
                    "physician_global_vas": round(v["physician_global_vas"], 1),
                    "morning_stiffness_min": round(v["morning_stiffness_min"]),
                    "upper_limb_elevation": round(v["upper_limb_elevation"]),
                    "oral_gc_mg_day": gc_dose.get((r, week), 0.0),
                    "haq_di": v.get("haq_di", np.nan),
                    "eq5d_index": v.get("eq5d_index", np.nan),
                    "sf36_pcs": v.get("sf36_pcs", np.nan),
                    "sf36_mcs": v.get("sf36_mcs", np.nan),
                    "study_drug_mg_day": 0.0 if dose is None else float(dose[1]),
                }
            )
    visits = pd.DataFrame(visit_rows)
    adverse_events = pd.DataFrame(
        [
            {
                "subject_id": sid_of[r],
                "soc": soc,
                "term": term,
                "serious": serious,
                "severity": severity,
                "onset_week": onset,
                "outcome": outcome,
            }
            for r, soc, term, serious, severity, onset, outcome in design.ADVERSE_EVENTS
        ]
    )
    # Order: subjects by id, visits by id and week, events by id and onset (stable, seed-independent layout).
    subjects = subjects.sort_values("subject_id", ignore_index=True)
    visits = visits.sort_values(["subject_id", "week"], ignore_index=True)
    visits["us_synovitis"] = _us_synovitis_w12(visits, subjects, pub)
    adverse_events = adverse_events.sort_values(["subject_id", "onset_week"], ignore_index=True)
    for frame in (subjects, visits, adverse_events):
        frame.attrs["synthetic"] = True
        frame.attrs["label"] = SYNTHETIC_LABEL
        frame.attrs["seed"] = int(seed)
    report = build_twin_report(subjects, visits, adverse_events, pub)
    return TwinResult(
        subjects=subjects,
        visits=visits,
        adverse_events=adverse_events,
        report=report,
        seed=int(seed),
        notes=(
            f"Subject ids start with {SUBJECT_ID_PREFIX}- to mark every record as synthetic.",
            "Quantiles follow SAS definition 5 / R type 2.",
            "CRP at baseline is published as mg/dL but is in mg/L (yaml note); crp_mg_l holds mg/L throughout.",
        ),
    )


_BOUNDS_VISIT = {
    "crp_mg_l": (0.0, 300.0),
    "pain_vas": (0.0, 10.0),
    "physician_global_vas": (0.0, 10.0),
    "morning_stiffness_min": (0.0, 600.0),
    "esr_mm_h": (1.0, 120.0),
}
_SECONDARY_SPEC = {
    "crp_mg_l": ("crp_mg_dl", 10.0),
    "pain_vas": ("pain_vas", 1.0),
    "physician_global_vas": ("physician_vas", 1.0),
    "morning_stiffness_min": ("morning_stiffness_min", 1.0),
    "esr_mm_h": ("esr_mm_h", 1.0),
}
_ATTEMPTS = 5
_QSTATS = ("mean", "sd", "median", "q1", "q3")


def _baseline_pmr_group(
    rng_draw: np.random.Generator, rng_search: np.random.Generator, base: Mapping[str, Any], arm: str, uu: np.ndarray
) -> dict[str, np.ndarray]:
    """Baseline CRP, pain, physician VAS, stiffness and EUL of one arm, every CRP PMR-AS > 17.

    CRP is printed as mg/dL but is in mg/L (yaml note). Median and quartiles of CRP, physician VAS and
    stiffness are pinned; those of the CRP PMR-AS are soft targets. Pain at baseline is unpublished; its level
    makes the CRP PMR-AS mean. The CRP PMR-AS SD is aimed at the upper half of its rounding window so that the
    whole-cohort SD (10.5) holds too.
    """
    n = len(uu)
    k_eul = int(base["upper_limb_elevation_below_90"][arm]["n"])
    lo_v = {"crp_mg_l": 2.0, "pain_vas": 2.0, "physician_global_vas": 2.0, "morning_stiffness_min": 15.0}
    hi_v = {"crp_mg_l": 400.0, "pain_vas": 10.0, "physician_global_vas": 10.0, "morning_stiffness_min": 720.0}
    keys = {
        "crp_mg_l": "crp",
        "physician_global_vas": "physician_global_vas",
        "morning_stiffness_min": "morning_stiffness_min",
    }
    pmr = base["crp_pmr_as"][arm]
    sd_hw = pmr["sd"].halfwidth
    pmr_targets = [t for t in _targets(pmr, stats=_QSTATS) if t[0] != "sd"] + [
        ("sd", float(pmr["sd"]) + 0.6 * sd_hw, 0.4 * sd_hw)
    ]
    search = GroupSearch(n, rng_search)
    for _attempt in range(_ATTEMPTS):
        nonzero = _choose_nonzero(rng_draw, k_eul, uu)
        eul0 = np.where(nonzero, rng_draw.choice([1.0, 2.0], size=n, p=[0.7, 0.3]), 0.0)
        raw = {
            "crp_mg_l": np.exp(rng_draw.normal(0, 1.0, n) + 0.3 * uu),
            "physician_global_vas": uu + rng_draw.normal(0, 0.7, n),
            "morning_stiffness_min": rng_draw.gamma(3.0, 1.0, n) + 0.5 * uu,
        }
        search = GroupSearch(n, rng_search)
        means = {}
        for var, key in keys.items():
            tg = _targets(base[key][arm], stats=_QSTATS)
            moments, quantiles = _split_targets(tg)
            t = {st: v for st, v, _ in moments}
            init = affine_fit(raw[var], mean=t["mean"], sd=t["sd"], lo=lo_v[var], hi=hi_v[var])
            init, lo_a, hi_a = anchor_quantiles(init, _GRIDS[var], quantiles, lo=lo_v[var], hi=hi_v[var], rng=rng_draw)
            search.add_variable(var, _GRIDS[var], init, lo=lo_a, hi=hi_a)
            _add_targets(search, var, moments)
            means[var] = t["mean"]
        pain_mean = float(pmr["mean"]) - means["crp_mg_l"] / 10 - means["physician_global_vas"]
        pain_mean -= means["morning_stiffness_min"] / 10 + float(eul0.mean())
        pain0 = np.clip(pain_mean + 1.3 * (0.6 * uu + 0.8 * rng_draw.normal(0, 1, n)), 2.0, 10.0)
        search.add_variable("pain_vas", _VAS, pain0, lo=np.full(n, 2.0), hi=np.full(n, 10.0))
        lo_e, hi_e = _eul_bounds(nonzero)
        search.add_variable("upper_limb_elevation", _EUL, eul0, lo=lo_e, hi=hi_e)
        search.add_composite("crp_pmr_as", _PMR_WEIGHTS, lo=np.full(n, _INCLUSION_LO))
        _add_targets(search, "crp_pmr_as", pmr_targets)
        values = search.run(max_iter=30_000, patience=4000)
        if search.met():
            return values
    return search.values()  # pragma: no cover - every attempt failed; the report will show the miss


def _visit_pmr_group(
    rng_draw: np.random.Generator,
    rng_search: np.random.Generator,
    states: list[str],
    uu: np.ndarray,
    week: int,
    arm: str,
    block: Mapping[str, Any] | None,
    feas: Mapping[tuple[int, str, str, str], Any],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """CRP, ESR, pain, physician VAS, stiffness and EUL of one arm at one visit, each CRP PMR-AS in its state.

    At weeks 12, 24 and 36 the published means and SDs are targets (ESR PMR-AS ones only where they can hold,
    see :mod:`pmrtrial.synth._feasibility`). Returns the values and the drawn activity levels.
    """
    n = len(states)
    on_gc = np.array([s.endswith("_gc") and not s.endswith("no_gc") for s in states])
    gt10 = np.array([s.startswith("gt10") for s in states])
    pmr_lo = np.where(gt10, _GT10_LO, -np.inf)
    pmr_hi = np.where(gt10, np.inf, _LE10_HI)
    crp_med = np.full(n, 2.0) if arm == "baricitinib" else np.where(on_gc, 3.0, np.where(gt10, 15.0, 6.0))
    esr_med = np.where(on_gc, 9.0, 18.0 if arm == "baricitinib" else 14.0)
    search = GroupSearch(n, rng_search)
    level = np.zeros(n)
    for _attempt in range(_ATTEMPTS):
        level = _levels(rng_draw, states, uu, week, arm)
        if block is not None:
            k_eul = n - int(block["rows"]["upper_limb_elevation_above_90"][arm][0])
            nonzero = _choose_nonzero(rng_draw, k_eul, 3.0 * gt10 + 0.5 * uu)
        else:
            nonzero = rng_draw.random(n) < np.where(gt10, 0.5, 0.04)
        eul = np.where(nonzero, 1.0, 0.0)
        comp = _components(rng_draw, level, crp_med, eul)
        comp["esr_mm_h"] = np.exp(np.log(esr_med) + 0.25 * uu + rng_draw.normal(0, 0.5, n))
        search = GroupSearch(n, rng_search)
        if block is not None:
            for var, (row, scale) in _SECONDARY_SPEC.items():
                mean, sd = block["rows"][row][arm]
                lo_b, hi_b = _BOUNDS_VISIT[var]
                comp[var] = affine_fit(comp[var], mean=float(mean) * scale, sd=float(sd) * scale, lo=lo_b, hi=hi_b)
        for var, (lo_b, hi_b) in _BOUNDS_VISIT.items():
            search.add_variable(var, _GRIDS[var], comp[var], lo=np.full(n, lo_b), hi=np.full(n, hi_b))
        lo_e, hi_e = _eul_bounds(nonzero)
        search.add_variable("upper_limb_elevation", _EUL, eul, lo=lo_e, hi=hi_e)
        search.add_composite("crp_pmr_as", _PMR_WEIGHTS, lo=pmr_lo, hi=pmr_hi)
        esr_weights = {**{k: v for k, v in _PMR_WEIGHTS.items() if k != "crp_mg_l"}, "esr_mm_h": 0.1}
        search.add_composite("esr_pmr_as", esr_weights)
        if block is None:
            return search.run(), level
        rows = block["rows"]
        for var, (row, scale) in _SECONDARY_SPEC.items():
            mean_sd = rows[row][arm]
            _add_targets(search, var, _pair(mean_sd[0], mean_sd[1], scale))
        for row in ("crp_pmr_as", "esr_pmr_as"):
            pair = _pair(rows[row][arm][0], rows[row][arm][1])
            keep = [t for t in pair if row == "crp_pmr_as" or feas[(week, arm, row, t[0])].feasible]
            _add_targets(search, row, keep)
        values = search.run(max_iter=40_000, patience=5000)
        if search.met():
            return values, level
    return search.values(), level  # pragma: no cover - every attempt failed; the report will show the miss


def _us_synovitis_w12(visits: pd.DataFrame, subjects: pd.DataFrame, pub: Mapping[str, Any]) -> pd.Series:
    """Ultrasound synovitis/tenosynovitis at the visits with an ultrasound: baseline (the subjects' value)
    and week 12 (deck: 11/18 vs 12/16).

    Deterministic (no random draw, so no other value of the twin moves): in each arm the first ``n``
    week-12 rows in subject-id order have synovitis, the others not. The printed denominators are the
    randomised numbers; the placebo participant not assessed at week 12 has no row, and the protocol's
    endpoint (``missing: non_event``) counts that participant as without synovitis.
    """
    arm_of = dict(zip(subjects["subject_id"], subjects["arm"], strict=True))
    at_baseline = dict(zip(subjects["subject_id"], subjects["us_synovitis"], strict=True))
    out = pd.Series(pd.array([pd.NA] * len(visits), dtype="boolean"), index=visits.index)
    for i in visits.index[visits["week"] == 0]:
        out[i] = bool(at_baseline[visits.at[i, "subject_id"]])
    at12 = visits.index[visits["week"] == 12]
    for arm, target in pub["ultrasound_week12_synovitis"].items():
        rows = [i for i in at12 if arm_of[visits.at[i, "subject_id"]] == arm]
        for k, i in enumerate(rows):
            out[i] = k < int(target["n"])
    return out


def _gc_doses(rng: np.random.Generator, rows: list[str], pub: Mapping[str, Any]) -> dict[tuple[str, int], float]:
    """Rescue prednisone (mg/day) at each attended visit on GC: a start dose tapered by 2.5 mg every 4 weeks.

    Placebo start doses are redrawn until the mean dose of the placebo participants on GC at week 12 lies in
    the printed range (yaml ``placebo_prednisone_at_week12_mg_day``: mean 19-23 mg/day).
    """
    lo, hi = 19.0, 23.0  # yaml placebo_prednisone_at_week12_mg_day "mean 19-23"
    for _ in range(1000):
        doses: dict[tuple[str, int], float] = {}
        for r in rows:
            if r not in design.GC_START_WEEK:
                continue
            start, stop = design.GC_START_WEEK[r]
            is_placebo = r.startswith("P")
            d0 = float(rng.choice([20.0, 22.5, 25.0] if is_placebo else [10.0, 15.0]))
            for k, week in enumerate(design.POST_BASELINE_WEEKS):
                if design.STATE_TABLE[r][k] == "." or week < start or (stop is not None and week >= stop):
                    continue
                taper = 2.5 * ((week - start) // 4)
                dose = max(2.5 if is_placebo else 5.0, d0 - taper)
                if design.STATE_TABLE[r][k] == "D":  # flare on GC: dose raised back
                    dose = max(dose, d0 - 2.5)
                doses[(r, week)] = dose
        w12 = [d for (r, w), d in doses.items() if w == 12 and r.startswith("P")]
        if lo + 0.5 <= float(np.mean(w12)) <= hi - 0.5:
            return doses
    raise DataError("Could not draw rescue prednisone doses matching the published week-12 mean.")  # pragma: no cover
