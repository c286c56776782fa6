"""The analysis of a BACHELOR-shaped trial does not import scipy.stats (about 1 s of CPU at start-up), nor
scipy.optimize and scipy.integrate (0.15 s).

The exact tests, normal and t quantiles and the Pearson chi-square are computed from scipy.special, the Bayesian
risk ratio by tanh-sinh quadrature on scipy.special's Beta functions, the roots by a port of scipy's brentq; each
is checked against R in tests/reference and tests/unit/stats. Performance itself is measured in
benchmarks/bench_analyse.py, not here.
"""

from __future__ import annotations

import subprocess
import sys


def test_analysing_the_twin_loads_no_scipy_stats_optimize_or_integrate():
    code = (
        "import sys\n"
        "from pmrtrial.analysis import analyse_trial\n"
        "from pmrtrial.io.datasets import read_datasets\n"
        "from pmrtrial.protocol import load_protocol\n"
        "from pmrtrial.published import load_published\n"
        "p = load_protocol('bachelor')\n"
        "d = read_datasets('tests/reference/data/twin', protocol=p)\n"
        "r = analyse_trial(d, p, published=load_published('bachelor'))\n"
        "assert r.primary.boschloo.available and r.primary.sensitivity['tipping_point'].available\n"
        "heavy = ('scipy.stats', 'statsmodels', 'scipy.optimize', 'scipy.integrate')\n"
        "print(','.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
