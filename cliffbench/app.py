"""The ``cliffbench`` command: a Hydra app that runs one job per composed config.

``cliffbench`` with no arguments runs the offline quickstart sweep (``experiment=quickstart``).
Config mistakes (unknown option, wrong type, bad value) end with one ``cliffbench: error:`` line
and exit code 2, without a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from cliffbench import config_schema
from cliffbench.errors import CliffbenchError

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
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        combos = [c for batch in BasicSweeper.split_arguments(parsed, None) for c in batch]
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
            for combo in combos[:max_combinations]:
                compose("config", overrides=list(combo), return_hydra_config=True)
    except Exception as exc:  # noqa: BLE001 - any composition error is reported the same way
        return one_line(exc)
    finally:
        GlobalHydra.instance().clear()
    return None


def _in_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def _job(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from cliffbench.api import run_job

    job_dir = Path(HydraConfig.get().runtime.output_dir)
    (job_dir / "error.txt").unlink(missing_ok=True)
    try:
        run_job(cfg, job_dir)
    except CliffbenchError as exc:
        message = f"cliffbench: error: {exc}"
        print(message, file=sys.stderr)
        (job_dir / "error.txt").write_text(message + "\n")
        if not _in_multirun():
            sys.exit(2)  # in a sweep the other jobs go on; the sweep summary reports this one


def main() -> None:
    """Console entry point."""
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


if __name__ == "__main__":
    main()
