"""Built-in datasets: digits' fixed split, and the features file's validation errors."""

from __future__ import annotations

import numpy as np
import pytest

from cliffbench.datasets.digits import Digits
from cliffbench.datasets.features import FeaturesFile
from cliffbench.errors import DataError, MissingResourceError


def test_digits_split_is_fixed_disjoint_and_restricts_classes():
    a, b = Digits().load(), Digits().load()
    assert np.array_equal(a.pool.y, b.pool.y) and np.array_equal(a.test.X, b.test.X)
    assert len(a.pool) + len(a.val) + len(a.test) == 1797
    five_to_nine = Digits(classes=[5, 6, 7, 8, 9]).load()
    assert set(np.unique(five_to_nine.pool.y)) == {5, 6, 7, 8, 9}
    assert five_to_nine.meta["reference_lines"]["random guessing"] == pytest.approx(0.8)
    no_val = Digits(val_size=0).load()
    assert no_val.val is None


def _good(rng, n=50, d=4):
    return dict(X_train=rng.normal(size=(n, d)), y_train=rng.integers(0, 3, n),
                X_test=rng.normal(size=(20, d)), y_test=rng.integers(0, 3, 20))


def _write(tmp_path, **arrays):
    path = tmp_path / "f.npz"
    np.savez(path, **arrays)
    return str(path)


def test_features_file_pool_val_and_regression(tmp_path):
    rng = np.random.default_rng(0)
    arrays = _good(rng)
    data = FeaturesFile(_write(tmp_path, **arrays)).load()
    assert len(data.pool) == 50 and data.val is None
    carved = FeaturesFile(_write(tmp_path, **arrays), val_size=10).load()
    assert len(carved.pool) == 40 and len(carved.val) == 10
    explicit = FeaturesFile(_write(tmp_path, **arrays, X_val=rng.normal(size=(5, 4)), y_val=np.zeros(5, int))).load()
    assert len(explicit.pool) == 50 and len(explicit.val) == 5
    arrays["y_train"] = rng.normal(size=50)
    arrays["y_test"] = rng.normal(size=20)
    reg = FeaturesFile(_write(tmp_path, **arrays), task="regression").load()
    assert reg.task == "regression" and reg.pool.y.dtype.kind == "f"


@pytest.mark.parametrize(("change", "expected"), [
    (lambda a: a.pop("y_test"), "missing array(s) y_test"),
    (lambda a: a.update(X_test=np.ones((20, 7))), "X_test has 7 features but X_train has 4"),
    (lambda a: a.update(y_train=np.zeros(49, int)), "y_train must be 1-D with 50 entries"),
    (lambda a: a["X_train"].__setitem__((3, 1), np.nan), "must be numeric and finite"),
    (lambda a: a.update(y_train=np.linspace(0, 1, 50)), "labels y_train must be integers"),
    (lambda a: a.update(X_val=np.ones((5, 4))), "missing array(s) y_val"),
])
def test_features_file_errors(tmp_path, change, expected):
    arrays = _good(np.random.default_rng(1))
    change(arrays)
    with pytest.raises(DataError) as err:
        FeaturesFile(_write(tmp_path, **arrays)).load()
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_features_file_missing_and_unreadable(tmp_path):
    with pytest.raises(MissingResourceError, match="not found"):
        FeaturesFile(str(tmp_path / "absent.npz")).load()
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip")
    with pytest.raises(DataError, match="not an .npz archive"):
        FeaturesFile(str(bad)).load()
