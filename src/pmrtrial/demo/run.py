"""``pmrtrial demo [--protocol bachelor|semaphore|saphyr]``: the end-to-end job on embedded defaults.

Load and validate the protocol (BACHELOR by default), screen and score its example candidates, then route
its synthetic twin (:mod:`pmrtrial.demo.twins`) through a fresh demo EDC database ``OUT/edc.sqlite3``
(screening, consent, randomisation with the demo-only override, every eCRF the protocol lists, adverse events,
the glucocorticoid dose log and flare assessments when the twin has them, end of study, e-signatures, lock,
audit-chain check; see :mod:`pmrtrial.demo.edc` and :mod:`pmrtrial.demo.edc_seed`), export its canonical
datasets into ``OUT/data`` as the unblinded statistician, read them back and validate them, run the SAP and
write the report into ``OUT/report`` (for the comparator twins with the published figures beside the
reproduced ones). Without the EDC's dependencies (the ``[edc]`` extra) the twin is written to ``OUT/data``
directly. Everything goes into a folder of the caller's choosing (never into the package, never the user's EDC
database); the default is ``./pmrtrial-demo/`` for BACHELOR and ``./pmrtrial-demo-<protocol>/`` for the others.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pmrtrial.demo.edc import EdcDemoResult, Progress, edc_available, run_edc_demo
from pmrtrial.demo.twins import DEMO_SEEDS, check_demo_protocol, generate_twin, optional_tables
from pmrtrial.exceptions import PmrTrialError
from pmrtrial.io import write_json_atomic, write_text_atomic
from pmrtrial.protocol import EligibilityResult, load_example_candidates, load_protocol, screen_candidate
from pmrtrial.protocol.validate import validate_protocol
from pmrtrial.scores import classify_pmr_as_activity

if TYPE_CHECKING:
    from pmrtrial.report.render import ReportFiles

__all__ = ["EDC_SUMMARY_NAME", "DemoResult", "default_out_dir", "run_demo"]

#: What went through the demo EDC (counts, audit check, export, and the twin's subject and site ids -> the EDC's).
EDC_SUMMARY_NAME = "edc.json"


@dataclass(frozen=True)
class DemoResult:
    out_dir: Path
    protocol_id: str
    protocol_version: str
    protocol_warnings: tuple[str, ...]
    screening: tuple[EligibilityResult, ...]
    files: tuple[Path, ...] = field(default_factory=tuple)
    report: ReportFiles | None = None
    analysis_note: str | None = None
    edc: EdcDemoResult | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        """One summary row per candidate."""
        out = []
        for r in self.screening:
            score = r.derived.get("crp_pmr_as")
            out.append(
                {
                    "candidate": r.candidate_id,
                    "crp_pmr_as": score,
                    "activity": None if score is None else classify_pmr_as_activity(score),
                    "eular_acr_2012": r.derived.get("eular_acr_2012_pmr"),
                    "status": r.status,
                    "failed": [o.id for o in r.failed],
                    "unanswered": [o.id for o in r.unanswered],
                }
            )
        return out


def claim_demo_folder(out: Path, *, force: bool) -> None:
    """Refuse a non-empty ``out`` unless ``force``; with ``force`` remove it if it is a previous demo folder."""
    if not out.exists():
        return
    if not out.is_dir():
        raise PmrTrialError(f"{out} exists and is not a folder; choose another --out.")
    if not any(out.iterdir()):
        return
    if not force:
        raise PmrTrialError(
            f"{out} already exists and is not empty; pass --force to replace it, or choose another --out."
        )
    if not (out / "summary.md").is_file():
        raise PmrTrialError(
            f"{out} is not a previous pmrtrial demo folder (no summary.md); --force only replaces those."
        )
    shutil.rmtree(out)


#: What the analysis of the export imports (the pipeline, hence the analysis and the report, and DOCX's library when
#: a DOCX is asked for): imported by :func:`_preload` while the EDC child works, on the core the child leaves idle.
_ANALYSIS_MODULES = ("pmrtrial.demo.pipeline",)


def _preload(modules: tuple[str, ...]) -> threading.Thread:
    """Import ``modules`` in a background thread (the main thread only waits for the EDC child meanwhile).

    Only a head start: the analysis imports them again in the main thread, which then finds them loaded, or raises
    the import's error as it would without this thread (an error here stops the preload and nothing else).
    """

    def work() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # reported by the main thread's own import of the same module
                return

    thread = threading.Thread(target=work, name="pmrtrial-demo-preload", daemon=True)
    thread.start()
    return thread


def default_out_dir(protocol: str = "bachelor") -> Path:
    """``pmrtrial-demo`` for BACHELOR, ``pmrtrial-demo-<protocol>`` for the others (relative to the caller)."""
    return Path("pmrtrial-demo" if check_demo_protocol(protocol) == "bachelor" else f"pmrtrial-demo-{protocol}")


def run_demo(
    out_dir: str | Path | None = None,
    *,
    protocol: str = "bachelor",
    seed: int | None = None,
    formats: tuple[str, ...] = ("html", "pdf", "docx"),
    edc: bool = True,
    progress: Progress | None = None,
    force: bool = False,
) -> DemoResult:
    """Run the demo of ``protocol`` (``bachelor``, ``semaphore`` or ``saphyr``) into ``out_dir``
    (:func:`default_out_dir` when None), with the twin's ``seed`` (:data:`~pmrtrial.demo.twins.DEMO_SEEDS` when
    None).

    Writes ``protocol.json``, ``screening.json`` and ``summary.md``; then, when the synthetic twins
    (:mod:`pmrtrial.synth`) are available, ``edc.sqlite3`` (the demo EDC database the twin went through, when
    ``edc`` and the EDC is installed) and ``edc.json`` (its summary: what was entered, the audit check, the
    export, and the EDC's numbers of the twin's participants and sites), ``data/`` (the canonical datasets
    exported from it, CSV) and ``report/`` (``report.html``, ``.pdf``, ``.docx``, ``results.json``), produced by
    reading ``data/`` back through the same validation and analysis as real data. ``progress(stage, done,
    total)`` is called as the EDC works and once per analysis step (stage ``analyse``).

    An unknown ``protocol`` raises :class:`~pmrtrial.exceptions.PmrTrialError` naming it and the accepted ones,
    before anything is written.

    An existing non-empty ``out_dir`` is never replaced silently: without ``force`` the demo refuses
    (:class:`~pmrtrial.exceptions.PmrTrialError`, nothing written); with ``force`` a previous demo folder (one
    holding the demo's ``summary.md``) is removed first, and any other non-empty folder is still refused.
    """
    trial = check_demo_protocol(protocol)
    seed = DEMO_SEEDS[trial] if seed is None else seed
    out = default_out_dir(trial) if out_dir is None else Path(out_dir)
    claim_demo_folder(out, force=force)
    report_progress = progress or (lambda _stage, _done, _total: None)
    seconds: dict[str, float] = {}
    proto = load_protocol(trial)
    warnings = tuple(str(i) for i in validate_protocol(proto) if i.severity == "warning")
    results = tuple(screen_candidate(proto, c) for c in load_example_candidates(trial))
    result = DemoResult(out, proto.id, proto.version, warnings, results)
    files = [
        write_json_atomic(out / "protocol.json", proto.summary()),
        write_json_atomic(out / "screening.json", [r.to_dict() for r in results]),
        write_text_atomic(out / "summary.md", _markdown(result)),
    ]
    report: ReportFiles | None = None
    note: str | None = None
    edc_result: EdcDemoResult | None = None
    if not twins_available():
        note = "synthetic twin not available in this installation (pmrtrial.synth); analysis skipped"
    else:
        t0 = time.perf_counter()
        if edc and edc_available():
            preload = _preload(_ANALYSIS_MODULES + (("docx",) if "docx" in formats else ()))
            try:
                edc_result = run_edc_demo(out, seed=seed, protocol=trial, progress=report_progress)
            finally:
                preload.join()
            files.append(edc_result.db)
            files.append(write_json_atomic(out / EDC_SUMMARY_NAME, edc_result.to_dict()))
            files.extend(sorted((out / "data").iterdir()))
        else:
            note = None if not edc else "EDC not installed (the [edc] extra): the twin was written to data/ directly"
            files.extend(write_twin_directly(out / "data", trial, seed))
        seconds["edc" if edc_result else "data"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        from pmrtrial.demo.pipeline import STEPS, analyse_directory

        report = analyse_directory(
            out / "data",
            protocol=trial,
            out_dir=out / "report",
            formats=formats,
            on_step=lambda name: report_progress("analyse", STEPS.index(name), len(STEPS)),
        ).files
        report_progress("analyse", len(STEPS), len(STEPS))
        seconds["analyse"] = time.perf_counter() - t0
    return DemoResult(
        out,
        proto.id,
        proto.version,
        warnings,
        results,
        tuple(files),
        report=report,
        analysis_note=note,
        edc=edc_result,
        seconds=seconds,
    )


def twins_available() -> bool:
    """True when the synthetic twins (:mod:`pmrtrial.synth`) are installed."""
    return importlib.util.find_spec("pmrtrial.synth") is not None


def write_twin_directly(data_dir: Path, protocol: str, seed: int) -> tuple[Path, ...]:
    """The direct route: the twin of ``protocol`` written into ``data_dir`` with
    :func:`~pmrtrial.io.datasets.write_datasets` (validated against the protocol; all files or none)."""
    from pmrtrial.io.datasets import write_datasets

    twin = generate_twin(protocol, seed)
    logs = optional_tables(twin)
    subjects = twin.subjects.copy()
    subjects.attrs["synthetic"] = True
    return write_datasets(
        data_dir,
        subjects,
        twin.visits,
        twin.adverse_events,
        protocol=load_protocol(protocol),
        manifest={"synthetic": True, "description": f"{protocol.upper()} synthetic twin, seed {seed}"},
        gc_doses=logs.get("gc_doses"),
        flares=logs.get("flares"),
    )


def _markdown(result: DemoResult) -> str:
    lines = [
        f"# pmrtrial demo: {result.protocol_id} protocol v{result.protocol_version}",
        "",
        "Example screening candidates are illustrative records shipped with pmrtrial, not trial data.",
        "",
        "| candidate | CRP PMR-AS | activity | 2012 criteria | status | failed | unanswered |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result.rows():
        score = "missing" if row["crp_pmr_as"] is None else f"{row['crp_pmr_as']:.1f}"
        lines.append(
            f"| {row['candidate']} | {score} | {row['activity'] or 'missing'} | {row['eular_acr_2012']} | "
            f"{row['status']} | {', '.join(row['failed']) or '-'} | {', '.join(row['unanswered']) or '-'} |"
        )
    if result.protocol_warnings:
        lines += ["", "Protocol validation warnings:", *[f"- {w}" for w in result.protocol_warnings]]
    return "\n".join(lines) + "\n"
