"""The in-memory entry point ``cliffbench.run`` draws the CLI's subsets and seeds: for the same
config it returns the very numbers a job writes, without a config or files."""

from __future__ import annotations

import numpy as np
import pytest

import cliffbench
from cliffbench.api import run_job
from cliffbench.errors import ConfigError
from cliffbench.results.load import load
from cliffbench.runner import build


@pytest.mark.parametrize("method", ["knn", "linear"])
def test_run_in_memory_matches_the_job_on_disk(compose_cfg, tmp_path, method):
    cfg = compose_cfg([f"method={method}", "trials=3", "grid.n=[10,40]", "logger=none", "progress=false",
                       "seed=7"])
    run_job(cfg, tmp_path / "job")
    on_disk = load(tmp_path / "job").sort_values(["n", "trial"])
    in_memory = cliffbench.run(build(cfg.method), build(cfg.dataset), grid=[10, 40], trials=3, seed=7)
    assert list(in_memory["n"]) == list(on_disk["n"]) and list(in_memory["trial"]) == list(on_disk["trial"])
    np.testing.assert_array_equal(in_memory["test_error"].to_numpy(), on_disk["test_error"].to_numpy())
    np.testing.assert_array_equal(in_memory["trial_seed"].to_numpy(), on_disk["trial_seed"].to_numpy())


def test_run_rejects_a_task_the_method_cannot_do(compose_cfg):
    from cliffbench.datasets.toy_linreg import ToyLinearRegression
    from cliffbench.methods.toys.mean_classifier import MeanClassifier

    with pytest.raises(ConfigError, match="does not support regression"):
        cliffbench.run(MeanClassifier(), ToyLinearRegression(pool_size=50, test_size=10), grid=[5], trials=1)


def test_run_refuses_degenerate_data_like_the_cli():
    """The in-memory path checks the data as a job does: one class in the pool is one clear error."""
    from cliffbench.contract import DataBundle, Split
    from cliffbench.errors import DataError
    from cliffbench.methods.probes.knn import KNNProbe

    X = np.random.default_rng(0).normal(size=(30, 4))
    one_class = DataBundle(Split(X[:20], np.zeros(20, dtype=int)), Split(X[20:], np.zeros(10, dtype=int)))
    with pytest.raises(DataError, match="at least two classes"):
        cliffbench.run(KNNProbe(), one_class, grid=[10], trials=2)
