"""``pmrtrial protocol show|check``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pmrtrial.cli._render import console, print_json
from pmrtrial.io.files import read_protocol, read_protocol_text
from pmrtrial.protocol import parse_protocol, validate_protocol

app = typer.Typer(help="Show or check trial protocols.", no_args_is_help=True)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Bundled protocol name or protocol YAML file.")] = "bachelor",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A readable summary: arms, dosing by week, visit schedule, criteria, endpoints."""
    proto = read_protocol(name)
    summary = proto.summary()
    if as_json:
        print_json(summary)
        return
    console.print(f"[bold]{proto.short_title}[/bold] v{proto.version}: {proto.title}")
    console.print(f"{proto.citation}\n{proto.design}")
    arms = Table(title="Arms and study-drug dosing")
    for col in ("arm", "ratio", "dosing by week"):
        arms.add_column(col)
    for a in summary["arms"]:
        arms.add_row(a["label"], str(a["ratio"]), "\n".join(a["dosing"]))
    console.print(arms)
    visits = Table(title="Visit schedule (days from randomisation)")
    for col in ("visit", "week", "day", "window", "phase", "forms"):
        visits.add_column(col)
    for v in summary["visits"]:
        visits.add_row(v["code"], f"{v['week']:g}", str(v["day"]), v["window"], v["phase"], ", ".join(v["forms"]))
    console.print(visits)
    for kind in ("inclusion", "exclusion"):
        t = Table(title=f"{kind.capitalize()} criteria")
        for col in ("id", "source text", "machine rule"):
            t.add_column(col)
        for c in summary[kind]:
            t.add_row(c["id"], c["text"], c["rule"])
        console.print(t)
    ends = Table(title="Endpoints")
    for col in ("id", "role", "type", "visits", "definition"):
        ends.add_column(col)
    for e in summary["endpoints"]:
        ends.add_row(e["id"], e["role"], e["type"], ", ".join(e["visits"]), str(e["definition"]))
    console.print(ends)
    if proto.rescue:
        console.print("Rescue: " + "; ".join(r.source_text for r in proto.rescue))
    if proto.permitted_injections:
        console.print(
            "Permitted injections: "
            + "; ".join(
                f"{i.site} ({', '.join(i.agents)}) at weeks {list(i.allowed_weeks)}" for i in proto.permitted_injections
            )
        )


@app.command("check")
def check(
    name: Annotated[str, typer.Argument(help="Bundled protocol name or protocol YAML file.")] = "bachelor",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Validate a protocol; exit 1 when it has errors."""
    from pmrtrial.analysis.registry import method_types  # the analysis stack loads only for this command

    proto = parse_protocol(read_protocol_text(name))
    issues = validate_protocol(proto, analysis_methods=method_types())
    errors = [i for i in issues if i.severity == "error"]
    if as_json:
        print_json(
            {
                "protocol": proto.id,
                "version": proto.version,
                "valid": not errors,
                "issues": [i.to_dict() for i in issues],
            }
        )
    else:
        for issue in issues:
            colour = "red" if issue.severity == "error" else "yellow"
            console.print(f"[{colour}]{issue.id}[/] {issue.location}: {issue.message}")
        state = "[red]INVALID[/]" if errors else "[green]valid[/]"
        console.print(
            f"{proto.id} v{proto.version}: {state} ({len(errors)} errors, {len(issues) - len(errors)} warnings)"
        )
    if errors:
        raise typer.Exit(code=1)
