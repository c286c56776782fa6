"""Command-line interface (stub for the design branch; the lead owns this file)."""
