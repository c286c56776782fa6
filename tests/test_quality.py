"""Static gates that run with the test suite: ruff on everything, mypy --strict on the core."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_lint_is_clean():
    if shutil.which("ruff") is None and _run("ruff", "--version").returncode != 0:
        pytest.fail("ruff is not installed: install the [test] extra")
    proc = _run("ruff", "check", "src", "tests", "benchmarks")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_on_core_is_clean():
    proc = _run("mypy", "--no-error-summary")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_docstring_examples_run():
    import doctest
    import importlib
    import pathlib

    src = pathlib.Path(__file__).resolve().parents[1] / "src"
    # Every core module whose docstrings hold examples (adapters are excluded: they need optional extras).
    modules = sorted(
        ".".join(path.relative_to(src).with_suffix("").parts)
        for path in (src / "pmrtrial").rglob("*.py")
        if ">>> " in path.read_text(encoding="utf-8")
        and not {"cli", "edc", "io", "report"} & set(path.relative_to(src / "pmrtrial").parts)
    )
    assert "pmrtrial.scores.pmr_as" in modules
    for name in modules:
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0, name
        assert result.failed == 0, name
