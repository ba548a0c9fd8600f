"""User-facing errors: each is printed as a single line and ends the job with exit code 2."""


class CliffbenchError(Exception):
    """Base class of errors caused by the user's config, data or environment (not by a bug)."""


class ConfigError(CliffbenchError):
    """A config value is invalid or inconsistent (checked before any work starts)."""


class DataError(CliffbenchError):
    """Input data is malformed (wrong arrays, shapes, non-finite values, bad labels)."""


class MissingResourceError(CliffbenchError):
    """Data or model weights are not available locally; the message says where and how to get them."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: the job stops, keeps its finished cells and exits 128 + signal
    (130 for Ctrl-C, 143 for ``kill``/SLURM preemption). A KeyboardInterrupt, so code that already
    handles Ctrl-C handles both."""

    def __init__(self, signum: int) -> None:
        import signal

        self.signum = int(signum)
        self.signal_name = signal.Signals(signum).name
        self.exit_code = 128 + self.signum
        super().__init__(self.signal_name)
