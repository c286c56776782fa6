"""``pmrtrial demo``: the main job on embedded defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pmrtrial.cli._render import console
from pmrtrial.report.demo import run_demo


def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the outputs (created if needed).")] = Path(
        "pmrtrial-demo"
    ),
) -> None:
    """Load the BACHELOR protocol, screen and score the example candidates, and write the outputs."""
    with console.status("Running the demo (screening, synthetic twin, analysis, report)..."):
        result = run_demo(out)
    console.print(f"[bold]{result.protocol_id}[/bold] protocol v{result.protocol_version}: loaded and validated")
    for w in result.protocol_warnings:
        console.print(f"  [yellow]warning[/] {w}")
    table = Table(title="Screening of the example candidates (illustrative records, not trial data)")
    for col in ("candidate", "CRP PMR-AS", "activity", "2012 criteria", "status", "failed / unanswered"):
        table.add_column(col)
    for row in result.rows():
        score = "missing" if row["crp_pmr_as"] is None else f"{row['crp_pmr_as']:.1f}"
        why = ", ".join(row["failed"] + [f"{u}?" for u in row["unanswered"]]) or "-"
        table.add_row(row["candidate"], score, str(row["activity"]), str(row["eular_acr_2012"]), row["status"], why)
    console.print(table)
    console.print(f"Outputs written to [bold]{result.out_dir.resolve()}[/bold]:")
    for f in result.files:
        console.print(f"  {f.relative_to(result.out_dir) if f.is_relative_to(result.out_dir) else f.name}")
    if result.report is not None:
        console.print("[bold red]SYNTHETIC — not trial data[/]: analysis of the synthetic twin")
        if result.report.html is not None:
            console.print(f"Report: [bold]{result.report.html.resolve()}[/bold]")
        for path in (result.report.pdf, result.report.docx, result.report.json):
            if path is not None:
                console.print(f"  {path.resolve()}")
    elif result.analysis_note:
        console.print(f"[yellow]{result.analysis_note}[/]")
