"""Generate the GEE reference datasets (run once; the CSVs are committed).

The BACHELOR per-centre data are not published: only 14/18 responders on baricitinib and 2/15 on
placebo among 33 analysed participants in 6 centres. These datasets spread those participants over
6 centres in different ways (seeded, reproducible) plus datasets where the log-binomial model
struggles (responders at or near 100% in one arm) and a few random replicates with other counts.

Usage: python make_datasets.py   (writes *.csv next to this file)

fallback_poisson_start_rep14658.csv and fallback_poisson_rep1486.csv are not written here: they
are replicates (numbered in the file names) of simulations with numpy seed 7 (20,000 trials
for rep1486, 100,000 for rep14658) of 18 active / 15 placebo with response probabilities
0.75 / 0.15, centres of sizes 9, 7, 6, 5, 3, 3 and the arm permuted by
argsort(rng.random((n_trials, 33))), picked because pmrtrial's fallback rule reached step 2
(log-binomial from Poisson estimates) and step 3 (modified Poisson) on them. Their reference
values come from geepack like every other dataset.

zero_variance_balanced_null.csv is not written here either: it is replicate 1450 of
pmrtrial.design.simulate_trials(load_scenario("bachelor-null"), 4000, seed=18) (participants
outside the analysis set dropped; centres renumbered C1-C6), 2/17 vs 2/17 with identical arms in
every centre, on which the robust variance of the log RR is zero up to rounding.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def write(name: str, site: list[int], arm: list[int], response: list[int]) -> None:
    order = np.lexsort((np.arange(len(site)), site))  # sorted by site: geeglm needs contiguous clusters
    with (HERE / f"{name}.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["subject_id", "site_id", "arm", "response"])
        for k, i in enumerate(order, start=1):
            w.writerow([f"S{k:03d}", f"C{site[i]}", arm[i], response[i]])


def allocate(rng: np.random.Generator, counts: tuple[int, int, int, int], sizes: list[int]) -> tuple:
    """counts = (responders_active, n_active, responders_placebo, n_placebo)."""
    ra, na, rp, npl = counts
    arm = [1] * na + [0] * npl
    resp = [1] * ra + [0] * (na - ra) + [1] * rp + [0] * (npl - rp)
    site = np.repeat(np.arange(1, len(sizes) + 1), sizes)
    perm = rng.permutation(len(arm))
    return list(site), [arm[i] for i in perm], [resp[i] for i in perm]


def main() -> None:
    bachelor = (14, 18, 2, 15)
    # centre sizes (sum 33) chosen to resemble a small multicentre trial; allocation seeded
    layouts = {
        "bachelor_alloc1": ([9, 7, 6, 5, 3, 3], 20250101),
        "bachelor_alloc2": ([6, 6, 6, 5, 5, 5], 2),
        "bachelor_alloc3": ([12, 8, 5, 4, 2, 2], 3),
        "bachelor_alloc4": ([10, 6, 6, 4, 4, 3], 4),
        "bachelor_alloc5": ([7, 7, 6, 6, 4, 3], 5),
    }
    for name, (sizes, seed) in layouts.items():
        write(name, *allocate(np.random.default_rng(seed), bachelor, sizes))
    # log-binomial struggles: all / nearly all responders in the active arm
    write("near100_all_active", *allocate(np.random.default_rng(11), (18, 18, 2, 15), [9, 7, 6, 5, 3, 3]))
    write("near100_17of18", *allocate(np.random.default_rng(12), (17, 18, 3, 15), [9, 7, 6, 5, 3, 3]))
    # other counts, 36-40 subjects, 6 centres
    rng = np.random.default_rng(99)
    for k in range(1, 6):
        n_a, n_p = int(rng.integers(17, 21)), int(rng.integers(17, 21))
        r_a, r_p = int(rng.integers(6, n_a - 2)), int(rng.integers(2, 8))
        sizes = list(rng.multinomial(n_a + n_p - 12, [1 / 6] * 6) + 2)
        write(f"random_{k}", *allocate(rng, (r_a, n_a, r_p, n_p), sizes))


if __name__ == "__main__":
    main()
