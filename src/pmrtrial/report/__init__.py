"""Rendering results into reports and running the end-to-end demo (adapter layer over the core)."""
