"""Bundled simulation scenarios (package data)."""
