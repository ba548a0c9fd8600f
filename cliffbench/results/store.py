"""Writing rows: each batch of finished cells becomes one new file, written atomically.

Layout inside a job directory::

    cells/<config_id>/identity.json        # the config that produced these rows (its hash is the id)
    cells/<config_id>/n00000010-<uuid>.json  # {"rows": [...]} for cells that finished together

Files are never appended to or rewritten: a new file is written to a temporary name and renamed
into place, so a crash leaves either the whole file or nothing, and any number of processes can
write into the same directory. Reading takes the union; a cell that appears twice is de-duplicated
on load (the runner's per-n locks keep two processes from computing it twice). Files get the
permissions the umask allows (shared caches and results stay readable by others). A damaged file
is reported once, renamed to ``*.damaged`` (kept for inspection) and its cells are recomputed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cliffbench.atomic import atomic_write_text

log = logging.getLogger("cliffbench")

CELLS_DIR = "cells"
IDENTITY_FILE = "identity.json"
DAMAGED_SUFFIX = ".damaged"


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

    def row_files(self, n: int | None = None) -> list[Path]:
        """The row files of every n, or of one ``n``."""
        return sorted(self.dir.glob("n*.json" if n is None else f"n{int(n):08d}-*.json"))

    def rows(self, n: int | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for path in self.row_files(n):
            out.extend(read_row_file(path))
        return out

    def claim(self, grid: Iterable[int]):
        """Each n of ``grid`` in turn, held under its per-n lock (see :mod:`cliffbench.results.locks`)."""
        from cliffbench.results.locks import LOCKS_DIR, claim_each

        return claim_each(self.dir / LOCKS_DIR, list(grid))

    def finished(self, n: int | None = None) -> set[tuple[int, int]]:
        """(n, trial) of every successfully finished cell (of one ``n``); failed cells are retried."""
        return {(int(r["n"]), int(r["trial"])) for r in self.rows(n) if r.get("status") == "ok"}

    def write(self, rows: Iterable[dict[str, Any]]) -> Path | None:
        rows = list(rows)
        if not rows:
            return None
        path = self.dir / f"n{int(rows[0]['n']):08d}-{uuid.uuid4().hex[:12]}.json"
        atomic_write_text(path, json.dumps({"rows": rows}, default=_json_default, allow_nan=True))
        return path


def set_aside(path: Path, problem: str) -> None:
    """Rename a damaged file to ``<name>.damaged`` (never deleted) with one warning naming it."""
    target = path.with_name(path.name + DAMAGED_SUFFIX)
    try:
        os.replace(path, target)
    except FileNotFoundError:  # another reader set it aside first
        return
    except OSError as exc:
        log.warning("damaged results file %s (%s) could not be set aside: %s", path, problem, exc)
        return
    log.warning("damaged results file %s (%s): set aside as %s; its cells will be recomputed",
                path, problem, target.name)


def read_row_file(path: Path) -> list[dict[str, Any]]:
    """Rows of one file; a damaged file (not JSON, no row list) is set aside and yields no rows."""
    try:
        rows = json.loads(path.read_text())["rows"]
        if not isinstance(rows, list) or not all(isinstance(r, dict) and "n" in r and "trial" in r for r in rows):
            raise ValueError("rows are not a list of cells")
        return rows
    except FileNotFoundError:
        return []
    except (ValueError, KeyError, TypeError) as exc:
        set_aside(path, f"{type(exc).__name__}: {exc}"[:200])
        return []


def read_identity(path: Path) -> dict[str, Any] | None:
    """An ``identity.json`` document, or None when it is damaged (then set aside with a warning;
    the next run of that job writes it again)."""
    try:
        doc = json.loads(path.read_text())
        if not isinstance(doc, dict) or not isinstance(doc.get("identity"), dict):
            raise ValueError("no identity mapping")
        return doc
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:
        set_aside(path, f"{type(exc).__name__}: {exc}"[:200])
        return None
