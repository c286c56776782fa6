"""EDC app: queries."""
