"""Each variable is declared once: in pmrtrial.vocabulary, and nowhere else under src/ (issue 10, section 1).

An AST scan of every module under ``src/pmrtrial`` (except the vocabulary) looks for a module declaring
what the vocabulary declares:

- a column list: a literal list/tuple/set of canonical names, all of one table, covering at least half
  of that table (``VISIT_COLUMNS = ["subject_id", "week", ...]``), or a dict of such names to constants
  (``{"crp_mg_l": ("mg/L", "C-reactive protein"), ...}``);
- a range or levels: a call naming a canonical variable (``field=``/``name=`` or first argument) with a
  literal ``lo``/``hi``/``min``/``max`` or ``allowed``/``levels``/``choices``, or with two or more
  literal numbers after the name (``_n("pain_vas", "Pain", 0, 10)``); or a dict entry mapping a
  canonical name to a literal ``(lo, hi)`` pair.

Lists of a few names that say which inputs a computation reads (``["crp_pmr_as", "on_oral_gc"]``) are
not declarations and are not flagged. The exemptions below are each justified; an exemption that no
longer matches anything fails the test, so the list cannot rot.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pmrtrial.vocabulary import (
    DATASET_TABLES,
    TABLES,
    canonical_names,
    column_names,
    markdown_table,
    update_markdown_tables,
)

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "pmrtrial"

#: (module path under src/pmrtrial, assignment target or variable name) -> why it is not a second declaration.
EXEMPT = {
    ("criteria/eular_acr_2012.py", "age_years"): (
        "the 2012 classification criteria take the age of any person being classified (0-130), not the "
        "age range of a randomised trial participant (subjects.age_years)"
    ),
    ("synth/bachelor.py", "_BOUNDS_VISIT"): (
        "bounds of the synthetic twin's search for realistic values, deliberately narrower than the accepted ranges"
    ),
}

_RANGE_KEYWORDS = {"lo", "hi", "min", "max", "lower", "upper", "min_value", "max_value"}
_LEVEL_KEYWORDS = {"allowed", "levels", "choices"}
_NAME_KEYWORDS = {"field", "name", "var", "variable"}


def _number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def _constant(node: ast.AST) -> bool:
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_constant(e) for e in node.elts)
    return isinstance(node, ast.Constant) or _number(node)


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _Scanner(ast.NodeVisitor):
    def __init__(self, module: str) -> None:
        self.module = module
        self.target: str | None = None
        self.findings: list[tuple[str, int, str, str]] = []  # (module, line, exemption key, message)
        self.by_table = {t: set(column_names(t)) for t in TABLES}
        self.all_names = canonical_names()

    def _flag(self, node: ast.AST, key: str, message: str) -> None:
        self.findings.append((self.module, getattr(node, "lineno", 0), key, message))

    def _covering_table(self, names: list[str]) -> str | None:
        if len(names) < 4 or len(set(names)) != len(names):
            return None
        for table, columns in self.by_table.items():
            if set(names) <= columns and len(names) * 2 >= len(columns):
                return table
        return None

    def visit_Assign(self, node: ast.Assign) -> None:
        first = node.targets[0]
        self._with_target(first.id if isinstance(first, ast.Name) else None, node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._with_target(node.target.id if isinstance(node.target, ast.Name) else None, node)

    def _with_target(self, name: str | None, node: ast.AST) -> None:
        previous, self.target = self.target, name
        self.generic_visit(node)
        self.target = previous

    def _sequence(self, node: ast.List | ast.Tuple | ast.Set) -> None:
        names = [_string(e) for e in node.elts]
        if all(n is not None for n in names):
            table = self._covering_table([n for n in names if n is not None])
            if table is not None:
                self._flag(node, self.target or "", f"column list of {table!r} ({len(names)} names)")
        self.generic_visit(node)

    visit_List = visit_Tuple = visit_Set = _sequence

    def visit_Dict(self, node: ast.Dict) -> None:
        keys = [_string(k) for k in node.keys]
        if all(k is not None for k in keys) and all(_constant(v) for v in node.values):
            table = self._covering_table([k for k in keys if k is not None])
            if table is not None:
                self._flag(node, self.target or "", f"variable table of {table!r} ({len(keys)} names)")
        for key, value in zip(keys, node.values, strict=True):
            pair = isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == 2
            if key in self.all_names and pair and all(_number(e) for e in value.elts):  # type: ignore[attr-defined]
                self._flag(node, self.target or key, f"range of {key!r} in a dict")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        keywords = {k.arg: k.value for k in node.keywords if k.arg is not None}
        name = next((_string(keywords[k]) for k in _NAME_KEYWORDS if k in keywords), None)
        positional = node.args[1:]
        if name is None and node.args:
            name = _string(node.args[0])
        if name in self.all_names:
            assert name is not None
            if any(_number(keywords[k]) for k in _RANGE_KEYWORDS & set(keywords)):
                self._flag(node, name, f"range of {name!r} in a call")
            elif any(_constant(keywords[k]) for k in _LEVEL_KEYWORDS & set(keywords)):
                self._flag(node, name, f"levels of {name!r} in a call")
            elif sum(_number(a) for a in positional) >= 2:
                self._flag(node, name, f"range of {name!r} as positional numbers")
        self.generic_visit(node)


def scan_source(source: str, module: str) -> list[tuple[str, int, str, str]]:
    """Findings (module, line, exemption key, message) in one module's source."""
    scanner = _Scanner(module)
    scanner.visit(ast.parse(source))
    return scanner.findings


