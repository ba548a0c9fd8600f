"""The results store: one row per finished (n, trial) cell, persisted atomically, loadable as one
pandas DataFrame from a job directory or a whole sweep directory."""

from cliffbench.results.load import load
from cliffbench.results.store import CellStore, config_id

__all__ = ["CellStore", "config_id", "load"]
