"""``pmrtrial analyse --blinded``: the pooled blinded review, and the refusal of a blinded folder otherwise."""

from __future__ import annotations

import json
from pathlib import Path

from pmrtrial.exceptions import DataError

__all__ = ["is_blinded_folder", "refuse_blinded_folder", "run_blinded_review"]


def is_blinded_folder(data_dir: Path) -> bool:
    """True when ``data_dir/dataset.json`` says ``"blinded": true``."""
    from pmrtrial.io.datasets import MANIFEST_NAME

    manifest = data_dir / MANIFEST_NAME
    if not manifest.exists():
        return False
    try:
        return bool(json.loads(manifest.read_text(encoding="utf-8")).get("blinded", False))
    except (json.JSONDecodeError, AttributeError):
        return False


def refuse_blinded_folder(data_dir: Path) -> None:
    """One-line refusal (a :class:`DataError`) when an arm-comparing command meets a blinded export."""
    if is_blinded_folder(data_dir):
        raise DataError(
            f'{data_dir} is a blinded export (dataset.json: "blinded": true): its arms are per-participant '
            "codes, so arms cannot be compared; run `pmrtrial analyse --blinded` for the pooled blinded review."
        )


def run_blinded_review(data_dir: Path, protocol: str, out: Path) -> Path:
    """Validate the folder, write ``blinded_review.json`` into ``out`` and return its path."""
    from pmrtrial.analysis.blinded import blinded_review
    from pmrtrial.io import write_json_atomic
    from pmrtrial.io.datasets import read_datasets
    from pmrtrial.io.files import read_protocol_text
    from pmrtrial.protocol import load_protocol

    data = read_datasets(data_dir, protocol=load_protocol(read_protocol_text(protocol)))
    review = blinded_review(data)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "blinded_review.json"
    write_json_atomic(path, review.to_dict())
    return path
