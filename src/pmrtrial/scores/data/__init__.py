"""Bundled data of the scores: EQ-5D value sets and SF-36 norms (read with importlib.resources)."""
