"""The design core stays pure: importing it loads no CLI, plotting or web framework."""

from __future__ import annotations

import subprocess
import sys


def test_design_core_imports_no_cli_or_plotting() -> None:
    code = (
        "import sys, pmrtrial.design\n"
        "banned = {'typer', 'click', 'rich', 'matplotlib', 'django'}\n"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & banned)\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
