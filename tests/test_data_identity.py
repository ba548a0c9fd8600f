"""A job's identity includes a fingerprint of its input data: changed data starts a new curve and
never mixes with old rows; unchanged data resumes. Degenerate inputs end with one clear line."""

from __future__ import annotations

import numpy as np
import pytest

from cliffbench.datasets.features import FeaturesFile
from cliffbench.errors import DataError
from cliffbench.results import load
from cliffbench.api import run_job
from tests.conftest import run_cli


def _blobs(seed: int = 0, n_train: int = 120, n_test: int = 60, classes: int = 3):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(classes, 8))
    y_tr, y_te = rng.integers(0, classes, n_train), rng.integers(0, classes, n_test)
    return {"X_train": centres[y_tr] + rng.normal(size=(n_train, 8)), "y_train": y_tr,
            "X_test": centres[y_te] + rng.normal(size=(n_test, 8)), "y_test": y_te}


def _cfg(compose_cfg, path, trials: int):
    return compose_cfg(["dataset=features", f"dataset.path={path}", "method=knn", "logger=none",
                        "progress=false", f"trials={trials}", "grid.n=[10,30,90]"])


def test_changed_data_starts_a_new_curve_and_unchanged_data_resumes(compose_cfg, tmp_path):
    path, job = tmp_path / "e.npz", tmp_path / "job"
    arrays = _blobs()
    np.savez(path, **arrays)
    run_job(_cfg(compose_cfg, path, 3), job)
    files = set((job / "cells").rglob("n*.json"))
    run_job(_cfg(compose_cfg, path, 3), job)  # unchanged: nothing recomputed
    assert set((job / "cells").rglob("n*.json")) == files
    old = load(job)
    assert old["config_id"].nunique() == 1 and old["test_error"].median() < 0.1

    arrays["y_train"] = np.random.default_rng(9).permutation(arrays["y_train"])  # labels scrambled
    np.savez(path, **arrays)
    run_job(_cfg(compose_cfg, path, 5), job)
    df = load(job)
    assert df["config_id"].nunique() == 2 and df["dataset.fingerprint"].nunique() == 2
    new = df[df["config_id"] != old["config_id"].iloc[0]]
    assert len(new) == 3 * 5 and new["test_error"].median() > 0.4  # all 5 trials on the new data
    job_rows = load(job / "results.csv")
    assert len(job_rows) == 15 and job_rows["config_id"].nunique() == 1


def test_image_folder_fingerprint_sees_changed_files(tmp_path):
    from cliffbench.datasets.fingerprint import tree_fingerprint

    root = tmp_path / "imgs"
    (root / "train" / "a").mkdir(parents=True)
    (root / "train" / "a" / "0.png").write_bytes(b"x" * 10)
    first = tree_fingerprint([root / "train"], root)
    assert tree_fingerprint([root / "train"], root) == first
    (root / "train" / "a" / "1.png").write_bytes(b"y" * 10)
    second = tree_fingerprint([root / "train"], root)
    (root / "train" / "a" / "1.png").write_bytes(b"y" * 11)
    assert len({first, second, tree_fingerprint([root / "train"], root)}) == 3


@pytest.mark.parametrize(("change", "expected"), [
    (lambda a: a.update(y_train=np.zeros_like(a["y_train"])), "every training label is 0"),
    (lambda a: a.update(y_test=a["y_test"] + 5), "test labels 5, 6, 7 never occur in the training pool"),
    (lambda a: a.update(X_test=np.zeros((0, 8)), y_test=np.zeros(0, int)), "X_test has no rows"),
    (lambda a: a.update(y_train=np.array(["cat", "dog", "eel"])[a["y_train"]]), "LabelEncoder"),
])
def test_degenerate_data_gives_one_clear_line(compose_cfg, tmp_path, change, expected):
    arrays = _blobs()
    change(arrays)
    np.savez(tmp_path / "d.npz", **arrays)
    with pytest.raises(DataError) as err:
        run_job(_cfg(compose_cfg, tmp_path / "d.npz", 2), tmp_path / "job")
    assert expected in str(err.value) and "\n" not in str(err.value)
    assert "regression" not in str(err.value)  # string labels are not a regression problem


def test_non_npz_files_are_named_for_what_they_are(tmp_path):
    np.save(tmp_path / "one.npy", np.ones((3, 2)))
    (tmp_path / "pickle.npz").write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(DataError, match="single-array .npy file.*np.savez"):
        FeaturesFile(str(tmp_path / "one.npy")).load()
    with pytest.raises(DataError, match="not an .npz archive") as err:
        FeaturesFile(str(tmp_path / "pickle.npz")).load()
    assert "pickled" not in str(err.value)


def test_empty_test_split_on_the_command_line_is_one_line(tmp_path):
    arrays = _blobs()
    arrays.update(X_test=np.zeros((0, 8)), y_test=np.zeros(0, int))
    np.savez(tmp_path / "d.npz", **arrays)
    res = run_cli("dataset=features", f"dataset.path={tmp_path / 'd.npz'}", "method=knn", "logger=none",
                  "progress=false", "trials=2")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("cliffbench: error:") and "X_test has no rows" in res.stderr


@pytest.mark.parametrize("name", ["cifar10", "svhn", "mnist", "imagenette"])
def test_image_dataset_fingerprint_follows_its_files(tmp_path, monkeypatch, compose_cfg, name):
    import os

    from hydra.utils import instantiate

    from tests import image_fixtures

    root = tmp_path / "data"
    writer = getattr(image_fixtures, f"write_{name}")
    writer(root, monkeypatch) if name in ("cifar10", "svhn") else writer(root)
    extra = ["dataset.size=320px"] if name == "imagenette" else []
    dataset = instantiate(compose_cfg([f"dataset={name}", "dataset.val_size=5", *extra]).dataset, _convert_="all")
    dataset.load()
    first = dataset.fingerprint()
    dataset.load()
    assert first and dataset.fingerprint() == first
    victim = max((p for p in root.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    os.utime(victim, ns=(victim.stat().st_atime_ns, victim.stat().st_mtime_ns + 10**9))
    dataset.load()
    assert dataset.fingerprint() != first
