"""Benchmark of the ICU-Sepsis backbone and the JustifiableSepsis-v0 environment.

Prints, with ratios against baselines measured in the same run:

- env steps per second with cached debates (after ``precompute_debates``) against the bare transition
  sampling loop (inverse-CDF draw on ``tx_mat`` + noisy observation), i.e. the cost of the Gymnasium layer;
- steps per second with debates solved on first visit (cold cache, exact L = 2);
- exact policy evaluation (linear solve; also on one BLAS thread, which wins when other processes share
  the cores) against finite-horizon backward induction (500 steps) and against
  a Monte-Carlo estimate of the same accuracy class (10,000 sampled episodes);
- the batched exact debate table (713 states x 25 actions, L = 2) against one ``solve_debate`` call per
  (state, action) pair (extrapolated from a sample).

Run: ``python benchmarks/bench_sepsis.py``.
"""

from __future__ import annotations

import time

import numpy as np


def _timeit(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    from mechsim.debate.icu_sepsis import (
        baseline_actions,
        evaluate_policy,
        load_icu_sepsis,
        sample_trajectories,
    )
    from mechsim.envs.justifiable_sepsis import JustifiableSepsisEnv, default_sepsis_judge
    from mechsim.solvers.debate import debate_win_table, solve_debate

    mdp = load_icu_sepsis()
    judge = default_sepsis_judge(2)
    rows = []

    # --- env throughput
    n_steps = 20000
    env = JustifiableSepsisEnv(lam=0.5, judge=judge)
    t = time.perf_counter()
    env.precompute_debates()
    t_pre = time.perf_counter() - t
    actions = np.random.default_rng(0).integers(0, 25, size=n_steps)

    def run_env(e):
        e.reset(seed=0)
        for a in actions:
            _, _, term, trunc, _ = e.step(int(a))
            if term or trunc:
                e.reset()

    t_env = _timeit(lambda: run_env(env), repeat=2)

    rng = np.random.default_rng(0)
    feats = mdp.features

    def bare_loop():
        s = 0
        for a in actions:
            cdf = np.cumsum(mdp.tx_mat[s, a])
            s = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
            _ = (feats[s] + 0.3 * rng.standard_normal(44)).astype(np.float32)
            if s >= 713:
                s = int(rng.integers(713))

    t_bare = _timeit(bare_loop, repeat=2)
    rows.append(("env step, debates cached (steps/s)", n_steps / t_env, "bare sampling loop", n_steps / t_bare))

    cold = JustifiableSepsisEnv(lam=0.5, judge=judge)
    n_cold = 300
    cold.reset(seed=1)
    t = time.perf_counter()
    for a in actions[:n_cold]:
        _, _, term, trunc, _ = cold.step(int(a))
        if term or trunc:
            cold.reset()
    t_cold = time.perf_counter() - t
    rows.append(("env step, cold cache, exact L=2 (steps/s)", n_cold / t_cold, "cached", n_steps / t_env))

    # --- exact policy evaluation
    pi = mdp.clinician_policy()
    evaluate_policy(mdp, pi)  # builds the sparse transition matrix once
    t_exact = _timeit(lambda: evaluate_policy(mdp, pi))
    t_fh = _timeit(lambda: evaluate_policy(mdp, pi, horizon=500), repeat=1)
    t_mc = _timeit(lambda: sample_trajectories(mdp, pi, 10000, seed=0), repeat=1)
    try:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            t_one = _timeit(lambda: evaluate_policy(mdp, pi))
        rows.append(("exact policy evaluation, 1 BLAS thread (s)", t_one, "default BLAS threads (s)", t_exact))
    except ImportError:
        pass
    rows.append(("exact policy evaluation (s)", t_exact, "finite horizon 500 (s)", t_fh))
    rows.append(("exact policy evaluation (s)", t_exact, "Monte Carlo 10k episodes (s)", t_mc))

    # --- debate table
    base = baseline_actions(mdp)
    t_table = _timeit(lambda: debate_win_table(judge, feats[:713], base[:713], 2), repeat=1)
    sample = [(s, a) for s in range(0, 713, 71) for a in (3, 17) if a != base[s]][:16]
    t = time.perf_counter()
    for s, a in sample:
        solve_debate(judge, feats[s], (a, int(base[s])), 2)
    per_pair = (time.perf_counter() - t) / len(sample)
    rows.append(("debate table 713x25, L=2, batched (s)", t_table, "solve_debate per pair (s, extrapolated)",
                 per_pair * 713 * 24))
    rows.append(("precompute_debates (s)", t_pre, "debate table (s)", t_table))

    width = max(len(r[0]) for r in rows) + 2
    print(f"{'measurement':<{width}}{'value':>12}   {'baseline':<42}{'value':>12}   ratio")
    for name, v, bname, bv in rows:
        print(f"{name:<{width}}{v:>12.4g}   {bname:<42}{bv:>12.4g}   {v / bv:8.3g}")


if __name__ == "__main__":
    main()
