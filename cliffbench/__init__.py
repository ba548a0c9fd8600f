"""cliffbench: data-scaling curves (test error vs number of training samples) for transfer learning.

The package is organised like its Hydra config tree (``conf/``): ``datasets``, ``backbones``,
``methods`` and ``loggers`` hold one module per config option; ``contract`` is the interface they
share; ``runner`` executes one job; ``results`` persists and loads the per-cell rows; ``report``
draws and analyses them (see docs/ARCHITECTURE.md).

``cliffbench.run(method, data, grid=..., trials=...)`` runs a method in memory and returns a
DataFrame (imported on first use, so ``import cliffbench`` stays light).
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "run":
        from cliffbench.api import run

        return run
    raise AttributeError(f"module 'cliffbench' has no attribute {name!r}")
