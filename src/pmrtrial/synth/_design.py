"""The exact combinatorial design of the BACHELOR twin: who is in which state at which visit, who misses which
visit, who takes rescue glucocorticoid, and the adverse-event listing.

Everything here is fixed (no randomness); the generator only permutes which synthetic participant gets which
row, and draws the continuous values. The counts this design produces are checked against the published
tables when the twin is built (:func:`pmrtrial.synth.bachelor.generate_bachelor_twin`).

State codes per visit (weeks 2, 4, 8, 12, 16, 20, 24, 28, 36)::

    A  CRP PMR-AS <= 10, no oral GC   (le10_no_gc)
    B  CRP PMR-AS <= 10, oral GC      (le10_gc)
    C  CRP PMR-AS > 10,  no oral GC   (gt10_no_gc)
    D  CRP PMR-AS > 10,  oral GC      (gt10_gc)
    .  visit not attended (no row in ``visits``)

Design choices (not published; stated so they can be judged):

- The one placebo participant "not assessed" at week 12 (primary-analysis n 15 of 16) has no assessment
  after baseline at all: the placebo n is at most 15 at every post-baseline visit. Status ``withdrawn``.
- Baricitinib n 17 at weeks 28 and 36: one participant lost to follow-up after week 24 (``lost``). Placebo
  n 14 at week 36 but 15 at week 28: one participant lost after week 28. Other missing visits (week 2, 8,
  20, 24) are single missed visits of participants who complete the study.
- Rescue prednisone is persistent once started (placebo counts grow 1, 2, 4, 9, 12, 12, 12, 13, 12; the
  drop at week 36 is the participant lost after week 28). One baricitinib participant starts it before week
  12, a second before week 16 and stops after week 24.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = [
    "ADVERSE_EVENTS",
    "GC_START_WEEK",
    "POST_BASELINE_WEEKS",
    "STATE_CODES",
    "STATE_TABLE",
    "STATUS",
    "VISIT_WEEKS",
]

VISIT_WEEKS = (0, 2, 4, 8, 12, 16, 20, 24, 28, 36)
POST_BASELINE_WEEKS = VISIT_WEEKS[1:]

STATE_CODES = MappingProxyType({"A": "le10_no_gc", "B": "le10_gc", "C": "gt10_no_gc", "D": "gt10_gc"})

#: design row -> state string over weeks 2..36 (one character per visit).
STATE_TABLE: MappingProxyType[str, str] = MappingProxyType(
    {
        #       w: 2 4 8 12 16 20 24 28 36
        "B01": "CCABBDBBB",
        "B02": "CCACDDBAA",
        "B03": "CCACCAAAA",
        "B04": "CCACAAAAA",
        "B05": "CAAAAAACC",
        "B06": "CAAAAAAAC",
        "B07": "CAAAAAAAC",
        "B08": "AAAAAAAAA",
        "B09": "AAAAAAAAA",
        "B10": "AAAAAAAAA",
        "B11": "AAAAAAAAA",
        "B12": "AAAAAAAAA",
        "B13": "AAAAAAAAA",
        "B14": "AAAAAAAAA",
        "B15": "AA.AAAAAA",
        "B16": "AA.AAAAAA",
        "B17": ".A.AAAAAA",
        "B18": "CAAAAAA..",
        "P01": "DBBBBBBBB",
        "P02": "CDBBBBBDB",
        "P03": "CCDBBDBBB",
        "P04": "CCBBBBBBD",
        "P05": "AAABBBBBB",
        "P06": "CC.DBBBBB",
        "P07": "CC.BBDDBB",
        "P08": "CC.BBBBBB",
        "P09": "CC.BBBDBB",
        "P10": "AAACBBBBD",
        "P11": "CC.CDBBBB",
        "P12": "CC.CDBBB.",
        "P13": "CC.CCAADB",
        "P14": "AAAAA.AAA",
        "P15": "AAAAAA.AA",
        "P16": ".........",
    }
)

#: End-of-study status by design row (completed unless listed).
STATUS = MappingProxyType({"B18": "lost", "P12": "lost", "P16": "withdrawn"})

#: Week of the first visit with rescue oral GC, and (optionally) the first visit off it again.
GC_START_WEEK = MappingProxyType(
    {
        "B01": (12, None),
        "B02": (16, 28),
        "P01": (2, None),
        "P02": (4, None),
        "P03": (8, None),
        "P04": (8, None),
        "P05": (12, None),
        "P06": (12, None),
        "P07": (12, None),
        "P08": (12, None),
        "P09": (12, None),
        "P10": (16, None),
        "P11": (16, None),
        "P12": (16, None),
        "P13": (28, None),
    }
)

#: Adverse events: (design row, SOC, MedDRA preferred term, serious, severity, onset week, outcome).
#: Serious events: one per participant and SOC, matching the table of serious AEs by SOC (4 vs 6 events).
#: Read with the seed's summary bullets "4 (6%)" and "6 (13%)" as events (participants %): all 4 baricitinib
#: serious events in 1/18 participants (5.6%), the 6 placebo ones in 2/16 (12.5%).
#: Any grade: musculoskeletal 13/18 vs 4/16, infections 6/18 vs 5/16 (see the report for the 33% of 16).
_MSK = "Musculoskeletal and connective tissue disorders"
_INF = "Infections and infestations"
_NEO = "Neoplasms benign, malignant and unspecified (incl cysts and polyps)"
_PSY = "Psychiatric disorders"
_IMM = "Immune system disorders"
_MET = "Metabolism and nutrition disorders"
_GI = "Gastrointestinal disorders"
_NERV = "Nervous system disorders"
_INV = "Investigations"
_SKIN = "Skin and subcutaneous tissue disorders"

ADVERSE_EVENTS: tuple[tuple[str, str, str, bool, str, float, str], ...] = (
    # baricitinib: serious (one participant, four SOCs)
    ("B08", _INF, "Pneumonia", True, "severe", 9.0, "recovered"),
    ("B08", _MSK, "Intervertebral disc protrusion", True, "severe", 18.0, "recovered"),
    ("B08", _NEO, "Colon adenoma", True, "moderate", 22.0, "recovered"),
    ("B08", _PSY, "Depression", True, "severe", 30.0, "recovering"),
    # baricitinib: musculoskeletal, any grade (13 participants incl. B08)
    ("B01", _MSK, "Arthralgia", False, "mild", 6.0, "recovered"),
    ("B02", _MSK, "Tendonitis", False, "moderate", 14.0, "recovered"),
    ("B03", _MSK, "Back pain", False, "mild", 3.0, "recovered"),
    ("B04", _MSK, "Myalgia", False, "mild", 10.0, "recovered"),
    ("B05", _MSK, "Arthralgia", False, "moderate", 27.0, "recovering"),
    ("B06", _MSK, "Muscle spasms", False, "mild", 5.0, "recovered"),
    ("B07", _MSK, "Osteoarthritis", False, "moderate", 31.0, "not recovered"),
    ("B09", _MSK, "Pain in extremity", False, "mild", 12.0, "recovered"),
    ("B10", _MSK, "Back pain", False, "mild", 20.0, "recovered"),
    ("B11", _MSK, "Arthralgia", False, "mild", 8.0, "recovered"),
    ("B12", _MSK, "Neck pain", False, "mild", 16.0, "recovered"),
    ("B13", _MSK, "Tendonitis", False, "mild", 25.0, "recovered"),
    # baricitinib: infections, any grade (6 participants incl. B08)
    ("B03", _INF, "Nasopharyngitis", False, "mild", 7.0, "recovered"),
    ("B09", _INF, "Urinary tract infection", False, "mild", 15.0, "recovered"),
    ("B11", _INF, "Herpes zoster", False, "moderate", 11.0, "recovered"),
    ("B14", _INF, "Bronchitis", False, "mild", 19.0, "recovered"),
    ("B15", _INF, "COVID-19", False, "mild", 4.0, "recovered"),
    # baricitinib: other non-serious events
    ("B02", _INV, "Blood cholesterol increased", False, "mild", 12.0, "not recovered"),
    ("B10", _GI, "Nausea", False, "mild", 2.0, "recovered"),
    ("B16", _NERV, "Headache", False, "mild", 3.0, "recovered"),
    # placebo: serious (two participants, six events)
    ("P03", _MSK, "Polymyalgia rheumatica", True, "severe", 7.0, "recovered"),
    ("P03", _IMM, "Drug hypersensitivity", True, "moderate", 13.0, "recovered"),
    ("P03", _MET, "Hyperglycaemia", True, "severe", 15.0, "recovered"),
    ("P03", _NEO, "Lipoma", True, "moderate", 26.0, "recovered"),
    ("P07", _MSK, "Spinal osteoarthritis", True, "severe", 21.0, "recovering"),
    ("P07", _PSY, "Anxiety", True, "moderate", 23.0, "recovered"),
    # placebo: musculoskeletal, any grade (4 participants incl. P03, P07)
    ("P10", _MSK, "Arthralgia", False, "mild", 9.0, "recovered"),
    ("P14", _MSK, "Back pain", False, "mild", 18.0, "recovered"),
    # placebo: infections, any grade (5 participants; none in the withdrawn participant P16)
    ("P01", _INF, "Nasopharyngitis", False, "mild", 5.0, "recovered"),
    ("P05", _INF, "Urinary tract infection", False, "mild", 14.0, "recovered"),
    ("P08", _INF, "COVID-19", False, "mild", 20.0, "recovered"),
    ("P11", _INF, "Bronchitis", False, "moderate", 17.0, "recovered"),
    ("P15", _INF, "Oral herpes", False, "mild", 29.0, "recovered"),
    # placebo: other non-serious events
    ("P02", _SKIN, "Skin bruising", False, "mild", 16.0, "recovered"),
    ("P06", _GI, "Dyspepsia", False, "mild", 13.0, "recovered"),
    ("P09", _NERV, "Headache", False, "mild", 24.0, "recovered"),
)
