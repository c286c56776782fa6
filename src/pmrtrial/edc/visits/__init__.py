"""EDC app: visits."""
