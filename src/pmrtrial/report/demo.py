"""``pmrtrial demo``: the end-to-end job on embedded defaults.

Today: load and validate the BACHELOR protocol, screen the example candidates, score them, and
write the outputs into a folder of the caller's choosing (never into the package).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pmrtrial.io import write_json_atomic, write_text_atomic
from pmrtrial.protocol import EligibilityResult, load_example_candidates, load_protocol, screen_candidate
from pmrtrial.protocol.validate import validate_protocol
from pmrtrial.scores import classify_pmr_as_activity

__all__ = ["DemoResult", "run_demo"]


@dataclass(frozen=True)
class DemoResult:
    out_dir: Path
    protocol_id: str
    protocol_version: str
    protocol_warnings: tuple[str, ...]
    screening: tuple[EligibilityResult, ...]
    files: tuple[Path, ...] = field(default_factory=tuple)

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


def run_demo(out_dir: str | Path = "pmrtrial-demo") -> DemoResult:
    """Run the demo and write ``protocol.json``, ``screening.json`` and ``summary.md`` into ``out_dir``."""
    out = Path(out_dir)
    protocol = load_protocol("bachelor")
    warnings = tuple(str(i) for i in validate_protocol(protocol) if i.severity == "warning")
    results = tuple(screen_candidate(protocol, c) for c in load_example_candidates())
    result = DemoResult(out, protocol.id, protocol.version, warnings, results)
    files = [
        write_json_atomic(out / "protocol.json", protocol.summary()),
        write_json_atomic(out / "screening.json", [r.to_dict() for r in results]),
        write_text_atomic(out / "summary.md", _markdown(result)),
    ]
    return DemoResult(out, protocol.id, protocol.version, warnings, results, tuple(files))


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
