"""YAML parsing with the C loader when PyYAML was built with libyaml (about 10x faster, same results)."""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["safe_load"]

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` semantics (safe tags only), using libyaml's parser when available."""
    return yaml.load(text, Loader=_LOADER)
