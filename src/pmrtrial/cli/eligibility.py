"""``pmrtrial eligibility CANDIDATE.json``: screen a candidate against a protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pmrtrial.cli._render import console, print_json
from pmrtrial.exceptions import ScoreInputError
from pmrtrial.io import read_json, read_protocol
from pmrtrial.protocol import screen_candidate

_STYLE = {"met": "green", "not_met": "red", "unknown": "yellow"}


def eligibility(
    candidate: Annotated[Path, typer.Argument(help="JSON file: one candidate record (field -> value).")],
    protocol: Annotated[str, typer.Option(help="Bundled protocol name or protocol YAML file.")] = "bachelor",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Screen CANDIDATE against the protocol's inclusion and exclusion criteria."""
    proto = read_protocol(protocol)
    record = read_json(candidate)
    if not isinstance(record, dict):
        raise ScoreInputError("candidate", str(candidate), "a JSON object (field -> value)")
    result = screen_candidate(proto, record)
    if as_json:
        print_json(result.to_dict())
    else:
        table = Table(title=f"{proto.short_title} v{proto.version}: candidate {result.candidate_id or candidate.name}")
        for col in ("criterion", "outcome", "values", "source text"):
            table.add_column(col)
        for o in result.outcomes:
            values = ", ".join(f"{k}={v}" for k, v in o.values.items())
            table.add_row(o.id, f"[{_STYLE[o.outcome]}]{o.outcome}[/]", values, o.source_text)
        console.print(table)
        console.print(f"derived: {result.derived}")
        console.print(f"status: [bold]{result.status}[/bold]")
    if result.status != "eligible":
        raise typer.Exit(code=1)
