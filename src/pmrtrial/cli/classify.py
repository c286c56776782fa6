"""``pmrtrial classify``: 2012 EULAR/ACR provisional classification criteria for PMR."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from pmrtrial.cli._render import console, print_json
from pmrtrial.criteria import classify_pmr_2012
from pmrtrial.exceptions import ScoreInputError
from pmrtrial.io import read_json

_KEYS = (
    "age_years",
    "bilateral_shoulder_aching",
    "abnormal_crp_or_esr",
    "morning_stiffness_min",
    "hip_pain_or_limited_rom",
    "rf_or_acpa_positive",
    "other_joint_involvement",
    "with_ultrasound",
    "us_shoulder_and_hip",
    "us_both_shoulders",
)


def classify(
    file: Annotated[Path | None, typer.Option("--file", help="JSON file with the criteria items.")] = None,
    age_years: Annotated[float | None, typer.Option(help="Age in years.")] = None,
    bilateral_shoulder_aching: Annotated[
        bool | None, typer.Option("--bilateral-shoulder-aching/--no-bilateral-shoulder-aching")
    ] = None,
    abnormal_crp_or_esr: Annotated[bool | None, typer.Option("--abnormal-crp-or-esr/--normal-crp-and-esr")] = None,
    morning_stiffness_min: Annotated[float | None, typer.Option(help="Morning stiffness, minutes.")] = None,
    hip_pain_or_limited_rom: Annotated[bool | None, typer.Option("--hip-pain/--no-hip-pain")] = None,
    rf_or_acpa_positive: Annotated[bool | None, typer.Option("--rf-or-acpa-positive/--rf-and-acpa-negative")] = None,
    other_joint_involvement: Annotated[bool | None, typer.Option("--other-joints/--no-other-joints")] = None,
    with_ultrasound: Annotated[
        bool, typer.Option("--ultrasound", help="Use the ultrasound algorithm (5 of 8).")
    ] = False,
    us_shoulder_and_hip: Annotated[bool | None, typer.Option("--us-shoulder-and-hip/--no-us-shoulder-and-hip")] = None,
    us_both_shoulders: Annotated[bool | None, typer.Option("--us-both-shoulders/--no-us-both-shoulders")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Apply the 2012 EULAR/ACR classification criteria (for research, not diagnosis)."""
    items: dict[str, Any] = {}
    if file is not None:
        data = read_json(file)
        if not isinstance(data, dict):
            raise ScoreInputError("file", str(file), "a JSON object of criteria items")
        unknown = sorted(set(data) - set(_KEYS))
        if unknown:
            raise ScoreInputError("criteria item", unknown[0], "one of " + ", ".join(_KEYS))
        items.update(data)
    given = {
        "age_years": age_years,
        "bilateral_shoulder_aching": bilateral_shoulder_aching,
        "abnormal_crp_or_esr": abnormal_crp_or_esr,
        "morning_stiffness_min": morning_stiffness_min,
        "hip_pain_or_limited_rom": hip_pain_or_limited_rom,
        "rf_or_acpa_positive": rf_or_acpa_positive,
        "other_joint_involvement": other_joint_involvement,
        "us_shoulder_and_hip": us_shoulder_and_hip,
        "us_both_shoulders": us_both_shoulders,
    }
    items.update({k: v for k, v in given.items() if v is not None})
    if with_ultrasound:
        items["with_ultrasound"] = True
    for key in _KEYS:
        items.setdefault(key, False if key == "with_ultrasound" else None)
    result = classify_pmr_2012(**items)
    if as_json:
        print_json(result.to_dict())
        return
    from rich.table import Table

    table = Table(title=f"2012 EULAR/ACR criteria ({'with' if result.with_ultrasound else 'without'} ultrasound)")
    table.add_column("item")
    table.add_column("answer")
    table.add_column("points")
    for name, met in result.entry_conditions.items():
        table.add_row(f"entry: {name}", str(met), "-")
    for item in result.items:
        table.add_row(item.label, str(item.answer), "?" if item.points is None else f"{item.points}/{item.weight}")
    console.print(table)
    console.print(
        f"total {result.total}/{result.max_possible}, threshold {result.threshold}: [bold]{result.verdict}[/bold]"
    )
    for reason in result.reasons:
        console.print(f"  - {reason}")
