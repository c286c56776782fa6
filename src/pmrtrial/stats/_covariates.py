"""Covariate design matrices for the adjusted models (Cox, modified Poisson, log-binomial).

Numeric and boolean columns enter as they are; text and categorical columns are dummy-coded against
their first sorted level (R's default treatment contrasts). After the rows with a missing value are
dropped, a column that is constant or a linear combination of the treatment indicator and the columns
before it (perfect collinearity, e.g. a covariate constant within the analysed participants or a
stratum duplicating another) is dropped with a recorded warning, as R reports an ``NA`` coefficient
for it. The treatment indicator always comes first and is never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.stats._arrays import FloatArray

__all__ = ["CovariateDesign", "covariate_matrix"]


@dataclass(frozen=True)
class CovariateDesign:
    """Covariate columns (NaN = missing) with their names; ``reason`` when the covariates are unusable."""

    matrix: FloatArray
    names: tuple[str, ...]
    reason: str | None = None
    notes: tuple[str, ...] = ()

    def select(
        self, keep: np.ndarray[Any, np.dtype[np.bool_]], treated: FloatArray
    ) -> tuple[FloatArray, list[str], list[str]]:
        """Design ``[treated, covariates...]`` on the kept rows, without constant or collinear columns.

        Returns the matrix (treated first), the kept covariate names and the warnings for dropped ones.
        """
        columns = [treated]
        names: list[str] = []
        warns: list[str] = list(self.notes)
        rows = self.matrix[keep]
        centred = [treated - treated.mean()] if treated.size else [treated]
        for j, name in enumerate(self.names):
            col = rows[:, j]
            if col.size == 0 or np.ptp(col) == 0:
                warns.append(f"covariate {name!r} is constant in the analysed participants and was dropped")
                continue
            trial = np.column_stack([*centred, col - col.mean()])
            if np.linalg.matrix_rank(trial) < trial.shape[1]:
                warns.append(
                    f"covariate {name!r} is collinear with the treatment or earlier covariates and was dropped"
                )
                continue
            centred.append(col - col.mean())
            columns.append(col)
            names.append(name)
        return np.column_stack(columns), names, warns


def covariate_matrix(covariates: pd.DataFrame | None, n: int) -> CovariateDesign:
    """Encode ``covariates`` (one row per participant, ``n`` rows) as a float matrix."""
    if covariates is None:
        return CovariateDesign(np.empty((n, 0)), ())
    if not isinstance(covariates, pd.DataFrame):
        raise ScoreInputError("covariates", type(covariates).__name__, "a pandas DataFrame or None")
    if len(covariates) != n:
        raise ScoreInputError("covariates", f"{len(covariates)} rows", f"{n} rows (one per participant)")
    cols: list[FloatArray] = []
    names: list[str] = []
    notes: list[str] = []
    for name in covariates.columns:
        series = covariates[name].reset_index(drop=True)
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            values = np.asarray(pd.to_numeric(series, errors="coerce"), dtype=np.float64)
            if np.isinf(values).any():
                raise ScoreInputError(f"covariates[{name!r}]", "inf", "finite numbers (missing allowed)")
            cols.append(values)
            names.append(str(name))
            continue
        missing = series.isna().to_numpy()
        levels = sorted({str(v) for v in series[~missing]})
        if len(levels) < 2:
            notes.append(f"covariate {str(name)!r} has a single level and was dropped")
        for level in levels[1:]:
            col = np.asarray(series.astype(str) == level, dtype=np.float64)
            col[missing] = np.nan
            cols.append(col)
            names.append(f"{name}={level}")
    matrix = np.column_stack(cols) if cols else np.empty((n, 0))
    return CovariateDesign(matrix.astype(float), tuple(names), notes=tuple(notes))
