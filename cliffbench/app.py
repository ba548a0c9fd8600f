"""The ``cliffbench`` command: a Hydra app that runs one job per composed config.

``cliffbench`` with no arguments runs the offline quickstart sweep (``experiment=quickstart``).
Config mistakes (unknown option, wrong type, bad value) and unwritable output paths end with one
``cliffbench: error:`` line and exit code 2, without a traceback. SIGINT (Ctrl-C) and SIGTERM
(``kill``, SLURM preemption) end a job with one line and exit code 130 / 143; its finished cells are
kept and rerunning the command resumes it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from cliffbench import config_schema
from cliffbench.errors import CliffbenchError, Interrupted

QUICKSTART = "experiment=quickstart"
_HERE = Path(__file__).resolve().parent
# conf/ sits at the repository root in a checkout and inside the package in a wheel.
CONF_DIR = str(_HERE / "conf" if (_HERE / "conf").is_dir() else _HERE.parent / "conf")
_FLAGS_WITH_VALUE = {"--cfg", "-c", "--package", "-p", "--info", "-i", "--config-path", "-cp",
                     "--config-name", "-cn", "--config-dir", "-cd", "--experimental-rerun",
                     "--shell-completion", "-sc"}


def register_resolvers() -> None:
    from cliffbench.identity import dirname_resolver

    if not OmegaConf.has_resolver("cb.job_dirname"):
        OmegaConf.register_new_resolver("cb.job_dirname", dirname_resolver)
    config_schema.register()


def one_line(exc: BaseException) -> str:
    """Hydra/OmegaConf error text (often several lines) condensed into one readable line."""
    parts = []
    for err in (exc, exc.__cause__):
        if err is None:
            continue
        text = str(err).split("\nConfig search path")[0]
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        lines = [ln for ln in lines if not ln.startswith(("object_type=", "Set the environment"))]
        if not lines:
            continue
        head, rest = lines[0], lines[1:]
        if rest and rest[0].endswith(":"):  # "Available options in 'method':" followed by the options
            head, rest = f"{head} ({rest[0]} {', '.join(rest[1:])})", []
        parts.append("; ".join([head, *rest]))
    seen = []
    for p in parts:
        if p not in seen and not any(p in s for s in seen):
            seen.append(p)
    return "; ".join(seen)


def _overrides(argv: list[str]) -> list[str] | None:
    """The config overrides in ``argv``; None when argv uses a custom config source (not checked)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd", "-h", "--help",
                   "--hydra-help", "--version", "--info", "-i", "--shell-completion", "-sc"):
            return None
        if arg in _FLAGS_WITH_VALUE:
            skip = True
            continue
        if arg.startswith("-"):
            continue
        out.append(arg)
    return out


def check_overrides(argv: list[str], max_combinations: int = 64) -> str | None:
    """Compose the config for the command line (each sweep combination, up to a limit) and return
    a one-line error, or None when it composes."""
    from hydra import compose, initialize_config_dir
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    overrides = _overrides(argv)
    if overrides is None:
        return None
    multirun = "-m" in argv or "--multirun" in argv
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        combos = [c for batch in BasicSweeper.split_arguments(parsed, None) for c in batch]
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
            for i, combo in enumerate(combos[:max_combinations]):
                cfg = compose("config", overrides=list(combo), return_hydra_config=True)
                error = (_check_output_dir(cfg) if i == 0 else None) or _check_job_dir(cfg, multirun)
                if error:
                    return error
    except Exception as exc:  # noqa: BLE001 - any composition error is reported the same way
        return one_line(exc)
    finally:
        GlobalHydra.instance().clear()


def _check_output_dir(cfg: DictConfig) -> str | None:
    """A one-line error when the output directory cannot be created or written (checked on its
    nearest existing ancestor, without creating anything)."""
    for key in ("hydra.run.dir", "hydra.sweep.dir", "paths.output_dir"):
        try:
            target = Path(str(OmegaConf.select(cfg, key, throw_on_resolution_failure=True))).expanduser()
        except Exception:  # noqa: BLE001 - a dir that needs runtime values is checked through the next key
            continue
        probe = target
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        if not probe.is_dir():
            return f"cannot create output directory {target} ({key}): {probe} is a file, not a directory"
        try:
            tempfile.TemporaryFile(dir=probe).close()
        except OSError as exc:
            return (f"cannot write output directory {target} ({key}): {exc.strerror or exc} in {probe}; "
                    f"set paths.output_dir=DIR (env CLIFFBENCH_OUTPUT_DIR)")
    return None


