"""Writing rows: each batch of finished cells becomes one new file, written atomically.

Layout inside a job directory::

    cells/<config_id>/identity.json        # the config that produced these rows (its hash is the id)
    cells/<config_id>/n00000010-<uuid>.json  # {"rows": [...]} for cells that finished together

Files are never appended to or rewritten: a new file is written to a temporary name and renamed
into place, so a crash leaves either the whole file or nothing, and any number of processes can
write into the same directory without locks. Reading takes the union; a cell that appears twice
(two processes ran the same job) is de-duplicated on load.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cliffbench.atomic import atomic_write, atomic_write_text  # noqa: F401 - re-exported for callers

CELLS_DIR = "cells"
IDENTITY_FILE = "identity.json"


def config_id(identity: dict[str, Any]) -> str:
    """A short stable hash of a job's identity config."""
    blob = json.dumps(identity, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


class CellStore:
    """The rows of one job identity inside ``job_dir``."""

    def __init__(self, job_dir: str | Path, identity: dict[str, Any], label: str | None = None,
                 meta: dict[str, Any] | None = None) -> None:
        self.identity = identity
        self.config_id = config_id(identity)
        self.dir = Path(job_dir) / CELLS_DIR / self.config_id
        # The label is display-only (not hashed); the latest run's label wins.
        doc = {"identity": identity, "label": label, "meta": meta or {}}
        atomic_write_text(self.dir / IDENTITY_FILE, json.dumps(doc, sort_keys=True, indent=1, default=str))

    def row_files(self) -> list[Path]:
        return sorted(p for p in self.dir.glob("n*.json"))

    def rows(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for path in self.row_files():
            out.extend(read_row_file(path))
        return out

    def finished(self) -> set[tuple[int, int]]:
        """(n, trial) of every successfully finished cell; failed cells are retried on rerun."""
        return {(int(r["n"]), int(r["trial"])) for r in self.rows() if r.get("status") == "ok"}

    def write(self, rows: Iterable[dict[str, Any]]) -> Path | None:
        rows = list(rows)
        if not rows:
            return None
        path = self.dir / f"n{int(rows[0]['n']):08d}-{uuid.uuid4().hex[:12]}.json"
        atomic_write_text(path, json.dumps({"rows": rows}, default=_json_default, allow_nan=True))
        return path


def read_row_file(path: Path) -> list[dict[str, Any]]:
    """Rows of one file; a file that is not valid JSON (foreign or damaged) is skipped."""
    try:
        return list(json.loads(path.read_text())["rows"])
    except (OSError, ValueError, KeyError, TypeError):
        return []
