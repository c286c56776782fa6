"""Spreadsheet-safe CSV cells (CSV/formula injection), and the inverse for pmrtrial's own readers.

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=HYPERLINK(...)`` makes a live link; older tools also run commands), and a leading tab or
carriage return hides such a prefix. The rule, applied to every CSV pmrtrial writes (canonical
datasets, EDC exports, the audit trail):

- a *text* cell that begins with ``= + - @``, a tab or a carriage return, possibly after
  apostrophes, gets one leading apostrophe ``'``: ``=HYPERLINK("x")`` is written
  ``'=HYPERLINK("x")``, and a spreadsheet shows it as text;
- numbers are left alone: numeric cells, and text that is a plain number such as ``-0.1`` (an
  EQ-5D index) or ``+2``, stay numbers;
- :func:`restore_cell` removes exactly one apostrophe from a cell that begins with apostrophes
  followed by one of those characters, so writing then reading returns the original text (a text
  that itself began ``'=`` is written ``''=`` and read back as ``'=``).

OWASP, "CSV Injection" (https://owasp.org/www-community/attacks/CSV_Injection) describes the attack
and this neutralisation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

__all__ = ["neutralise_cell", "neutralise_frame", "restore_cell", "restore_frame", "safe_row"]

_TRIGGER = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_cell(value: Any) -> Any:
    """``value`` with a leading apostrophe if it is text a spreadsheet would run as a formula.

    >>> neutralise_cell('=HYPERLINK("http://x")'), neutralise_cell("-0.1"), neutralise_cell(-0.1)
    ('\\'=HYPERLINK("http://x")', '-0.1', -0.1)
    """
    if isinstance(value, str) and _TRIGGER.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def restore_cell(value: Any) -> Any:
    """Undo :func:`neutralise_cell`.

    >>> restore_cell("'=1+2"), restore_cell("''=x"), restore_cell("'quoted"), restore_cell(3)
    ('=1+2', "'=x", "'quoted", 3)
    """
    if isinstance(value, str) and _ESCAPED.match(value):
        return value[1:]
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """A ``csv.writer`` row with every cell neutralised."""
    return [neutralise_cell(v) for v in values]


def _text_columns(frame: pd.DataFrame) -> list[Any]:
    return [c for c in frame.columns if frame[c].dtype == object or isinstance(frame[c].dtype, pd.StringDtype)]


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with its text cells neutralised (numeric columns untouched)."""
    out = frame.copy()
    for col in _text_columns(out):
        out[col] = out[col].map(neutralise_cell, na_action="ignore")
    return out


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its text cells restored (in place) and returned."""
    for col in _text_columns(frame):
        frame[col] = frame[col].map(restore_cell, na_action="ignore")
    return frame
