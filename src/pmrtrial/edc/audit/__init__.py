"""EDC app: audit."""
