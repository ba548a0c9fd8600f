"""Fingerprints of input data, part of a job's identity: when the data under a path changes, the
job's rows start a new curve instead of mixing with the old ones.

- a file read whole (``dataset=features``): SHA-256 of its bytes;
- a folder of dataset files (torchvision formats, image folders): SHA-256 of the sorted list of
  (relative path, size, mtime) - cheap for 100k images, and any rewrite, addition or removal of a
  file changes it (a touch without change does too: that starts a new curve, never a mixed one);
- generated data (digits, toys): no fingerprint; the config that generates it identifies it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def file_fingerprint(path: Path, chunk: int = 1 << 22) -> str:
    """SHA-256 of a file's bytes, read in chunks (no second copy of a large file in memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return "sha256:" + h.hexdigest()


def tree_fingerprint(paths: list[Path], root: Path) -> str:
    """(relative path, size, mtime) of every file under ``paths`` (files or folders), hashed."""
    h = hashlib.sha256()
    entries = []
    for top in paths:
        if top.is_file():
            entries.append(top)
            continue
        for folder, _, files in os.walk(top):
            entries.extend(Path(folder) / f for f in files)
    for path in sorted(entries):
        st = path.stat()
        h.update(f"{os.path.relpath(path, root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return f"files{len(entries)}:" + h.hexdigest()
