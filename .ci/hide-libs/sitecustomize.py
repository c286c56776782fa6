"""CI only: make the shared libraries named in ``PMRTRIAL_HIDE_LIBS`` unloadable through cffi.

``.ci/run`` puts this folder on ``PYTHONPATH`` so that the test run behaves as on a machine where those
Debian packages are absent (for example ``libharfbuzz-subset0``, which WeasyPrint loads when present but does
not need). ``cffi.FFI.dlopen`` raises ``OSError`` for any library name containing one of the comma-separated
fragments, exactly as the dynamic loader does for a missing file. cffi is patched when it is first imported,
so processes that never load it pay nothing.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from typing import Any

_HIDDEN = tuple(part.strip() for part in os.environ.get("PMRTRIAL_HIDE_LIBS", "").split(",") if part.strip())


def _patch(module: Any) -> None:
    original = module.FFI.dlopen

    def dlopen(self: Any, name: Any, flags: int = 0) -> Any:
        if isinstance(name, str) and any(fragment in name for fragment in _HIDDEN):
            raise OSError(f"{name}: hidden by .ci/hide-libs (PMRTRIAL_HIDE_LIBS={','.join(_HIDDEN)})")
        return original(self, name, flags)

    module.FFI.dlopen = dlopen


class _PatchCffiOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "cffi.api":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_and_patch(module: Any) -> None:
            exec_module(module)
            _patch(module)

        loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec


if _HIDDEN:
    sys.meta_path.insert(0, _PatchCffiOnImport())
