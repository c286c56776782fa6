"""``pmrtrial score …``: clinical instruments."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from pmrtrial.cli._render import console, print_json
from pmrtrial.cli.score_pro import register as register_pro_commands
from pmrtrial.scores import (
    classify_pmr_as_activity,
    classify_response_state,
    compute_crp_pmr_as,
    compute_esr_pmr_as,
    detect_flare,
    is_bachelor_responder,
)

app = typer.Typer(help="Score clinical instruments (PMR-AS, and patient-reported outcomes).", no_args_is_help=True)
register_pro_commands(app)


@app.command("pmr-as")
def pmr_as(
    pain_vas: Annotated[float, typer.Option(help="Patient's pain VAS, 0-10.")],
    physician_global_vas: Annotated[float, typer.Option(help="Physician's global VAS, 0-10.")],
    morning_stiffness_min: Annotated[float, typer.Option(help="Morning stiffness, minutes (0-1440).")],
    upper_limb_elevation: Annotated[int, typer.Option(help="EUL: 0 above shoulder girdle, 1 up to, 2 below, 3 none.")],
    crp_mg_l: Annotated[float | None, typer.Option(help="CRP in mg/L.")] = None,
    crp_mg_dl: Annotated[float | None, typer.Option(help="CRP in mg/dL.")] = None,
    esr_mm_h: Annotated[float | None, typer.Option(help="ESR in mm/h (adds the ESR PMR-AS).")] = None,
    reference_score: Annotated[
        float | None, typer.Option(help="CRP PMR-AS at the reference visit, for the flare change rule.")
    ] = None,
    oral_gc: Annotated[
        bool | None,
        typer.Option("--oral-gc/--no-oral-gc", help="Oral glucocorticoid at this visit (BACHELOR response)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """CRP PMR-AS (and ESR PMR-AS), activity category, flare status and BACHELOR response."""
    if crp_mg_l is None and crp_mg_dl is None and esr_mm_h is None:
        raise typer.BadParameter("give --crp-mg-l or --crp-mg-dl (and/or --esr-mm-h)", param_hint="--crp-mg-l")
    clinical = {
        "pain_vas": pain_vas,
        "physician_global_vas": physician_global_vas,
        "morning_stiffness_min": morning_stiffness_min,
        "upper_limb_elevation": upper_limb_elevation,
    }
    from pmrtrial.plausibility import check_values

    for suspicion in check_values(
        {"crp_mg_l": crp_mg_l, "crp_mg_dl": crp_mg_dl, "morning_stiffness_min": morning_stiffness_min}
    ):
        print(f"warning: {suspicion.message}", file=sys.stderr)
    out: dict[str, object] = {}
    if crp_mg_l is not None or crp_mg_dl is not None:
        crp = {"crp_mg_l": crp_mg_l} if crp_mg_l is not None else {"crp_mg_dl": crp_mg_dl}
        if crp_mg_l is not None and crp_mg_dl is not None:
            crp = {"crp_mg_l": crp_mg_l, "crp_mg_dl": crp_mg_dl}
        score = compute_crp_pmr_as(**clinical, **crp)
        flare = detect_flare(score, reference_score=reference_score)
        out.update(
            score=round(score, 6),
            marker="crp",
            category=classify_pmr_as_activity(score),
            flare=flare.to_dict(),
        )
        if oral_gc is not None:
            out["bachelor_responder"] = is_bachelor_responder(score, on_oral_gc=oral_gc)
            out["response_state"] = classify_response_state(score, on_oral_gc=oral_gc)
    if esr_mm_h is not None:
        esr_score = compute_esr_pmr_as(esr_mm_h=esr_mm_h, **clinical)
        out["esr_pmr_as"] = {
            "score": round(esr_score, 6),
            "category": classify_pmr_as_activity(esr_score, marker="esr"),
        }
        if "score" not in out:
            out.update(score=round(esr_score, 6), marker="esr", category=out["esr_pmr_as"]["category"])  # type: ignore[index]
    if as_json:
        print_json(out)
        return
    from rich.table import Table

    table = Table(title="PMR activity score", show_header=False)
    for key, value in out.items():
        if key == "flare" and isinstance(value, dict):
            fired = [r for r, on in (("absolute", value["by_absolute"]), ("change", value["by_change"])) if on]
            value = f"{value['is_flare']} ({', '.join(fired) or 'no rule fired'}; change {value['change']})"
        table.add_row(key, str(value))
    console.print(table)
