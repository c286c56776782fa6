"""The ``pmrtrial`` command line (adapter: parse, call one library function, render).

Every error is printed as one line on stderr with a non-zero exit code, never a traceback.

Start-up is lazy: the root knows each command's name and one-line help (``COMMANDS``) and imports the module of
the one command asked for (and through it typer, numpy, scipy, pandas or Django, as that command needs).
``pmrtrial --help`` and ``pmrtrial --version`` import nothing beyond the standard library.
"""

from __future__ import annotations

import gc
import importlib
import re
import sys
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

from pmrtrial import __version__

if TYPE_CHECKING:
    import typer

__all__ = ["COMMANDS", "accept_decimal_commas", "build_app", "main", "no_cycle_collection"]


class _Command(NamedTuple):
    module: str  # under pmrtrial.cli
    attribute: str  # a typer.Typer app (a command group) or a function (one command)
    help: str


# Order is the order of ``pmrtrial --help``.
COMMANDS: dict[str, _Command] = {
    "score": _Command("score", "app", "Score clinical instruments (PMR-AS, HAQ-DI, EQ-5D, SF-36)."),
    "classify": _Command("classify", "classify", "2012 EULAR/ACR classification criteria (research, not diagnosis)."),
    "eligibility": _Command("eligibility", "eligibility", "Screen a candidate against a protocol's criteria."),
    "protocol": _Command("protocol", "app", "Show or check trial protocols."),
    "synth": _Command("synth", "app", "Generate a SYNTHETIC twin of a published trial."),
    "analyse": _Command("analyse", "analyse", "Analyse canonical datasets with a protocol's SAP; write the report."),
    "design": _Command("design", "app", "Power and sample size."),
    "simulate": _Command("simulate", "simulate", "Simulate trials and report operating characteristics."),
    "edc": _Command("edc", "app", "The EDC (Django): database, users, export, audit trail, lock."),
    "serve": _Command("edc", "serve", "Serve the EDC web application."),
    "demo": _Command("demo", "demo", "Run the end-to-end demo (screening, EDC, analysis, report) into a folder."),
    "export": _Command("export", "app", "Export datasets as CDISC SDTM/ADaM (XPT, Dataset-JSON, define.xml) or ODM."),
    "import": _Command("importing", "app", "Import a REDCap project's records as canonical datasets."),
}

_HELP = "Run and analyse clinical trials in polymyalgia rheumatica."


def _root_help() -> str:
    width = max(len(name) for name in COMMANDS) + 2
    lines = [
        "Usage: pmrtrial [OPTIONS] COMMAND [ARGS]...",
        "",
        f"  {_HELP}",
        "",
        "Options:",
        "  --version  Print the version and exit.",
        "  --help     Show this message and exit.",
        "",
        "Commands:",
    ]
    for name, spec in COMMANDS.items():
        wrapped = textwrap.wrap(spec.help, 78 - width - 2) or [""]
        lines.append(f"  {name:<{width}}{wrapped[0]}")
        lines.extend(f"  {'':<{width}}{more}" for more in wrapped[1:])
    lines += ["", "Run 'pmrtrial COMMAND --help' for a command's options."]
    return "\n".join(lines)


def build_app(names: Iterable[str] | None = None) -> typer.Typer:
    """A typer app holding the named commands (all when ``names`` is None); only their modules are imported."""
    import typer

    app = typer.Typer(
        name="pmrtrial", help=_HELP, no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False
    )
    app.callback()(_root_callback)  # a group even with one command, so the command keeps its name
    for name in COMMANDS if names is None else names:
        spec = COMMANDS[name]
        target = getattr(importlib.import_module(f"pmrtrial.cli.{spec.module}"), spec.attribute)
        if isinstance(target, typer.Typer):
            single = target.registered_commands[0] if len(target.registered_commands) == 1 else None
            # an app holding one unnamed command is that command; a named one (``import redcap``) stays a group
            collapse = single is not None and single.name in (None, name) and target.registered_callback is None
            if spec.attribute == "app" and collapse:
                app.command(name, help=spec.help)(single.callback)  # type: ignore[union-attr,arg-type]
            else:
                app.add_typer(target, name=name)
        else:
            app.command(name)(target)
    return app


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


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Run the block without the cyclic garbage collector, then put what it created in the oldest generation.

    Start-up imports (typer, click, rich, pydantic, pandas, scipy, matplotlib) create about a million objects that
    live as long as the process; with the default thresholds the collector walks them again and again (about 0.3 s
    of CPU of a ``pmrtrial analyse``, a tenth of it) and frees nothing. ``gc.freeze()`` then ``gc.unfreeze()``
    moves every object to the oldest generation without a walk, so that young collections after the block do not
    walk them either. The setting is restored afterwards.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if collecting:
            gc.enable()


def _root_callback() -> None:
    """Run and analyse clinical trials in polymyalgia rheumatica."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns (and exits with) the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    code = _run(args)
    if argv is None:
        sys.exit(code)
    return code


def _run(args: list[str]) -> int:
    if not args or args[0] in ("--help", "-h"):
        print(_root_help())
        return 0
    if args[0] == "--version":
        print(f"pmrtrial {__version__}")
        return 0
    if args[0] not in COMMANDS:
        what = "option" if args[0].startswith("-") else "command"
        print(f"error: No such {what} '{args[0]}'. Expected one of: {', '.join(COMMANDS)}.", file=sys.stderr)
        return 2
    with no_cycle_collection():  # start-up imports: long-lived objects only
        from typer.exceptions import Abort, Exit, TyperException

        from pmrtrial.exceptions import PmrTrialError
    code = 0
    try:
        import typer

        with no_cycle_collection():
            command = typer.main.get_command(build_app([args[0]]))
        result: Any = command.main(
            args=accept_decimal_commas(command, args), standalone_mode=False, prog_name="pmrtrial"
        )
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
    return code
