"""Rounds per second of each no-regret learner: the per-round API against the batch path, same run.

For each learner the baseline is the public per-round interface (``act()`` + ``update(...)`` in a Python loop,
with input validation every round); the batch path is ``run(matrix)`` on the same kind of input (Hedge:
vectorised cumulative sums and row-wise softmax; EXP3 and regret matching: a tight loop over Python floats
with pre-drawn uniforms; explore-then-commit: vectorised, plus the aggregate Bernoulli simulation whose cost
does not depend on the horizon).  The script checks on a prefix that both paths choose the same actions,
prints rounds per second, the speed-up ratio, and the wall-clock and CPU time the batch path needs for 10^6
rounds (target: a few seconds; the CPU column is the meaningful one on a shared machine).

Usage: ``python benchmarks/bench_learners.py [--rounds 1000000] [--actions 10] [--quick]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mechsim.learners import (
    Exp3,
    ExploreThenCommit,
    Hedge,
    RegretMatching,
    regret_matching_self_play,
    simulate_explore_then_commit,
)


def per_round(make, x, kind) -> tuple[float, np.ndarray]:
    learner = make()
    actions = np.empty(x.shape[0], dtype=np.int64)
    start = time.perf_counter()
    for t, row in enumerate(x):
        a = learner.act()
        actions[t] = a
        if kind == "full":
            learner.update(row)
        else:
            learner.update(a, row[a])
    return time.perf_counter() - start, actions


def batch(make, x) -> tuple[float, float, np.ndarray]:
    learner = make()
    start, cpu = time.perf_counter(), time.process_time()
    trace = learner.run(x)
    return time.perf_counter() - start, time.process_time() - cpu, trace.actions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1_000_000, help="rounds for the batch path")
    parser.add_argument("--loop-rounds", type=int, default=20_000, help="rounds for the per-round baseline")
    parser.add_argument("--actions", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="100k batch rounds, 5k loop rounds")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.loop_rounds = 100_000, 5_000
    T, n, K = args.rounds, args.loop_rounds, args.actions
    rng = np.random.default_rng(0)
    losses = rng.random((T, K))
    rewards = (rng.random((T, K)) < np.linspace(0.5, 0.4, K)).astype(float)

    learners = [
        ("Hedge (tuned)", lambda: Hedge(K, horizon=T, seed=0), losses, "full"),
        ("Hedge (anytime)", lambda: Hedge(K, seed=0), losses, "full"),
        ("EXP3 (tuned)", lambda: Exp3(K, horizon=T, seed=0), losses, "bandit"),
        ("EXP3 (anytime)", lambda: Exp3(K, seed=0), losses, "bandit"),
        ("RegretMatching", lambda: RegretMatching(K, seed=0), 1.0 - losses, "full"),
        ("RegretMatching+", lambda: RegretMatching(K, plus=True, seed=0), 1.0 - losses, "full"),
        ("ExploreThenCommit", lambda: ExploreThenCommit(K, T, seed=0), rewards, "bandit"),
    ]
    print(f"K = {K}; per-round baseline over {n:,} rounds, batch path over {T:,} rounds\n")
    header = (f"{'learner':20s} {'per-round r/s':>14s} {'batch r/s':>12s} {'ratio':>7s} {'batch s / 1e6':>14s} "
              f"{'cpu s / 1e6':>12s} same")
    print(header)
    print("-" * len(header))
    for name, make, x, kind in learners:
        t_loop, a_loop = per_round(make, x[:n], kind)
        t_batch, cpu_batch, a_batch = batch(make, x)
        # the batch path must reproduce the per-round actions; a horizon-tuned learner has the same
        # horizon in both runs, so the prefix is comparable
        same = bool(np.array_equal(a_loop, a_batch[:n]))
        loop_rate, batch_rate = n / t_loop, T / t_batch
        print(f"{name:20s} {loop_rate:14,.0f} {batch_rate:12,.0f} {batch_rate / loop_rate:7.1f} "
              f"{1e6 / batch_rate:14.2f} {1e6 * cpu_batch / T:12.2f} {same}")

    means = np.linspace(0.5, 0.4, K)
    reps = 2000
    start = time.perf_counter()
    for s in range(reps):
        simulate_explore_then_commit(means, 10**8, seed=s)
    t_agg = (time.perf_counter() - start) / reps
    print(f"\nExplore-then-commit aggregate simulation, horizon 10^8: {t_agg * 1e6:.0f} us per run "
          f"({1e8 / t_agg:,.0f} simulated rounds/s)")

    rounds = 20_000 if not args.quick else 5_000
    a = np.random.default_rng(1).uniform(-1, 1, (K, K))
    start = time.perf_counter()
    res = regret_matching_self_play(a, rounds=rounds)
    t_sp = time.perf_counter() - start
    print(f"Regret-matching self-play, {K}x{K} zero-sum game: {rounds / t_sp:,.0f} rounds/s "
          f"(exploitability {res.exploitability:.2e} after {rounds:,} rounds)")


if __name__ == "__main__":
    main()
