"""``pmrtrial export cdisc|odm``: interchange formats from a canonical dataset folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pmrtrial.cli._render import console

__all__ = ["app"]

app = typer.Typer(help="Export canonical datasets as CDISC SDTM/ADaM or ODM.", no_args_is_help=True)

_DATA = typer.Argument(help="Folder with subjects, visits and adverse_events (.csv or .parquet).")
_PROTOCOL = typer.Option("--protocol", help="Bundled protocol name or protocol YAML file.")


@app.command("cdisc")
def cdisc(
    data_dir: Annotated[Path, _DATA],
    out: Annotated[Path, typer.Option("--out", help="Output folder (sdtm/ and adam/ are written in it).")],
    protocol: Annotated[str, _PROTOCOL] = "bachelor",
    formats: Annotated[str, typer.Option("--format", help="Comma list: xpt, dataset-json.")] = "xpt,dataset-json",
) -> None:
    """SDTM (DM DS SV EX CM AE LB QS TS TA TV) and ADaM (ADSL ADEFF ADAE ADTTE) with define.xml."""
    from pmrtrial.cdisc import build_cdisc
    from pmrtrial.io.cdisc import write_cdisc
    from pmrtrial.io.datasets import read_datasets
    from pmrtrial.io.files import read_protocol

    proto = read_protocol(protocol)
    data = read_datasets(data_dir, protocol=proto)
    packages = build_cdisc(data, proto)
    files = write_cdisc(out, packages, proto, formats=[f.strip() for f in formats.split(",") if f.strip()])
    for key, package in packages.items():
        console.print(f"{key}: " + ", ".join(f"{n} ({len(f)})" for n, f in package.datasets.items()))
        for note in package.notes:
            console.print(f"  [yellow]note[/]: {note}")
    console.print(f"{len(files)} files written to [bold]{out.resolve()}[/bold]")


@app.command("odm")
def odm(
    data_dir: Annotated[Path, _DATA],
    out: Annotated[Path, typer.Option("--out", help="ODM XML file to write.")],
    protocol: Annotated[str, _PROTOCOL] = "bachelor",
) -> None:
    """CDISC ODM 1.3.2 XML of the study's metadata and clinical data (REDCap, OpenClinica... import it)."""
    import datetime as dt

    from pmrtrial.cdisc.odm import odm_xml
    from pmrtrial.io.cdisc import source_version
    from pmrtrial.io.datasets import read_datasets
    from pmrtrial.io.files import read_protocol, write_text_atomic

    proto = read_protocol(protocol)
    data = read_datasets(data_dir, protocol=proto)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    path = write_text_atomic(out, odm_xml(data, proto, created=now, source_version=source_version()))
    console.print(f"ODM 1.3.2 written to [bold]{path.resolve()}[/bold] ({len(data.subjects)} subjects)")
