"""Published beside reproduced for the comparator trials' twins (SEMAPHORE, SAPHYR).

``comparator_figures.yaml`` says where each published figure of ``pmrtrial/published/<trial>.yaml``
is reproduced in the analysis result (an endpoints[] entry and method, or the adverse-event summary). The table
prints both and flags a reproduced value that does not round to the printed figure (or, for a p printed as an
inequality such as ``<0.001``, does not satisfy it).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Any

from pmrtrial._yaml import safe_load
from pmrtrial.analysis import AnalysisResult
from pmrtrial.published import load_published, published_text
from pmrtrial.report.tables import Cell, Table, fmt_p

__all__ = ["COMPARATORS", "comparison_table", "load_comparator_published"]

#: Trials whose twins get the table.
COMPARATORS = ("semaphore", "saphyr")


def _text(name: str, package: str) -> str:
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")


def load_comparator_published(trial: str) -> Mapping[str, Any]:
    """The ``<trial>`` section of the bundled ``pmrtrial/published/<trial>.yaml`` (plain YAML values)."""
    return load_published(trial)


def _at(data: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(data, Mapping) or key not in data:
            return None
        data = data[key]
    if isinstance(data, Mapping) and "value" in data:
        return data["value"]
    return data


def _printed_text(published: Any, raw: str | None) -> str:
    return raw if raw is not None else str(published)


def _agrees(published: Any, value: float | None, decimals: int) -> bool:
    if value is None:
        return False
    if isinstance(published, str):
        bound = published.strip()
        if bound.startswith("<"):
            return value < float(bound[1:])
        return False
    return abs(float(value) - float(published)) <= 0.5 * 10.0**-decimals + 1e-9


def _decimals(raw: str) -> int:
    return len(raw.split(".")[1]) if "." in raw else 0


def _raw_numbers(trial: str) -> Mapping[str, Any]:
    """The published section with every scalar as its printed string (precision of the printed figure)."""
    import yaml

    text = published_text(trial)
    section: Mapping[str, Any] = yaml.load(text, Loader=yaml.BaseLoader)[trial]
    return section


def _arms(result: AnalysisResult, spec: Mapping[str, Any]) -> list[str]:
    arm = spec.get("arm")
    if arm is None:
        return [str(a["id"]) for a in result.arms]
    return [str(a) for a in arm] if isinstance(arm, list) else [str(arm)]


def _baseline(result: AnalysisResult, spec: Mapping[str, Any]) -> float | None:
    row = next((r for r in result.baseline if r.key == spec["baseline"]), None)
    if row is None or not row.estimable:
        return None
    arms = [row.arms.get(a, {}) for a in _arms(result, spec)]
    field = str(spec["field"])
    if field == "pct" and len(arms) > 1:  # pooled over arms: from the summed counts
        n = sum(int(d.get("n") or 0) for d in arms)
        return 100.0 * sum(int(d.get("events") or 0) for d in arms) / n if n else None
    if field == "events":
        return float(sum(int(d.get("events") or 0) for d in arms))
    value = arms[0].get(field)
    return None if value is None else float(value)


def _reproduced(result: AnalysisResult, spec: Mapping[str, Any]) -> float | None:
    if "consort" in spec:
        counts: Mapping[str, int] = getattr(result.consort, str(spec["consort"]))
        return float(sum(int(counts[a]) for a in _arms(result, spec)))
    if "baseline" in spec:
        return _baseline(result, spec)
    if "soc" in spec:
        ae = result.adverse_events
        row = next((r for r in ae.any_ae_by_soc if r["soc"] == spec["soc"]), None)
        count = float(row[spec["arm"]]) if row is not None else 0.0
        return 100.0 * count / float(ae.n_by_arm[spec["arm"]]) if spec.get("pct") else count
    entry = next((e for e in result.endpoints if e.id == spec["endpoint"]), None)
    if entry is None or spec["analysis"] not in entry.analyses:
        return None
    value = _at(entry.analyses[spec["analysis"]], str(spec["field"]))
    return None if value is None else float(value) * float(spec.get("scale", 1))


def comparison_table(result: AnalysisResult) -> Table | None:
    """The "Published beside reproduced" table of a comparator twin, or None for other trials."""
    trial = result.protocol_id
    if trial not in COMPARATORS:
        return None
    specs = safe_load(_text("comparator_figures.yaml", "pmrtrial.report"))
    published, raw = load_comparator_published(trial), _raw_numbers(trial)
    rows: list[tuple[Cell, ...]] = []
    for spec in (*specs[trial], *specs[f"{trial}_safety"]):
        value = _reproduced(result, spec)
        pub, pub_raw = _at(published, spec["published"]), _at(raw, spec["published"])
        text = _printed_text(pub, pub_raw)
        decimals = _decimals(text) if not text.startswith("<") else 0
        if value is None:
            shown = "not available"
        elif str(spec.get("field", "")) == "p":
            shown = fmt_p(value)
        elif decimals == 0 and float(value).is_integer():  # a count
            shown = f"{value:.0f}"
        else:
            shown = f"{value:.{max(decimals, 1) + 1}f}"
        ok = _agrees(pub if not text.startswith("<") else text, value, decimals)
        note = None if ok else f"published {text}" + (f"; {spec['why']}" if spec.get("why") else "")
        rows.append((Cell(str(spec["label"])), Cell(text, published=True), Cell(shown, not ok, note, compared=True)))
    for spec in specs.get(f"{trial}_not_reproduced", ()):  # shown with the reason, never compared
        text = _printed_text(_at(published, spec["published"]), _at(raw, spec["published"]))
        rows.append((Cell(str(spec["label"])), Cell(text, published=True), Cell(f"not reproduced: {spec['why']}")))
    notes = (
        "Reproduced values come from this analysis (results.json endpoints[], the CONSORT counts, the baseline table "
        "and the adverse-event summary); a value is flagged (≠) when it does not round to the printed figure, with "
        "the documented reason in Appendix A. Sources of the published figures: "
        f"pmrtrial/published/{trial}.yaml.",
    )
    return Table("published_comparison", "Published beside reproduced", ("Figure", "Published", "Reproduced"),
                 tuple(rows), notes)  # fmt: skip
