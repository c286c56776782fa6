"""EDC app: screening."""
