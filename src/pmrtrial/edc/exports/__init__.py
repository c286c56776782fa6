"""EDC app: exports."""