def _scan_src() -> list[tuple[str, int, str, str]]:
    findings = []
    for path in sorted(SRC.rglob("*.py")):
        module = path.relative_to(SRC).as_posix()
        if module == "vocabulary.py":
            continue
        findings += scan_source(path.read_text(encoding="utf-8"), module)
    return findings


def test_no_module_declares_a_range_or_a_column_list_of_its_own() -> None:
    findings = _scan_src()
    offending = [f"{m}:{line}: {msg}" for m, line, key, msg in findings if (m, key) not in EXEMPT]
    assert offending == [], "declare these in pmrtrial.vocabulary and build from it:\n" + "\n".join(offending)
    used = {(m, key) for m, _, key, _ in findings}
    assert set(EXEMPT) <= used, f"stale exemptions: {sorted(set(EXEMPT) - used)}"


# The pre-vocabulary declarations, as they stood in edc/exports/services.py, datasets.py,
# protocol/variables.py, edc/crfs/form_specs.py and scores/pmr_as.py: each must be caught.
PLANTED = {
    "export columns": 'VISIT_COLUMNS = ["subject_id", "week", "crp_mg_l", "esr_mm_h", "pain_vas", "patient_global_vas",'
    ' "fatigue_vas", "physician_global_vas", "morning_stiffness_min", "upper_limb_elevation", "oral_gc_mg_day"]',
    "ae columns": 'AE_COLUMNS = ["subject_id", "soc", "term", "serious", "severity", "onset_week", "outcome"]',
    "protocol variables": 'V = {"crp_mg_l": ("mg/L", "CRP"), "esr_mm_h": ("mm/h", "ESR"), "pain_vas": ("0-10", "p"),'
    ' "fatigue_vas": ("0-10", "f"), "haq_di": ("0-3", "h"), "sf36_pcs": ("T", "s"), "sf36_mcs": ("T", "m"),'
    ' "eq5d_index": ("i", "e"), "oral_gc_mg_day": ("mg", "g"), "study_drug_mg_day": ("mg", "d")}',
    "dataset spec": '_c("bmi", "float", "kg/m2", "body-mass index", lo=10, hi=80)',
    "form range": '_n("esr_mm_h", "ESR", 0, 200, "mm/h")',
    "score validator": 'as_float_array(x, field="pain_vas", lo=0, hi=10)',
    "levels": 'as_float_array(v, field="upper_limb_elevation", allowed=(0, 1, 2, 3))',
    "range map": 'SCORES = {"haq_di": (0.0, 3.0)}',
}

NOT_DECLARATIONS = [
    '_require(visits, ["crp_pmr_as", "on_oral_gc"], "response_state")',  # inputs a derivation reads
    'WEIGHTS = {"crp_mg_l": 0.1, "pain_vas": 1.0, "morning_stiffness_min": 0.1, "upper_limb_elevation": 1.0}',
    'as_float_array(p, field="probability", lo=0, hi=1)',  # not a canonical variable
    'x = ["alpha", "beta", "gamma", "delta"]',
    'row = {"subject_id": p.subject_id, "site_id": site, "arm": arm, "status": status}',  # values, not a spec
    'get_variable("pain_vas", "visits")',
]


@pytest.mark.parametrize("source", list(PLANTED.values()), ids=list(PLANTED))
def test_scan_catches_a_planted_declaration(source: str) -> None:
    assert len(scan_source(source, "planted.py")) == 1


@pytest.mark.parametrize("source", NOT_DECLARATIONS)
def test_scan_leaves_unrelated_code_alone(source: str) -> None:
    assert scan_source(source, "unrelated.py") == []


def test_readme_dataset_tables_are_generated_from_the_vocabulary() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for table in (*DATASET_TABLES, "derived"):
        block = f"<!-- vocabulary:{table} -->\n{markdown_table(table)}\n<!-- /vocabulary:{table} -->"
        assert block in readme, f"README table of {table!r} is missing or stale: run python tools/readme_tables.py"
    assert update_markdown_tables(readme) == readme


def test_readme_check_fails_on_a_drifted_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    drifted = readme.replace("| `pain_vas` | float | 0-10 | [0, 10] |", "| `pain_vas` | float | 0-10 | [0, 100] |")
    assert drifted != readme
    assert update_markdown_tables(drifted) == readme


def test_bundled_protocols_candidate_fields_accept_no_more_than_the_vocabulary() -> None:
    # Protocol files are data, not modules, so they may narrow a canonical variable for screening
    # (SEMAPHORE: oral GC 0-100 mg/day), but never widen it or change its type.
    from pmrtrial.protocol import list_protocols, load_protocol
    from pmrtrial.vocabulary import get_variable, is_canonical

    checked = 0
    for name in list_protocols():
        protocol = load_protocol(name)
        for spec in protocol.eligibility.fields:
            if not is_canonical(spec.name):
                continue
            var = get_variable(spec.name)
            checked += 1
            where = f"{protocol.id}: {spec.name}"
            if var.levels is not None and var.kind != "category":  # ordinal codes
                assert spec.min is not None and spec.max is not None, where
                assert set(range(int(spec.min), int(spec.max) + 1)) <= set(var.levels), where
            elif var.kind == "category":
                assert spec.type == "category" and set(spec.allowed or ()) <= set(var.levels or ()), where
            elif var.kind in ("float", "integer"):
                assert spec.type in ("number", "integer"), where
                assert var.lo is None or (spec.min is not None and spec.min >= var.lo), where
                assert var.hi is None or (spec.max is not None and spec.max <= var.hi), where
    assert checked >= 10  # bachelor alone screens age, sex, CRP, ESR, both VAS, stiffness, EUL
