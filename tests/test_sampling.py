"""The sampling protocol: grids, nested/iid/balanced subsets, determinism from (seed, trial) only."""

from __future__ import annotations

import numpy as np
import pytest

from cliffbench.errors import ConfigError
from cliffbench.sampling import make_grid, trial_seed, trial_subsets


def test_log_grid_is_sorted_unique_and_spans_the_range():
    grid = make_grid(None, 10, 1000, 7, pool_size=5000)
    assert grid[0] == 10 and grid[-1] == 1000
    assert grid == sorted(set(grid))
    ratios = np.diff(np.log(grid))
    assert np.allclose(ratios, ratios.mean(), atol=0.05)


def test_explicit_grid_and_default_max_is_pool():
    assert make_grid([100, 10, 10], pool_size=200) == [10, 100]
    assert make_grid(None, 5, None, 3, pool_size=500)[-1] == 500


@pytest.mark.parametrize("kwargs", [dict(n=[10, 600]), dict(min=10, max=600, num=4)])
def test_n_beyond_pool_is_an_error(kwargs):
    with pytest.raises(ConfigError, match="exceeds the training pool of 500"):
        make_grid(**kwargs, pool_size=500)


def test_nested_subsets_are_prefixes_and_depend_only_on_seed_and_trial():
    a = trial_subsets([5, 20, 50], pool_size=100, seed=3, trial=7)
    np.random.seed(123)  # global state must not matter
    b = trial_subsets([50, 5, 20], pool_size=100, seed=3, trial=7)
    for n in (5, 20, 50):
        assert np.array_equal(a[n], b[n])
        assert len(set(a[n])) == n
    assert np.array_equal(a[50][:20], a[20]) and np.array_equal(a[20][:5], a[5])
    other = trial_subsets([50], pool_size=100, seed=3, trial=8)[50]
    assert not np.array_equal(other, a[50])


def test_iid_subsets_are_fresh_draws_per_n():
    s = trial_subsets([20, 40], pool_size=1000, seed=0, trial=0, sampling="iid")
    assert len(set(s[40])) == 40
    assert not np.array_equal(s[40][:20], s[20])
    again = trial_subsets([40], pool_size=1000, seed=0, trial=0, sampling="iid")
    assert np.array_equal(again[40], s[40])


def test_balanced_prefixes_are_class_balanced():
    labels = np.repeat(np.arange(4), [50, 30, 10, 100])
    s = trial_subsets([4, 8, 20, 40], pool_size=len(labels), seed=1, trial=2, sampling="balanced", labels=labels)
    for n in (4, 8, 20):
        counts = np.bincount(labels[s[n]], minlength=4)
        assert counts.max() - counts.min() <= 1, (n, counts)
    counts = np.bincount(labels[s[40]], minlength=4)  # class 2 has only 10 samples
    assert counts[2] == 10 and counts[[0, 1, 3]].max() - counts[[0, 1, 3]].min() <= 1


def test_bad_sampling_mode_is_a_config_error():
    with pytest.raises(ConfigError, match="grid.sampling"):
        trial_subsets([5], pool_size=10, seed=0, trial=0, sampling="stratified")


def test_trial_seeds_differ_and_are_stable():
    seeds = [trial_seed(0, t) for t in range(100)]
    assert len(set(seeds)) == 100 and seeds == [trial_seed(0, t) for t in range(100)]


@pytest.mark.parametrize("sampling", ["nested", "iid", "balanced"])
def test_subset_sampler_equals_trial_subsets(sampling):
    from cliffbench.sampling import SubsetSampler

    labels = np.repeat(np.arange(3), [40, 25, 35])
    grid = [3, 10, 50]
    sampler = SubsetSampler(grid, pool_size=100, seed=4, sampling=sampling, labels=labels)
    for n in grid:
        rows = sampler.rows(n, [0, 5, 2])
        for i, t in enumerate([0, 5, 2]):
            expected = trial_subsets([n], pool_size=100, seed=4, trial=t, sampling=sampling, labels=labels)[n]
            assert np.array_equal(rows[i], expected)
