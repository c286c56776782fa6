"""The variable vocabulary: every canonical variable of pmrtrial, declared once.

Each :class:`Variable` has a name, the table it belongs to, a logical type, a unit, its accepted
range (``lo``/``hi``) or levels, whether it is required, a label in English and French, and a
description. Everything else is built from it: the dataset specs (:mod:`pmrtrial.datasets`), the
protocol's variable names (:mod:`pmrtrial.protocol.variables`), the EDC form ranges and export
columns, and the README's dataset tables (:func:`markdown_table`). ``tests/test_single_source.py``
fails when another module declares a range or a column list of its own.

Tables:

- ``subjects``, ``visits``, ``adverse_events``: the canonical analysis datasets (required);
- ``gc_doses``, ``flares``: optional canonical datasets (an absent file means the table is absent);
- ``derived``: per-visit variables computed from ``visits`` by :mod:`pmrtrial.derive` (never read
  from a file; declared here for their labels, units and ranges).

A name may occur in several tables (``subject_id`` everywhere; ``us_synovitis`` at baseline and per
visit; ``crp_pmr_as`` derived and in ``flares``). A lookup without ``table`` returns the first
declaration in the order of :data:`TABLES`.

This module is the ground floor: it imports nothing from pmrtrial.

>>> label("crp_mg_l", "fr")
'Protéine C-réactive (CRP)'
>>> value_range("pain_vas")
(0.0, 10.0)
>>> column_names("gc_doses")
('subject_id', 'start_day', 'end_day', 'dose_mg_day', 'reason')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "DATASET_TABLES",
    "OPTIONAL_TABLES",
    "REQUIRED_TABLES",
    "TABLES",
    "VARIABLES",
    "Kind",
    "Variable",
    "canonical_names",
    "column_names",
    "get_variable",
    "is_canonical",
    "label",
    "levels",
    "markdown_table",
    "table_variables",
    "update_markdown_tables",
    "value_range",
]

Kind = Literal["string", "float", "integer", "boolean", "date", "category"]
Lang = Literal["en", "fr"]

#: Canonical datasets that every analysis needs.
REQUIRED_TABLES: tuple[str, ...] = ("subjects", "visits", "adverse_events")
#: Canonical datasets that may be absent (absent file = table absent).
OPTIONAL_TABLES: tuple[str, ...] = ("gc_doses", "flares")
#: Every table that is a dataset on disk.
DATASET_TABLES: tuple[str, ...] = REQUIRED_TABLES + OPTIONAL_TABLES
#: All tables, in lookup order (a name without a table resolves to its first declaration here).
TABLES: tuple[str, ...] = ("subjects", "visits", "adverse_events", "derived", "gc_doses", "flares")


@dataclass(frozen=True)
class Variable:
    """One canonical variable.

    Attributes
    ----------
    name : str
        Snake case, with the unit as a suffix where there is one (``crp_mg_l``).
    table : str
        One of :data:`TABLES`.
    kind : {"string", "float", "integer", "boolean", "date", "category"}
        Logical type. Booleans are ``true``/``false``; dates ISO 8601; categories one of ``levels``.
    unit : str
        Unit or scale (``"mg/L"``, ``"0-10"``; ``"-"`` when unitless).
    label_en, label_fr : str
        Short human labels (reports, eCRFs, data dictionaries).
    description : str
        What the variable holds.
    required : bool
        A required column must be present in its dataset and never missing.
    lo, hi : float or None
        Inclusive range of numeric values.
    levels : tuple or None
        Accepted values (categories, or the integer codes of an ordinal scale).
    level_labels : mapping or None
        Level -> (English, French) display label, where the level itself is not readable enough.
    accepted : str or None
        What is accepted, when it depends on the protocol (arms, visit weeks): shown instead of the range.
    protocol_variable : bool
        For ``visits`` and ``derived`` variables: a protocol's endpoints and rescue rules may name it
        (:mod:`pmrtrial.protocol.variables`). False for keys, dates, and labels-only derived names
        that :mod:`pmrtrial.derive` does not compute on its own.
    reveals_arm : bool
        The value tells the randomised arm (the arm itself, the study-drug dose): blinded exports and
        blinded reviews must leave it out.
    """

    name: str
    table: str
    kind: Kind
    unit: str
    label_en: str
    label_fr: str
    description: str
    required: bool = False
    lo: float | None = None
    hi: float | None = None
    levels: tuple[Any, ...] | None = None
    level_labels: Mapping[Any, tuple[str, str]] | None = field(default=None, compare=False)
    accepted: str | None = None
    protocol_variable: bool = True
    reveals_arm: bool = False

    def label(self, lang: Lang = "en") -> str:
        """The label in ``lang`` (``"en"`` or ``"fr"``)."""
        if lang == "en":
            return self.label_en
        if lang == "fr":
            return self.label_fr
        raise ValueError(f"Invalid lang {lang!r}. Expected 'en' or 'fr'.")

    def level_label(self, level: Any, lang: Lang = "en") -> str:
        """Display label of one level (the level with ``_`` read as a space when none is declared)."""
        if self.level_labels and level in self.level_labels:
            en, fr = self.level_labels[level]
            return en if lang == "en" else fr
        return str(level).replace("_", " ")

    def describe_range(self) -> str:
        """``one of a, b``, ``[lo, hi]``, ``>= lo`` or ``-``."""
        if self.levels is not None:
            return "one of " + ", ".join(str(a) for a in self.levels)
        if self.lo is not None and self.hi is not None:
            return f"[{self.lo:g}, {self.hi:g}]"
        if self.lo is not None:
            return f">= {self.lo:g}"
        if self.hi is not None:
            return f"<= {self.hi:g}"
        return "-"


def _v(
    table: str,
    name: str,
    kind: Kind,
    unit: str,
    labels: tuple[str, str],
    description: str,
    *,
    required: bool = False,
    lo: float | None = None,
    hi: float | None = None,
    levels: tuple[Any, ...] | None = None,
    level_labels: Mapping[Any, tuple[str, str]] | None = None,
    accepted: str | None = None,
    protocol_variable: bool = True,
    reveals_arm: bool = False,
) -> Variable:
    return Variable(
        name,
        table,
        kind,
        unit,
        labels[0],
        labels[1],
        description,
        required,
        None if lo is None else float(lo),
        None if hi is None else float(hi),
        levels,
        None if level_labels is None else MappingProxyType(dict(level_labels)),
        accepted,
        protocol_variable,
        reveals_arm,
    )


def _subject_key(table: str) -> Variable:
    return _v(
        table,
        "subject_id",
        "string",
        "-",
        ("Participant", "Participant"),
        "participant identifier (must exist in subjects)",
        required=True,
        protocol_variable=False,
    )


_BLINDING_LEVELS = ("active", "control", "dont_know")
_BLINDING_LABELS = {
    "active": ("active treatment", "traitement actif"),
    "control": ("control (placebo or comparator)", "contrôle (placebo ou comparateur)"),
    "dont_know": ("don't know", "ne sait pas"),
}

_SUBJECTS = (
    _v(
        "subjects",
        "subject_id",
        "string",
        "-",
        ("Participant", "Participant"),
        "participant identifier, unique",
        required=True,
    ),
    _v("subjects", "site_id", "string", "-", ("Centre", "Centre"), "centre identifier (GEE cluster)", required=True),
    _v(
        "subjects",
        "arm",
        "category",
        "-",
        ("Randomised arm", "Bras de randomisation"),
        "randomised arm id, one of the protocol's arms",
        required=True,
        accepted="an arm id of the protocol",
        reveals_arm=True,
    ),
    _v(
        "subjects",
        "randomised_on",
        "date",
        "YYYY-MM-DD",
        ("Date of randomisation", "Date de randomisation"),
        "date of randomisation",
        required=True,
    ),
    _v("subjects", "age_years", "float", "years", ("Age", "Âge"), "age at randomisation", lo=18, hi=120),
    _v(
        "subjects",
        "sex",
        "category",
        "-",
        ("Sex", "Sexe"),
        "sex",
        levels=("female", "male"),
        level_labels={"female": ("female", "femme"), "male": ("male", "homme")},
    ),
    _v(
        "subjects",
        "disease_duration_days",
        "float",
        "days",
        ("Disease duration", "Durée d'évolution de la maladie"),
        "time from symptom onset to inclusion",
        lo=0,
        hi=36500,
    ),
    _v(
        "subjects",
        "bmi",
        "float",
        "kg/m2",
        ("Body-mass index", "Indice de masse corporelle"),
        "body-mass index",
        lo=10,
        hi=80,
    ),
    _v(
        "subjects",
        "us_synovitis",
        "boolean",
        "-",
        ("Ultrasound synovitis at baseline", "Synovite échographique à l'inclusion"),
        "synovitis or tenosynovitis on ultrasound at baseline",
    ),
    _v(
        "subjects",
        "status",
        "category",
        "-",
        ("End-of-study status", "Statut en fin d'étude"),
        "end-of-study status ('ongoing' in an interim export: still in follow-up)",
        required=True,
        levels=("completed", "withdrawn", "lost", "ongoing"),
        level_labels={
            "completed": ("completed", "étude terminée"),
            "withdrawn": ("withdrawn", "sortie prématurée d'étude"),
            "lost": ("lost to follow-up", "perdu de vue"),
            "ongoing": ("ongoing (interim)", "en cours (analyse intermédiaire)"),
        },
    ),
    _v(
        "subjects",
        "stratum",
        "string",
        "-",
        ("Randomisation stratum", "Strate de randomisation"),
        "randomisation stratum (as named by the protocol)",
    ),
    _v(
        "subjects",
        "blinding_guess_participant",
        "category",
        "-",
        ("Participant's guess of the arm", "Bras supposé par le participant"),
        "end-of-study blinding question: the arm the participant thinks was received",
        levels=_BLINDING_LEVELS,
        level_labels=_BLINDING_LABELS,
    ),
    _v(
        "subjects",
        "blinding_guess_investigator",
        "category",
        "-",
        ("Investigator's guess of the arm", "Bras supposé par l'investigateur"),
        "end-of-study blinding question: the arm the investigator thinks was received",
        levels=_BLINDING_LEVELS,
        level_labels=_BLINDING_LABELS,
    ),
)

_VISITS = (
    _subject_key("visits"),
    _v(
        "visits",
        "week",
        "float",
        "weeks",
        ("Visit week", "Semaine de visite"),
        "scheduled visit week (protocol schedule)",
        required=True,
        lo=0,
        hi=520,
        accepted="a scheduled week of the protocol",
        protocol_variable=False,
    ),
    _v(
        "visits",
        "crp_mg_l",
        "float",
        "mg/L",
        ("C-reactive protein (CRP)", "Protéine C-réactive (CRP)"),
        "C-reactive protein",
        lo=0,
        hi=1000,
    ),
    _v(
        "visits",
        "esr_mm_h",
        "float",
        "mm/h",
        ("Erythrocyte sedimentation rate (first hour)", "Vitesse de sédimentation (1re heure)"),
        "erythrocyte sedimentation rate, Westergren, first hour",
        lo=0,
        hi=200,
    ),
    _v(
        "visits",
        "pain_vas",
        "float",
        "0-10",
        ("Patient's pain (VAS)", "Douleur du patient (EVA)"),
        "patient's pain, visual analogue scale",
        lo=0,
        hi=10,
    ),
    _v(
        "visits",
        "patient_global_vas",
        "float",
        "0-10",
        ("Patient's global assessment (VAS)", "Appréciation globale du patient (EVA)"),
        "patient's assessment of disease activity, VAS",
        lo=0,
        hi=10,
    ),
    _v(
        "visits",
        "fatigue_vas",
        "float",
        "0-10",
        ("Fatigue (VAS)", "Fatigue (EVA)"),
        "patient's fatigue, VAS",
        lo=0,
        hi=10,
    ),
    _v(
        "visits",
        "physician_global_vas",
        "float",
        "0-10",
        ("Physician's global assessment (VAS)", "Appréciation globale du médecin (EVA)"),
        "physician's global assessment of disease activity",
        lo=0,
        hi=10,
    ),
    _v(
        "visits",
        "morning_stiffness_min",
        "float",
        "min",
        ("Morning stiffness", "Raideur matinale"),
        "morning stiffness",
        lo=0,
        hi=1440,
    ),
    _v(
        "visits",
        "upper_limb_elevation",
        "integer",
        "0-3",
        ("Upper-limb elevation (EUL)", "Élévation des membres supérieurs (EUL)"),
        "EUL: 0 above the shoulder girdle, 1 up to it, 2 below it, 3 none",
        levels=(0, 1, 2, 3),
        level_labels={
            0: ("0: above 90°", "0 : au-dessus de 90°"),
            1: ("1: up to 90°", "1 : jusqu'à 90°"),
            2: ("2: below 90°", "2 : en dessous de 90°"),
            3: ("3: none", "3 : impossible"),
        },
    ),
    _v(
        "visits",
        "oral_gc_mg_day",
        "float",
        "mg/day",
        ("Oral glucocorticoid dose", "Dose de glucocorticoïdes oraux"),
        "oral glucocorticoid, prednisone-equivalent (0 = none)",
        lo=0,
        hi=1000,
    ),
    _v(
        "visits",
        "haq_di",
        "float",
        "0-3",
        ("HAQ Disability Index", "Indice de handicap HAQ (HAQ-DI)"),
        "HAQ Disability Index",
        lo=0,
        hi=3,
    ),
    _v(
        "visits",
        "eq5d_index",
        "float",
        "index",
        ("EQ-5D index", "Index EQ-5D"),
        "EQ-5D index (value set named in the protocol)",
        lo=-1,
        hi=1,
    ),
    _v(
        "visits",
        "sf36_pcs",
        "float",
        "T-score",
        ("SF-36 physical component summary", "SF-36 : score composite physique"),
        "SF-36 physical component summary (norm-based)",
        lo=0,
        hi=100,
    ),
    _v(
        "visits",
        "sf36_mcs",
        "float",
        "T-score",
        ("SF-36 mental component summary", "SF-36 : score composite mental"),
        "SF-36 mental component summary (norm-based)",
        lo=0,
        hi=100,
    ),
    _v(
        "visits",
        "study_drug_mg_day",
        "float",
        "mg/day",
        ("Study-drug dose", "Dose du traitement à l'étude"),
        "study-drug dose taken (placebo: 0)",
        lo=0,
        hi=1000,
        reveals_arm=True,
    ),
    _v(
        "visits",
        "visit_date",
        "date",
        "YYYY-MM-DD",
        ("Visit date", "Date de visite"),
        "date of the visit",
        protocol_variable=False,
    ),
    _v(
        "visits",
        "us_synovitis",
        "boolean",
        "-",
        ("Ultrasound synovitis", "Synovite échographique"),
        "synovitis or tenosynovitis on ultrasound at this visit",
    ),
)

_ADVERSE_EVENTS = (
    _subject_key("adverse_events"),
    _v(
        "adverse_events",
        "soc",
        "string",
        "-",
        ("System organ class (MedDRA)", "Classe de systèmes d'organes (MedDRA)"),
        "MedDRA system organ class",
        required=True,
    ),
    _v(
        "adverse_events",
        "term",
        "string",
        "-",
        ("Adverse event term", "Terme de l'événement indésirable"),
        "MedDRA preferred term (or verbatim term)",
        required=True,
    ),
    _v(
        "adverse_events",
        "serious",
        "boolean",
        "-",
        ("Serious", "Grave"),
        "serious adverse event (ICH E2A)",
        required=True,
    ),
    _v(
        "adverse_events",
        "severity",
        "category",
        "-",
        ("Severity", "Intensité"),
        "intensity",
        levels=("mild", "moderate", "severe"),
        level_labels={"mild": ("mild", "légère"), "moderate": ("moderate", "modérée"), "severe": ("severe", "sévère")},
    ),
    _v(
        "adverse_events",
        "onset_week",
        "float",
        "weeks",
        ("Onset (week)", "Survenue (semaine)"),
        "onset, weeks since randomisation",
        lo=0,
        hi=520,
    ),
    _v(
        "adverse_events",
        "outcome",
        "category",
        "-",
        ("Outcome", "Évolution"),
        "outcome (CDISC AEOUT, lower case; 'fatal' counts as a death)",
        levels=("recovered", "recovering", "not_recovered", "recovered_with_sequelae", "fatal", "unknown"),
        level_labels={
            "recovered": ("recovered", "résolu"),
            "recovering": ("recovering", "en cours de résolution"),
            "not_recovered": ("not recovered", "non résolu"),
            "recovered_with_sequelae": ("recovered with sequelae", "résolu avec séquelles"),
            "fatal": ("fatal", "décès"),
            "unknown": ("unknown", "inconnue"),
        },
    ),
)

_GC_DOSES = (
    _subject_key("gc_doses"),
    _v(
        "gc_doses",
        "start_day",
        "integer",
        "days",
        ("Start day", "Jour de début"),
        "first day of the dose, days since randomisation (day 0 = randomisation day)",
        required=True,
        lo=-3650,
        hi=3650,
    ),
    _v(
        "gc_doses",
        "end_day",
        "integer",
        "days",
        ("End day", "Jour de fin"),
        "last day of the dose, inclusive; empty = ongoing to the end of follow-up",
        lo=-3650,
        hi=3650,
    ),
    _v(
        "gc_doses",
        "dose_mg_day",
        "float",
        "mg/day",
        ("Glucocorticoid dose", "Dose de glucocorticoïdes"),
        "glucocorticoid dose, prednisone-equivalent",
        required=True,
        lo=0,
        hi=1000,
    ),
    _v(
        "gc_doses",
        "reason",
        "category",
        "-",
        ("Reason", "Motif"),
        "why the dose was given",
        levels=("taper", "rescue", "injection", "other"),
        level_labels={
            "taper": ("taper", "décroissance"),
            "rescue": ("rescue", "traitement de secours"),
            "injection": ("injection", "infiltration"),
            "other": ("other", "autre"),
        },
    ),
)

_FLARES = (
    _subject_key("flares"),
    _v(
        "flares",
        "day",
        "integer",
        "days",
        ("Day of flare", "Jour de la poussée"),
        "day of the flare, days since randomisation",
        required=True,
        lo=-3650,
        hi=3650,
    ),
    _v(
        "flares",
        "confirmed",
        "boolean",
        "-",
        ("Confirmed by the investigator", "Confirmée par l'investigateur"),
        "the investigator confirmed the flare",
        required=True,
    ),
    _v(
        "flares",
        "rule",
        "string",
        "-",
        ("Flare rule", "Règle de poussée"),
        "rule that fired (e.g. dejaco_2011) or 'investigator'",
    ),
    _v(
        "flares",
        "crp_pmr_as",
        "float",
        "score",
        ("CRP PMR-AS at flare", "PMR-AS (CRP) lors de la poussée"),
        "CRP PMR-AS at the flare",
        lo=0,
    ),
)

_RESPONSE_STATES = ("le10_no_gc", "le10_gc", "gt10_no_gc", "gt10_gc", "missing")

_DERIVED = (
    _v(
        "derived",
        "crp_mg_dl",
        "float",
        "mg/dL",
        ("C-reactive protein (mg/dL)", "Protéine C-réactive (mg/dL)"),
        "CRP in mg/dL (crp_mg_l / 10)",
        lo=0,
        hi=100,
    ),
    _v(
        "derived", "crp_pmr_as", "float", "score", ("CRP PMR-AS", "PMR-AS (CRP)"), "CRP PMR-AS (Leeb & Bird 2004)", lo=0
    ),
    _v("derived", "esr_pmr_as", "float", "score", ("ESR PMR-AS", "PMR-AS (VS)"), "ESR PMR-AS", lo=0),
    _v(
        "derived",
        "clin_pmr_as",
        "float",
        "score",
        ("Clinical PMR-AS", "PMR-AS clinique"),
        "PMR-AS without inflammatory marker",
        lo=0,
    ),
    _v(
        "derived",
        "crp_pmr_as_activity",
        "category",
        "-",
        ("PMR-AS activity", "Activité (PMR-AS)"),
        "activity category of the CRP PMR-AS (remission <= 1.5 < low < 7 <= moderate <= 17 < high)",
        levels=("remission", "low", "moderate", "high"),
        level_labels={
            "remission": ("remission", "rémission"),
            "low": ("low", "faible"),
            "moderate": ("moderate", "modérée"),
            "high": ("high", "forte"),
        },
        protocol_variable=False,
    ),
    _v(
        "derived",
        "on_oral_gc",
        "boolean",
        "-",
        ("On oral glucocorticoid", "Sous glucocorticoïdes oraux"),
        "oral glucocorticoid taken at the visit (oral_gc_mg_day > 0)",
    ),
    _v(
        "derived",
        "upper_limb_elevation_above_90",
        "boolean",
        "-",
        ("Upper-limb elevation above 90°", "Élévation des membres supérieurs au-dessus de 90°"),
        "EUL = 0 (elevation above 90 degrees)",
    ),
    _v(
        "derived",
        "response_state",
        "category",
        "-",
        ("Four-state response", "Réponse en quatre états"),
        "CRP PMR-AS <= 10 or > 10, with or without oral glucocorticoid, or missing",
        levels=_RESPONSE_STATES,
        level_labels={
            "le10_no_gc": ("PMR-AS ≤ 10 without GC", "PMR-AS ≤ 10 sans GC"),
            "le10_gc": ("PMR-AS ≤ 10 with GC", "PMR-AS ≤ 10 avec GC"),
            "gt10_no_gc": ("PMR-AS > 10 without GC", "PMR-AS > 10 sans GC"),
            "gt10_gc": ("PMR-AS > 10 with GC", "PMR-AS > 10 avec GC"),
            "missing": ("missing", "manquant"),
        },
    ),
    _v(
        "derived",
        "response",
        "boolean",
        "-",
        ("Response", "Réponse"),
        "CRP PMR-AS <= 10 without oral glucocorticoid (BACHELOR's primary definition)",
        protocol_variable=False,
    ),
    _v(
        "derived",
        "baseline_crp_pmr_as",
        "float",
        "score",
        ("Baseline CRP PMR-AS", "PMR-AS (CRP) à l'inclusion"),
        "CRP PMR-AS at the baseline visit",
        lo=0,
    ),
    _v(
        "derived",
        "change_crp_pmr_as",
        "float",
        "score",
        ("Change in CRP PMR-AS from baseline", "Variation du PMR-AS (CRP) depuis l'inclusion"),
        "CRP PMR-AS change from baseline",
    ),
    _v("derived", "flare", "boolean", "-", ("Flare", "Poussée"), "flare by Dejaco 2011 rules against baseline"),
    _v(
        "derived",
        "flare_rule",
        "category",
        "-",
        ("Flare rule that fired", "Règle de poussée déclenchée"),
        "which Dejaco 2011 rule fired: score > 9.35 (absolute), rise > 6.6 (change), both or none",
        levels=("absolute", "change", "both", "none"),
    ),
    _v(
        "derived",
        "cumulative_gc_mg",
        "float",
        "mg",
        ("Cumulative glucocorticoid dose", "Dose cumulée de glucocorticoïdes"),
        "cumulative glucocorticoid from day 0 to the day before the visit (gc_doses log, oral and injected; "
        "without it, the step rule over the visit-level oral doses)",
        lo=0,
    ),
    _v(
        "derived",
        "gc_free",
        "boolean",
        "-",
        ("Glucocorticoid-free", "Sans glucocorticoïdes"),
        "no glucocorticoid on the visit day (gc_doses log; without it, oral_gc_mg_day = 0)",
    ),
    _v(
        "derived",
        "baseline_oral_gc_mg_day",
        "float",
        "mg/day",
        ("Baseline oral glucocorticoid dose", "Dose de glucocorticoïdes oraux à l'inclusion"),
        "oral glucocorticoid dose at the baseline visit",
        lo=0,
        protocol_variable=False,
    ),
    _v(
        "derived",
        "change_oral_gc_mg_day",
        "float",
        "mg/day",
        ("Change in oral glucocorticoid dose", "Variation de la dose de glucocorticoïdes oraux"),
        "oral GC dose change from baseline (oral_gc_mg_day - baseline)",
    ),
    _v(
        "derived",
        "flare_free_from_w12",
        "boolean",
        "-",
        ("Flare-free from week 12", "Sans poussée depuis la semaine 12"),
        "no flare (Dejaco 2011, against baseline) at any recorded visit from week 12 to this visit; "
        "missing before week 12",
    ),
    _v(
        "derived",
        "crp_normal_from_w12",
        "boolean",
        "-",
        ("Normal CRP from week 12", "CRP normale depuis la semaine 12"),
        "CRP <= parameters.crp_upper_limit_mg_l at every recorded visit from week 12 to this visit; "
        "missing before week 12",
    ),
    _v(
        "derived",
        "remission_by_w12",
        "boolean",
        "-",
        ("Remission by week 12", "Rémission à la semaine 12"),
        "per participant: at the week-12 visit, no flare (Dejaco 2011) and CRP <= the protocol's upper limit "
        "(a proxy for 'resolution of signs and symptoms by week 12'); the same value on every row",
    ),
    _v(
        "derived",
        "gc_taper_adherent",
        "boolean",
        "-",
        ("Adherent to the glucocorticoid taper", "Observance de la décroissance des glucocorticoïdes"),
        "logged oral GC dose <= the arm's gc_taper dose (+ parameters.gc_taper_tolerance_mg_day) on every day "
        "from the previous scheduled visit to the day before this visit (needs the gc_doses log and the arms' "
        "gc_taper; without them a supplied 'gc_taper_adherent' column is kept)",
    ),
)

#: Every canonical variable, in table order (:data:`TABLES`) and column order within a table.
VARIABLES: tuple[Variable, ...] = tuple(
    sorted(
        _SUBJECTS + _VISITS + _ADVERSE_EVENTS + _DERIVED + _GC_DOSES + _FLARES,
        key=lambda v: TABLES.index(v.table),
    )
)

_BY_TABLE: Mapping[str, tuple[Variable, ...]] = MappingProxyType(
    {t: tuple(v for v in VARIABLES if v.table == t) for t in TABLES}
)
_BY_NAME: Mapping[str, Variable] = MappingProxyType(
    {v.name: v for v in reversed(VARIABLES)}  # reversed: the first declaration wins
)


def _check_table(table: str) -> None:
    if table not in _BY_TABLE:
        raise KeyError(f"Unknown table {table!r}. Expected one of {', '.join(TABLES)}.")


def table_variables(table: str) -> tuple[Variable, ...]:
    """The variables of ``table``, in column order."""
    _check_table(table)
    return _BY_TABLE[table]


def column_names(table: str) -> tuple[str, ...]:
    """Column names of ``table``, in order."""
    return tuple(v.name for v in table_variables(table))


def get_variable(name: str, table: str | None = None) -> Variable:
    """The variable ``name`` (of ``table``, or its first declaration in :data:`TABLES` order)."""
    if table is not None:
        for v in table_variables(table):
            if v.name == name:
                return v
        raise KeyError(
            f"Unknown variable {name!r} in table {table!r}. Expected one of {', '.join(column_names(table))}."
        )
    if name not in _BY_NAME:
        raise KeyError(f"Unknown variable {name!r}. It is not declared in pmrtrial.vocabulary.")
    return _BY_NAME[name]


def is_canonical(name: str) -> bool:
    """True when ``name`` is declared in some table."""
    return name in _BY_NAME


def canonical_names(*tables: str) -> frozenset[str]:
    """Names declared in ``tables`` (all tables when none is given)."""
    for t in tables:
        _check_table(t)
    wanted = set(tables or TABLES)
    return frozenset(v.name for v in VARIABLES if v.table in wanted)


def value_range(name: str, table: str | None = None) -> tuple[float | None, float | None]:
    """Inclusive ``(lo, hi)`` of a numeric variable (``None`` = unbounded)."""
    v = get_variable(name, table)
    return v.lo, v.hi


def levels(name: str, table: str | None = None) -> tuple[Any, ...] | None:
    """Accepted levels of a category or ordinal variable (``None`` when it has none)."""
    return get_variable(name, table).levels


def label(name: str, lang: Lang = "en", table: str | None = None) -> str:
    """Human label of ``name`` in ``lang``; an undeclared name is returned unchanged.

    Reports call this for every variable they print, so an undeclared (for instance
    endpoint-specific) name falls back to itself rather than failing.
    """
    if table is None and name not in _BY_NAME:
        return name
    return get_variable(name, table).label(lang)


# -- documentation --------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table(table: str) -> str:
    """The README table of a dataset: column, type, unit, accepted, required, description (no trailing newline)."""
    rows = [
        "| column | type | unit | accepted | required | description |",
        "|---|---|---|---|---|---|",
    ]
    for v in table_variables(table):
        accepted = v.accepted if v.accepted is not None else v.describe_range()
        rows.append(
            f"| `{v.name}` | {v.kind} | {_cell(v.unit)} | {_cell(accepted)} | {'yes' if v.required else 'no'} "
            f"| {_cell(v.description)} |"
        )
    return "\n".join(rows)


_BLOCK = re.compile(r"(<!-- vocabulary:(\w+) -->\n)(.*?)(<!-- /vocabulary:\2 -->)", re.DOTALL)


def update_markdown_tables(text: str) -> str:
    """``text`` with every ``<!-- vocabulary:T -->`` ... ``<!-- /vocabulary:T -->`` block regenerated.

    >>> update_markdown_tables("<!-- vocabulary:flares -->\\nold\\n<!-- /vocabulary:flares -->").count("| `day` |")
    1
    """
    return _BLOCK.sub(lambda m: f"{m.group(1)}{markdown_table(m.group(2))}\n{m.group(4)}", text)
