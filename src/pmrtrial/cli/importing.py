"""``pmrtrial import redcap``: canonical datasets from another system's export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pmrtrial.cli._render import console

__all__ = ["app"]

app = typer.Typer(help="Import data from another system into canonical datasets.", no_args_is_help=True)


@app.command("redcap")
def redcap(
    dictionary: Annotated[Path, typer.Option("--dictionary", help="The REDCap project's data dictionary (CSV).")],
    records: Annotated[
        Path, typer.Option("--records", help="REDCap records export, flat or EAV (CSV, or REDCap XML if *.xml).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for subjects/visits/adverse_events.csv.")],
    protocol: Annotated[str, typer.Option("--protocol", help="Bundled protocol name or YAML file.")] = "bachelor",
    events: Annotated[Path | None, typer.Option("--events", help="REDCap events CSV (unique_event_name).")] = None,
) -> None:
    """Turn a REDCap export into validated canonical datasets; every problem is reported, nothing is written on one."""
    from pmrtrial.edc.redcap.files import import_redcap
    from pmrtrial.io.files import read_protocol

    result = import_redcap(
        dictionary=dictionary, records=records, protocol=read_protocol(protocol), out=out, events=events
    )
    console.print(f"Canonical datasets written to [bold]{out.resolve()}[/bold]")
    console.print(
        f"Questionnaire scores: {len(result.scores_from_items)} computed from the items by pmrtrial.scores, "
        f"{len(result.scores_without_items)} taken as supplied (no items in the records)"
    )
