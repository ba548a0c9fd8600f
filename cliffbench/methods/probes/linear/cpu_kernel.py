"""One evaluation of the batched logistic objective on the CPU as a single compiled pass: for each
problem, blocks of its rows are read from the pool once, and while a block sits in cache its
logits, softmax residual, loss and gradient contribution are computed back to back.

Why not two BLAS calls: with ``K ~ 10`` class columns both products (``Z W`` and ``Z^T R``) are
skinny, and CPU BLAS (MKL, OpenBLAS) packs and pads them to run at ~25-35% of the machine's GEMM
peak. Register tiles of 4 rows x 2 classes keep every loaded feature in 2-4 fused multiply-adds:
~40 GFLOP/s against BLAS's 25-33 on one thread of a 91-97 GFLOP/s core (768-d float32 rows; 1.3-1.6x
per pass), without gathering the rows. (6-row tiles and contiguous block copies measured slower
here: LLVM's vectorisation of these loops is sensitive to their exact shape.)

Arithmetic matches :meth:`logreg_solver.Problems.evaluate`: products and the gradient's sums in the
features' precision, logits shifted by the intercept, softmax, loss and the objective's sum in
float64. Compiled with numba on first use (cached on disk); ``available()`` says whether it can be.
It runs on numba's own ``workqueue`` thread pool, one problem per thread: call it from one Python
thread at a time (cliffbench runs jobs in processes).
"""

from __future__ import annotations

import functools

import numpy as np

try:
    from numba import prange
except ImportError:  # without numba the kernel is never compiled (see available())
    prange = range

ROW_BLOCK = 32  # rows per block (a multiple of 4): 32 x 768 float32 = 96 KiB, read twice from L2 instead of memory
# no 'nnan'/'ninf': overflowing trial steps must give inf/nan exactly as in torch (the line
# search shortens such steps); reassociation and contraction let LLVM vectorise the dot products
FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


@functools.lru_cache(maxsize=1)
def available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _evaluate(X, index, Wt, b, Y, weight, mask, reg, zero, f, Gt, gb):  # pragma: no cover (compiled)
    T, n = index.shape
    K, p = Wt.shape[1], Wt.shape[2]
    for t in prange(T):
        logits = np.empty((ROW_BLOCK, K), dtype=np.float64)
        R = np.empty((ROW_BLOCK, K), dtype=Wt.dtype)
        total = 0.0
        for k in range(K):
            for j in range(p):
                Gt[t, k, j] = reg[t] * Wt[t, k, j]
                total += 0.5 * float(reg[t]) * float(Wt[t, k, j]) ** 2
            gb[t, k] = 0.0
        for i0 in range(0, n, ROW_BLOCK):
            m = min(ROW_BLOCK, n - i0)  # a multiple of 4: rows are padded (weight 0)
            for r in range(0, m, 4):
                z0, z1 = X[index[t, i0 + r]], X[index[t, i0 + r + 1]]
                z2, z3 = X[index[t, i0 + r + 2]], X[index[t, i0 + r + 3]]
                for k in range(0, K, 2):  # K is even: an odd K is padded with a masked class
                    w0, w1 = Wt[t, k], Wt[t, k + 1]
                    a0 = a1 = a2 = a3 = c0 = c1 = c2 = c3 = zero
                    for j in range(p):
                        u, v = w0[j], w1[j]
                        a0 += z0[j] * u
                        a1 += z1[j] * u
                        a2 += z2[j] * u
                        a3 += z3[j] * u
                        c0 += z0[j] * v
                        c1 += z1[j] * v
                        c2 += z2[j] * v
                        c3 += z3[j] * v
                    logits[r, k], logits[r + 1, k] = a0, a1
                    logits[r + 2, k], logits[r + 3, k] = a2, a3
                    logits[r, k + 1], logits[r + 1, k + 1] = c0, c1
                    logits[r + 2, k + 1], logits[r + 3, k + 1] = c2, c3
            for r in range(m):
                w = float(weight[t, i0 + r])
                if w == 0.0:
                    for k in range(K):
                        R[r, k] = 0.0
                    continue
                top = -np.inf
                for k in range(K):
                    if mask[t, k]:
                        logits[r, k] += b[t, k]
                        top = max(top, logits[r, k])
                y = Y[t, i0 + r]
                zy = logits[r, y]
                s = 0.0
                for k in range(K):
                    if mask[t, k]:
                        logits[r, k] = np.exp(logits[r, k] - top)
                        s += logits[r, k]
                total += w * (np.log(s) + top - zy)
                for k in range(K):
                    g = w * logits[r, k] / s if mask[t, k] else 0.0
                    if k == y:
                        g -= w
                    R[r, k] = g
                    gb[t, k] += g
            for r in range(0, m, 4):
                z0, z1 = X[index[t, i0 + r]], X[index[t, i0 + r + 1]]
                z2, z3 = X[index[t, i0 + r + 2]], X[index[t, i0 + r + 3]]
                for k in range(0, K, 2):
                    r00, r10, r20, r30 = R[r, k], R[r + 1, k], R[r + 2, k], R[r + 3, k]
                    r01, r11, r21, r31 = R[r, k + 1], R[r + 1, k + 1], R[r + 2, k + 1], R[r + 3, k + 1]
                    g0, g1 = Gt[t, k], Gt[t, k + 1]
                    for j in range(p):
                        g0[j] += r00 * z0[j] + r10 * z1[j] + r20 * z2[j] + r30 * z3[j]
                        g1[j] += r01 * z0[j] + r11 * z1[j] + r21 * z2[j] + r31 * z3[j]
        f[t] = total


