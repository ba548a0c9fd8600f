"""Benchmark: cliffbench's batched probes, as configured (conf/method/*.yaml), vs scikit-learn fitted
cell by cell with the same settings, on the same subsets, in one run, one thread each side.

    uv run python benchmarks/probes_benchmark.py --features synthetic --out benchmarks/results/x.txt
    uv run python benchmarks/probes_benchmark.py --quick                # a tiny version, ~1 min

Features: ``synthetic`` (embedding-like, :func:`tests.probe_data.embedding_like`: d=768, 10 classes,
pool 20,000, test 5,000), ``lite0`` (real MNIST digits of ``dataset=mnist5k`` through
the ImageNet-pretrained ``backbone=efficientnet_lite0``: 1280-d, 10 classes, pool 3,600, test 1,000) and ``clip_like`` (the earlier, easier generator).
Modes: ``paper`` (method=linear vs LogisticRegression(C=100) at its defaults), ``exact``
(method=linear_exact vs tol=1e-6, max_iter=1000), ``knn`` (method=knn vs KNeighborsClassifier(3)).
Per n, ours runs on all trials, then scikit-learn on the first ``--sk-trials`` (its time scaled to
all trials when fewer). Machine peaks (a float32 GEMM, a memory sweep) are measured in the same run.
Not part of the tests.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def clip_like(d: int, classes: int, pool: int, test: int, separation: float = 3.6, seed: int = 0):
    """The earlier benchmark features: Gaussian classes with a shared power-law covariance
    (eigenvalues ~ 1/i, trace 1, random rotation), class means in random directions
    ``separation`` Mahalanobis units from the origin (easier than real embeddings)."""
    from cliffbench.datasets.base import DataBundle, Split

    rng = np.random.default_rng(seed)
    spectrum = 1.0 / np.arange(1, d + 1)
    spectrum /= spectrum.sum()
    rotation, _ = np.linalg.qr(rng.normal(size=(d, d)))
    root = rotation * np.sqrt(spectrum)
    g = rng.normal(size=(classes, d))
    means = separation * (g / np.linalg.norm(g, axis=1, keepdims=True)) @ root.T
    y = rng.integers(0, classes, size=pool + test)
    X = (means[y] + rng.normal(size=(pool + test, d)) @ root.T).astype(np.float32)
    return DataBundle(Split(X[:pool], y[:pool]), Split(X[pool:], y[pool:]))


def lite0_mnist():
    """Features of a real ImageNet-pretrained network on real images, offline: the 3,600-image pool
    and 1,000-image test set of ``dataset=mnist5k`` through ``backbone=efficientnet_lite0`` (1280-d,
    10 classes, float32), extracted once through cliffbench's own path and cached in
    ``paths.cache_dir``."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from cliffbench.app import register_resolvers
    from cliffbench.contract import JobContext

    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=["dataset=mnist5k", "backbone=efficientnet_lite0"])
    raw = instantiate(cfg.dataset).load()
    backbone = instantiate(cfg.backbone)
    ctx = JobContext(raw, backbone, dataset="mnist5k", paths=OmegaConf.to_container(cfg.paths, resolve=True))
    feats = ctx.features
    return type(feats)(feats.pool, feats.test, None, feats.task, feats.meta)


def machine_peaks() -> dict[str, float]:
    """One thread: float32 GEMM GFLOP/s (2048^3) and memory-read GB/s (sum over 512 MB)."""
    import torch

    A = torch.randn(2048, 2048)
    big = torch.ones(128 * 2**20)
    best_g = best_m = 0.0
    for _ in range(3):
        t = time.perf_counter()
        A @ A
        best_g = max(best_g, 2 * 2048**3 / (time.perf_counter() - t) / 1e9)
        t = time.perf_counter()
        big.sum()
        best_m = max(best_m, big.numel() * 4 / (time.perf_counter() - t) / 1e9)
    return {"gemm_gflops": best_g, "mem_gbs": best_m}


def compose_method(name: str):
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.utils import instantiate

    from cliffbench.app import register_resolvers

    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return instantiate(compose("config", overrides=[f"method={name}"]).method)


def references(mode: str):
    from cliffbench.methods.probes.knn import KNNProbe
    from cliffbench.methods.probes.linear.linear import LinearProbe

    if mode == "paper":  # LogisticRegression(C=100) with scikit-learn's defaults
        return compose_method("linear"), LinearProbe(C=100.0, tol=1e-4, max_iter=100, backend="sklearn")
    if mode == "exact":
        return compose_method("linear_exact"), LinearProbe(C=100.0, tol=1e-6, max_iter=1000, backend="sklearn")
    return compose_method("knn"), KNNProbe(k=3, backend="sklearn")


