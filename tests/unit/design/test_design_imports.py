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


def test_simulating_a_bundled_scenario_loads_no_pandas_statsmodels_or_scipy_stats() -> None:
    """What keeps ``pmrtrial simulate bachelor-as-run`` under a second of CPU: the truth comes from the bundled
    table, and the simulate path (model, predicates, Fisher lookup, batched GEE) needs only numpy and
    scipy.special."""
    code = (
        "import sys\n"
        "from pmrtrial.design.scenario import load_scenario\n"
        "from pmrtrial.design.simulate import simulate_operating_characteristics\n"
        "simulate_operating_characteristics(load_scenario('bachelor-as-run'), n_sims=200, seed=1)\n"
        "heavy = {'pandas', 'statsmodels', 'scipy.stats', 'matplotlib'}\n"
        "print(','.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
