"""The identity backbone: flattened raw inputs are the features (no transfer)."""

from __future__ import annotations

import numpy as np

from cliffbench.contract import Backbone, DataBundle, JobContext


def _flatten(X) -> np.ndarray:
    arr = np.asarray(X)
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr.reshape(len(arr), -1)


class Identity(Backbone):
    """Flattens each input to a vector; floating dtypes are kept (float64 toys stay exact)."""

    features_are_inputs = True

    def __init__(self, name: str = "identity") -> None:
        super().__init__(name)

    def features(self, data: DataBundle, ctx: JobContext) -> DataBundle:
        val_X = None if data.val is None else _flatten(data.val.X)
        return data.with_inputs(_flatten(data.pool.X), _flatten(data.test.X), val_X)
