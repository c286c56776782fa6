"""``pmrtrial design``: power and sample size for two independent proportions, or for time to event
(``--endpoint time-to-event``: Schoenfeld / Freedman events, accrual and follow-up turned into participants)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pmrtrial.design import (
    EXACT_METHODS,
    METHODS,
    compute_power,
    compute_power_curve,
    explain_published_sample_size,
    find_sample_size_all,
)
from pmrtrial.design._inputs import check_alpha, check_n, check_power, check_probability, check_ratio
from pmrtrial.design.survival import SURVIVAL_METHODS, compute_power_survival, find_sample_size_survival
from pmrtrial.exceptions import ScoreInputError

app = typer.Typer(help="Power and sample size", no_args_is_help=True)

P0 = Annotated[float, typer.Option("--p0", help="Response probability, control arm, in (0, 1).")]
P1 = Annotated[float, typer.Option("--p1", help="Response probability, treated arm, in (0, 1).")]
OptP0 = Annotated[float | None, typer.Option("--p0", help="Binary: response probability, control arm, in (0, 1).")]
OptP1 = Annotated[float | None, typer.Option("--p1", help="Binary: response probability, treated arm, in (0, 1).")]
ENDPOINT = Annotated[str, typer.Option("--endpoint", help="binary | time-to-event")]
HR = Annotated[float | None, typer.Option("--hr", help="Time to event: hazard ratio treated vs control.")]
MEDIAN = Annotated[
    float | None, typer.Option("--median-control", help="Time to event: control median (time unit of your choice).")
]
ACCRUAL = Annotated[float, typer.Option("--accrual", help="Time to event: uniform accrual duration.")]
FOLLOW_UP = Annotated[float, typer.Option("--follow-up", help="Time to event: follow-up after the last entry.")]
DROPOUT = Annotated[float, typer.Option("--dropout", help="Time to event: drop-out proportion by --dropout-time.")]
DROPOUT_TIME = Annotated[float, typer.Option("--dropout-time", help="Time to event: time of the --dropout rate.")]
_ENDPOINTS = ("binary", "time-to-event")


def _endpoint(endpoint: str) -> str:
    if endpoint not in _ENDPOINTS:
        raise ScoreInputError("--endpoint", endpoint, "one of " + ", ".join(_ENDPOINTS))
    return endpoint


def _survival_methods(method: str) -> tuple[str, ...]:
    if method == "all":
        return SURVIVAL_METHODS
    if method not in SURVIVAL_METHODS:
        raise ScoreInputError("--method", method, "one of all, " + ", ".join(SURVIVAL_METHODS))
    return (method,)


def _required(value: float | None, option: str, what: str) -> float:
    if value is None:
        raise ScoreInputError(option, None, what)
    return value


def _print_survival(results: list[object], as_json: bool, title: str) -> None:
    from pmrtrial.design.survival import SurvivalDesignResult

    rows = [r for r in results if isinstance(r, SurvivalDesignResult)]
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    table = Table(title=title)
    for col in ("method", "events", "events (real)", "power", "n", "n (real)", "n treated", "n control"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for r in rows:
        table.add_row(
            r.method,
            str(r.events_required),
            f"{r.events:.2f}",
            f"{r.power:.4f}",
            "" if r.n_required is None else str(r.n_required),
            "" if r.n is None else f"{r.n:.2f}",
            "" if r.n_treated is None else f"{r.n_treated:.2f}",
            "" if r.n_control is None else f"{r.n_control:.2f}",
        )
    console = Console()
    console.print(table)
    for line in rows[0].assumptions if rows else ():
        console.print(f"- {line}")


ALPHA = Annotated[float, typer.Option("--alpha", help="Two-sided significance level.")]
RATIO = Annotated[float, typer.Option("--ratio", help="Allocation ratio n_treated / n_control.")]


def _methods(method: str) -> tuple[str, ...]:
    if method == "all":
        return METHODS
    if method not in METHODS:
        raise ScoreInputError("--method", method, "one of all, " + ", ".join(METHODS))
    return (method,)


@app.command("samplesize")
def samplesize(
    p0: OptP0 = None,
    p1: OptP1 = None,
    alpha: ALPHA = 0.05,
    power: Annotated[float, typer.Option("--power", help="Target power.")] = 0.9,
    method: Annotated[
        str, typer.Option("--method", help="all|" + "|".join(METHODS) + " (time to event: all|schoenfeld|freedman)")
    ] = "all",
    ratio: RATIO = 1.0,
    n_max: Annotated[int | None, typer.Option("--n-max", help="Largest n per group scanned.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    endpoint: ENDPOINT = "binary",
    hr: HR = None,
    median_control: MEDIAN = None,
    accrual: ACCRUAL = 12.0,
    follow_up: FOLLOW_UP = 12.0,
    dropout: DROPOUT = 0.0,
    dropout_time: DROPOUT_TIME = 12.0,
) -> None:
    """Smallest n per group reaching the target power, every method side by side (or events and n for time
    to event: ``--endpoint time-to-event --hr 0.56 [--median-control 12 --accrual 24 --follow-up 12]``)."""
    if _endpoint(endpoint) == "time-to-event":
        hazard_ratio = _required(hr, "--hr", "a hazard ratio > 0 for --endpoint time-to-event")
        results: list[object] = [
            find_sample_size_survival(
                hazard_ratio,
                alpha=alpha,
                power=power,
                allocation_ratio=ratio,
                method=m,
                median_control=median_control,
                accrual_time=accrual,
                follow_up_time=follow_up,
                dropout_rate=dropout,
                dropout_time=dropout_time,
            )
            for m in _survival_methods(method)
        ]
        title = f"Time to event: HR={hazard_ratio:g}, two-sided alpha={alpha:g}, power={power:g}"
        _print_survival(results, as_json, title)
        return
    p0 = check_probability(_required(p0, "--p0", "a probability in (0, 1)"), "--p0")
    p1 = check_probability(_required(p1, "--p1", "a probability in (0, 1)"), "--p1")
    check_alpha(alpha, "--alpha")
    check_power(power, "--power")
    check_ratio(ratio, "--ratio")
    if p0 == p1:
        raise ScoreInputError("--p1", p1, f"a value different from --p0 ({p0:g})")
    if n_max is not None:
        check_n(n_max, "--n-max")
    results = find_sample_size_all(p0, p1, alpha=alpha, power=power, ratio=ratio, n_max=n_max, methods=_methods(method))
    if as_json:
        rows = []
        for r in results:
            row: dict[str, object] = {
                "method": r.method,
                "n_per_group": r.n_per_group,
                "n_treated": r.n_treated,
                "power_at_n": r.power_at_n,
            }
            if r.method in EXACT_METHODS:
                row["n_always"] = r.n_always
            else:
                row["n_continuous"] = r.n_continuous
            rows.append(row)
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"Sample size: p0={p0:g}, p1={p1:g}, two-sided alpha={alpha:g}, power={power:g}")
    for col in ("method", "n control", "n treated", "power at n", "n real", "n always"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for r in results:
        table.add_row(
            r.method,
            str(r.n_per_group),
            str(r.n_treated),
            f"{r.power_at_n:.4f}",
            "" if r.n_continuous is None else f"{r.n_continuous:.2f}",
            str(r.n_always) if r.method in EXACT_METHODS else "",
        )
    Console().print(table)


@app.command("power")
def power_cmd(
    p0: OptP0 = None,
    p1: OptP1 = None,
    n: Annotated[
        int | None, typer.Option("--n", help="n per group (control; treated too unless --n1); time to event: total n.")
    ] = None,
    n1: Annotated[int | None, typer.Option("--n1", help="n in the treated group.")] = None,
    alpha: ALPHA = 0.05,
    method: Annotated[
        str, typer.Option("--method", help="|".join(METHODS) + " (time to event: schoenfeld|freedman)")
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    endpoint: ENDPOINT = "binary",
    hr: HR = None,
    events: Annotated[float | None, typer.Option("--events", help="Time to event: number of events.")] = None,
    ratio: RATIO = 1.0,
    median_control: MEDIAN = None,
    accrual: ACCRUAL = 12.0,
    follow_up: FOLLOW_UP = 12.0,
    dropout: DROPOUT = 0.0,
    dropout_time: DROPOUT_TIME = 12.0,
) -> None:
    """Power of one method at fixed group sizes (time to event: at --events, or at the events expected
    from --n with --median-control, --accrual, --follow-up)."""
    if _endpoint(endpoint) == "time-to-event":
        hazard_ratio = _required(hr, "--hr", "a hazard ratio > 0 for --endpoint time-to-event")
        res = compute_power_survival(
            hazard_ratio, events=events, n=n, alpha=alpha, allocation_ratio=ratio, method=method or "schoenfeld",
            median_control=median_control, accrual_time=accrual, follow_up_time=follow_up, dropout_rate=dropout,
            dropout_time=dropout_time,
        )  # fmt: skip
        if as_json:
            typer.echo(json.dumps(res.to_dict(), indent=2))
        else:
            typer.echo(f"{res.method}: power {res.power:.6f} at {res.events:.2f} events (HR {hazard_ratio:g})")
        return
    method = method or "fisher-exact"
    p0 = check_probability(_required(p0, "--p0", "a probability in (0, 1)"), "--p0")
    p1 = check_probability(_required(p1, "--p1", "a probability in (0, 1)"), "--p1")
    n = int(_required(n, "--n", "an integer >= 1"))
    check_alpha(alpha, "--alpha")
    n_control = check_n(n, "--n")
    n_treated = check_n(n1, "--n1") if n1 is not None else n_control
    if method not in METHODS:
        raise ScoreInputError("--method", method, "one of " + ", ".join(METHODS))
    result = compute_power(p0, p1, n_control, n_treated, alpha=alpha, method=method)
    if as_json:
        typer.echo(json.dumps({**result.to_dict(), "power": result.power}, indent=2))
    else:
        typer.echo(f"{result.method}: power {result.power:.6f} at n = {n_control} / {n_treated}")


@app.command("curve")
def curve(
    p0: P0,
    p1: P1,
    n_min: Annotated[int, typer.Option("--n-min", help="Smallest n per group.")],
    n_max: Annotated[int, typer.Option("--n-max", help="Largest n per group.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    alpha: ALPHA = 0.05,
    power: Annotated[float, typer.Option("--power", help="Reference line.")] = 0.9,
    method: Annotated[str, typer.Option("--method", help="all|" + "|".join(METHODS))] = "all",
    ratio: RATIO = 1.0,
) -> None:
    """Write power_curve.png and power_curve.svg: power against n, one line per method."""
    from pmrtrial.report.power_curve import render_power_curve

    check_probability(p0, "--p0")
    check_probability(p1, "--p1")
    check_alpha(alpha, "--alpha")
    check_power(power, "--power")
    check_ratio(ratio, "--ratio")
    lo = check_n(n_min, "--n-min")
    hi = check_n(n_max, "--n-max")
    if hi < lo:
        raise ScoreInputError("--n-max", n_max, f"an integer >= --n-min ({lo})")
    ns = range(lo, hi + 1)
    curves = {m: compute_power_curve(p0, p1, ns, alpha=alpha, method=m, ratio=ratio) for m in _methods(method)}
    png, svg = render_power_curve(
        curves,
        out,
        target_power=power,
        title=f"Power, p0={p0:g} vs p1={p1:g}, two-sided alpha={alpha:g}",
    )
    typer.echo(f"wrote {png} and {svg}")


@app.command("explain")
def explain_cmd(
    n: Annotated[int, typer.Option("--n", help="The published n per group to explain, e.g. 17 for BACHELOR.")],
    p0: P0,
    p1: P1,
    alpha: ALPHA = 0.05,
    power: Annotated[float, typer.Option("--power", help="Target power.")] = 0.9,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Which assumptions reproduce a published sample size (an inference, labelled as such)."""
    check_n(n, "--n")
    check_probability(p0, "--p0")
    check_probability(p1, "--p1")
    check_alpha(alpha, "--alpha")
    check_power(power, "--power")
    result = explain_published_sample_size(n, p0, p1, alpha=alpha, power=power)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    table = Table(title=f"Assumptions that give n = {n} per group (INFERENCE: the publication does not state them)")
    for col in ("assumption", "method", "drop-out", "n"):
        table.add_column(col)
    for c in result.matching:
        table.add_row(c.assumption, c.method, f"{c.dropout:.0%}", str(c.n))
    console = Console()
    console.print(table)
    console.print(f"{len(result.matching)} of {len(result.candidates)} candidate assumptions give n = {n}.")
    if result.note:
        console.print(result.note)
