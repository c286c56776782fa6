"""Unit conversions: the only place in pmrtrial that converts a unit.

Every other function takes quantities with the unit in the argument name (``crp_mg_l``,
``crp_mg_dl``, ``pain_vas`` on 0-10) and never guesses. Conversions here are explicit and
validated; an unknown unit raises :class:`~pmrtrial.exceptions.UnitError`.

References
----------
CRP: 1 mg/dL = 10 mg/L (SI definition of the decilitre).
Glucocorticoid equivalence (anti-inflammatory potency, standard tables, e.g. Liu D et al.
Allergy Asthma Clin Immunol 2013;9:30, Table 1): prednisone 5 mg = prednisolone 5 mg =
methylprednisolone 4 mg = hydrocortisone 20 mg = dexamethasone 0.75 mg.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from pmrtrial._validate import FloatArray, as_float_array, as_variable_array, unwrap
from pmrtrial.exceptions import UnitError

__all__ = [
    "CRP_UNITS",
    "GC_PREDNISONE_EQUIVALENT_MG",
    "VAS_UNITS",
    "convert_crp",
    "convert_vas",
    "crp_mg_dl_from_mg_l",
    "crp_mg_l_from_mg_dl",
    "prednisone_equivalent_mg",
]

#: Factor that turns a CRP in the key unit into mg/L.
CRP_UNITS = MappingProxyType({"mg/L": 1.0, "mg/dL": 10.0})
#: Factor that turns a VAS in the key unit into the 0-10 scale.
VAS_UNITS = MappingProxyType({"0-10": 1.0, "cm": 1.0, "0-100": 0.1, "mm": 0.1})
#: mg of each glucocorticoid equivalent to 5 mg prednisone.
GC_PREDNISONE_EQUIVALENT_MG = MappingProxyType(
    {
        "prednisone": 5.0,
        "prednisolone": 5.0,
        "methylprednisolone": 4.0,
        "hydrocortisone": 20.0,
        "dexamethasone": 0.75,
    }
)


def crp_mg_dl_from_mg_l(crp_mg_l: Any) -> Any:
    """CRP in mg/dL from mg/L (divide by 10). Missing stays missing; negative raises."""
    values = as_variable_array(crp_mg_l, "crp_mg_l")
    return unwrap(values / 10.0, crp_mg_l)


def crp_mg_l_from_mg_dl(crp_mg_dl: Any) -> Any:
    """CRP in mg/L from mg/dL (multiply by 10). Missing stays missing; negative raises."""
    values = as_variable_array(crp_mg_dl, "crp_mg_dl")
    return unwrap(values * 10.0, crp_mg_dl)


def convert_crp(value: Any, *, from_unit: str, to_unit: str) -> Any:
    """Convert a CRP concentration between ``"mg/L"`` and ``"mg/dL"``."""
    for unit in (from_unit, to_unit):
        if unit not in CRP_UNITS:
            raise UnitError("CRP", unit, list(CRP_UNITS))
    values: FloatArray = as_float_array(value, field=f"crp ({from_unit})", lo=0)
    return unwrap(values * CRP_UNITS[from_unit] / CRP_UNITS[to_unit], value)


def convert_vas(value: Any, *, from_unit: str) -> Any:
    """Convert a visual analogue scale to the 0-10 scale used by the PMR-AS.

    ``from_unit`` is ``"0-10"``/``"cm"`` (unchanged) or ``"0-100"``/``"mm"`` (divided by 10).
    """
    if from_unit not in VAS_UNITS:
        raise UnitError("VAS", from_unit, list(VAS_UNITS))
    upper = 10.0 / VAS_UNITS[from_unit]
    values = as_float_array(value, field=f"vas ({from_unit})", lo=0, hi=upper)
    return unwrap(values * VAS_UNITS[from_unit], value)


def prednisone_equivalent_mg(dose_mg: Any, *, drug: str) -> Any:
    """Daily dose of ``drug`` expressed as prednisone-equivalent mg."""
    key = drug.strip().lower()
    if key not in GC_PREDNISONE_EQUIVALENT_MG:
        raise UnitError("glucocorticoid", drug, list(GC_PREDNISONE_EQUIVALENT_MG))
    values = as_float_array(dose_mg, field="dose_mg", lo=0)
    return unwrap(values * 5.0 / GC_PREDNISONE_EQUIVALENT_MG[key], dose_mg)
