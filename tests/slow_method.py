"""A method for process-level tests (signals, two writers): each trial takes ``delay`` seconds, and
every cell it computes is appended to ``log`` (one line "<pid> <n> <trial>"), so a test can tell
which process computed what and whether a cell was computed twice."""

from __future__ import annotations

import os
import time

from cliffbench.methods.base import Method, Outcome


class SlowMethod(Method):
    needs_features = False

    def __init__(self, name: str = "slow", delay: float = 0.2, log: str | None = None, **_) -> None:
        super().__init__(name)
        self.delay, self.log = float(delay), log

    def run(self, batch, ctx):
        for trial in batch.trials:
            time.sleep(self.delay)
            if self.log:
                with open(self.log, "a") as fh:
                    fh.write(f"{os.getpid()} {batch.n} {int(trial)}\n")
            yield [Outcome(int(trial), 0.5 / batch.n ** 0.5)]


def slow_args(log, delay: float = 0.2) -> list[str]:
    """Command-line overrides selecting this method."""
    return ["method._target_=tests.slow_method.SlowMethod", "method.name=slow", f"+method.delay={delay}",
            f"+method.log={log}"]
