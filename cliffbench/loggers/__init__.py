"""Experiment loggers (config group ``logger/``): ``none`` and ``wandb`` (one run per job)."""