def _check_job_dir(cfg: DictConfig, multirun: bool) -> str | None:
    """A one-line error when a file sits where the job's directory (or one above it) goes: Hydra
    would fail creating it with a traceback, in a sweep after the jobs before it have run."""
    try:
        if multirun:
            target = Path(str(cfg.hydra.sweep.dir)) / str(cfg.hydra.sweep.subdir)
        else:
            target = Path(str(cfg.hydra.run.dir))
    except Exception:  # noqa: BLE001 - a dir that needs runtime values is Hydra's to create
        return None
    probe = target.expanduser()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return f"cannot create job directory {target}: {probe} is a file, not a directory; move it away and rerun"
    return None


def _in_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def _raise_interrupted(signum, frame) -> None:
    raise Interrupted(signum)


def catch_signals() -> None:
    """SIGINT and SIGTERM raise :class:`Interrupted` (in the main thread; elsewhere nothing)."""
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _raise_interrupted)
    except ValueError:  # not the main thread
        pass


def interrupted_line(exc: KeyboardInterrupt, job_dir: Path | None = None) -> tuple[str, int]:
    """The one line printed on SIGINT/SIGTERM and the exit code (130 / 143)."""
    name, code = getattr(exc, "signal_name", "SIGINT"), getattr(exc, "exit_code", 130)
    where = f"; finished cells are kept in {job_dir}, rerun the same command to resume" if job_dir else ""
    return f"cliffbench: interrupted by {name}{where}", code


class JobRecord:
    """``<job_dir>/.requests/<token>.json``: which cells the current multirun asked of this job and
    how the job ended, read back by the sweep summary (:mod:`cliffbench.callbacks`)."""

    ENV = "CLIFFBENCH_SWEEP_TOKEN"

    def __init__(self, job_dir: Path) -> None:
        token = os.environ.get(self.ENV)
        self.path = job_dir / ".requests" / f"{token}.json" if token else None
        self.doc: dict = {"status": "running"}

    def update(self, **values) -> None:
        from cliffbench.atomic import atomic_write_text

        self.doc.update(values)
        if self.path is not None:
            atomic_write_text(self.path, json.dumps(self.doc))


def _job(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from cliffbench.api import run_job

    catch_signals()
    job_dir = Path(HydraConfig.get().runtime.output_dir)
    (job_dir / "error.txt").unlink(missing_ok=True)
    record = JobRecord(job_dir)
    try:
        record.update()
        run_job(cfg, job_dir, on_plan=lambda plan: record.update(**plan))
        record.update(status="done")
    except KeyboardInterrupt as exc:
        line, code = interrupted_line(exc, job_dir)
        print(line, file=sys.stderr)
        record.update(status="interrupted")
        sys.exit(code)
    except (CliffbenchError, OSError) as exc:
        if isinstance(exc, OSError):  # the filesystem refused (permissions, full disk, a path under a file)
            where = f" {exc.filename}" if exc.filename else ""
            exc = f"cannot access{where}: {exc.strerror or exc}"
        message = f"cliffbench: error: {exc}"
        print(message, file=sys.stderr)
        try:
            (job_dir / "error.txt").write_text(message + "\n")
            record.update(status="failed", error=message)
        except OSError:
            pass
        if not _in_multirun():
            sys.exit(2)  # in a sweep the other jobs go on; the sweep summary reports this one


def main() -> None:
    """Console entry point."""
    catch_signals()
    try:
        register_resolvers()
        argv = sys.argv[1:]
        if not argv:
            argv = [QUICKSTART]
            sys.argv.append(QUICKSTART)
        error = check_overrides(argv)
        if error:
            print(f"cliffbench: error: {error}", file=sys.stderr)
            sys.exit(2)
        hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")(_job)()
    except KeyboardInterrupt as exc:  # outside a job (start-up, a launcher waiting for workers)
        line, code = interrupted_line(exc)
        print(line, file=sys.stderr)
        sys.exit(code)


if __name__ == "__main__":
    main()
