"""Benchmark: cliffbench's batched linear and k-NN probes vs scikit-learn fitted cell by cell, on
synthetic features shaped like CLIP embeddings (power-law covariance spectrum, overlapping classes).

    uv run python benchmarks/probes_benchmark.py            # d=768, pool 50k, test 10k, 16 n x 50 trials
    uv run python benchmarks/probes_benchmark.py --quick    # small, about a minute

scikit-learn is timed on the first ``--sk-trials`` trials of every n and its time extrapolated to all
trials (printed as such); errors are compared cell by cell on those trials. Not part of the tests.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def clip_like(d: int, classes: int, pool: int, test: int, separation: float, seed: int = 0):
    """Gaussian classes with a shared power-law covariance (eigenvalues ~ 1/i, trace 1, random
    rotation) and class means ``separation`` Mahalanobis units from the origin."""
    rng = np.random.default_rng(seed)
    spectrum = 1.0 / np.arange(1, d + 1)
    spectrum /= spectrum.sum()
    rotation, _ = np.linalg.qr(rng.normal(size=(d, d)))
    root = rotation * np.sqrt(spectrum)  # Sigma^(1/2) = R diag(sqrt(lambda))
    g = rng.normal(size=(classes, d))
    means = separation * (g / np.linalg.norm(g, axis=1, keepdims=True)) @ root.T
    total = pool + test
    y = rng.integers(0, classes, size=total)
    X = (means[y] + rng.normal(size=(total, d)) @ root.T).astype(np.float32)
    return X[:pool], y[:pool], X[pool:], y[pool:]


def run(args) -> None:
    import torch

    from cliffbench.backbones.identity import Identity
    from cliffbench.contract import CellBatch, DataBundle, JobContext, Split
    from cliffbench.methods.probes.knn import KNNProbe
    from cliffbench.methods.probes.linear.linear import LinearProbe

    warnings.filterwarnings("ignore")
    if args.threads:
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)  # scikit-learn's BLAS / OpenMP get the same number of threads
    Xp, yp, Xt, yt = clip_like(args.d, args.classes, args.pool, args.test, args.separation)
    data = DataBundle(Split(Xp, yp), Split(Xt, yt))
    ctx = JobContext(data, Identity(), dataset="clip_like")
    grid = sorted({int(round(v)) for v in np.geomspace(10, args.pool, args.num)})
    rng = np.random.default_rng(0)
    perms = np.stack([rng.permutation(args.pool) for _ in range(args.trials)])
    sk_t = min(args.sk_trials, args.trials)
    print(f"features d={args.d}, {args.classes} classes, pool {args.pool}, test {args.test}; "
          f"grid {grid}; {args.trials} trials; torch threads {torch.get_num_threads()}")
    print(f"scikit-learn timed on {sk_t} trial(s) per n, extrapolated x{args.trials / sk_t:.1f}\n")
    def make(cls, **kw):
        m = cls(**kw)
        m.init_args = kw
        return m

    lin = dict(C=args.C, tol=args.tol, max_iter=args.max_iter)
    defaults = dict(C=args.C, tol=1e-4, max_iter=100)  # scikit-learn's stopping defaults, the paper's C
    methods = {
        "linear": (make(LinearProbe, **lin, device="cpu"), LinearProbe(**lin, backend="sklearn")),
        "linear-sklearn-defaults": (
            make(LinearProbe, **defaults, solver="lbfgs", warm_start=False, dtype="auto", device="cpu"),
            LinearProbe(**defaults, backend="sklearn")),
        "knn": (make(KNNProbe, k=3, device="cpu"), KNNProbe(k=3, backend="sklearn")),
    }
    for name in args.methods:
        ours, ref = methods[name]
        warm = CellBatch(20, np.arange(2), np.arange(2), perms[:2, :20])  # imports, thread pools
        for m in (ours, ref):
            for _ in m.run(warm, ctx):
                pass
        ours.__init__(**ours.init_args)  # forget caches: the pool order / warm starts are timed below
        for m in (ours, ref):
            m.keep_predictions = True
        print(f"== {name} == {ours.init_args}")
        print(f"{'n':>7} {'ours s':>8} {'sklearn s':>10} {'ratio':>7} {'sk iters':>9} {'ours iters':>10} "
              f"{'err ours':>9} {'err sk':>8} {'max|d err|':>10} {'max obj rel':>11} {'min agree':>9}"
              "  (errors: median over the sklearn-timed trials; agree: same test prediction)")
        tot_ours = tot_sk = 0.0
        worst, worst_obj, worst_agree = 0.0, 0.0, 1.0
        for n in grid:
            batch = CellBatch(n, np.arange(args.trials), np.arange(args.trials), perms[:, :n])
            t0 = time.perf_counter()
            got = {o.trial: o for chunk in ours.run(batch, ctx) for o in chunk}
            t_ours = time.perf_counter() - t0
            sub = CellBatch(n, np.arange(sk_t), np.arange(sk_t), perms[:sk_t, :n])
            t0 = time.perf_counter()
            sk = {o.trial: o for chunk in ref.run(sub, ctx) for o in chunk}
            t_sk = (time.perf_counter() - t0) * args.trials / sk_t
            diff = max(abs(got[t].test_error - sk[t].test_error) for t in sk)
            worst = max(worst, diff)
            obj = max((abs(got[t].metrics["objective"] - sk[t].metrics["objective"]) / sk[t].metrics["objective"]
                       for t in sk if "objective" in sk[t].metrics), default=0.0)
            agree = min(np.mean(ours.predictions[(n, t)] == ref.predictions[(n, t)]) for t in sk)
            worst_obj, worst_agree = max(worst_obj, obj), min(worst_agree, agree)
            tot_ours, tot_sk = tot_ours + t_ours, tot_sk + t_sk
            it_sk = np.median([sk[t].metrics.get("n_iter", 0) for t in sk])
            it_ours = np.median([got[t].metrics.get("n_iter", 0) for t in got])
            print(f"{n:>7} {t_ours:>8.2f} {t_sk:>10.2f} {t_sk / max(t_ours, 1e-9):>7.1f} {it_sk:>9.0f} "
                  f"{it_ours:>10.0f} {np.median([got[t].test_error for t in sk]):>9.4f} "
                  f"{np.median([sk[t].test_error for t in sk]):>8.4f} {diff:>10.4f} {obj:>11.1e} {agree:>9.4f}")
        print(f"total: ours {tot_ours:.1f}s, scikit-learn {tot_sk:.1f}s (extrapolated) -> "
              f"{tot_sk / tot_ours:.1f}x faster; max per-cell |error difference| {worst:.4f}, "
              f"max objective difference {worst_obj:.1e} (relative), min prediction agreement {worst_agree:.4f}\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes (d=64, pool 3000, test 1000, 8 n, 5 trials)")
    p.add_argument("--d", type=int, default=768)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--pool", type=int, default=50_000)
    p.add_argument("--test", type=int, default=10_000)
    p.add_argument("--num", type=int, default=16, help="log-spaced n from 10 to the pool size")
    p.add_argument("--trials", type=int, default=50)
    p.add_argument("--sk-trials", type=int, default=2, help="trials per n timed with scikit-learn")
    p.add_argument("--separation", type=float, default=3.6, help="class-mean distance (Mahalanobis)")
    p.add_argument("--C", type=float, default=100.0)
    p.add_argument("--tol", type=float, default=1e-6, help="linear: both sides' tol (linear-sklearn-defaults: 1e-4)")
    p.add_argument("--max-iter", type=int, default=1000)
    p.add_argument("--threads", type=int, default=0, help="threads for torch and scikit-learn (0: their defaults)")
    p.add_argument("--methods", nargs="+", default=["linear", "linear-sklearn-defaults", "knn"],
                   choices=["linear", "linear-sklearn-defaults", "knn"])
    args = p.parse_args()
    if args.quick:
        args.d, args.pool, args.test, args.num, args.trials = 64, 3000, 1000, 8, 5
    run(args)


if __name__ == "__main__":
    main()
