"""EDC app: adverse_events."""
