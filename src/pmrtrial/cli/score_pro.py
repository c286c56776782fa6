"""``pmrtrial score haq-di|eq5d|sf36``: score patient-reported outcomes from item answers.

Answers come from repeated ``--item KEY=VALUE`` options or from ``--file answers.json`` (a JSON
object of key -> answer, ``null`` for unanswered); options override the file. Keys are those
documented in :mod:`pmrtrial.scores.haq` and :mod:`pmrtrial.scores.sf36`. ``--json`` prints a
JSON object; otherwise a short text summary.

Errors are raised as :class:`~pmrtrial.exceptions.PmrTrialError` subclasses; the main entry point
prints them as one line on stderr and exits non-zero.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.scores.eq5d import check_eq5d_vas, compute_eq5d_index, list_eq5d_value_sets
from pmrtrial.scores.haq import compute_haq_di, compute_haq_di_without_aids
from pmrtrial.scores.sf36 import compute_sf36

__all__ = ["register"]

_ItemOption = Annotated[
    list[str] | None,
    typer.Option("--item", "-i", help="An answer as KEY=VALUE (repeatable), e.g. q3a=2 or walking_aid=true."),
]
_FileOption = Annotated[
    Path | None,
    typer.Option("--file", "-f", help="JSON file: an object of item key -> answer (null = unanswered)."),
]
_JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _parse_value(key: str, text: str) -> Any:
    lowered = text.strip().lower()
    if lowered in ("", "na", "null", "none"):
        return None
    if lowered in ("true", "yes"):
        return True
    if lowered in ("false", "no"):
        return False
    try:
        return int(lowered)
    except ValueError:
        raise ScoreInputError(key, text, "an integer answer, true/false, or NA for unanswered") from None


def _read_answers(items: list[str] | None, file: Path | None) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    if file is not None:
        try:
            loaded = json.loads(file.read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ScoreInputError("--file", str(file), f"a readable JSON file ({exc})") from None
        if not isinstance(loaded, dict):
            raise ScoreInputError("--file", str(file), "a JSON object of item key -> answer")
        answers.update(loaded)
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ScoreInputError("--item", item, "KEY=VALUE, e.g. q3a=2")
        answers[key.strip()] = _parse_value(key.strip(), value)
    return answers


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    return f"{value:.3f}"


def register(score_app: typer.Typer) -> None:
    """Add the ``haq-di``, ``eq5d`` and ``sf36`` commands to the ``score`` sub-app."""

    @score_app.command("haq-di")
    def haq_di_command(
        item: _ItemOption = None,
        file: _FileOption = None,
        without_aids: Annotated[
            bool,
            typer.Option("--without-aids", help='Use the "without aids/devices" variant (flags ignored).'),
        ] = False,
        as_json: _JsonOption = False,
    ) -> None:
        """Score the HAQ-DI (0-3) from the 20 item answers and the aid/help flags."""
        answers = _read_answers(item, file)
        result = compute_haq_di_without_aids(answers) if without_aids else compute_haq_di(answers)
        if as_json:
            typer.echo(json.dumps(result.to_dict()))
            return
        line = f"HAQ-DI ({result.variant}): {_fmt(result.score)}"
        if result.reason:
            line += f" ({result.reason})"
        typer.echo(line)

    @score_app.command("eq5d")
    def eq5d_command(
        state: Annotated[str, typer.Option("--state", "-s", help='5-digit health state, e.g. "11223".')],
        value_set: Annotated[
            str,
            typer.Option(
                "--value-set",
                help="Value set id (required, no default): " + ", ".join(list_eq5d_value_sets()) + ".",
            ),
        ],
        vas: Annotated[
            float | None, typer.Option("--vas", help="EQ VAS 0-100 (reported separately, not in the index).")
        ] = None,
        as_json: _JsonOption = False,
    ) -> None:
        """EQ-5D index value of a health state under a named national value set."""
        index = compute_eq5d_index(state, value_set=value_set)
        payload: dict[str, Any] = {"index": index}
        if vas is not None:
            check_eq5d_vas(vas)
            payload["vas"] = vas
        if as_json:
            typer.echo(json.dumps(payload))
            return
        text = f"EQ-5D index ({value_set}, state {state}): {_fmt(index)}"
        if vas is not None:
            text += f"; EQ VAS: {vas:g}"
        typer.echo(text)

    @score_app.command("sf36")
    def sf36_command(
        item: _ItemOption = None,
        file: _FileOption = None,
        as_json: _JsonOption = False,
    ) -> None:
        """Score the SF-36 v1 (standard scoring): 8 scales, PCS and MCS (1990 US norms)."""
        result = compute_sf36(_read_answers(item, file))
        if as_json:
            typer.echo(json.dumps(result.to_dict()))
            return
        d = result.to_dict()
        scales = "  ".join(f"{s.upper()} {_fmt(d[s])}" for s in ("pf", "rp", "bp", "gh", "vt", "sf", "re", "mh"))
        typer.echo(f"{result.scoring}\n{scales}\nPCS {_fmt(d['pcs'])}  MCS {_fmt(d['mcs'])}")
