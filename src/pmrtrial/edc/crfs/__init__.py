"""EDC app: crfs."""
