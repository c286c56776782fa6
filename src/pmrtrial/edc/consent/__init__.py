"""EDC app: consent."""
