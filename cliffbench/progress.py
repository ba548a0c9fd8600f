"""The job's progress display: a tqdm bar on a terminal, one bar line per worker process when a
launcher runs several jobs at once (so bars never draw over each other), and plain log lines
(every tenth of the cells) when the output is not a terminal, e.g. a SLURM or submitit log file."""

from __future__ import annotations

import logging
import multiprocessing
import sys

log = logging.getLogger("cliffbench")


def worker_slot() -> int | None:
    """0, 1, ... in a pool worker process (joblib/loky, multiprocessing); None in a main process."""
    identity = getattr(multiprocessing.current_process(), "_identity", ())
    return int(identity[-1]) - 1 if identity else None


class LineProgress:
    """tqdm's ``update``/context interface, reporting as log lines."""

    def __init__(self, total: int, initial: int, desc: str) -> None:
        self.total, self.count, self.desc = total, initial, desc
        self.step = max(total // 10, 1)
        self.next = (initial // self.step + 1) * self.step

    def update(self, k: int = 1) -> None:
        self.count += k
        if self.count >= self.next or self.count == self.total:
            log.info("%s: %d/%d cells", self.desc, self.count, self.total)
            self.next = (self.count // self.step + 1) * self.step

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc) -> None:
        return None


def job_bar(total: int, initial: int, desc: str, enabled: bool):
    """A progress display for ``total`` cells of which ``initial`` are done."""
    from tqdm.auto import tqdm

    if enabled and not sys.stderr.isatty():
        return LineProgress(total, initial, desc)
    slot = worker_slot()
    return tqdm(total=total, initial=initial, desc=desc, unit="cell", disable=not enabled,
                dynamic_ncols=True, position=slot, leave=slot is None)
