"""EDC app: ui."""