@functools.lru_cache(maxsize=1)
def _compiled():
    import numba

    # numba's own thread pool: its OpenMP layer would share (and resize) torch's OpenMP threads
    numba.config.THREADING_LAYER = "workqueue"
    options = dict(fastmath=FASTMATH, parallel=True, boundscheck=False, nogil=True)
    try:
        kernel = numba.njit(cache=True, **options)(_evaluate)
    except RuntimeError:  # no writable cache location (read-only install, no home): compile per process
        kernel = numba.njit(**options)(_evaluate)
    return numba, kernel


def evaluate(X: np.ndarray, index: np.ndarray, W: np.ndarray, b: np.ndarray, Y: np.ndarray,
             weight: np.ndarray, mask: np.ndarray, reg: np.ndarray, threads: int = 1):
    """Objective (T,) float64, weight gradient (T, p, K) in X's dtype and intercept gradient (T, K)
    float64 of problems ``t`` with rows ``X[index[t]]`` (weights ``weight[t]``, classes ``Y[t]``
    of those rows), weights ``W[t]`` (p, K), intercepts ``b[t]``, classes ``mask[t]`` present,
    penalty ``reg[t]``. A class ``Y`` names must be present in its problem's mask."""
    numba, kernel = _compiled()
    # one compiled signature per feature precision (each new one costs seconds of compiling)
    dt = X.dtype
    W, weight, reg = W.astype(dt, copy=False), weight.astype(dt, copy=False), reg.astype(dt, copy=False)
    index, Y, mask = index.astype(np.int64, copy=False), Y.astype(np.int64, copy=False), mask.astype(bool, copy=False)
    T, n = index.shape
    K = W.shape[2]
    pad_rows, pad_k = -n % 4, K % 2
    if pad_rows:
        index = np.concatenate([index, np.zeros((T, pad_rows), index.dtype)], 1)
        weight = np.concatenate([weight, np.zeros((T, pad_rows), weight.dtype)], 1)
        Y = np.concatenate([Y, np.zeros((T, pad_rows), Y.dtype)], 1)
    Wt = np.ascontiguousarray(W.transpose(0, 2, 1))
    if pad_k:
        Wt = np.concatenate([Wt, np.zeros((T, 1, Wt.shape[2]), Wt.dtype)], 1)
        b = np.concatenate([b, np.zeros((T, 1), b.dtype)], 1)
        mask = np.concatenate([mask, np.zeros((T, 1), bool)], 1)
    f = np.empty(T, np.float64)
    Gt = np.empty_like(Wt)
    gb = np.empty((T, Wt.shape[1]), np.float64)
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    kernel(np.ascontiguousarray(X), np.ascontiguousarray(index), Wt, np.ascontiguousarray(b, np.float64),
           np.ascontiguousarray(Y), np.ascontiguousarray(weight), np.ascontiguousarray(mask),
           np.ascontiguousarray(reg), X.dtype.type(0), f, Gt, gb)
    return f, Gt[:, :K].transpose(0, 2, 1), gb[:, :K]
