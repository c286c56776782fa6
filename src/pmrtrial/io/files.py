"""Reading inputs and writing outputs safely (atomic writes: nothing is ever half-written)."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pmrtrial.exceptions import DataError, ProtocolError

if TYPE_CHECKING:
    import pandas as pd

    from pmrtrial.protocol import Protocol

__all__ = ["csv_text", "read_json", "read_protocol", "read_protocol_text", "write_json_atomic", "write_text_atomic"]


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file; errors name the file, line and column."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"File not found: {p}") from None
    except OSError as exc:
        raise DataError(f"Cannot read {p}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"Invalid JSON in {p} at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def read_protocol_text(name_or_path: str) -> str:
    """YAML text of a bundled protocol name or of a protocol file."""
    from pmrtrial.protocol import list_protocols

    if name_or_path in list_protocols():
        from pmrtrial.protocol.registry import read_bundled_text

        return read_bundled_text(name_or_path)
    p = Path(name_or_path)
    if not p.exists():
        raise ProtocolError(
            f"Unknown protocol {name_or_path!r}. Expected a bundled name ({', '.join(list_protocols())}) "
            "or the path of a protocol YAML file."
        )
    try:
        return p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProtocolError(f"Cannot read protocol file {p}: {exc.strerror}") from None


def read_protocol(name_or_path: str) -> Protocol:
    """Load and validate a bundled protocol (``"bachelor"``) or a protocol YAML file."""
    from pmrtrial.protocol import load_protocol

    return load_protocol(read_protocol_text(name_or_path))


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file and an atomic rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as indented UTF-8 JSON, atomically."""
    return write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, default=_json_default) + "\n")


def csv_text(frame: pd.DataFrame, integer_columns: tuple[str, ...] = ()) -> str:
    """``frame.to_csv(index=False, lineterminator="\\n")``, the same text, written by pyarrow when it can.

    ``integer_columns`` (float columns of whole numbers and NaN) are written as pandas writes them as ``Int64``.
    pandas formats a float column with ``ndarray.astype(str)`` (NaN as an empty cell), integers and text with
    ``str``; here each column's distinct values are formatted so, once, and pyarrow writes the rows without
    quoting. A text cell that would need quotes (``,``, ``"``, line breaks), an unusual column type, or no
    pyarrow: pandas writes the whole frame.
    """
    import numpy as np
    import pandas as pd

    try:
        import pyarrow as pa
        import pyarrow.csv as pa_csv
    except ImportError:  # pragma: no cover - pyarrow comes with the report extra
        return _pandas_csv(frame, integer_columns)
    names = [str(c) for c in frame.columns]
    if len(names) < 2 or any(_NEEDS_QUOTES.search(n) for n in names) or len(set(names)) < len(names):
        return _pandas_csv(frame, integer_columns)
    columns = []
    for name in frame.columns:
        values = frame[name]
        kind = values.dtype.kind
        if kind == "O" and not isinstance(values.dtype, pd.CategoricalDtype):
            try:
                columns.append(pa.array(values.to_numpy(), type=pa.string(), from_pandas=True))
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                return _pandas_csv(frame, integer_columns)
            continue
        if kind not in "fiub" or isinstance(values.dtype, pd.api.extensions.ExtensionDtype):
            return _pandas_csv(frame, integer_columns)
        if kind == "f":  # by bit pattern: factorize would merge -0.0 into 0.0, which pandas writes as "-0.0"
            floats = values.to_numpy(dtype=np.float64)
            codes, bits = pd.factorize(floats.view(np.int64))
            distinct = np.asarray(bits).view(np.float64)
            codes[np.isnan(floats)] = -1
        else:
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            distinct = np.asarray(uniques)
        if kind == "f" and name in integer_columns:
            whole = distinct[~np.isnan(distinct)]
            if not (np.isfinite(whole).all() and np.array_equal(whole, np.round(whole))):
                return _pandas_csv(frame, integer_columns)
            text = ["" if np.isnan(v) else str(int(v)) for v in distinct]
        elif kind == "f":
            text = distinct.astype(str).tolist()
        else:
            text = [str(v) for v in distinct.tolist()]
        columns.append(
            pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), pa.array(text, type=pa.string()))
        )
    sink = pa.BufferOutputStream()
    try:
        pa_csv.write_csv(
            pa.table(columns, names=names), sink, pa_csv.WriteOptions(include_header=False, quoting_style="none")
        )
    except pa.ArrowInvalid:  # a text cell needing quotes: pyarrow refuses rather than writing it bare
        return _pandas_csv(frame, integer_columns)
    body: bytes = sink.getvalue().to_pybytes()
    return ",".join(names) + "\n" + body.decode("utf-8")


_NEEDS_QUOTES = re.compile(r'[,"\r\n]|^$')


def _pandas_csv(frame: pd.DataFrame, integer_columns: tuple[str, ...]) -> str:
    table = frame.copy()
    for name in integer_columns:
        if name in table.columns:
            table[name] = table[name].astype("Int64")
    return table.to_csv(index=False, lineterminator="\n")


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
