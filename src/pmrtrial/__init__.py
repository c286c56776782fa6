"""pmrtrial: run and analyse clinical trials in polymyalgia rheumatica (PMR).

The package root is the pure core: clinical scores, classification criteria, protocols as data,
eligibility, statistics and design. It imports no web framework, no CLI framework and does no file
I/O except reading its own bundled data (protocols, value sets, example candidates).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
