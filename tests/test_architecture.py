"""The layer rules, read from the source: every ``import`` of every module of the package, walked with ``ast``.

Layers, from the ground up (a module may import its own layer and the layers below it, never above):

- **ground**: ``pmrtrial`` itself, ``exceptions``, ``units``, ``vocabulary`` and the private helpers
  (``_validate``, ``_yaml``, ``_lazy``): no pmrtrial imports beyond the ground;
- **core**: scores, criteria, protocol, datasets, derive, plausibility, stats, design, synth, analysis, published:
  pure computation; no web/CLI/rendering framework, no file writes;
- **adapters**: ``io`` (files), ``report`` (rendering), ``edc`` (Django);
- **application**: ``demo`` (the end-to-end demo and the analyse pipeline), built from core and adapters;
- **entry point**: ``cli`` and ``__main__``, which parse arguments and call one function of any layer below.

Imports under ``if TYPE_CHECKING:`` are for type checkers only and are not counted. A new top-level module or
package must be given a layer here (the test fails for an unclassified one).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "pmrtrial"

LAYERS = ("ground", "core", "adapters", "application", "entry")
LAYER_OF = {
    "": "ground",  # the package root, pmrtrial/__init__.py
    "exceptions": "ground",
    "units": "ground",
    "vocabulary": "ground",
    "_validate": "ground",
    "_yaml": "ground",
    "_lazy": "ground",
    "scores": "core",
    "criteria": "core",
    "protocol": "core",
    "datasets": "core",
    "derive": "core",
    "derive_endpoints": "core",
    "plausibility": "core",
    "stats": "core",
    "design": "core",
    "synth": "core",
    "analysis": "core",
    "published": "core",
    "io": "adapters",
    "report": "adapters",
    "edc": "adapters",
    "demo": "application",
    "cli": "entry",
    "__main__": "entry",
}
#: Third-party frameworks the core never imports (rendering, web, CLI).
CORE_FORBIDDEN = ("django", "ninja", "typer", "click", "rich", "matplotlib", "weasyprint", "docx", "jinja2")
#: Calls that write files; the core may read its own package data but never writes.
WRITE_CALLS = ("open", "write_text", "write_bytes", "to_csv", "to_parquet", "savefig")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    key = parts[1] if len(parts) > 1 else ""
    assert key in LAYER_OF, f"{module}: no layer for pmrtrial.{key}; add it to LAYER_OF in tests/test_architecture.py"
    return LAYER_OF[key]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, name) for every import executed at run time, relative imports resolved.

    ``from a import b`` yields both ``a`` and ``a.b`` (``b`` may be a submodule); callers keep the names that are
    modules of the package.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)  # submodules
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _modules() -> list[tuple[Path, str]]:
    return [(p, _module_name(p)) for p in sorted(ROOT.rglob("*.py"))]


def test_every_module_has_a_layer():
    for _, module in _modules():
        _layer(module)


def test_imports_point_down_the_layers():
    offenders = []
    names = {module for _, module in _modules()}
    for path, module in _modules():
        own = LAYERS.index(_layer(module))
        for line, target in _imports(path, module):
            if target in names and LAYERS.index(_layer(target)) > own:
                offenders.append(f"{module}:{line} ({_layer(module)}) imports {target} ({_layer(target)})")
    assert offenders == []


def test_core_imports_no_framework():
    offenders = []
    for path, module in _modules():
        if _layer(module) not in ("ground", "core"):
            continue
        for line, target in _imports(path, module):
            if target.split(".")[0] in CORE_FORBIDDEN:
                offenders.append(f"{module}:{line} imports {target}")
    assert offenders == []


def test_core_writes_no_files():
    offenders = []
    for path, module in _modules():
        if _layer(module) not in ("ground", "core"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in WRITE_CALLS:
                    offenders.append(f"{module}:{node.lineno} calls {name}()")
    assert offenders == []


def test_no_import_cycles_between_modules():
    """No two modules import each other, even lazily inside a function (the simulator/Dask and EDC sites/
    randomisation circles are gone). A package's ``__init__`` re-exporting its submodules is not a cycle."""
    names = {module for _, module in _modules()}
    edges: dict[str, set[str]] = {}
    for path, module in _modules():
        targets = {t for _, t in _imports(path, module) if t in names and t != module}
        edges[module] = {t for t in targets if not module.startswith(t + ".") and not t.startswith(module + ".")}
    pairs = sorted({tuple(sorted((a, b))) for a, bs in edges.items() for b in bs if a in edges.get(b, set())})
    assert pairs == []


def test_importing_the_core_loads_no_adapter_at_run_time():
    """The static rules above, checked once in a fresh interpreter: importing every core package loads none of
    the adapters, application, entry point or frameworks."""
    core = sorted(m for _, m in _modules() if _layer(m) in ("ground", "core") and m.count(".") <= 1)
    forbidden = [*CORE_FORBIDDEN, "pmrtrial.io", "pmrtrial.report", "pmrtrial.edc", "pmrtrial.demo", "pmrtrial.cli"]
    code = f"""
import importlib, sys
for name in {core!r}:
    importlib.import_module(name)
bad = sorted(m for m in sys.modules for f in {forbidden!r} if m == f or m.startswith(f + "."))
print(",".join(bad))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "", f"core imported: {proc.stdout.strip()}"


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
