"""The synthetic twin behind ``pmrtrial demo --protocol NAME``: which generator, which default seed, which tables.

SYNTHETIC — not trial data. BACHELOR's twin (:func:`pmrtrial.synth.generate_bachelor_twin`) has the three required
tables; the SEMAPHORE and SAPHYR twins (:mod:`pmrtrial.synth.semaphore`, :mod:`pmrtrial.synth.saphyr`) add the
``gc_doses`` and ``flares`` tables. Generators are imported when a twin is made, so naming the protocols imports
nothing heavy.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import pandas as pd

from pmrtrial.exceptions import PmrTrialError

__all__ = ["DEMO_PROTOCOLS", "DEMO_SEEDS", "check_demo_protocol", "generate_twin", "optional_tables"]

#: Protocol id -> (module, generator) of its twin.
_GENERATORS: Mapping[str, tuple[str, str]] = {
    "bachelor": ("pmrtrial.synth", "generate_bachelor_twin"),
    "semaphore": ("pmrtrial.synth.semaphore", "generate_semaphore_twin"),
    "saphyr": ("pmrtrial.synth.saphyr", "generate_saphyr_twin"),
}
#: Protocols the demo runs, in the order the CLI lists them (BACHELOR, the default, first).
DEMO_PROTOCOLS: tuple[str, ...] = tuple(_GENERATORS)
#: The demo's default seed per protocol: BACHELOR's demo seed, and the comparator twins' own defaults (the seeds
#: ``pmrtrial synth semaphore|saphyr`` use).
DEMO_SEEDS: Mapping[str, int] = {"bachelor": 20250101, "semaphore": 2022, "saphyr": 2023}


def check_demo_protocol(protocol: str) -> str:
    """``protocol`` when the demo has a twin for it; otherwise :class:`PmrTrialError` naming it and the accepted ids."""
    if protocol not in _GENERATORS:
        raise PmrTrialError(f"Unknown demo protocol {protocol!r}. Expected one of {', '.join(DEMO_PROTOCOLS)}.")
    return protocol


def generate_twin(protocol: str, seed: int | None = None) -> Any:
    """The twin of ``protocol`` with ``seed`` (the demo's default seed when None).

    Raises :class:`ImportError` when the synthetic-twin package is not installed.
    """
    module, name = _GENERATORS[check_demo_protocol(protocol)]
    generator = getattr(importlib.import_module(module), name)
    return generator(seed=DEMO_SEEDS[protocol] if seed is None else seed)


def optional_tables(twin: Any) -> dict[str, pd.DataFrame]:
    """The twin's optional canonical tables (``gc_doses``, ``flares``) that it has."""
    return {name: frame for name in ("gc_doses", "flares") if (frame := getattr(twin, name, None)) is not None}
