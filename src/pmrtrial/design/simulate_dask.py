"""Run the simulator's tasks on a Dask cluster (local or remote).

Dask is imported lazily (only here, only when a client is given), so the core does not load it.
The tasks and their results are exactly those of the in-process path: the caller passes its task function
(:func:`pmrtrial.design.simulate.run_task`), so this module does not import the simulator (no import circle);
only where the tasks run changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy.typing as npt

from pmrtrial.design.simulate_model import SimulationModel

__all__ = ["run_tasks_dask", "start_local_cluster"]


def run_tasks_dask(
    client: Any,
    task: Callable[..., tuple[dict[str, npt.NDArray[Any]], dict[str, int]]],
    model: SimulationModel,
    sizes: Sequence[int],
    seed: int,
    plan: Sequence[tuple[int, int]],
    batch_size: int,
    with_gee: bool,
    progress: Callable[[int], None] | None,
) -> list[list[tuple[dict[str, npt.NDArray[Any]], dict[str, int]]]]:
    """Submit ``task`` for every (design point, block range) to ``client``; gather results in task order."""
    from distributed import as_completed

    model_future = client.scatter(model, broadcast=True)
    futures = []
    where = {}
    for i, n_total in enumerate(sizes):
        for j, (first_block, n_reps) in enumerate(plan):
            fut = client.submit(
                task, model_future, n_total, seed, first_block, n_reps, batch_size, with_gee, pure=False
            )
            futures.append(fut)
            where[fut.key] = (i, j, n_reps)
    out: list[list[Any]] = [[None] * len(plan) for _ in sizes]
    for fut in as_completed(futures):  # type: ignore[no-untyped-call]
        i, j, n_reps = where[fut.key]
        out[i][j] = fut.result()
        fut.release()
        if progress is not None:
            progress(n_reps)
    return out


def start_local_cluster(n_workers: int, *, processes: bool = True) -> tuple[Any, Any]:
    """A local Dask cluster of ``n_workers`` single-threaded workers and a client to it.

    HTTP (dashboard, metrics) on a free port, never the fixed 8787, and quiet logs. Close both (client first) when done.
    """
    import logging

    from distributed import Client, LocalCluster

    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=n_workers,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=":0",  # a free port: the scheduler always serves HTTP (metrics), so never a fixed 8787
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)  # type: ignore[no-untyped-call]
    return client, cluster
