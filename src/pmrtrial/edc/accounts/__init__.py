"""EDC app: accounts."""
