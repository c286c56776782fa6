"""EQ-5D value sets, one JSON file per country and version (read with importlib.resources)."""
