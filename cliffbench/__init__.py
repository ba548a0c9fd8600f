"""cliffbench: data-scaling curves (test error vs number of training samples) for transfer learning.

The package is organised like its Hydra config tree (``conf/``): ``datasets``, ``backbones``,
``methods`` and ``loggers`` hold one module per config option; ``runner`` executes one job;
``results`` persists and loads the per-cell rows.
"""

__version__ = "0.1.0"
