"""One lock per (job identity, n), so two processes running the same job never compute a cell twice.

A lock is ``fcntl.flock`` on ``cells/<config_id>/locks/n<n>.lock``. The kernel (or the NFS lock
daemon) drops it when its holder exits for any reason, kill -9 included, so a killed process never
leaves a stale lock behind. The file holds the holder's ``host pid`` for people who look.

:func:`claim_each` walks the grid: an n held by another process is deferred rather than waited
for, so two processes on one job share the grid; the deferred n's are waited for at the end, and
the caller re-reads which cells are still missing once it holds the lock.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCKS_DIR = "locks"


@contextmanager
def cell_lock(directory: Path, n: int, wait: bool) -> Iterator[bool]:
    """Hold the lock of ``n`` inside the block; yields False (without waiting) when another process
    holds it and ``wait`` is False."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"n{int(n):08d}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        os.ftruncate(fd, 0)
        os.write(fd, f"{socket.gethostname()} {os.getpid()}\n".encode())
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def claim_each(directory: Path, grid: list[int]) -> Iterator[int]:
    """Yield each n of ``grid`` while holding its lock: free ones in order, then (waiting) the ones
    another process held when they came up."""
    deferred = []
    for n in grid:
        with cell_lock(directory, n, wait=False) as held:
            if held:
                yield n
            else:
                deferred.append(n)
    for n in deferred:
        with cell_lock(directory, n, wait=True):
            yield n
