"""EDC app: randomisation."""
