"""Regenerate the README's dataset tables from the variable vocabulary.

Usage: ``python tools/readme_tables.py [README.md]`` (from a clone; ``PYTHONPATH=src`` when pmrtrial is not
installed). Rewrites every ``<!-- vocabulary:TABLE -->`` ... ``<!-- /vocabulary:TABLE -->`` block with
:func:`pmrtrial.vocabulary.markdown_table`; ``tests/test_single_source.py`` fails when the README drifts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pmrtrial.vocabulary import update_markdown_tables


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parents[1] / "README.md")
    text = path.read_text(encoding="utf-8")
    updated = update_markdown_tables(text)
    if updated != text:
        path.write_text(updated, encoding="utf-8")
        print(f"{path}: tables regenerated")
    else:
        print(f"{path}: up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
