"""File input and output: the only layer besides the CLI and EDC that touches the file system."""

from __future__ import annotations

from pmrtrial.io.files import read_json, read_protocol, write_json_atomic, write_text_atomic

__all__ = ["read_json", "read_protocol", "write_json_atomic", "write_text_atomic"]
