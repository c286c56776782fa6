"""``pmrtrial simulate``: operating characteristics of trial designs by Monte Carlo simulation.

The lead registers :func:`simulate` as ``pmrtrial simulate``; :data:`app` wraps it for tests.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from pmrtrial.design.scenario import Scenario, ScenarioError, list_scenarios, load_scenario
from pmrtrial.design.simulate import SimulationResult, simulate_operating_characteristics
from pmrtrial.design.simulate_tte_scenario import (
    RemissionFlareScenario,
    TteSimulationResult,
    list_tte_scenarios,
    load_tte_scenario,
    scenario_kind,
    simulate_tte_operating_characteristics,
)
from pmrtrial.exceptions import ScoreInputError
from pmrtrial.io.files import write_json_atomic, write_text_atomic

__all__ = ["app", "load_scenario_argument", "simulate"]

app = typer.Typer(help="Simulate trials and report operating characteristics", add_completion=False)


class _RateColumn(ProgressColumn):
    """Simulated trials per second."""

    def render(self, task: Task) -> Text:
        elapsed = task.finished_time if task.finished else task.elapsed
        if not elapsed:
            return Text("-- trials/s", style="cyan")
        return Text(f"{task.completed / elapsed:,.0f} trials/s", style="cyan")


def _all_scenarios() -> list[str]:
    return sorted(list_scenarios() + list_tte_scenarios())


def load_scenario_argument(arg: str) -> Scenario | RemissionFlareScenario:
    """A bundled scenario name or the path of a scenario YAML file; ``kind: time_to_event`` selects that kind."""
    if arg in list_scenarios():
        return load_scenario(arg)
    if arg in list_tte_scenarios():
        return load_tte_scenario(arg)
    path = Path(arg)
    if not path.is_file():
        raise ScenarioError(f"Unknown scenario {arg!r}: not a bundled scenario {_all_scenarios()} nor a file.")
    text = path.read_text(encoding="utf-8")
    if scenario_kind(text) == "time_to_event":
        return load_tte_scenario(text)
    return load_scenario(text)


def _grid_entries(grid: Path) -> list[str]:
    if not grid.is_file():
        raise ScenarioError(f"Grid file not found: {grid}")
    data = yaml.safe_load(grid.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), list) or not data["scenarios"]:
        raise ScenarioError(f"Grid file {grid}: expected a mapping with a non-empty list 'scenarios'.")
    out = []
    for entry in data["scenarios"]:
        entry = str(entry)
        if entry not in _all_scenarios() and not Path(entry).is_absolute():
            entry = str(grid.parent / entry)
        out.append(entry)
    return out


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.4f}" if abs(value) < 1000 else f"{value:,.0f}"


def _csv_text(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _metrics_table(result: SimulationResult | TteSimulationResult) -> Table:
    """One row per metric, one column per design point: value ± Monte Carlo SE (both kinds)."""
    points = result.points
    table = Table(
        title=f"{result.scenario}: {result.n_sims:,} trials per point, seed {result.seed} ({result.executor})"
    )
    table.add_column("metric", no_wrap=True)
    for p in points:
        table.add_column(f"{result.n_axis_label} {p.n_axis_value}", justify="right")
    for name in points[0].metrics:
        label = name.replace("power_", "type_I_error_") if points[0].is_null and name.startswith("power_") else name
        cells = [f"{_fmt(p.metrics[name].value)}±{_fmt(p.metrics[name].mcse)}" for p in points]
        table.add_row(label, *cells)
    return table


def _print_table(console: Console, result: SimulationResult) -> None:
    table = _metrics_table(result)
    truth = result.points[0].truth
    table.caption = (
        f"value ± Monte Carlo SE. True marginal response {truth.p_control:.4f} vs {truth.p_treated:.4f}, "
        f"RR {truth.rr:.4f} (large simulation, {truth.n_per_arm:,} per arm). "
        f"{result.trials_per_second:,.0f} trials/s."
    )
    console.print(table)


def _print_tte_table(console: Console, result: TteSimulationResult) -> None:
    table = _metrics_table(result)
    t = result.truth
    lines = [
        f"value ± Monte Carlo SE. True sustained remission {t.sr_control:.4f} vs {t.sr_treated:.4f} "
        f"(RD {t.risk_difference:.4f}); true HR {t.hazard_ratio:.4f} ({t.hr_method}). "
        f"{result.trials_per_second:,.0f} trials/s."
    ]
    for metric, targets in result.n_for_power.items():
        parts = [
            f"{k}: {v['smallest_swept_n'] if v['smallest_swept_n'] is not None else 'not reached'}"
            + (f" (interpolated {v['interpolated_n']:.1f})" if v["interpolated_n"] is not None else "")
            for k, v in targets.items()
        ]
        lines.append(f"{result.n_axis_label} for {metric}: " + "; ".join(parts))
    if result.closed_form is not None:
        cells = ", ".join(f"{p['n_axis_value']}: {p['power']:.4f}" for p in result.closed_form["points"])
        lines.append(f"Closed-form log-rank power ({result.closed_form['method']}) by {result.n_axis_label}: {cells}")
    too_few = sum(p.counts["too_few_events"] for p in result.points)
    if too_few:
        min_events = result.points[0].counts["min_events"]
        lines.append(f"{too_few} replicates had fewer than {min_events} flares (see results.json).")
    table.caption = "\n".join(lines)
    console.print(table)


def _write_outputs(result: SimulationResult | TteSimulationResult, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [write_json_atomic(out / "results.json", result.to_dict())]
    written.append(write_text_atomic(out / "operating_characteristics.csv", _csv_text(result.table_rows())))
    if len(result.points) > 1:
        from pmrtrial.report.sim_plots import render_power_vs_n

        written.extend(render_power_vs_n(result, out))
    return written


def simulate(
    scenarios: Annotated[
        list[str] | None,
        typer.Argument(help="Scenario name(s) (" + ", ".join(_all_scenarios()) + ") or YAML file(s)."),
    ] = None,
    n_sims: Annotated[int, typer.Option("--n-sims", help="Simulated trials per design point.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random streams.")] = 1,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("simulation"),
    workers: Annotated[int | None, typer.Option("--workers", help="Run on a local Dask cluster of N workers.")] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Run on an existing Dask cluster (tcp://host:port).")
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Trials analysed per vectorised batch.")] = 5000,
    grid: Annotated[Path | None, typer.Option("--grid", help="YAML file with a list 'scenarios'.")] = None,
    fisher_only: Annotated[
        bool, typer.Option("--fisher-only", help="Skip the GEE (Fisher test only; binary scenarios).")
    ] = False,
    truth_n: Annotated[
        int | None, typer.Option("--truth-n", help="Participants per arm of the truth simulation.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Simulate trials of one or more scenarios and write results.json, the OC table and plots."""
    names = list(scenarios or [])
    if grid is not None:
        names.extend(_grid_entries(grid))
    if not names:
        raise ScenarioError("Give at least one scenario (a name or a YAML file) or --grid FILE.")
    if workers is not None and scheduler is not None:
        raise ScoreInputError("--workers", workers, "either --workers or --scheduler, not both")
    if workers is not None and workers < 1:
        raise ScoreInputError("--workers", workers, "a positive integer")
    loaded = [load_scenario_argument(n) for n in names]
    if len({s.name for s in loaded}) != len(loaded):
        raise ScenarioError(f"Scenario names must be distinct in one call: {[s.name for s in loaded]}")
    console = Console()
    err = Console(stderr=True)
    client = cluster = None
    try:
        if workers is not None:
            from pmrtrial.design.simulate_dask import start_local_cluster

            client, cluster = start_local_cluster(workers)
        elif scheduler is not None:
            from distributed import Client

            client = Client(scheduler)  # type: ignore[no-untyped-call]
        summary_rows: list[dict[str, Any]] = []
        for scenario in loaded:
            is_tte = isinstance(scenario, RemissionFlareScenario)
            total = n_sims * (len(scenario.design_points()) if is_tte else len(scenario.sample_sizes()))
            with Progress(
                TextColumn(f"[bold]{scenario.name}"),
                BarColumn(),
                MofNCompleteColumn(),
                _RateColumn(),
                TimeElapsedColumn(),
                console=err,
                disable=quiet,
            ) as bar:
                task = bar.add_task("simulate", total=total)

                def advance(k: int, _bar: Progress = bar, _task: TaskID = task) -> None:
                    _bar.advance(_task, k)

                result: SimulationResult | TteSimulationResult
                if isinstance(scenario, RemissionFlareScenario):
                    if truth_n is not None:
                        scenario = scenario.model_copy(update={"truth_n_per_arm": truth_n})
                    if fisher_only:
                        err.print("--fisher-only applies to binary scenarios; time-to-event scenarios fit no GEE.")
                    result = simulate_tte_operating_characteristics(
                        scenario, n_sims=n_sims, seed=seed, batch_size=batch_size, client=client, progress=advance,
                        keep_replicates=False,
                    )  # fmt: skip
                else:
                    result = simulate_operating_characteristics(
                        scenario,
                        n_sims=n_sims,
                        seed=seed,
                        batch_size=batch_size,
                        client=client,
                        progress=advance,
                        with_gee=not fisher_only,
                        keep_replicates=False,
                        truth_n_per_arm=truth_n,
                    )
            target = out if len(loaded) == 1 else out / scenario.name
            written = _write_outputs(result, target)
            if isinstance(result, TteSimulationResult):
                _print_tte_table(console, result)
            else:
                _print_table(console, result)
            console.print("wrote " + ", ".join(str(p) for p in written))
            summary_rows.extend(result.table_rows())
        if len(loaded) > 1:
            path = write_text_atomic(out / "operating_characteristics.csv", _csv_text(summary_rows))
            console.print(f"wrote {path}")
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


app.command("simulate")(simulate)
