"""Bring-your-own embeddings: an ``.npz`` file with ``X_train, y_train, X_test, y_test`` (and
optionally ``X_val, y_val``), validated with one clear error per problem."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from cliffbench.contract import TASKS, DataBundle, Dataset, Split
from cliffbench.datasets.base import resolve_size, split_off
from cliffbench.datasets.fingerprint import file_fingerprint
from cliffbench.errors import ConfigError, DataError, MissingResourceError

REQUIRED = ("X_train", "y_train", "X_test", "y_test")


class FeaturesFile(Dataset):
    """Precomputed features. Without ``X_val`` the pool is all of ``X_train`` unless ``val_size``
    asks for a validation set carved out of it."""

    def __init__(
        self,
        path: str | None = None,
        name: str = "features",
        task: str = "classification",
        val_size: int | float | None = 0,
        split_seed: int = 0,
        reference_lines: dict[str, float] | None = None,
    ) -> None:
        super().__init__(name, reference_lines)
        if task not in TASKS:
            raise ConfigError(f"dataset.task must be one of {', '.join(TASKS)}, got {task!r}")
        self.path, self.task, self.val_size, self.split_seed = path, task, val_size, split_seed
        self._fingerprint: str | None = None

    def fingerprint(self) -> str | None:
        """SHA-256 of the file's bytes as read by the last :meth:`load`."""
        return self._fingerprint

    def _read(self) -> dict[str, np.ndarray]:
        if not self.path:
            raise ConfigError("dataset=features needs dataset.path=FILE.npz")
        path = Path(self.path).expanduser()
        if not path.is_file():
            raise MissingResourceError(f"features file not found: {path} (set dataset.path=FILE.npz)")
        def stamp(st):
            return st.st_ino, st.st_size, st.st_mtime_ns

        try:
            before = stamp(path.stat())
            fingerprint = file_fingerprint(path)
            with open(path, "rb") as fh:
                head = fh.read(6)
        except OSError as exc:
            raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from exc
        how = "save one with np.savez(FILE, X_train=..., y_train=..., X_test=..., y_test=...)"
        if head == b"\x93NUMPY":
            raise DataError(f"{path}: a single-array .npy file, but dataset=features needs an .npz archive; {how}")
        if not zipfile.is_zipfile(path):
            raise DataError(f"{path}: not an .npz archive (no zip structure); {how}")
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except ValueError as exc:
            raise DataError(f"{path}: an array in the archive holds Python objects (e.g. strings of mixed "
                            f"length as dtype=object); store numbers, or fixed-width strings") from exc
        except Exception as exc:  # noqa: BLE001 - any unreadable archive gets the same clear line
            raise DataError(f"{path}: not a readable .npz archive ({type(exc).__name__}: {exc}); {how}") from exc
        if stamp(path.stat()) != before:  # rewritten while we read it: the hash may not match the arrays
            raise DataError(f"{path}: changed while being read; run again once it is written")
        self._fingerprint = fingerprint
        missing = [k for k in REQUIRED if k not in arrays]
        has_val = [k for k in ("X_val", "y_val") if k in arrays]
        if len(has_val) == 1:
            missing.append("y_val" if has_val == ["X_val"] else "X_val")
        if missing:
            raise DataError(f"{path}: missing array(s) {', '.join(missing)} "
                            f"(needs {', '.join(REQUIRED)}; optional X_val, y_val)")
        return arrays

    def _check(self, X: np.ndarray, y: np.ndarray, split: str, dim: int | None) -> tuple[np.ndarray, np.ndarray]:
        where = f"{self.path}: {split}"
        if X.ndim != 2:
            raise DataError(f"{where}: X_{split} must be 2-D (samples, features), got shape {X.shape}")
        if y.ndim != 1 or len(y) != len(X):
            raise DataError(f"{where}: y_{split} must be 1-D with {len(X)} entries, got shape {y.shape}")
        if dim is not None and X.shape[1] != dim:
            raise DataError(f"{where}: X_{split} has {X.shape[1]} features but X_train has {dim}")
        if len(X) == 0:
            raise DataError(f"{where}: X_{split} has no rows")
        if not np.issubdtype(X.dtype, np.number) or not np.isfinite(X).all():
            raise DataError(f"{where}: X_{split} must be numeric and finite (found NaN/inf or non-numbers)")
        if self.task == "classification":
            if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
                raise DataError(f"{where}: labels y_{split} are {y.dtype} (e.g. {y[0]!r}), not integer class "
                                f"ids; encode them first, e.g. sklearn.preprocessing.LabelEncoder fitted on "
                                f"train and test labels together")
            if not np.issubdtype(y.dtype, np.integer) and not np.all(np.mod(y, 1) == 0):
                raise DataError(f"{where}: labels y_{split} must be integers (class ids) for classification; "
                                f"found fractional values (for real-valued targets use dataset.task=regression)")
            y = y.astype(np.int64)
        elif not np.issubdtype(y.dtype, np.number) or not np.isfinite(y).all():
            raise DataError(f"{where}: targets y_{split} must be finite numbers")
        return X, y

    def load(self) -> DataBundle:
        arrays = self._read()
        X_tr, y_tr = self._check(arrays["X_train"], arrays["y_train"], "train", None)
        dim = X_tr.shape[1]
        test = Split(*self._check(arrays["X_test"], arrays["y_test"], "test", dim))
        if "X_val" in arrays:
            val = Split(*self._check(arrays["X_val"], arrays["y_val"], "val", dim))
            pool = Split(X_tr, y_tr)
        else:
            n_val = resolve_size(self.val_size, len(y_tr), "dataset.val_size")
            pool_idx, val_idx = split_off(len(y_tr), n_val, self.split_seed)
            pool = Split(X_tr[pool_idx], y_tr[pool_idx])
            val = Split(X_tr[val_idx], y_tr[val_idx]) if n_val else None
        lines = dict(self.reference_lines)
        if self.task == "classification":
            lines.setdefault("random guessing", 1.0 - 1.0 / len(np.unique(pool.y)))
        return DataBundle(pool, test, val, self.task, {"dataset": self.name, "reference_lines": lines})
