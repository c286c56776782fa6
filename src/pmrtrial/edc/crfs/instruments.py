"""Patient-reported instruments as the patient reads them on paper: item wording and response options.

English wording (the UI's gettext msgids; French in ``edc/locale/fr``):

* **HAQ-DI**: Fries et al., *Arthritis Rheum* 1980;23:137-45, the Stanford HAQ Disability Index (public
  domain). The French strings follow the items of the French HAQ (Guillemin et al., *Rev Rhum* 1991;
  58:459-65); where that validated wording was not available to us they are a faithful translation and
  are marked so in the catalogue (``#. faithful translation`` comments).
* **SF-36**: the RAND 36-Item Health Survey 1.0 (Hays et al., *Health Econ* 1993;2:217-27), whose
  wording RAND publishes without charge. The French strings are a faithful translation (the validated
  French SF-36 of Leplège et al., *J Clin Epidemiol* 1998;51:1013-23 is licensed), marked so in the catalogue.
* **EQ-5D-3L**: the descriptive-system wording is licensed by the EuroQol Group, so only the dimension
  names and level numbers ship here. An operator holding a licence loads the wording from a JSON file
  named by ``PMRTRIAL_EQ5D_WORDING`` (see :func:`pmrtrial.edc.conf.eq5d_wording` and the README).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EQ5D_DIMENSIONS",
    "HAQ_CATEGORIES",
    "HAQ_RESPONSES",
    "SF36_ITEMS",
    "SF36_OPTIONS",
    "haq_label",
]

#: HAQ-DI: category key -> (heading, question stem).
HAQ_CATEGORIES: dict[str, tuple[str, str]] = {
    "dressing": ("Dressing and grooming", "Are you able to:"),
    "arising": ("Arising", "Are you able to:"),
    "eating": ("Eating", "Are you able to:"),
    "walking": ("Walking", "Are you able to:"),
    "hygiene": ("Hygiene", "Are you able to:"),
    "reach": ("Reach", "Are you able to:"),
    "grip": ("Grip", "Are you able to:"),
    "activities": ("Activities", "Are you able to:"),
}

HAQ_ITEMS: dict[str, str] = {
    "dressing_dress": "Dress yourself, including tying shoelaces and doing buttons?",
    "dressing_shampoo": "Shampoo your hair?",
    "arising_chair": "Stand up from a straight chair?",
    "arising_bed": "Get in and out of bed?",
    "eating_cut_meat": "Cut your meat?",
    "eating_lift_cup": "Lift a full cup or glass to your mouth?",
    "eating_open_carton": "Open a new milk carton?",
    "walking_outdoors": "Walk outdoors on flat ground?",
    "walking_steps": "Climb up five steps?",
    "hygiene_wash_body": "Wash and dry your body?",
    "hygiene_tub_bath": "Take a tub bath?",
    "hygiene_toilet": "Get on and off the toilet?",
    "reach_overhead_object": "Reach and get down a 5-pound object (such as a bag of sugar) from just above your head?",
    "reach_pick_up_clothing": "Bend down to pick up clothing from the floor?",
    "grip_car_doors": "Open car doors?",
    "grip_open_jars": "Open jars which have been previously opened?",
    "grip_faucets": "Turn faucets on and off?",
    "activities_errands": "Run errands and shop?",
    "activities_car": "Get in and out of a car?",
    "activities_chores": "Do chores such as vacuuming or yardwork?",
}

#: HAQ-DI item scores 0-3 with the questionnaire's wording.
HAQ_RESPONSES: tuple[tuple[int, str], ...] = (
    (0, "Without any difficulty"),
    (1, "With some difficulty"),
    (2, "With much difficulty"),
    (3, "Unable to do"),
)

_HAQ_AID = "Uses an aid or device for this category"
_HAQ_HELP = "Needs help from another person for this category"


def haq_label(key: str) -> str:
    """The questionnaire wording of a HAQ-DI key (an item, or a category's aid / help question)."""
    if key.endswith("_aid"):
        return _HAQ_AID
    if key.endswith("_help"):
        return _HAQ_HELP
    return HAQ_ITEMS[key]


_LIMITED = ("Yes, limited a lot", "Yes, limited a little", "No, not limited at all")
_YES_NO = ("Yes", "No")
_TIME = (
    "All of the time",
    "Most of the time",
    "A good bit of the time",
    "Some of the time",
    "A little of the time",
    "None of the time",
)
_TRUE_FALSE = ("Definitely true", "Mostly true", "Don't know", "Mostly false", "Definitely false")
_STEM3 = "Does your health now limit you in these activities? If so, how much?"
_STEM4 = (
    "During the past 4 weeks, have you had any of the following problems with your work or other regular daily "
    "activities as a result of your physical health?"
)
_STEM5 = (
    "During the past 4 weeks, have you had any of the following problems with your work or other regular daily "
    "activities as a result of any emotional problems (such as feeling depressed or anxious)?"
)
_STEM9 = "How much of the time during the past 4 weeks…"
_STEM11 = "How TRUE or FALSE is each of the following statements for you?"

#: SF-36 item key -> (question stem shared by a block, or "", item wording).
SF36_ITEMS: dict[str, tuple[str, str]] = {
    "q1": ("", "In general, would you say your health is:"),
    "q2": ("", "Compared to one year ago, how would you rate your health in general now?"),
    "q3a": (
        _STEM3,
        "Vigorous activities, such as running, lifting heavy objects, participating in strenuous sports",
    ),
    "q3b": (
        _STEM3,
        "Moderate activities, such as moving a table, pushing a vacuum cleaner, bowling, or playing golf",
    ),
    "q3c": (_STEM3, "Lifting or carrying groceries"),
    "q3d": (_STEM3, "Climbing several flights of stairs"),
    "q3e": (_STEM3, "Climbing one flight of stairs"),
    "q3f": (_STEM3, "Bending, kneeling, or stooping"),
    "q3g": (_STEM3, "Walking more than a mile"),
    "q3h": (_STEM3, "Walking several blocks"),
    "q3i": (_STEM3, "Walking one block"),
    "q3j": (_STEM3, "Bathing or dressing yourself"),
    "q4a": (_STEM4, "Cut down the amount of time you spent on work or other activities"),
    "q4b": (_STEM4, "Accomplished less than you would like"),
    "q4c": (_STEM4, "Were limited in the kind of work or other activities"),
    "q4d": (_STEM4, "Had difficulty performing the work or other activities (for example, it took extra effort)"),
    "q5a": (_STEM5, "Cut down the amount of time you spent on work or other activities"),
    "q5b": (_STEM5, "Accomplished less than you would like"),
    "q5c": (_STEM5, "Didn't do work or other activities as carefully as usual"),
    "q6": (
        "",
        "During the past 4 weeks, to what extent has your physical health or emotional problems interfered with "
        "your normal social activities with family, friends, neighbours, or groups?",
    ),
    "q7": ("", "How much bodily pain have you had during the past 4 weeks?"),
    "q8": (
        "",
        "During the past 4 weeks, how much did pain interfere with your normal work (including both work outside "
        "the home and housework)?",
    ),
    "q9a": (_STEM9, "Did you feel full of pep?"),
    "q9b": (_STEM9, "Have you been a very nervous person?"),
    "q9c": (_STEM9, "Have you felt so down in the dumps that nothing could cheer you up?"),
    "q9d": (_STEM9, "Have you felt calm and peaceful?"),
    "q9e": (_STEM9, "Did you have a lot of energy?"),
    "q9f": (_STEM9, "Have you felt downhearted and blue?"),
    "q9g": (_STEM9, "Did you feel worn out?"),
    "q9h": (_STEM9, "Have you been a happy person?"),
    "q9i": (_STEM9, "Did you feel tired?"),
    "q10": (
        "",
        "During the past 4 weeks, how much of the time has your physical health or emotional problems interfered "
        "with your social activities (like visiting with friends, relatives, etc.)?",
    ),
    "q11a": (_STEM11, "I seem to get sick a little easier than other people"),
    "q11b": (_STEM11, "I am as healthy as anybody I know"),
    "q11c": (_STEM11, "I expect my health to get worse"),
    "q11d": (_STEM11, "My health is excellent"),
}

_OPTIONS_BY_ITEM: dict[str, tuple[str, ...]] = {
    "q1": ("Excellent", "Very good", "Good", "Fair", "Poor"),
    "q2": (
        "Much better now than one year ago",
        "Somewhat better now than one year ago",
        "About the same as one year ago",
        "Somewhat worse now than one year ago",
        "Much worse now than one year ago",
    ),
    "q6": ("Not at all", "Slightly", "Moderately", "Quite a bit", "Extremely"),
    "q7": ("None", "Very mild", "Mild", "Moderate", "Severe", "Very severe"),
    "q8": ("Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely"),
    "q10": ("All of the time", "Most of the time", "Some of the time", "A little of the time", "None of the time"),
}


def _sf36_options(key: str) -> tuple[str, ...]:
    if key in _OPTIONS_BY_ITEM:
        return _OPTIONS_BY_ITEM[key]
    return {"q3": _LIMITED, "q4": _YES_NO, "q5": _YES_NO, "q9": _TIME, "q11": _TRUE_FALSE}[key.rstrip("abcdefghij")]


#: SF-36 item key -> ((code, wording), ...): codes 1..n as the scorer expects them.
SF36_OPTIONS: dict[str, tuple[tuple[Any, str], ...]] = {
    key: tuple((i + 1, text) for i, text in enumerate(_sf36_options(key))) for key in SF36_ITEMS
}

#: EQ-5D-3L dimensions: field name -> dimension name (the level wording is licensed: see the module docstring).
EQ5D_DIMENSIONS: dict[str, str] = {
    "mo": "Mobility",
    "sc": "Self-care",
    "ua": "Usual activities",
    "pd": "Pain / discomfort",
    "ad": "Anxiety / depression",
}
