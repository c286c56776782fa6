"""The ``pmrtrial`` command line (adapter: parse, call one library function, render).

Every error is printed as one line on stderr with a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.exceptions import Abort, Exit, TyperException

from pmrtrial.cli import analyse as _analyse
from pmrtrial.cli import classify as _classify
from pmrtrial.cli import demo as _demo
from pmrtrial.cli import design as _design
from pmrtrial.cli import edc as _edc
from pmrtrial.cli import eligibility as _eligibility
from pmrtrial.cli import export as _export
from pmrtrial.cli import importing as _importing
from pmrtrial.cli import protocol as _protocol
from pmrtrial.cli import score as _score
from pmrtrial.cli import simulate as _simulate
from pmrtrial.cli import synth as _synth
from pmrtrial.exceptions import PmrTrialError

__all__ = ["app", "main"]

app = typer.Typer(
    name="pmrtrial",
    help="Run and analyse clinical trials in polymyalgia rheumatica.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(_score.app, name="score")
app.add_typer(_protocol.app, name="protocol")
app.add_typer(_design.app, name="design")
app.add_typer(_synth.app, name="synth")
app.add_typer(_edc.app, name="edc")
app.add_typer(_export.app, name="export")
app.add_typer(_importing.app, name="import")
app.command("serve")(_edc.serve)
app.command("classify")(_classify.classify)
app.command("eligibility")(_eligibility.eligibility)
app.command("demo")(_demo.demo)
app.command("analyse")(_analyse.analyse)
app.command("simulate")(_simulate.simulate)


_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


def _is_float_option(param: Any) -> bool:
    if getattr(getattr(param, "type", None), "name", None) in ("float", "float range"):  # click-based typer
        return True
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    return annotation is float or float in getattr(annotation, "__args__", ())


def accept_decimal_commas(command: Any, argv: list[str]) -> list[str]:
    """``3,5`` -> ``3.5`` for the float options of the command ``argv`` selects, as French users write numbers.

    Only a value of digits, one comma, digits given to a float option is rewritten; every other token is
    left alone (text options and lists keep their commas).
    """
    out = list(argv)
    i = 0
    while i < len(out) and not out[i].startswith("-") and out[i] in getattr(command, "commands", {}):
        command = command.commands[out[i]]
        i += 1
    floats = {opt for p in command.params if _is_float_option(p) for opt in getattr(p, "opts", ())}
    for j in range(i, len(out)):
        token = out[j]
        name, eq, value = token.partition("=")
        if eq and name in floats and _DECIMAL_COMMA.fullmatch(value):
            out[j] = f"{name}={value.replace(',', '.')}"
        elif j > 0 and out[j - 1] in floats and _DECIMAL_COMMA.fullmatch(token):
            out[j] = token.replace(",", ".")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns (and exits with) the process exit code."""
    code = 0
    try:
        command = typer.main.get_command(app)
        args = accept_decimal_commas(command, list(sys.argv[1:] if argv is None else argv))
        result = command.main(args=args, standalone_mode=False, prog_name="pmrtrial")
        code = result if isinstance(result, int) else 0
    except Exit as exc:
        code = exc.exit_code
    except TyperException as exc:
        print(f"error: {' '.join(exc.format_message().split())}", file=sys.stderr)
        code = exc.exit_code
    except Abort:
        print("error: aborted", file=sys.stderr)
        code = 1
    except (PmrTrialError, ValueError) as exc:
        message = " ".join(str(exc).split())
        print(f"error: {message}", file=sys.stderr)
        code = 2
    except (OSError, KeyError) as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 1
    if argv is None:
        sys.exit(code)
    return code
