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
    "pmrtrial.derive_endpoints",
    "pmrtrial.datasets",
    "pmrtrial.analysis",
    "pmrtrial.tables",
    "pmrtrial.randomisation",
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


def test_analysis_names_no_arm_drug_or_trial():
    # The SAP engine is generic: every trial-specific word comes from the protocol file. The words are read
    # from the bundled protocols themselves (arm ids, drugs of the dosing and taper segments, trial ids and
    # short titles), so a new protocol extends the check.
    import pathlib

    from pmrtrial.protocol import list_protocols, load_protocol

    words: set[str] = set()
    for name in list_protocols():
        protocol = load_protocol(name)
        words |= {protocol.id, protocol.short_title}
        for arm in protocol.arms:
            words.add(arm.id)
            words |= {seg.drug for seg in (*arm.dosing, *arm.gc_taper)}
        words |= {r.drug for r in protocol.rescue}
    root = pathlib.Path(__file__).resolve().parents[1] / "src" / "pmrtrial" / "analysis"
    offenders = [
        f"{path.name}: {word}"
        for path in sorted(root.rglob("*.py"))
        for word in sorted(words)
        if word.lower() in path.read_text(encoding="utf-8").lower()
    ]
    assert len(words) >= 6
    assert offenders == []
