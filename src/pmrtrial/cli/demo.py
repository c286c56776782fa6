"""``pmrtrial demo``: the main job on embedded defaults."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from pmrtrial.cli._render import console, get_console

_STAGES = {
    "init": "EDC: demo study, sites, users",
    "enrol": "EDC: screen, consent, randomise, eCRFs, logs, AEs",
    "sign": "EDC: e-sign and lock casebooks",
    "audit": "EDC: lock database, verify audit chain",
    "export": "EDC: export datasets (unblinded statistician)",
    "analyse": "Analyse the export and render the report",
}


#: Log counts of the EDC summary, when the twin has the log.
_LOGS = {"gc_doses": "GC dose rows", "flares": "flare assessments"}


def demo(
    protocol: Annotated[
        str,
        typer.Option("--protocol", help="Trial of the demo: bachelor (default), semaphore or saphyr."),
    ] = "bachelor",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for the outputs (created if needed); default ./pmrtrial-demo/ for bachelor, "
            "./pmrtrial-demo-<protocol>/ for the others.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing demo folder (otherwise the demo refuses).")
    ] = False,
) -> None:
    """Screen the example candidates; route the synthetic twin through a demo EDC; analyse its export."""
    from pmrtrial.demo.run import claim_demo_folder, default_out_dir, run_demo  # lazy: fast start-up elsewhere

    out = default_out_dir(protocol) if out is None else out  # an unknown protocol: one line, nothing written
    claim_demo_folder(out, force=force)  # refuse (one line, nothing written) before any progress bar is drawn

    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=get_console(),
        transient=False,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        result = run_demo(out, protocol=protocol, progress=progress, force=force)
    elapsed = time.perf_counter() - started
    console.print(f"[bold]{result.protocol_id}[/bold] protocol v{result.protocol_version}: loaded and validated")
    for w in result.protocol_warnings:
        console.print(f"  [yellow]warning[/] {w}")
    table = Table(
        title=f"Screening of the example {result.protocol_id} candidates (illustrative records, not trial data)"
    )
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
    if result.edc is not None:
        s = result.edc.summary
        loaded, audit = s["loaded"], s["audit"]
        console.print(
            f"[bold]Demo EDC[/bold] [bold red](SYNTHETIC)[/]: {s['study']}, {s['sites']} sites, "
            f"{loaded['participants']} participants, {loaded['visits']} visits, "
            f"{loaded['forms'] + loaded['score_forms']} eCRFs, {loaded['adverse_events']} adverse events"
            + "".join(f", {loaded[k]} {label}" for k, label in _LOGS.items() if loaded.get(k))
            + "; casebooks e-signed and locked, database "
            f"{'locked' if s['locked'] else 'NOT locked'}; {audit['message']}"
        )
        console.print(f"  database: [bold]{result.edc.db}[/bold]")
        console.print(f"  open it:  pmrtrial serve --db {result.edc.db}")
        console.print(
            f"  log in:   pmrtrial edc createuser YOUR_NAME --role data_manager --db {result.edc.db}  "
            "(the demo users' passwords are random and were never shown or stored)"
        )
    if result.report is not None:
        console.print("[bold red]SYNTHETIC — not trial data[/]: analysis of the synthetic twin")
        if result.report.html is not None:
            console.print(f"Report: [bold]{result.report.html.resolve()}[/bold]")
        for path in (result.report.pdf, result.report.docx, result.report.json):
            if path is not None:
                console.print(f"  {path.resolve()}")
    if result.analysis_note:
        console.print(f"[yellow]{result.analysis_note}[/]")
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    console.print(f"Done in {elapsed:.1f} s" + (f" ({timing})" if timing else ""))