def variants(data):
    """scikit-learn's own spread: the same features as a float64 copy, and with permuted columns."""
    from cliffbench.datasets.base import DataBundle, Split

    perm = np.random.default_rng(1).permutation(data.pool.X.shape[1])
    return {"float64": DataBundle(Split(data.pool.X.astype(np.float64), data.pool.y),
                                  Split(data.test.X.astype(np.float64), data.test.y)),
            "permuted": DataBundle(Split(data.pool.X[:, perm], data.pool.y), Split(data.test.X[:, perm], data.test.y))}


def job_context(data):
    """The narrow job context a probe sees: ``data`` are the features (identity backbone)."""
    from cliffbench.backbones.identity import Identity
    from cliffbench.contract import JobContext

    return JobContext(data, Identity(), dataset="benchmark")


def run_mode(mode: str, data, grid, perms, args, out) -> dict:
    from cliffbench.methods.base import CellBatch

    ours, ref = references(mode)
    ctx = job_context(data)
    warm = CellBatch(10, np.arange(2), np.arange(2), perms[:2, :10])  # imports, thread pools
    for m in (ours, ref):
        list(m.run(warm, ctx))
    ours, _ = references(mode)  # fresh: per-job caches (pool order, neighbour lists) are timed below
    for m in (ours, ref):
        m.keep_predictions = True
    T, sk_t = len(perms), min(args.sk_trials, len(perms))
    N, d = data.pool.X.shape
    K = len(np.unique(data.pool.y))
    item = data.pool.X.dtype.itemsize
    out(f"== {mode}: ours {type(ours).__name__}({ {k: v for k, v in vars(ours).items() if not k.startswith('_') and k not in ('predictions', 'keep_predictions')} })")
    out("  n  ours_s   sk_s  ratio  it_ours it_sk passes  ours_GF/s ours_GB/s  sk_GF/s  err_ours err_sk "
        "max|derr| min_same med_same  spread  |dmed|  load")
    rows, tot_o, tot_s = [], 0.0, 0.0
    spread_data = variants(data) if mode == "paper" and args.spread_trials else {}
    for n in grid:
        batch = CellBatch(n, np.arange(T), np.arange(T), perms[:, :n])
        t0 = time.perf_counter()
        got = {o.trial: o for chunk in ours.run(batch, ctx) for o in chunk}
        t_o = time.perf_counter() - t0
        sub = CellBatch(n, np.arange(sk_t), np.arange(sk_t), perms[:sk_t, :n])
        t0 = time.perf_counter()
        sk = {o.trial: o for chunk in ref.run(sub, ctx) for o in chunk}
        t_s = (time.perf_counter() - t0) * T / sk_t
        tot_o, tot_s = tot_o + t_o, tot_s + t_s
        same = [np.mean(ours.predictions[(n, t)] == ref.predictions[(n, t)]) for t in sk]
        derr = max(abs(got[t].test_error - sk[t].test_error) for t in sk)
        it_o = np.median([got[t].metrics.get("n_iter", 0) for t in got])
        it_s = np.median([sk[t].metrics.get("n_iter", 0) for t in sk])
        passes = sum(got[t].metrics.get("n_eval", 0) for t in got)
        # the two products of a pass in the original (n x d rows) formulation; scikit-learn: at
        # least one pass per iteration plus the first
        flops = 4.0 * n * d * K if mode != "knn" else float("nan")
        gf_o, gb_o = passes * flops / t_o / 1e9, passes * 2 * n * d * item / t_o / 1e9
        gf_s = sum(sk[t].metrics.get("n_iter", 0) + 1 for t in sk) * flops / (t_s * sk_t / T) / 1e9
        med_o, med_s = np.median([got[t].test_error for t in sk]), np.median([sk[t].test_error for t in sk])
        spread = dmed = float("nan")
        if spread_data:
            st = min(args.spread_trials, sk_t)
            cells = CellBatch(n, np.arange(st), np.arange(st), perms[:st, :n])
            meds = [np.median([o.test_error for chunk in ref.run(cells, job_context(v))
                               for o in chunk]) for v in spread_data.values()]
            base = np.median([sk[t].test_error for t in range(st)])
            spread = max(abs(m - base) for m in meds)
            dmed = abs(np.median([got[t].test_error for t in range(st)]) - base)
        row = dict(n=n, ours_s=t_o, sk_s=t_s, it_ours=it_o, it_sk=it_s, passes=passes, err_ours=med_o, err_sk=med_s,
                   max_derr=derr, min_same=min(same), spread=spread, dmed=dmed)
        rows.append(row)
        out(f"{n:>6} {t_o:>6.2f} {t_s:>6.2f} {t_s / t_o:>6.1f} {it_o:>7.0f} {it_s:>5.0f} {passes:>6} "
            f"{gf_o:>9.1f} {gb_o:>9.2f} {gf_s:>8.1f} {med_o:>9.4f} {med_s:>6.4f} {derr:>9.4f} "
            f"{min(same):>8.4f} {np.median(same):>8.4f} {spread:>7.4f} {dmed:>7.4f} {os.getloadavg()[0]:>5.1f}")
    out(f"total {mode}: ours {tot_o:.1f}s, scikit-learn {tot_s:.1f}s{' (scaled)' if sk_t < T else ''} -> "
        f"{tot_s / tot_o:.1f}x; max per-cell |error difference| {max(r['max_derr'] for r in rows):.4f}, "
        f"min identical predictions {min(r['min_same'] for r in rows):.4f}\n")
    return {"rows": rows, "ours": tot_o, "sk": tot_s}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--features", nargs="+", default=["synthetic"], choices=["synthetic", "lite0", "clip_like"])
    p.add_argument("--modes", nargs="+", default=["paper", "exact", "knn"], choices=["paper", "exact", "knn"])
    p.add_argument("--pool", type=int, default=20_000)
    p.add_argument("--test", type=int, default=5_000)
    p.add_argument("--d", type=int, default=768)
    p.add_argument("--num", type=int, default=14, help="log-spaced n from 10 to the pool size")
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--sk-trials", type=int, default=20, help="trials per n fitted by scikit-learn")
    p.add_argument("--spread-trials", type=int, default=5, help="paper mode: trials refitted on float64/permuted copies")
    p.add_argument("--threads", type=int, default=1, help="threads for torch and scikit-learn (0: their defaults)")
    p.add_argument("--quick", action="store_true", help="d=64, pool 2000, test 500, 6 n x 5 trials")
    p.add_argument("--out", type=Path, help="also write the output here")
    args = p.parse_args()
    if args.quick:
        args.d, args.pool, args.test, args.num, args.trials, args.sk_trials = 64, 2000, 500, 6, 5, 5
    import torch
    from threadpoolctl import threadpool_limits

    if args.threads:
        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)  # scikit-learn's BLAS / OpenMP get the same number of threads
    warnings.filterwarnings("ignore")
    fh = args.out.open("w") if args.out else None

    def out(line: str) -> None:
        print(line, flush=True)
        if fh:
            fh.write(line + "\n")
            fh.flush()

    from tests.probe_data import embedding_like

    device = "cuda" if torch.cuda.is_available() else "cpu"
    out(f"uptime: {os.popen('uptime').read().strip()}; threads {args.threads or 'default'} each side; "
        f"ours on {device}; CPU peaks before: {machine_peaks()}")
    for name in args.features:
        if name == "synthetic":
            data = embedding_like(args.d, 10, args.pool, args.test)
        elif name == "clip_like":
            data = clip_like(args.d, 10, args.pool, args.test)
        else:
            data = lite0_mnist()
        N = len(data.pool)
        grid = sorted({int(round(v)) for v in np.geomspace(10, N, args.num)})
        rng = np.random.default_rng(0)
        perms = np.stack([rng.permutation(N) for _ in range(args.trials)])
        out(f"### features {name}: pool {data.pool.X.shape} {data.pool.X.dtype}, test {len(data.test)}, "
            f"{len(np.unique(data.pool.y))} classes; grid {grid}; {args.trials} trials, scikit-learn on {args.sk_trials}")
        results = {m: run_mode(m, data, grid, perms, args, out) for m in args.modes}
        if {"paper", "exact"} <= set(results):
            gap = [abs(a["err_ours"] - b["err_ours"]) for a, b in zip(results["paper"]["rows"], results["exact"]["rows"])]
            out(f"paper vs exact median curves ({name}): |difference| per n "
                + " ".join(f"{g:.4f}" for g in gap) + f"; max {max(gap):.4f}\n")
    out(f"uptime: {os.popen('uptime').read().strip()}; CPU peaks after: {machine_peaks()}")


if __name__ == "__main__":
    main()
