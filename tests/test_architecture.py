"""Dependencies point inward: importing the core loads no web or CLI framework."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "pmrtrial",
    "pmrtrial.scores",
    "pmrtrial.criteria",
    "pmrtrial.protocol",
    "pmrtrial.units",
    "pmrtrial.exceptions",
]
OPTIONAL_CORE = [
    "pmrtrial.stats",
    "pmrtrial.design",
    "pmrtrial.synth",
    "pmrtrial.derive",
    "pmrtrial.datasets",
    "pmrtrial.analysis",
    "pmrtrial.tables",
    "pmrtrial.randomisation",
    "pmrtrial.cdisc",
]
FORBIDDEN = [
    "django",
    "typer",
    "click",
    "rich",
    "pmrtrial.cli",
    "pmrtrial.edc",
    "pmrtrial.io",
    "pmrtrial.report",
    "matplotlib",
]


def test_core_imports_no_framework():
    code = f"""
import importlib, importlib.util, sys
for name in {CORE!r}:
    importlib.import_module(name)
for name in {OPTIONAL_CORE!r}:
    if importlib.util.find_spec(name) is not None:
        importlib.import_module(name)
bad = sorted(m for m in sys.modules for f in {FORBIDDEN!r} if m == f or m.startswith(f + "."))
print(",".join(bad))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "", f"core imported: {proc.stdout.strip()}"


def test_core_does_no_file_writes():
    # The core may read its own package data (importlib.resources) but never opens files for writing.
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1] / "src" / "pmrtrial"
    adapters = {"cli", "io", "report", "edc"}
    offenders = []
    for path in root.rglob("*.py"):
        if adapters & set(path.relative_to(root).parts):
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("open(", ".write_text(", ".write_bytes(", "to_csv(", "to_parquet(", "savefig("):
            if needle in text:
                offenders.append(f"{path.relative_to(root)}: {needle}")
    assert offenders == []
