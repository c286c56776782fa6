"""EDC app: sites."""
